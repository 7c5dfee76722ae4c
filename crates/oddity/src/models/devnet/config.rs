//! DevNet hyperparameters.
//!
//! Defaults follow Pang, Shen & van den Hengel, "Deep Anomaly Detection with Deviation Networks",
//! KDD 2019, and its official code (GuansongPang/deviation-network, `devnet.py`, the default
//! `--network_depth 2` network).

use serde::{Deserialize, Serialize};

use crate::budget::bytes;
use crate::data::Layout;
use crate::detector::ModelConfig;
use crate::error::{Error, Result};

/// DevNet hyperparameters (Pang et al. KDD 2019; official `devnet.py`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DevNetConfig {
    /// Units of the single ReLU hidden layer. Default 20: `dev_network_s` in the official code
    /// (the paper's default DevNet, input → 20 ReLU → 1 linear score).
    pub hidden: usize,
    /// L2 penalty λ·Σw² on the hidden layer's kernel (Keras `l2(λ)`). Default 0.01: official code.
    pub l2: f32,
    /// Confidence margin a of the deviation loss. Default 5: paper §3.3 and official code.
    pub margin: f32,
    /// Number l of reference scores drawn from the N(0, 1) prior for μ_R and σ_R. Default 5000:
    /// paper Algorithm 1 and official code.
    pub reference_samples: usize,
    /// Training epochs. Default 50: official `--epochs 50`.
    pub epochs: usize,
    /// Mini-batches per epoch. Default 20: official `--nb_batch 20`.
    pub batches_per_epoch: usize,
    /// Samples per mini-batch, alternately unlabelled and labelled anomaly, each drawn with
    /// replacement. Default 512: official `--batch_size 512`.
    pub batch_size: usize,
    /// RMSprop learning rate. Default 0.001: Keras' `RMSprop()` default, which the official code uses.
    pub lr: f32,
    /// RMSprop decay ρ. Default 0.9: Keras' default.
    pub rho: f32,
    /// Gradient clipping: the gradients of all parameters together are rescaled to at most this
    /// L2 norm (Keras 2.2's `clipnorm`, one global norm); 0 turns clipping off. Default 1.0: the
    /// official `RMSprop(clipnorm=1.)`.
    pub clip_norm: f32,
    /// Keep the parameters of the epoch with the lowest mean training loss rather than the last.
    /// Default `true`: the official code scores with the `ModelCheckpoint(monitor='loss',
    /// save_best_only=True)` weights.
    pub keep_best_epoch: bool,
}

impl Default for DevNetConfig {
    fn default() -> Self {
        DevNetConfig {
            hidden: 20,
            l2: 0.01,
            margin: 5.0,
            reference_samples: 5000,
            epochs: 50,
            batches_per_epoch: 20,
            batch_size: 512,
            lr: 0.001,
            rho: 0.9,
            clip_norm: 1.0,
            keep_best_epoch: true,
        }
    }
}

impl ModelConfig for DevNetConfig {
    /// Weights with gradients and RMSprop moments (d × hidden), a batch, the N(0, 1) draws. Each
    /// key's own term, so the message names the key that is too large.
    fn memory(&self, layout: Layout, _n: usize) -> Vec<(&'static str, Option<u128>)> {
        let d = layout.dim();
        vec![
            ("hidden", bytes(&[d, self.hidden], 12)),
            ("batch_size", bytes(&[self.batch_size, d], 4)),
            ("reference_samples", bytes(&[self.reference_samples], 4)),
        ]
    }

    fn validate(&self) -> Result<()> {
        if self.hidden == 0 {
            return Err(Error::config("hidden", "must be at least 1, got 0"));
        }
        if !(self.l2 >= 0.0 && self.l2.is_finite()) {
            return Err(Error::config("l2", format!("must be finite and >= 0, got {}", self.l2)));
        }
        if !(self.margin > 0.0 && self.margin.is_finite()) {
            return Err(Error::config(
                "margin",
                format!("must be finite and > 0, got {}", self.margin),
            ));
        }
        if self.reference_samples < 2 {
            return Err(Error::config(
                "reference_samples",
                format!(
                    "must be at least 2 (a standard deviation is needed), got {}",
                    self.reference_samples
                ),
            ));
        }
        if self.epochs == 0 {
            return Err(Error::config("epochs", "must be at least 1, got 0"));
        }
        if self.batches_per_epoch == 0 {
            return Err(Error::config("batches_per_epoch", "must be at least 1, got 0"));
        }
        if self.batch_size < 2 {
            return Err(Error::config(
                "batch_size",
                format!(
                    "must be at least 2 (half unlabelled, half labelled anomalies), got {}",
                    self.batch_size
                ),
            ));
        }
        if !(self.lr > 0.0 && self.lr.is_finite()) {
            return Err(Error::config("lr", format!("must be finite and > 0, got {}", self.lr)));
        }
        if !(self.rho > 0.0 && self.rho < 1.0) {
            return Err(Error::config("rho", format!("must be in (0, 1), got {}", self.rho)));
        }
        if !(self.clip_norm >= 0.0 && self.clip_norm.is_finite()) {
            return Err(Error::config(
                "clip_norm",
                format!("must be finite and >= 0 (0 = off), got {}", self.clip_norm),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(c: DevNetConfig) -> String {
        match c.validate() {
            Err(Error::InvalidConfig { field, .. }) => field,
            other => panic!("expected InvalidConfig, got {other:?}"),
        }
    }

    #[test]
    fn each_rule_names_its_field() {
        let d = DevNetConfig::default;
        assert!(d().validate().is_ok());
        assert_eq!(field(DevNetConfig { hidden: 0, ..d() }), "hidden");
        assert_eq!(field(DevNetConfig { l2: -1.0, ..d() }), "l2");
        assert_eq!(field(DevNetConfig { margin: 0.0, ..d() }), "margin");
        assert_eq!(
            field(DevNetConfig {
                reference_samples: 1,
                ..d()
            }),
            "reference_samples"
        );
        assert_eq!(field(DevNetConfig { epochs: 0, ..d() }), "epochs");
        assert_eq!(
            field(DevNetConfig {
                batches_per_epoch: 0,
                ..d()
            }),
            "batches_per_epoch"
        );
        assert_eq!(field(DevNetConfig { batch_size: 1, ..d() }), "batch_size");
        assert_eq!(field(DevNetConfig { lr: 0.0, ..d() }), "lr");
        assert_eq!(field(DevNetConfig { lr: f32::NAN, ..d() }), "lr");
        assert_eq!(field(DevNetConfig { rho: 1.0, ..d() }), "rho");
        assert_eq!(field(DevNetConfig { clip_norm: -0.5, ..d() }), "clip_norm");
    }
}
