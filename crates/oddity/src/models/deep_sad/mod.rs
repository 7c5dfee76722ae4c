//! Deep SAD (Ruff et al., "Deep Semi-Supervised Anomaly Detection", ICLR 2020): an encoder φ
//! without biases maps samples into a space where unlabelled data is pulled towards a centre c and
//! labelled anomalies are pushed away from it:
//!
//! loss = mean over the batch of ‖φ(x) − c‖² (unlabelled) or η·(‖φ(x) − c‖² + ε)^(−1) (labelled
//! anomaly); the anomaly score is ‖φ(x) − c‖².
//!
//! As in the official code the encoder is first pretrained as an autoencoder (mirrored decoder with
//! a sigmoid output, squared reconstruction error), c is the mean representation of the training
//! data after pretraining (coordinates closer to 0 than 0.1 set to ±0.1), and both phases use
//! Adam with L2 weight decay and a step learning-rate schedule (see [`DeepSadConfig`]).
//!
//! Differences from the official code, on purpose:
//! - **No batch normalisation.** The official hidden layers are Linear → BatchNorm1d (no affine
//!   parameters, ε = 1e-4) → leaky ReLU. They are omitted here: the network is a plain bias-free
//!   MLP with leaky ReLU (slope 0.01) hidden layers, which keeps training and scoring one simple
//!   pass and identical for a sample whatever batch it is in.
//! - **Input scaling.** The official ODDS loader standardises, then min-max scales to [0, 1] with
//!   training statistics (which the sigmoid decoder output relies on). That composition equals
//!   min-max scaling of the raw features, which is what is fitted here and stored with the model.

mod config;

use std::path::Path;

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

pub use config::DeepSadConfig;

use super::tabular::{self, TensorList};
use crate::data::Dataset;
use crate::data::split::labeled_and_unlabeled;
use crate::detector::{FitContext, Model};
use crate::error::{Error, Result};
use crate::nn::{Activation, Mlp, Optimizer, OptimizerKind, Standardizer};
use crate::progress::Progress;

/// A fitted Deep SAD model.
#[derive(Debug, Clone)]
pub struct DeepSad {
    scaler: Standardizer,
    encoder: Mlp,
    center: Vec<f32>,
}

/// Deep SAD's loss on a batch of representations `z` (`[n × k]`, k = `c.len()`) with flags
/// `labeled` (true = labelled anomaly): the batch mean of ‖z − c‖² (unlabelled) or
/// η·(‖z − c‖² + ε)^(−1) (labelled anomaly), and its gradient with respect to `z`.
pub fn deep_sad_loss(z: &[f32], labeled: &[bool], c: &[f32], eta: f32, eps: f32) -> (f32, Vec<f32>) {
    let k = c.len();
    let n = labeled.len();
    let mut grad = vec![0.0f32; z.len()];
    let mut loss = 0.0f64;
    for (i, (row, g)) in z.chunks_exact(k).zip(grad.chunks_exact_mut(k)).enumerate() {
        let dist: f32 = row.iter().zip(c).map(|(a, b)| (a - b) * (a - b)).sum();
        // ∂loss_i/∂dist, then ∂dist/∂z = 2(z − c).
        let dl = if labeled[i] {
            let t = dist + eps;
            loss += (eta / t) as f64;
            -eta / (t * t)
        } else {
            loss += dist as f64;
            1.0
        };
        for ((gj, &zj), &cj) in g.iter_mut().zip(row).zip(c) {
            *gj = dl * 2.0 * (zj - cj) / n as f32;
        }
    }
    ((loss / n as f64) as f32, grad)
}

/// The hypersphere centre: the mean of `z`, with coordinates closer to 0 than `eps` set to ±`eps`
/// (an exact 0 stays 0, as in the official code).
pub fn init_center(z: &[f32], k: usize, eps: f32) -> Vec<f32> {
    let n = z.len() / k;
    let mut c = vec![0.0f64; k];
    for row in z.chunks_exact(k) {
        c.iter_mut().zip(row).for_each(|(s, &v)| *s += v as f64);
    }
    c.into_iter()
        .map(|s| {
            let m = (s / n.max(1) as f64) as f32;
            if m.abs() < eps && m < 0.0 {
                -eps
            } else if m.abs() < eps && m > 0.0 {
                eps
            } else {
                m
            }
        })
        .collect()
}

/// The learning rate at `epoch` (0-based) under a ×0.1 step at each milestone.
fn scheduled_lr(lr: f32, milestones: &[usize], epoch: usize) -> f32 {
    lr * 0.1f32.powi(milestones.iter().filter(|&&m| epoch >= m).count() as i32)
}

impl DeepSad {
    fn encoder_shape(config: &DeepSadConfig, d: usize) -> (Vec<usize>, Vec<Activation>) {
        let mut dims = vec![d];
        dims.extend(&config.hidden);
        dims.push(config.rep_dim);
        let mut acts = vec![Activation::LeakyRelu; config.hidden.len()];
        acts.push(Activation::Linear);
        (dims, acts)
    }

    fn decoder_shape(config: &DeepSadConfig, d: usize) -> (Vec<usize>, Vec<Activation>) {
        let mut dims = vec![config.rep_dim];
        dims.extend(config.hidden.iter().rev());
        dims.push(d);
        let mut acts = vec![Activation::LeakyRelu; config.hidden.len()];
        acts.push(Activation::Sigmoid);
        (dims, acts)
    }

    /// Autoencoder pretraining of `encoder` on all of `x`; `progress` advances once per batch.
    fn pretrain(
        config: &DeepSadConfig,
        encoder: &mut Mlp,
        x: &[f32],
        (n, d): (usize, usize),
        rng: &mut ChaCha8Rng,
        progress: &dyn Progress,
    ) {
        let (dims, acts) = Self::decoder_shape(config, d);
        let mut decoder = Mlp::new(&dims, &acts, false, rng);
        let adam = |lr| OptimizerKind::Adam {
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: config.ae_weight_decay,
        };
        let mut opt_e =
            Optimizer::new(adam(config.ae_lr), encoder.params.len()).with_global_clip_norm(config.clip_norm);
        let mut opt_d =
            Optimizer::new(adam(config.ae_lr), decoder.params.len()).with_global_clip_norm(config.clip_norm);
        let mut ge = vec![0.0; encoder.params.len()];
        let mut gd = vec![0.0; decoder.params.len()];
        let mut order: Vec<usize> = (0..n).collect();
        let mut xb = Vec::new();
        for epoch in 0..config.ae_epochs {
            let lr = scheduled_lr(config.ae_lr, &config.ae_lr_milestones, epoch);
            opt_e.set_lr(lr);
            opt_d.set_lr(lr);
            order.shuffle(rng);
            for batch in order.chunks(config.batch_size) {
                let b = batch.len();
                tabular::gather(x, d, batch, &mut xb);
                let ce = encoder.forward_cache(&xb, b);
                let cd = decoder.forward_cache(ce.output(), b);
                // mean over the batch of Σ_j (x̂ − x)²
                let g_out: Vec<f32> = cd
                    .output()
                    .iter()
                    .zip(&xb)
                    .map(|(r, v)| 2.0 * (r - v) / b as f32)
                    .collect();
                let g_code = decoder
                    .backward(ce.output(), &cd, &g_out, &mut gd, true)
                    .unwrap_or_default();
                encoder.backward(&xb, &ce, &g_code, &mut ge, false);
                opt_d.step(&mut decoder.params, &mut gd);
                opt_e.step(&mut encoder.params, &mut ge);
                progress.advance(1);
            }
        }
    }
}

impl Model for DeepSad {
    const KIND: &'static str = "deep-sad";
    type Config = DeepSadConfig;

    fn fit(config: &DeepSadConfig, train: &Dataset, ctx: &FitContext) -> Result<Self> {
        labeled_and_unlabeled(train, Self::KIND)?;
        let flags = train.anomaly_flags().unwrap_or_default();
        let (n, d) = (train.n(), train.dim());
        let scaler = Standardizer::fit_min_max(train.x(), n, d);
        let x = scaler.transform(train.x());
        let mut rng = ChaCha8Rng::seed_from_u64(ctx.seed);
        let (dims, acts) = Self::encoder_shape(config, d);
        let mut encoder = Mlp::new(&dims, &acts, false, &mut rng);
        // Progress counts batches, so Ctrl-C (a cancelling `Progress`) acts within one batch.
        let batches = n.div_ceil(config.batch_size) as u64;
        if config.pretrain {
            let total = config.ae_epochs as u64 * batches;
            ctx.progress.start("pretraining the Deep SAD autoencoder", Some(total));
            Self::pretrain(config, &mut encoder, &x, (n, d), &mut rng, ctx.progress);
            ctx.progress.finish();
        }
        ctx.progress
            .start("training Deep SAD", Some(config.epochs as u64 * batches));
        let center = init_center(&encoder.forward(&x, n), config.rep_dim, config.center_eps);
        let opt = Optimizer::new(
            OptimizerKind::Adam {
                lr: config.lr,
                beta1: 0.9,
                beta2: 0.999,
                eps: 1e-8,
                weight_decay: config.weight_decay,
            },
            encoder.params.len(),
        );
        let mut opt = opt.with_global_clip_norm(config.clip_norm);
        let mut grads = vec![0.0; encoder.params.len()];
        let mut order: Vec<usize> = (0..n).collect();
        let (mut xb, mut lb) = (Vec::new(), Vec::new());
        for epoch in 0..config.epochs {
            opt.set_lr(scheduled_lr(config.lr, &config.lr_milestones, epoch));
            order.shuffle(&mut rng);
            let mut epoch_loss = 0.0f64;
            for batch in order.chunks(config.batch_size) {
                let b = batch.len();
                tabular::gather(&x, d, batch, &mut xb);
                lb.clear();
                lb.extend(batch.iter().map(|&i| flags[i]));
                let cache = encoder.forward_cache(&xb, b);
                let (loss, g) = deep_sad_loss(cache.output(), &lb, &center, config.eta, config.eps);
                epoch_loss += loss as f64 * b as f64;
                encoder.backward(&xb, &cache, &g, &mut grads, false);
                opt.step(&mut encoder.params, &mut grads);
                ctx.progress.advance(1);
            }
            crate::nn::check_epoch_loss("Deep SAD", epoch_loss / n as f64, epoch + 1)?;
            ctx.progress
                .record("Deep SAD loss per epoch", epoch as u64 + 1, epoch_loss / n as f64);
        }
        ctx.progress.finish();
        if encoder.params.iter().any(|p| !p.is_finite()) {
            return Err(Error::diverged(
                "Deep SAD",
                format!("epoch {}", config.epochs),
                "non-finite weights",
                None,
                " (try a smaller lr)",
            ));
        }
        Ok(DeepSad {
            scaler,
            encoder,
            center,
        })
    }

    fn score(&self, data: &Dataset) -> Result<Vec<f32>> {
        let x = self.scaler.transform(data.x());
        let z = self.encoder.forward(&x, data.n());
        let k = self.center.len();
        Ok(z.chunks_exact(k)
            .map(|row| row.iter().zip(&self.center).map(|(a, b)| (a - b) * (a - b)).sum())
            .collect())
    }

    fn save_weights(&self, path: &Path) -> Result<()> {
        let mut t = TensorList::default();
        t.push_scaler(&self.scaler);
        t.push_mlp("encoder", &self.encoder);
        t.push("center", vec![self.center.len()], &self.center);
        t.write(path, Self::KIND, self.scaler.dim())
    }

    fn load_weights(config: &DeepSadConfig, path: &Path, _device: &crate::backend::Device) -> Result<Self> {
        let (mut file, d) = tabular::open(path, Self::KIND)?;
        let scaler = tabular::read_scaler(&mut file, path, d)?;
        let (dims, acts) = Self::encoder_shape(config, d);
        let encoder = tabular::read_mlp(&mut file, path, "encoder", &dims, &acts, false)?;
        let center = file.take("center", &[config.rep_dim])?;
        Ok(DeepSad {
            scaler,
            encoder,
            center,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loss_and_gradient_by_hand() {
        // c = (1, 0); z1 = (2, 1) unlabelled: dist 2; z2 = (1, 0.5) labelled: dist 0.25,
        // η = 2, ε = 0: 2/0.25 = 8. Mean (2 + 8)/2 = 5.
        // ∂/∂z1 = 2(z1 − c)/2 = (1, 1); ∂/∂z2 = −η/dist² · 2(z2 − c)/2 = −32·(0, 0.5) = (0, −16).
        let (loss, g) = deep_sad_loss(&[2.0, 1.0, 1.0, 0.5], &[false, true], &[1.0, 0.0], 2.0, 0.0);
        assert!((loss - 5.0).abs() < 1e-6);
        assert_eq!(g, vec![1.0, 1.0, 0.0, -16.0]);
    }

    #[test]
    fn center_pushes_small_coordinates_to_eps() {
        let c = init_center(&[-0.03, 0.05, 1.0, 0.0, 0.1, -1.0, -0.03, 0.0, 0.0], 3, 0.1);
        assert_eq!(c, vec![-0.1, 0.1, 0.0]);
        assert!((init_center(&[0.5, 0.7], 1, 0.1)[0] - 0.6).abs() < 1e-6);
    }

    #[test]
    fn schedule_steps_at_milestones() {
        assert_eq!(scheduled_lr(1.0, &[2, 4], 1), 1.0);
        assert!((scheduled_lr(1.0, &[2, 4], 2) - 0.1).abs() < 1e-7);
        assert!((scheduled_lr(1.0, &[2, 4], 5) - 0.01).abs() < 1e-8);
    }
}
