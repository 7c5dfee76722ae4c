//! REPEN hyperparameters.
//!
//! Defaults follow Pang, Cao, Chen & Liu, "Learning Representations of Ultrahigh-dimensional Data
//! for Random Distance-based Outlier Detection", KDD 2018, and its official code
//! (GuansongPang/deep-outlier-detection, `rankod.py` and `utilities.py`).

use serde::{Deserialize, Serialize};

use crate::budget::{bytes, sum};
use crate::data::Layout;
use crate::detector::ModelConfig;
use crate::error::{Error, Result};

/// REPEN hyperparameters (Pang et al. KDD 2018; official `rankod.py`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RepenConfig {
    /// Dimension of the learned representation (one ReLU layer with bias). Default 20: paper
    /// (representation dimension 20) and official `tripletModel(embedding_size=20)`.
    pub embedding: usize,
    /// Margin M of the triplet ranking loss max(0, M − (‖q − n‖² − ‖q − p‖²)). Default 1000:
    /// official `rankingLoss` (which uses squared Euclidean distances).
    pub margin: f32,
    /// Training epochs. Default 30: official `epochs = 30`.
    pub epochs: usize,
    /// Triplets per mini-batch. Default 256: official `batch_size = 256`.
    pub batch_size: usize,
    /// Gradient clipping: all gradients together rescaled to at most this L2 norm. Default 0 = off,
    /// as in the official code.
    pub clip_norm: f32,
    /// Mini-batches per epoch; 0 = ⌈training samples / batch_size⌉, the official
    /// `steps_per_epoch = X.shape[0] / batch_size`. Default 0.
    pub batches_per_epoch: usize,
    /// Adadelta learning rate. Default 1.0: Keras' `'adadelta'` defaults, which the official code uses.
    pub lr: f32,
    /// Adadelta decay ρ. Default 0.95: Keras' default.
    pub rho: f32,
    /// Adadelta ε. Default 1e-7: Keras' `K.epsilon()`.
    pub eps: f32,
    /// Outlier candidates of the unsupervised scorer are samples scoring above mean + this many
    /// standard deviations (the top 10 when none does). Default 1.7321 (√3): official
    /// `cutoff_unsorted(th=1.7321)`. Samples at or below it are the inlier candidates.
    pub cutoff_sd: f32,
    /// Also draw negatives from the unsupervised outlier candidates, not only from the labelled
    /// anomalies. Default `false`: "REPEN with known outliers" (the variant DPLAN compares
    /// with) uses the labelled anomalies as the outlier candidates.
    pub unsupervised_negatives: bool,
    /// LeSiNN ensemble size, for candidate selection on the raw data and for scoring in the
    /// learned space. Default 50: official `lesinn` (`ensemble_size = 50`).
    pub ensemble_size: usize,
    /// LeSiNN subsample size per ensemble member. Default 8: official `subsample_size = 8`.
    pub subsample_size: usize,
    /// Keep the parameters of the epoch with the lowest mean training loss. Default `true`: the
    /// official `ModelCheckpoint(monitor='loss', save_best_only=True)` weights are the ones scored.
    pub keep_best_epoch: bool,
}

impl Default for RepenConfig {
    fn default() -> Self {
        RepenConfig {
            embedding: 20,
            margin: 1000.0,
            epochs: 30,
            batch_size: 256,
            clip_norm: 0.0,
            batches_per_epoch: 0,
            lr: 1.0,
            rho: 0.95,
            eps: 1e-7,
            cutoff_sd: 1.7321,
            unsupervised_negatives: false,
            ensemble_size: 50,
            subsample_size: 8,
            keep_best_epoch: true,
        }
    }
}

impl ModelConfig for RepenConfig {
    /// Weights with gradients (d × embedding), the data's representations, triplet batches and
    /// the LeSiNN ensemble's subsamples.
    fn memory(&self, layout: Layout, n: usize) -> Vec<(&'static str, Option<u128>)> {
        let d = layout.dim();
        vec![
            (
                "embedding",
                sum(&[bytes(&[d, self.embedding], 12), bytes(&[n, self.embedding], 4)]),
            ),
            ("batch_size", bytes(&[self.batch_size, 3, d], 4)),
            (
                "ensemble_size",
                bytes(&[self.ensemble_size, self.subsample_size.min(n), d], 4),
            ),
        ]
    }

    fn validate(&self) -> Result<()> {
        if !(self.clip_norm >= 0.0 && self.clip_norm.is_finite()) {
            return Err(Error::config(
                "clip_norm",
                format!("must be finite and >= 0 (0 = off), got {}", self.clip_norm),
            ));
        }
        if self.embedding == 0 {
            return Err(Error::config("embedding", "must be at least 1, got 0"));
        }
        if !(self.margin > 0.0 && self.margin.is_finite()) {
            return Err(Error::config(
                "margin",
                format!("must be finite and > 0, got {}", self.margin),
            ));
        }
        if self.epochs == 0 {
            return Err(Error::config("epochs", "must be at least 1, got 0"));
        }
        if self.batch_size == 0 {
            return Err(Error::config("batch_size", "must be at least 1, got 0"));
        }
        if !(self.lr > 0.0 && self.lr.is_finite()) {
            return Err(Error::config("lr", format!("must be finite and > 0, got {}", self.lr)));
        }
        if !(self.rho > 0.0 && self.rho < 1.0) {
            return Err(Error::config("rho", format!("must be in (0, 1), got {}", self.rho)));
        }
        if !(self.eps > 0.0 && self.eps.is_finite()) {
            return Err(Error::config(
                "eps",
                format!("must be finite and > 0, got {}", self.eps),
            ));
        }
        if !self.cutoff_sd.is_finite() {
            return Err(Error::config(
                "cutoff_sd",
                format!("must be finite, got {}", self.cutoff_sd),
            ));
        }
        if self.ensemble_size == 0 {
            return Err(Error::config("ensemble_size", "must be at least 1, got 0"));
        }
        if self.subsample_size == 0 {
            return Err(Error::config("subsample_size", "must be at least 1, got 0"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(c: RepenConfig) -> String {
        match c.validate() {
            Err(Error::InvalidConfig { field, .. }) => field,
            other => panic!("expected InvalidConfig, got {other:?}"),
        }
    }

    #[test]
    fn clip_norm_must_be_finite_and_non_negative() {
        assert_eq!(
            field(RepenConfig {
                clip_norm: -1.0,
                ..RepenConfig::default()
            }),
            "clip_norm"
        );
        assert_eq!(
            field(RepenConfig {
                clip_norm: f32::INFINITY,
                ..RepenConfig::default()
            }),
            "clip_norm"
        );
    }

    #[test]
    fn each_rule_names_its_field() {
        let d = RepenConfig::default;
        assert!(d().validate().is_ok());
        assert_eq!(field(RepenConfig { embedding: 0, ..d() }), "embedding");
        assert_eq!(field(RepenConfig { margin: 0.0, ..d() }), "margin");
        assert_eq!(field(RepenConfig { epochs: 0, ..d() }), "epochs");
        assert_eq!(field(RepenConfig { batch_size: 0, ..d() }), "batch_size");
        assert_eq!(field(RepenConfig { lr: -1.0, ..d() }), "lr");
        assert_eq!(field(RepenConfig { rho: 0.0, ..d() }), "rho");
        assert_eq!(field(RepenConfig { eps: 0.0, ..d() }), "eps");
        assert_eq!(
            field(RepenConfig {
                cutoff_sd: f32::INFINITY,
                ..d()
            }),
            "cutoff_sd"
        );
        assert_eq!(
            field(RepenConfig {
                ensemble_size: 0,
                ..d()
            }),
            "ensemble_size"
        );
        assert_eq!(
            field(RepenConfig {
                subsample_size: 0,
                ..d()
            }),
            "subsample_size"
        );
    }
}
