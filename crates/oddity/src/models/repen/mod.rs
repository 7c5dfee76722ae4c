//! REPEN (Pang, Cao, Chen & Liu, "Learning Representations of Ultrahigh-dimensional Data for
//! Random Distance-based Outlier Detection", KDD 2018), in its "with known outliers" form that
//! DPLAN (Pang et al. KDD 2021) compares with.
//!
//! 1. An unsupervised scorer, [`Lesinn`] (the official code's choice), scores the unlabelled
//!    training samples; those above mean + 1.7321 sd are outlier candidates, the rest inlier
//!    candidates.
//! 2. A one-layer ReLU representation φ (d → 20) is trained on triplets (query q, positive p,
//!    negative n) with the ranking loss max(0, M − (‖φ(q) − φ(n)‖² − ‖φ(q) − φ(p)‖²)), M = 1000
//!    (squared distances as in the official `rankingLoss`; the paper writes the loss with
//!    distances). q is drawn from the inlier candidates with weight Σs − s(q) (inlier-like first),
//!    p uniformly from the other inlier candidates, n from the labelled anomalies (uniformly;
//!    with `unsupervised_negatives` also from the outlier candidates, weighted by score as in
//!    the official code). Keras' Adadelta, batches of 256, 30 epochs of ⌈n/256⌉ batches, the
//!    epoch with the lowest loss kept.
//! 3. The anomaly score is LeSiNN in the learned space: 50 random subsamples of 8 unlabelled
//!    training samples, score = mean over subsamples of the Euclidean distance to the nearest
//!    subsample point. The subsample points are drawn once at fit and saved with the model, so
//!    scores do not change after loading. (The official code draws the subsamples from the very
//!    data it scores, transductively; here they come from the training data so new data can be
//!    scored.)
//!
//! Inputs are standardised with training statistics (stored with the model); the official code
//! feeds the data as given.

mod config;

use std::path::Path;

use rand::seq::index;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub use config::RepenConfig;

use super::tabular::{self, TensorList};
use crate::data::Dataset;
use crate::data::split::labeled_and_unlabeled;
use crate::detector::{FitContext, Model};
use crate::error::{Error, Result};
use crate::nn::{Activation, Mlp, Optimizer, OptimizerKind, Standardizer};

const ACTS: [Activation; 1] = [Activation::Relu];

/// LeSiNN (Pang, Ting & Albrecht, ICDM Workshops 2015): an ensemble of nearest-neighbour
/// distances to tiny random subsamples. The score of x is the mean over the ensemble of the
/// Euclidean distance from x to its nearest point of each subsample.
#[derive(Debug, Clone, PartialEq)]
pub struct Lesinn {
    /// Subsample points, member after member: `[members × size × dim]`.
    points: Vec<f32>,
    members: usize,
    size: usize,
    dim: usize,
}

impl Lesinn {
    /// Draws `members` subsamples of `size` rows (without replacement within a member; all rows
    /// when fewer) from rows `rows` of `x` (`dim` wide).
    pub fn fit<R: Rng>(x: &[f32], dim: usize, rows: &[usize], members: usize, size: usize, rng: &mut R) -> Self {
        let size = size.min(rows.len());
        let mut points = Vec::with_capacity(members * size * dim);
        for _ in 0..members {
            for j in index::sample(rng, rows.len(), size).into_iter() {
                let r = rows[j];
                points.extend_from_slice(&x[r * dim..(r + 1) * dim]);
            }
        }
        Lesinn {
            points,
            members,
            size,
            dim,
        }
    }

    /// Rebuilds from saved points `[members × size × dim]`.
    pub fn from_points(points: Vec<f32>, members: usize, size: usize, dim: usize) -> Option<Self> {
        (members > 0 && size > 0 && points.len() == members * size * dim).then_some(Lesinn {
            points,
            members,
            size,
            dim,
        })
    }

    /// Scores of the `x.len() / dim` rows of `x`.
    pub fn score(&self, x: &[f32]) -> Vec<f32> {
        let member_len = self.size * self.dim;
        x.chunks_exact(self.dim)
            .map(|row| {
                let mut total = 0.0f64;
                for member in self.points.chunks_exact(member_len) {
                    let nearest = member
                        .chunks_exact(self.dim)
                        .map(|p| p.iter().zip(row).map(|(a, b)| (a - b) * (a - b)).sum::<f32>())
                        .fold(f32::INFINITY, f32::min);
                    total += (nearest as f64).sqrt();
                }
                (total / self.members as f64) as f32
            })
            .collect()
    }
}

/// The triplet ranking loss on representations `reps` = `[q rows; p rows; n rows]` (each block
/// `b × k`): the mean of max(0, M − (‖q − n‖² − ‖q − p‖²)) and its gradient with respect to `reps`.
pub fn triplet_loss(reps: &[f32], b: usize, k: usize, margin: f32) -> (f32, Vec<f32>) {
    let mut grad = vec![0.0f32; reps.len()];
    let mut loss = 0.0f64;
    let (q, rest) = reps.split_at(b * k);
    let (p, n) = rest.split_at(b * k);
    let s = 2.0 / b as f32;
    for i in 0..b {
        let r = i * k..(i + 1) * k;
        let (qi, pi, ni) = (&q[r.clone()], &p[r.clone()], &n[r.clone()]);
        let dp: f32 = qi.iter().zip(pi).map(|(a, c)| (a - c) * (a - c)).sum();
        let dn: f32 = qi.iter().zip(ni).map(|(a, c)| (a - c) * (a - c)).sum();
        let h = margin - (dn - dp);
        if h > 0.0 {
            loss += h as f64;
            for j in 0..k {
                grad[i * k + j] = s * (ni[j] - pi[j]);
                grad[(b + i) * k + j] = s * (pi[j] - qi[j]);
                grad[(2 * b + i) * k + j] = s * (qi[j] - ni[j]);
            }
        }
    }
    ((loss / b as f64) as f32, grad)
}

/// Inlier and outlier candidates among `scores` (positions into it): outliers score above
/// mean + `k`·sd (population sd); when that threshold reaches the maximum, the top 10 are the
/// outliers (official `cutoff_unsorted`).
pub fn cutoff(scores: &[f32], k: f32) -> (Vec<usize>, Vec<usize>) {
    let n = scores.len().max(1) as f64;
    let mean = scores.iter().map(|&s| s as f64).sum::<f64>() / n;
    let sd = (scores.iter().map(|&s| (s as f64 - mean).powi(2)).sum::<f64>() / n).sqrt();
    let mut th = mean + k as f64 * sd;
    let max = scores.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b)) as f64;
    if th >= max {
        let mut sorted = scores.to_vec();
        sorted.sort_by(f32::total_cmp);
        th = sorted[sorted.len().saturating_sub(11)] as f64;
    }
    let inl = (0..scores.len()).filter(|&i| scores[i] as f64 <= th).collect();
    let out = (0..scores.len()).filter(|&i| scores[i] as f64 > th).collect();
    (inl, out)
}

/// Draws positions with probability proportional to `weights` (cumulative sums, binary search).
struct Weighted {
    cum: Vec<f64>,
}

impl Weighted {
    /// `None` when the weights do not sum to a positive finite number.
    fn new(weights: impl Iterator<Item = f64>) -> Option<Self> {
        let mut acc = 0.0;
        let cum: Vec<f64> = weights
            .map(|w| {
                acc += w.max(0.0);
                acc
            })
            .collect();
        (acc > 0.0 && acc.is_finite()).then_some(Weighted { cum })
    }

    fn draw<R: Rng>(&self, rng: &mut R) -> usize {
        let total = *self.cum.last().unwrap_or(&0.0);
        let u = rng.random::<f64>() * total;
        self.cum.partition_point(|&c| c <= u).min(self.cum.len() - 1)
    }
}

/// A fitted REPEN model.
#[derive(Debug, Clone)]
pub struct Repen {
    scaler: Standardizer,
    net: Mlp,
    lesinn: Lesinn,
}

impl Model for Repen {
    const KIND: &'static str = "repen";
    type Config = RepenConfig;

    fn fit(config: &RepenConfig, train: &Dataset, ctx: &FitContext) -> Result<Self> {
        let (anomalies, unlabeled) = labeled_and_unlabeled(train, Self::KIND)?;
        let (n, d) = (train.n(), train.dim());
        if config.subsample_size >= unlabeled.len() {
            // Every sample would be in every subsample: all nearest-neighbour distances 0, all scores 0.
            return Err(Error::config(
                "subsample_size",
                format!(
                    "is {} but must be smaller than the {} unlabelled training samples",
                    config.subsample_size,
                    unlabeled.len()
                ),
            ));
        }
        // Min-max to [0, 1]: the preprocessing of the paper's data (ADRepository `*_normalised`
        // files, used as given by the official code); z-scores blow up rare one-hot columns.
        let scaler = Standardizer::fit_min_max(train.x(), n, d);
        let x = scaler.transform(train.x());
        let mut rng = ChaCha8Rng::seed_from_u64(ctx.seed);

        // 1. candidates from LeSiNN on the (standardised) raw data
        let raw = Lesinn::fit(&x, d, &unlabeled, config.ensemble_size, config.subsample_size, &mut rng);
        let mut xu = Vec::new();
        tabular::gather(&x, d, &unlabeled, &mut xu);
        let su = raw.score(&xu);
        let (inl_pos, out_pos) = cutoff(&su, config.cutoff_sd);
        if inl_pos.len() < 2 {
            return Err(Error::InvalidData(format!(
                "{}: `repen` needs at least 2 inlier candidates among the unlabelled samples, found {}",
                train.name(),
                inl_pos.len()
            )));
        }
        let inliers: Vec<usize> = inl_pos.iter().map(|&i| unlabeled[i]).collect();
        let total: f64 = inl_pos.iter().map(|&i| su[i] as f64).sum();
        let queries = Weighted::new(inl_pos.iter().map(|&i| total - su[i] as f64))
            .or_else(|| Weighted::new(inl_pos.iter().map(|_| 1.0)))
            .expect("at least two inlier candidates");
        let (negatives, neg_weights): (Vec<usize>, Option<Weighted>) = if config.unsupervised_negatives {
            let mut xa = Vec::new();
            tabular::gather(&x, d, &anomalies, &mut xa);
            let sa = raw.score(&xa);
            let idx: Vec<usize> = anomalies
                .iter()
                .copied()
                .chain(out_pos.iter().map(|&i| unlabeled[i]))
                .collect();
            let w = sa.iter().chain(out_pos.iter().map(|&i| &su[i])).map(|&s| s as f64);
            (idx, Weighted::new(w))
        } else {
            (anomalies.clone(), None)
        };

        // 2. triplet training
        let mut net = Mlp::new(&[d, config.embedding], &ACTS, true, &mut rng);
        let mut opt = Optimizer::new(
            OptimizerKind::Adadelta {
                lr: config.lr,
                rho: config.rho,
                eps: config.eps,
            },
            net.params.len(),
        );
        opt = opt.with_global_clip_norm(config.clip_norm);
        let b = config.batch_size;
        let steps = if config.batches_per_epoch > 0 {
            config.batches_per_epoch
        } else {
            n.div_ceil(b)
        };
        let mut idx = vec![0usize; 3 * b];
        let mut xb = Vec::new();
        let mut grads = vec![0.0; net.params.len()];
        let mut best = (f64::INFINITY, net.params.clone());
        ctx.progress.start("training REPEN", Some(config.epochs as u64));
        for epoch in 1..=config.epochs {
            let mut epoch_loss = 0.0f64;
            for _ in 0..steps {
                for i in 0..b {
                    let q = queries.draw(&mut rng);
                    let mut p = rng.random_range(0..inliers.len());
                    while p == q {
                        p = rng.random_range(0..inliers.len());
                    }
                    let neg = match &neg_weights {
                        Some(w) => w.draw(&mut rng),
                        None => rng.random_range(0..negatives.len()),
                    };
                    idx[i] = inliers[q];
                    idx[b + i] = inliers[p];
                    idx[2 * b + i] = negatives[neg];
                }
                tabular::gather(&x, d, &idx, &mut xb);
                let cache = net.forward_cache(&xb, 3 * b);
                let (loss, g) = triplet_loss(cache.output(), b, config.embedding, config.margin);
                net.backward(&xb, &cache, &g, &mut grads, false);
                opt.step(&mut net.params, &mut grads);
                epoch_loss += loss as f64;
            }
            let mean = epoch_loss / steps as f64;
            crate::nn::check_epoch_loss("REPEN", mean, epoch)?;
            ctx.progress.record("triplet loss per epoch", epoch as u64, mean);
            if mean < best.0 {
                best = (mean, net.params.clone());
            }
            ctx.progress.advance(1);
        }
        ctx.progress.finish();
        if config.keep_best_epoch && best.0.is_finite() {
            net.params = best.1;
        }
        if net.params.iter().any(|p| !p.is_finite()) {
            return Err(Error::diverged(
                "REPEN",
                format!("epoch {}", config.epochs),
                "non-finite weights",
                None,
                " (try a smaller lr or set clip_norm)",
            ));
        }

        // 3. LeSiNN in the learned space, subsamples from the unlabelled training samples
        let reps = net.forward(&xu, unlabeled.len());
        if reps.iter().any(|v| !v.is_finite()) || reps.iter().map(|v| v * v).sum::<f32>().is_infinite() {
            return Err(Error::diverged(
                "REPEN",
                format!("epoch {}", config.epochs),
                "the learned representation overflows",
                None,
                " (try a smaller lr or set clip_norm)",
            ));
        }
        let all: Vec<usize> = (0..unlabeled.len()).collect();
        let lesinn = Lesinn::fit(
            &reps,
            config.embedding,
            &all,
            config.ensemble_size,
            config.subsample_size,
            &mut rng,
        );
        Ok(Repen { scaler, net, lesinn })
    }

    fn score(&self, data: &Dataset) -> Result<Vec<f32>> {
        let x = self.scaler.transform(data.x());
        let reps = self.net.forward(&x, data.n());
        Ok(self.lesinn.score(&reps))
    }

    fn save_weights(&self, path: &Path) -> Result<()> {
        let mut t = TensorList::default();
        t.push_scaler(&self.scaler);
        t.push_mlp("net", &self.net);
        t.push(
            "lesinn.points",
            vec![self.lesinn.members, self.lesinn.size, self.lesinn.dim],
            &self.lesinn.points,
        );
        t.write(path, Self::KIND, self.scaler.dim())
    }

    fn load_weights(config: &RepenConfig, path: &Path, _device: &crate::backend::Device) -> Result<Self> {
        let (mut file, d) = tabular::open(path, Self::KIND)?;
        let scaler = tabular::read_scaler(&mut file, path, d)?;
        let net = tabular::read_mlp(&mut file, path, "net", &[d, config.embedding], &ACTS, true)?;
        let size = file.shape("lesinn.points").and_then(|s| s.get(1).copied()).unwrap_or(0);
        let points = file.take("lesinn.points", &[config.ensemble_size, size, config.embedding])?;
        let lesinn = Lesinn::from_points(points, config.ensemble_size, size, config.embedding)
            .ok_or_else(|| Error::model_file(path, "tensor `lesinn.points` is empty"))?;
        Ok(Repen { scaler, net, lesinn })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triplet_loss_by_hand() {
        // k = 1, b = 2, M = 10. Triplet 1: q 0, p 1, n 2: 10 − (4 − 1) = 7 > 0.
        // Triplet 2: q 0, p 0, n 5: 10 − 25 < 0 → inactive. Mean loss 3.5.
        // ∂/∂q1 = (2/2)(n − p) = 1; ∂/∂p1 = (p − q) = 1; ∂/∂n1 = (q − n) = −2.
        let (loss, g) = triplet_loss(&[0.0, 0.0, 1.0, 0.0, 2.0, 5.0], 2, 1, 10.0);
        assert!((loss - 3.5).abs() < 1e-6);
        assert_eq!(g, vec![1.0, 0.0, 1.0, 0.0, -2.0, 0.0]);
    }

    #[test]
    fn lesinn_by_hand() {
        // Two members in 1-D: {0, 10} and {4, 6}. x = 5: nearest 5 and 1 → mean 3.
        let l = Lesinn::from_points(vec![0.0, 10.0, 4.0, 6.0], 2, 2, 1).unwrap();
        assert_eq!(l.score(&[5.0, 0.0]), vec![3.0, 2.0]);
    }

    #[test]
    fn cutoff_flags_the_tail_or_the_top_ten() {
        let mut s = vec![1.0f32; 100];
        s[7] = 50.0;
        let (inl, out) = cutoff(&s, 1.7321);
        assert_eq!(out, vec![7]);
        assert_eq!(inl.len(), 99);
        // Equal scores: the threshold is the maximum, so the "top 10" rule picks values above
        // the 11th largest — none here, everything is an inlier.
        let (inl, out) = cutoff(&[2.0; 20], 1.7321);
        assert_eq!((inl.len(), out.len()), (20, 0));
    }

    #[test]
    fn weighted_draws_follow_weights() {
        let w = Weighted::new([0.0, 3.0, 1.0].into_iter()).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let mut c = [0usize; 3];
        for _ in 0..40_000 {
            c[w.draw(&mut rng)] += 1;
        }
        assert_eq!(c[0], 0);
        assert!((c[1] as f64 / 40_000.0 - 0.75).abs() < 0.01, "{c:?}");
        assert!(Weighted::new([0.0, 0.0].into_iter()).is_none());
    }
}
