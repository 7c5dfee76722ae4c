//! Training curves on oddity's kernels and on burn's own ops from the same seed (`oddity bench
//! curve`): the check that the fast kernels (nn/fast) train the same model over many steps, not only
//! compute the same single step (issue 16: "200-step training curves match the unfused path within
//! float tolerance").
//!
//! Each curve is the loss after every step of GANomaly training (G and D losses, `train::step`, the
//! official defaults at 32²) or of DCEC pretraining (reconstruction MSE, the default autoencoder),
//! on batches drawn from one seeded shuffle of the images. Which path runs is the calling thread's
//! [`crate::nn::fast::set_fast_kernels`] setting.

use burn::tensor::{Device, Tensor, TensorData};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::data::{Dataset, Layout};
use crate::error::{Error, Result};
use crate::models::deep_cluster::{Autoencoder, DeepClusterConfig, InputShape};
use crate::models::ganomaly::train::{Nets, batch, step};
use crate::models::ganomaly::{GanomalyConfig, prepare};

/// Moves every non-zero input value one unit in the last place up (`nudge = true`): two curves
/// that differ only in this show how far rounding alone carries a run over many steps, the yardstick
/// for the gap between the kernels and burn's ops.
fn nudged(mut v: Vec<f32>, nudge: bool) -> Vec<f32> {
    if nudge {
        for x in v.iter_mut().filter(|x| **x != 0.0) {
            *x = x.next_up();
        }
    }
    v
}

/// Losses after each step; `series` names the columns of `losses`.
#[derive(Debug, Clone)]
pub struct Curve {
    pub series: &'static [&'static str],
    pub losses: Vec<Vec<f32>>,
}

/// The indices of `steps` batches of `batch` samples out of `n`: one seeded shuffle per pass.
fn batches(n: usize, batch: usize, steps: usize, rng: &mut ChaCha8Rng) -> Result<Vec<Vec<usize>>> {
    if n < batch || batch == 0 {
        return Err(Error::config(
            "batch",
            format!("must be between 1 and the number of images ({n}), got {batch}"),
        ));
    }
    let mut order: Vec<usize> = Vec::new();
    let mut out = Vec::with_capacity(steps);
    for _ in 0..steps {
        if order.len() < batch {
            order = (0..n).collect();
            order.shuffle(rng);
        }
        out.push(order.split_off(order.len() - batch));
    }
    Ok(out)
}

/// GANomaly's G and D losses over `steps` training steps on `data`'s images (resized to
/// `cfg.isize`, scaled to [−1, 1] as fitting does), `cfg.batch_size` images per step; `nudge`
/// moves the inputs by one ulp ([`nudged`]).
pub fn ganomaly(
    data: &Dataset,
    cfg: &GanomalyConfig,
    steps: usize,
    seed: u64,
    nudge: bool,
    device: &Device,
) -> Result<Curve> {
    let mut images = prepare(data, cfg)?;
    images.x = nudged(images.x, nudge);
    let ad = device.clone().autodiff();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut nets = Nets::new(cfg, &ad, &mut rng);
    let ok = |_: f32, _: &str| Ok(());
    let mut losses = Vec::with_capacity(steps);
    for idx in batches(images.n, cfg.batch_size, steps, &mut rng)? {
        let x = batch(&images, &idx, cfg, &ad);
        let (next, err_g, err_d) = step(nets, x, cfg, &mut rng, &ok)?;
        nets = next;
        losses.push(vec![err_g, err_d]);
    }
    Ok(Curve {
        series: &["G loss", "D loss"],
        losses,
    })
}

/// DCEC pretraining: the reconstruction MSE of the autoencoder `cfg` describes over `steps` Adam
/// steps on `data`'s images, `cfg.batch_size` per step; `nudge` as for [`ganomaly`].
pub fn dcec(
    data: &Dataset,
    cfg: &DeepClusterConfig,
    steps: usize,
    seed: u64,
    nudge: bool,
    device: &Device,
) -> Result<Curve> {
    let Layout::Images { c, h, w } = data.layout() else {
        return Err(Error::InvalidData(format!(
            "{}: the DCEC curve needs images, got tabular data",
            data.name()
        )));
    };
    let input = InputShape { c, h, w };
    let ad = device.clone().autodiff();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut net = Autoencoder::init(cfg, input, &ad, &mut rng)?;
    let mut opt = crate::nn::fast::adam(0.9, 0.999, 1e-8, None);
    let dim = input.dim();
    let mut losses = Vec::with_capacity(steps);
    for idx in batches(data.n(), cfg.batch_size, steps, &mut rng)? {
        let mut v = Vec::with_capacity(idx.len() * dim);
        for &i in &idx {
            v.extend_from_slice(data.row(i));
        }
        let x: Tensor<2> = Tensor::from_data(TensorData::new(nudged(v, nudge), [idx.len(), dim]), &ad);
        let loss = (net.decode(net.encode(x.clone())) - x).square().mean();
        let value = loss
            .to_data()
            .try_to_vec::<f32>()
            .ok()
            .and_then(|v| v.first().copied())
            .ok_or_else(|| Error::Backend("could not read a loss value".into()))?;
        let grads = crate::nn::gradients(loss.backward(), &net);
        net = opt.step(cfg.lr, net, grads);
        losses.push(vec![value]);
    }
    Ok(Curve {
        series: &["MSE"],
        losses,
    })
}

/// How far two curves of the same run are apart.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gap {
    /// Largest |a − b| / max(|a|, |b|) over steps and series (0 where both are 0).
    pub max_relative: f64,
    /// The first step (1-based) where it was reached.
    pub at_step: usize,
}

/// The largest relative difference between two curves, step by step.
pub fn gap(a: &Curve, b: &Curve) -> Result<Gap> {
    if a.losses.len() != b.losses.len() || a.series != b.series {
        return Err(Error::InvalidData(format!(
            "curves of {} and {} steps (series {:?} vs {:?}) cannot be compared",
            a.losses.len(),
            b.losses.len(),
            a.series,
            b.series
        )));
    }
    let mut worst = Gap {
        max_relative: 0.0,
        at_step: usize::from(!a.losses.is_empty()),
    };
    for (step, (ra, rb)) in a.losses.iter().zip(&b.losses).enumerate() {
        for (&x, &y) in ra.iter().zip(rb) {
            let (x, y) = (x as f64, y as f64);
            let scale = x.abs().max(y.abs());
            let rel = if scale == 0.0 {
                0.0
            } else if !(x - y).is_finite() {
                f64::INFINITY
            } else {
                (x - y).abs() / scale
            };
            if rel > worst.max_relative {
                worst = Gap {
                    max_relative: rel,
                    at_step: step + 1,
                };
            }
        }
    }
    Ok(worst)
}

#[cfg(test)]
mod tests {
    use rand::Rng;

    use super::*;
    use crate::data::Labels;
    use crate::nn::fast::{fast_calls, set_fast_kernels};

    /// `n` seeded images of 16×16: a bright square at a random place on dark noise.
    fn squares(n: usize, seed: u64) -> Dataset {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut x = Vec::with_capacity(n * 256);
        for _ in 0..n {
            let (r, c) = (rng.random_range(0..10), rng.random_range(0..10));
            for i in 0..16 {
                for j in 0..16 {
                    let inside = (r..r + 6).contains(&i) && (c..c + 6).contains(&j);
                    x.push(if inside { 0.9 } else { rng.random_range(0.0..0.2) });
                }
            }
        }
        Dataset::new("squares", Layout::Images { c: 1, h: 16, w: 16 }, x, Labels::None).unwrap()
    }

    /// The kernels' curve, burn's, and the kernels' on inputs one ulp apart; asserts the kernels ran.
    fn three(train: impl Fn(bool) -> Result<Curve>) -> (Curve, Curve, Curve) {
        let before = fast_calls();
        let fast = train(false).unwrap();
        assert!(fast_calls() > before, "the fast kernels were not used");
        set_fast_kernels(false);
        let burn = train(false);
        set_fast_kernels(true);
        (fast, burn.unwrap(), train(true).unwrap())
    }

    /// Over many steps the kernels stay as close to burn's ops as rounding alone keeps two runs:
    /// a wrong gradient anywhere would open a gap of percents within a few steps.
    fn assert_close(name: &str, fast: &Curve, burn: &Curve, nudged: &Curve, moved: f32) {
        let (first, last) = (fast.losses[0][0], fast.losses[fast.losses.len() - 1][0]);
        assert!(last < moved * first, "{name}: the loss did not move ({first} → {last})");
        let g = gap(fast, burn).unwrap().max_relative;
        let rounding = gap(fast, nudged).unwrap().max_relative;
        eprintln!("{name}: kernels vs burn {g:.2e}, rounding alone {rounding:.2e}");
        assert!(
            g <= (10.0 * rounding).max(1e-4),
            "{name}: kernels vs burn {g:.2e}, rounding alone {rounding:.2e}"
        );
    }

    #[test]
    fn ganomaly_trains_on_the_kernels_as_on_burns_ops() {
        let data = squares(32, 1);
        let cfg = GanomalyConfig {
            isize: 16,
            nz: 8,
            ngf: 8,
            ndf: 8,
            batch_size: 8,
            lr: 2e-3,
            ..GanomalyConfig::default()
        };
        let dev = Device::default();
        let (fast, burn, nudged) = three(|n| ganomaly(&data, &cfg, 25, 3, n, &dev));
        assert_close("ganomaly", &fast, &burn, &nudged, 0.9);
    }

    #[test]
    fn dcec_pretrains_on_the_kernels_as_on_burns_ops() {
        let data = squares(64, 2);
        let cfg = DeepClusterConfig {
            conv_filters: vec![8, 16, 16],
            batch_size: 16,
            lr: 3e-3,
            ..DeepClusterConfig::default()
        };
        let dev = Device::default();
        let (fast, burn, nudged) = three(|n| dcec(&data, &cfg, 15, 4, n, &dev));
        assert_close("dcec", &fast, &burn, &nudged, 0.9);
    }

    #[test]
    fn gap_is_the_largest_relative_difference_and_where() {
        let c = |v: &[f32]| Curve {
            series: &["x"],
            losses: v.iter().map(|&x| vec![x]).collect(),
        };
        let g = gap(&c(&[1.0, 2.0, 4.0]), &c(&[1.0, 1.0, 3.0])).unwrap();
        assert_eq!((g.max_relative, g.at_step), (0.5, 2));
        assert!(gap(&c(&[1.0]), &c(&[1.0, 2.0])).is_err());
        assert!(gap(&c(&[1.0]), &c(&[f32::NAN])).unwrap().max_relative.is_infinite());
    }
}
