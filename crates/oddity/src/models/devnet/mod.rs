//! DevNet (Pang, Shen & van den Hengel, "Deep Anomaly Detection with Deviation Networks",
//! KDD 2019): a network φ maps a sample to a scalar anomaly score, trained end to end with the
//! *deviation loss* against a Gaussian prior on the scores of normal data.
//!
//! Each step draws l reference scores r ~ N(0, 1) (mean μ_R, standard deviation σ_R) and a
//! mini-batch that alternates unlabelled samples (y = 0, treated as normal) and labelled
//! anomalies (y = 1), both drawn with replacement. With dev(x) = (φ(x) − μ_R)/σ_R the loss is
//! mean[(1 − y)·|dev| + y·max(0, a − dev)] + λ·Σw² (hidden kernel): unlabelled scores are pulled to
//! the prior mean, labelled anomalies pushed at least a standard deviations above it.
//! The anomaly score is φ(x).
//!
//! Inputs are standardised with statistics of the training data (stored with the model). The
//! official code reads data that was already normalised; the network and training loop follow it
//! (see [`DevNetConfig`]). One documented difference: Keras 2.2's RMSprop adds ε = 1e-7 outside the
//! square root, [`crate::nn::OptimizerKind::RmsProp`] inside it (TensorFlow's form); after
//! clipping, per-parameter gradient magnitudes are far above √ε, so the steps are the same to
//! within rounding. The official code also draws the reference scores once (a Keras variable
//! built when the loss is compiled); here they are drawn for every batch, as in the paper's
//! Algorithm 1 — with l = 5000, μ_R and σ_R move by about 1%.

mod config;

use std::path::Path;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub use config::DevNetConfig;

use super::tabular::{self, TensorList};
use crate::data::Dataset;
use crate::data::split::labeled_and_unlabeled;
use crate::detector::{FitContext, Model};
use crate::error::Result;
use crate::nn::{Activation, Mlp, Optimizer, OptimizerKind, Standardizer};

const ACTS: [Activation; 2] = [Activation::Relu, Activation::Linear];

/// A fitted DevNet.
#[derive(Debug, Clone)]
pub struct DevNet {
    scaler: Standardizer,
    net: Mlp,
}

/// The deviation loss of `scores` φ(x) with labels `y` (1 = labelled anomaly) against reference
/// mean `mu` and standard deviation `sigma`, margin `a`: the batch mean of
/// `(1 − y)·|dev| + y·max(0, a − dev)`, dev = (φ − μ)/σ, and its gradient with respect to each score
/// (the subgradient 0 where |dev| or the hinge has a kink, as TensorFlow does).
pub fn deviation_loss(scores: &[f32], y: &[bool], mu: f32, sigma: f32, a: f32) -> (f32, Vec<f32>) {
    let b = scores.len() as f32;
    let mut loss = 0.0f64;
    let grad = scores
        .iter()
        .zip(y)
        .map(|(&s, &anomaly)| {
            let dev = (s - mu) / sigma;
            if anomaly {
                let h = a - dev;
                if h > 0.0 {
                    loss += h as f64;
                    -1.0 / (sigma * b)
                } else {
                    0.0
                }
            } else {
                loss += dev.abs() as f64;
                if dev > 0.0 {
                    1.0 / (sigma * b)
                } else if dev < 0.0 {
                    -1.0 / (sigma * b)
                } else {
                    0.0
                }
            }
        })
        .collect();
    ((loss / b as f64) as f32, grad)
}

/// Mean and population standard deviation (`K.std`) of `l` standard-normal draws.
fn reference_stats<R: Rng>(l: usize, rng: &mut R) -> (f32, f32) {
    let (mut s, mut s2) = (0.0f64, 0.0f64);
    for _ in 0..l {
        let r = tabular::standard_normal(rng);
        s += r;
        s2 += r * r;
    }
    let mean = s / l as f64;
    let var = (s2 / l as f64 - mean * mean).max(1e-12);
    (mean as f32, var.sqrt() as f32)
}

impl DevNet {
    fn dims(config: &DevNetConfig, d: usize) -> [usize; 3] {
        [d, config.hidden, 1]
    }
}

impl Model for DevNet {
    const KIND: &'static str = "devnet";
    type Config = DevNetConfig;

    fn fit(config: &DevNetConfig, train: &Dataset, ctx: &FitContext) -> Result<Self> {
        let (anomalies, unlabeled) = labeled_and_unlabeled(train, Self::KIND)?;
        let (n, d) = (train.n(), train.dim());
        // Min-max to [0, 1]: the preprocessing of the paper's data (ADRepository `*_normalised`
        // files, used as given by the official code); z-scores blow up rare one-hot columns.
        let scaler = Standardizer::fit_min_max(train.x(), n, d);
        let x = scaler.transform(train.x());
        let mut rng = ChaCha8Rng::seed_from_u64(ctx.seed);
        let mut net = Mlp::new(&Self::dims(config, d), &ACTS, true, &mut rng);
        let n_params = net.params.len();
        let mut opt = Optimizer::new(
            OptimizerKind::RmsProp {
                lr: config.lr,
                rho: config.rho,
                momentum: 0.0,
                eps: 1e-7,
                centered: false,
            },
            n_params,
        );
        // Keras 2.2 clips by the norm of all gradients together.
        opt = opt.with_global_clip_norm(config.clip_norm);
        let bs = config.batch_size;
        let y: Vec<bool> = (0..bs).map(|i| i % 2 == 1).collect();
        let mut idx = vec![0usize; bs];
        let mut xb = Vec::with_capacity(bs * d);
        let mut grads = vec![0.0f32; n_params];
        let mut best = (f64::INFINITY, net.params.clone());
        ctx.progress.start("training DevNet", Some(config.epochs as u64));
        for epoch in 1..=config.epochs {
            let mut epoch_loss = 0.0f64;
            for _ in 0..config.batches_per_epoch {
                for (i, slot) in idx.iter_mut().enumerate() {
                    *slot = if y[i] {
                        anomalies[rng.random_range(0..anomalies.len())]
                    } else {
                        unlabeled[rng.random_range(0..unlabeled.len())]
                    };
                }
                tabular::gather(&x, d, &idx, &mut xb);
                let (mu, sigma) = reference_stats(config.reference_samples, &mut rng);
                let cache = net.forward_cache(&xb, bs);
                let (loss, grad_out) = deviation_loss(cache.output(), &y, mu, sigma, config.margin);
                net.backward(&xb, &cache, &grad_out, &mut grads, false);
                net.add_l2_grad(0, config.l2, &mut grads);
                epoch_loss += loss as f64 + (config.l2 * net.weight_sq_sum(0)) as f64;
                opt.step(&mut net.params, &mut grads);
            }
            let mean = epoch_loss / config.batches_per_epoch as f64;
            crate::nn::check_epoch_loss("DevNet", mean, epoch)?;
            ctx.progress.record("deviation loss per epoch", epoch as u64, mean);
            // Keras' checkpoint compares the epoch loss, which is computed during the epoch.
            if mean < best.0 {
                best = (mean, net.params.clone());
            }
            ctx.progress.advance(1);
        }
        ctx.progress.finish();
        if config.keep_best_epoch && best.0.is_finite() {
            net.params = best.1;
        }
        Ok(DevNet { scaler, net })
    }

    fn score(&self, data: &Dataset) -> Result<Vec<f32>> {
        let x = self.scaler.transform(data.x());
        Ok(self.net.forward(&x, data.n()))
    }

    fn save_weights(&self, path: &Path) -> Result<()> {
        let mut t = TensorList::default();
        t.push_scaler(&self.scaler);
        t.push_mlp("net", &self.net);
        t.write(path, Self::KIND, self.scaler.dim())
    }

    fn load_weights(config: &DevNetConfig, path: &Path, _device: &crate::backend::Device) -> Result<Self> {
        let (mut file, d) = tabular::open(path, Self::KIND)?;
        let scaler = tabular::read_scaler(&mut file, path, d)?;
        let net = tabular::read_mlp(&mut file, path, "net", &Self::dims(config, d), &ACTS, true)?;
        Ok(DevNet { scaler, net })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deviation_loss_by_hand() {
        // μ = 0.5, σ = 2, a = 5: dev = (1.5, −0.5, 4, 6) for scores (3.5, −0.5, 8.5, 12.5).
        // labels (0, 0, 1, 1): |1.5| + |−0.5| + max(0, 1) + max(0, −1) = 3 → mean 0.75.
        let (loss, g) = deviation_loss(&[3.5, -0.5, 8.5, 12.5], &[false, false, true, true], 0.5, 2.0, 5.0);
        assert!((loss - 0.75).abs() < 1e-6);
        assert_eq!(g, vec![0.125, -0.125, -0.125, 0.0]);
    }

    #[test]
    fn reference_stats_are_close_to_the_prior() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let (m, s) = reference_stats(5000, &mut rng);
        assert!(m.abs() < 0.06 && (s - 1.0).abs() < 0.04, "{m} {s}");
    }
}
