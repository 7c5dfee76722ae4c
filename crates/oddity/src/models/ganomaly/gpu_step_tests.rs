//! GANomaly's training step on a GPU backend against `flex`, one step at a time from the same
//! initial weights and batches (issue 20): where a GPU run first departs from the CPU's, in which
//! network, and whether a weight becomes non-finite. Built only with a GPU feature; the device is
//! `ODDITY_TEST_DEVICE` (default `wgpu`), e.g. on lavapipe:
//!
//! ```text
//! XDG_RUNTIME_DIR=/tmp cargo test -p oddity --profile gpu-test --features wgpu-untuned --lib gpu_step -- --nocapture
//! ```

use std::path::Path;

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::{Device, Tensor};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::config::GanomalyConfig;
use super::nets::{NetD, NetG};
use super::prepare;
use super::train::{Images, Nets, batch, step};
use crate::backend::{cpu, parse_device};

/// Relative difference of the two runs' losses allowed at each step: f32 sums in another order
/// through ~10 layers, compounded over a few Adam steps.
const LOSS_TOL: f64 = 1e-2;

/// Every float parameter's values, in visiting order.
struct Values(Vec<Vec<f32>>);

impl ModuleVisitor for Values {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.0.push(param.val().into_data().try_to_vec::<f32>().unwrap());
    }
}

fn values<M: Module>(m: &M) -> Vec<Vec<f32>> {
    let mut v = Values(Vec::new());
    m.visit(&mut v);
    v.0
}

/// (largest difference relative to the tensor's largest |value|, over all tensors; non-finite values in `b`).
fn compare(a: &[Vec<f32>], b: &[Vec<f32>]) -> (f64, usize) {
    assert_eq!(a.len(), b.len());
    let (mut worst, mut bad) = (0f64, 0);
    for (x, y) in a.iter().zip(b) {
        let scale = x.iter().fold(1e-12f64, |m, &v| m.max(f64::from(v).abs()));
        for (&p, &q) in x.iter().zip(y) {
            if !q.is_finite() {
                bad += 1;
            }
            worst = worst.max((f64::from(p) - f64::from(q)).abs() / scale);
        }
    }
    (worst, bad)
}

fn images(cfg: &GanomalyConfig) -> Images {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/mnist-small");
    let loaded = crate::data::idx::load_dir(&dir).unwrap();
    let train = loaded.train.select(&(0..256).collect::<Vec<_>>()).unwrap();
    prepare(&train, cfg).unwrap()
}

/// GANomaly at 16 × 16 with 8 filters: seconds per step on lavapipe.
fn tiny() -> GanomalyConfig {
    GanomalyConfig {
        isize: 16,
        nz: 16,
        ngf: 8,
        ndf: 8,
        batch_size: 32,
        ..GanomalyConfig::default()
    }
}

fn gpu() -> Device {
    let spec = std::env::var("ODDITY_TEST_DEVICE").unwrap_or_else(|_| "wgpu".into());
    parse_device(&spec).unwrap_or_else(|e| panic!("this test needs a GPU device: {e}"))
}

#[test]
fn gpu_step_matches_the_cpu_step_by_step() {
    let cfg = tiny();
    let imgs = images(&cfg);
    let (dev_c, dev_g) = (cpu().autodiff(), gpu().autodiff());
    let mut rng_c = ChaCha8Rng::seed_from_u64(1);
    let mut rng_g = ChaCha8Rng::seed_from_u64(1);
    let mut nets_c = Nets::new(&cfg, &dev_c, &mut rng_c);
    let mut nets_g = Nets::new(&cfg, &dev_g, &mut rng_g);
    let (g0, d0) = (
        compare(&values::<NetG>(&nets_c.netg), &values::<NetG>(&nets_g.netg)),
        compare(&values::<NetD>(&nets_c.netd), &values::<NetD>(&nets_g.netd)),
    );
    eprintln!("initial weights: G differ by {:.2e}, D by {:.2e}", g0.0, d0.0);
    assert!(g0.0 == 0.0 && d0.0 == 0.0, "the same seed gave other initial weights");
    let ok = |_: f32, _: &str| Ok(());
    let mut failures = Vec::new();
    for s in 0..8 {
        let idx: Vec<usize> = (s * 32..(s + 1) * 32).collect();
        let (lg_c, ld_c, lg_g, ld_g);
        (nets_c, lg_c, ld_c) = step(nets_c, batch(&imgs, &idx, &cfg, &dev_c), &cfg, &mut rng_c, &ok).unwrap();
        (nets_g, lg_g, ld_g) = step(nets_g, batch(&imgs, &idx, &cfg, &dev_g), &cfg, &mut rng_g, &ok).unwrap();
        let (g, d) = (
            compare(&values::<NetG>(&nets_c.netg), &values::<NetG>(&nets_g.netg)),
            compare(&values::<NetD>(&nets_c.netd), &values::<NetD>(&nets_g.netd)),
        );
        eprintln!(
            "step {s}: loss G cpu {lg_c:.6} gpu {lg_g:.6}, loss D cpu {ld_c:.6} gpu {ld_g:.6}; \
             weights after: G differ by {:.2e} ({} non-finite), D by {:.2e} ({} non-finite)",
            g.0, g.1, d.0, d.1
        );
        if s == 0 {
            let (a, b) = (values::<NetD>(&nets_c.netd), values::<NetD>(&nets_g.netd));
            let per: Vec<String> = a
                .iter()
                .zip(&b)
                .enumerate()
                .map(|(i, (x, y))| {
                    let (d, _) = compare(std::slice::from_ref(x), std::slice::from_ref(y));
                    format!(
                        "#{i} ({} values) {d:.1e} cpu[0..3] {:?} gpu[0..3] {:?}",
                        x.len(),
                        &x[..3.min(x.len())],
                        &y[..3.min(y.len())]
                    )
                })
                .collect();
            eprintln!("  D after step 0, per tensor: {}", per.join("; "));
        }
        let rel = |a: f32, b: f32| (f64::from(a) - f64::from(b)).abs() / f64::from(a).abs().max(1e-6);
        if !(rel(lg_c, lg_g) < LOSS_TOL && rel(ld_c, ld_g) < LOSS_TOL && g.1 == 0 && d.1 == 0) {
            failures.push(s);
        }
    }
    assert!(
        failures.is_empty(),
        "the GPU step departs from the CPU's at steps {failures:?}"
    );
}

/// Every float parameter's gradient (empty where it has none), in visiting order.
struct GradValues<'a>(&'a burn::tensor::Gradients, Vec<(Vec<usize>, Vec<f32>)>);

impl ModuleVisitor for GradValues<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let v = param.val();
        let g = v
            .grad(self.0)
            .map(|g| g.into_data().try_to_vec::<f32>().unwrap())
            .unwrap_or_default();
        self.1.push((v.dims().to_vec(), g));
    }
}

/// D's weight gradients for a few losses on the GPU and the CPU from the same weights and inputs:
/// which part of D's backward pass differs.
#[test]
fn gpu_discriminator_gradients_match_the_cpu() {
    use super::loss;
    use super::nets::{BnMode, DcganInit};
    let cfg = tiny();
    let imgs = images(&cfg);
    let real: Vec<usize> = (0..32).collect();
    let fake: Vec<usize> = (32..64).collect();
    type LossFn = fn(&NetD, Tensor<4>, Tensor<4>) -> Tensor<1>;
    let variants: [(&str, LossFn); 5] = [
        ("sum of features, real", |d, x, _| {
            d.encoder.features(x, BnMode::Train).sum()
        }),
        ("sum of sigmoid, real", |d, x, _| d.forward(x, BnMode::Train).0.sum()),
        ("bce(real, 1)", |d, x, _| loss::bce(d.forward(x, BnMode::Train).0, 1.0)),
        ("sum of sigmoid, real + fake", |d, x, f| {
            d.forward(x, BnMode::Train).0.sum() + d.forward(f, BnMode::Train).0.sum()
        }),
        ("discriminator loss", |d, x, f| {
            loss::discriminator(d.forward(x, BnMode::Train).0, d.forward(f, BnMode::Train).0)
        }),
    ];
    let mut failures = Vec::new();
    for (name, f) in variants {
        let run = |device: &Device| {
            let mut rng = ChaCha8Rng::seed_from_u64(2);
            let netd = NetD::new(cfg.isize, cfg.nc, cfg.ndf, cfg.extralayers, device).dcgan_init(&mut rng);
            let loss = f(
                &netd,
                batch(&imgs, &real, &cfg, device),
                batch(&imgs, &fake, &cfg, device),
            );
            let value = loss.clone().into_data().try_to_vec::<f32>().unwrap()[0];
            let grads = loss.backward();
            let mut v = GradValues(&grads, Vec::new());
            netd.visit(&mut v);
            (value, v.1)
        };
        let (lc, gc) = run(&cpu().autodiff());
        let (lg, gg) = run(&gpu().autodiff());
        let mut worst = (0f64, 0usize);
        let mut lines = Vec::new();
        for (i, ((shape, a), (_, b))) in gc.iter().zip(&gg).enumerate() {
            let (d, bad) = compare(std::slice::from_ref(a), std::slice::from_ref(b));
            lines.push(format!("#{i} {shape:?} {d:.1e}{}", if bad > 0 { " NaN" } else { "" }));
            if a.len() != b.len() {
                lines.push(format!("(#{i}: {} vs {} values)", a.len(), b.len()));
            }
            if d > worst.0 {
                worst = (d, i);
            }
        }
        eprintln!("{name}: loss cpu {lc:.6} gpu {lg:.6}; gradients {}", lines.join(", "));
        if worst.0 > 1e-3 {
            failures.push(name);
        }
    }
    assert!(failures.is_empty(), "D's gradients differ for {failures:?}");
}

/// D's gradients and its Adam update in the D half of the first training step (after the G half,
/// or without it). Without `nn::gradients`' re-layout the update of D's `[1, c, 4, 4]` last
/// convolution has the wrong sign on ~half its elements on wgpu (issue 20).
#[test]
fn gpu_d_half_step_gradients_match_the_cpu() {
    use super::loss;
    use super::nets::BnMode;
    let cfg = tiny();
    let imgs = images(&cfg);
    let idx: Vec<usize> = (0..32).collect();
    let mut failures = Vec::new();
    for g_half in [false, true] {
        let run = |device: &Device| {
            let mut rng = ChaCha8Rng::seed_from_u64(1);
            let Nets {
                mut netg,
                netd,
                mut opt_g,
                mut opt_d,
            } = Nets::new(&cfg, device, &mut rng);
            let x = batch(&imgs, &idx, &cfg, device);
            let out = netg.forward(x.clone(), BnMode::Train);
            if g_half {
                let frozen_d = netd.clone().no_grad();
                let feat_real = frozen_d.encoder.features(x.clone(), BnMode::Train);
                let feat_fake = frozen_d.encoder.features(out.fake.clone(), BnMode::Train);
                let err_g = loss::adversarial(feat_real, feat_fake).mul_scalar(cfg.w_adv)
                    + loss::contextual(x.clone(), out.fake.clone()).mul_scalar(cfg.w_con)
                    + loss::encoder(out.latent_i.clone(), out.latent_o.clone()).mul_scalar(cfg.w_enc);
                let grads_g = crate::nn::gradients(err_g.backward(), &netg);
                netg = opt_g.step(cfg.lr, netg, grads_g);
            }
            let fake = out.fake.detach();
            let fake_values = fake.clone().into_data().try_to_vec::<f32>().unwrap();
            let (pred_real, _) = netd.forward(x, BnMode::Train);
            let (pred_fake, _) = netd.forward(fake, BnMode::Train);
            let p = (
                pred_real.clone().into_data().try_to_vec::<f32>().unwrap(),
                pred_fake.clone().into_data().try_to_vec::<f32>().unwrap(),
            );
            let err_d = loss::discriminator(pred_real, pred_fake);
            let grads = err_d.backward();
            let mut v = GradValues(&grads, Vec::new());
            netd.visit(&mut v);
            let v = v.1;
            let before = values::<NetD>(&netd);
            let grads_d = crate::nn::gradients(grads, &netd);
            let netd = opt_d.step(cfg.lr, netd, grads_d);
            let after = values::<NetD>(&netd);
            drop(netg);
            (fake_values, p, v, before, after)
        };
        let (fc, pc, gc, bc, ac) = run(&cpu().autodiff());
        let (fg, pg, gg, bg, ag) = run(&gpu().autodiff());
        let upd: Vec<String> = (0..ac.len())
            .map(|i| {
                let dc: Vec<f32> = ac[i].iter().zip(&bc[i]).map(|(a, b)| a - b).collect();
                let dg: Vec<f32> = ag[i].iter().zip(&bg[i]).map(|(a, b)| a - b).collect();
                let flips = dc.iter().zip(&dg).filter(|(p, q)| p.signum() != q.signum()).count();
                format!(
                    "#{i} before {:.1e} after {:.1e} ({flips} update signs differ; cpu {:?} gpu {:?})",
                    compare(std::slice::from_ref(&bc[i]), std::slice::from_ref(&bg[i])).0,
                    compare(std::slice::from_ref(&ac[i]), std::slice::from_ref(&ag[i])).0,
                    &dc[..2.min(dc.len())],
                    &dg[..2.min(dg.len())]
                )
            })
            .collect();
        eprintln!("G half {g_half}: Adam on D: {}", upd.join(", "));
        let fake_d = compare(&[fc], &[fg]).0;
        let pred_d = (compare(&[pc.0], &[pg.0]).0, compare(&[pc.1], &[pg.1]).0);
        let per: Vec<String> = gc
            .iter()
            .zip(&gg)
            .enumerate()
            .map(|(i, ((s, a), (_, b)))| {
                let (d, _) = compare(std::slice::from_ref(a), std::slice::from_ref(b));
                let flips = a.iter().zip(b).filter(|(p, q)| p.signum() != q.signum()).count();
                format!("#{i} {s:?} {d:.1e} ({flips} signs differ)")
            })
            .collect();
        eprintln!(
            "G half {g_half}: fake differs by {fake_d:.1e}, D(real) {:.1e}, D(fake) {:.1e}; D gradients {}",
            pred_d.0,
            pred_d.1,
            per.join(", ")
        );
        let grads_differ = gc
            .iter()
            .zip(&gg)
            .any(|((_, a), (_, b))| compare(std::slice::from_ref(a), std::slice::from_ref(b)).0 > 1e-3);
        if grads_differ || compare(&ac, &ag).0 > 1e-3 {
            failures.push(g_half);
        }
    }
    assert!(
        failures.is_empty(),
        "D's gradients or its Adam update differ (G half first: {failures:?})"
    );
}
