//! Deep SAD hyperparameters.
//!
//! Defaults follow Ruff et al., "Deep Semi-Supervised Anomaly Detection", ICLR 2020, and the
//! official code (lukasruff/Deep-SAD-PyTorch): the MLP of its ODDS tabular experiments
//! (`networks/main.py`: `cardio_mlp`, `satellite_mlp`, `satimage-2_mlp`, `shuttle_mlp` are all
//! x_dim → 32 → 16 → 8 without biases) and the optimiser settings of `main.py` /
//! `DeepSAD_trainer.py` / `ae_trainer.py`.

use serde::{Deserialize, Serialize};

use crate::budget::{bytes, sum};
use crate::data::Layout;
use crate::detector::ModelConfig;
use crate::error::{Error, Result};

/// Deep SAD hyperparameters (Ruff et al. ICLR 2020; official Deep-SAD-PyTorch).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeepSadConfig {
    /// Widths of the encoder's hidden layers (leaky ReLU, no bias). Default `[32, 16]`: the
    /// official ODDS networks (`arrhythmia_mlp`, for 274 features, uses `[128, 64]`).
    pub hidden: Vec<usize>,
    /// Dimension of the representation φ(x). Default 8: the official ODDS networks (32 for
    /// arrhythmia, 4 for thyroid).
    pub rep_dim: usize,
    /// Weight η of the labelled-anomaly term η·(‖φ(x) − c‖² + ε)^(−1). Default 1: paper §3 and
    /// official `--eta 1.0`.
    pub eta: f32,
    /// ε inside the inverse distance of labelled anomalies. Default 1e-6: official trainer.
    pub eps: f32,
    /// Centre coordinates with |c_j| below this are set to ±this value (a zero unit could be
    /// matched trivially by zero weights). Default 0.1: official `init_center_c(eps=0.1)`.
    pub center_eps: f32,
    /// Adam learning rate of Deep SAD training. Default 0.001: official `--lr 0.001`.
    pub lr: f32,
    /// Deep SAD training epochs. Default 150: the paper's ODDS experiments (appendix; the
    /// script's own default is 50).
    pub epochs: usize,
    /// Epochs after which the learning rate is multiplied by 0.1 (PyTorch `MultiStepLR`).
    /// Default `[50]`: the paper's two-phase schedule for the ODDS experiments.
    pub lr_milestones: Vec<usize>,
    /// Mini-batch size (shuffled passes over all training samples, last batch partial).
    /// Default 128: official `--batch_size 128`.
    pub batch_size: usize,
    /// Gradient clipping for the autoencoder pretraining and the Deep SAD training: all gradients
    /// together rescaled to at most this L2 norm (`torch.nn.utils.clip_grad_norm_`). Default 0 =
    /// off, as in the official code.
    pub clip_norm: f32,
    /// Adam weight decay (L2 added to the gradient, PyTorch semantics). Default 1e-6: official.
    pub weight_decay: f32,
    /// Pretrain the encoder as part of an autoencoder (mirrored decoder, sigmoid output, mean
    /// over the batch of the summed squared error) and initialise Deep SAD from it. Default
    /// `true`: official `--pretrain True`.
    pub pretrain: bool,
    /// Autoencoder learning rate. Default 0.001: official `--ae_lr 0.001`.
    pub ae_lr: f32,
    /// Autoencoder epochs. Default 150: the paper's ODDS experiments (script default 100).
    pub ae_epochs: usize,
    /// Autoencoder learning-rate milestones (×0.1). Default `[50]`, as for training.
    pub ae_lr_milestones: Vec<usize>,
    /// Autoencoder Adam weight decay. Default 1e-6: official `--ae_weight_decay 1e-6`.
    pub ae_weight_decay: f32,
}

impl Default for DeepSadConfig {
    fn default() -> Self {
        DeepSadConfig {
            hidden: vec![32, 16],
            rep_dim: 8,
            eta: 1.0,
            eps: 1e-6,
            center_eps: 0.1,
            lr: 0.001,
            epochs: 150,
            lr_milestones: vec![50],
            batch_size: 128,
            clip_norm: 0.0,
            weight_decay: 1e-6,
            pretrain: true,
            ae_lr: 0.001,
            ae_epochs: 150,
            ae_lr_milestones: vec![50],
            ae_weight_decay: 1e-6,
        }
    }
}

fn positive(field: &str, v: f32) -> Result<()> {
    if v > 0.0 && v.is_finite() {
        Ok(())
    } else {
        Err(Error::config(field, format!("must be finite and > 0, got {v}")))
    }
}

fn non_negative(field: &str, v: f32) -> Result<()> {
    if v >= 0.0 && v.is_finite() {
        Ok(())
    } else {
        Err(Error::config(field, format!("must be finite and >= 0, got {v}")))
    }
}

fn increasing(field: &str, m: &[usize]) -> Result<()> {
    if m.windows(2).any(|w| w[0] >= w[1]) {
        return Err(Error::config(field, format!("must be strictly increasing, got {m:?}")));
    }
    Ok(())
}

impl ModelConfig for DeepSadConfig {
    /// Weights with gradients and Adam moments, batch activations, the data's representations.
    fn memory(&self, layout: Layout, n: usize) -> Vec<(&'static str, Option<u128>)> {
        let d = layout.dim();
        let widths: Vec<usize> = std::iter::once(d).chain(self.hidden.iter().copied()).collect();
        let params = sum(&widths.windows(2).map(|w| bytes(&[w[0], w[1]], 16)).collect::<Vec<_>>());
        vec![
            ("hidden", params),
            ("rep_dim", bytes(&[n, self.rep_dim], 4)),
            ("batch_size", bytes(&[self.batch_size, d], 4)),
        ]
    }

    fn validate(&self) -> Result<()> {
        if !(self.clip_norm >= 0.0 && self.clip_norm.is_finite()) {
            return Err(Error::config(
                "clip_norm",
                format!("must be finite and >= 0 (0 = off), got {}", self.clip_norm),
            ));
        }
        if self.hidden.contains(&0) {
            return Err(Error::config(
                "hidden",
                format!("every layer needs at least 1 unit, got {:?}", self.hidden),
            ));
        }
        if self.rep_dim == 0 {
            return Err(Error::config("rep_dim", "must be at least 1, got 0"));
        }
        positive("eta", self.eta)?;
        positive("eps", self.eps)?;
        non_negative("center_eps", self.center_eps)?;
        positive("lr", self.lr)?;
        if self.epochs == 0 {
            return Err(Error::config("epochs", "must be at least 1, got 0"));
        }
        increasing("lr_milestones", &self.lr_milestones)?;
        if self.batch_size == 0 {
            return Err(Error::config("batch_size", "must be at least 1, got 0"));
        }
        non_negative("weight_decay", self.weight_decay)?;
        positive("ae_lr", self.ae_lr)?;
        if self.pretrain && self.ae_epochs == 0 {
            return Err(Error::config(
                "ae_epochs",
                "must be at least 1 when pretrain is on, got 0",
            ));
        }
        increasing("ae_lr_milestones", &self.ae_lr_milestones)?;
        non_negative("ae_weight_decay", self.ae_weight_decay)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(c: DeepSadConfig) -> String {
        match c.validate() {
            Err(Error::InvalidConfig { field, .. }) => field,
            other => panic!("expected InvalidConfig, got {other:?}"),
        }
    }

    #[test]
    fn clip_norm_must_be_finite_and_non_negative() {
        assert_eq!(
            field(DeepSadConfig {
                clip_norm: -1.0,
                ..DeepSadConfig::default()
            }),
            "clip_norm"
        );
        assert_eq!(
            field(DeepSadConfig {
                clip_norm: f32::NAN,
                ..DeepSadConfig::default()
            }),
            "clip_norm"
        );
    }

    #[test]
    fn each_rule_names_its_field() {
        let d = DeepSadConfig::default;
        assert!(d().validate().is_ok());
        assert_eq!(
            field(DeepSadConfig {
                hidden: vec![4, 0],
                ..d()
            }),
            "hidden"
        );
        assert_eq!(field(DeepSadConfig { rep_dim: 0, ..d() }), "rep_dim");
        assert_eq!(field(DeepSadConfig { eta: 0.0, ..d() }), "eta");
        assert_eq!(field(DeepSadConfig { eps: -1.0, ..d() }), "eps");
        assert_eq!(
            field(DeepSadConfig {
                center_eps: f32::NAN,
                ..d()
            }),
            "center_eps"
        );
        assert_eq!(field(DeepSadConfig { lr: 0.0, ..d() }), "lr");
        assert_eq!(field(DeepSadConfig { epochs: 0, ..d() }), "epochs");
        assert_eq!(
            field(DeepSadConfig {
                lr_milestones: vec![50, 10],
                ..d()
            }),
            "lr_milestones"
        );
        assert_eq!(field(DeepSadConfig { batch_size: 0, ..d() }), "batch_size");
        assert_eq!(
            field(DeepSadConfig {
                weight_decay: -1.0,
                ..d()
            }),
            "weight_decay"
        );
        assert_eq!(field(DeepSadConfig { ae_lr: 0.0, ..d() }), "ae_lr");
        assert_eq!(field(DeepSadConfig { ae_epochs: 0, ..d() }), "ae_epochs");
        assert_eq!(
            field(DeepSadConfig {
                ae_lr_milestones: vec![5, 5],
                ..d()
            }),
            "ae_lr_milestones"
        );
        assert_eq!(
            field(DeepSadConfig {
                ae_weight_decay: -1.0,
                ..d()
            }),
            "ae_weight_decay"
        );
        // No pretraining: the autoencoder epochs do not matter.
        assert!(
            DeepSadConfig {
                pretrain: false,
                ae_epochs: 0,
                ..d()
            }
            .validate()
            .is_ok()
        );
        // An empty hidden list is a linear encoder.
        assert!(DeepSadConfig { hidden: vec![], ..d() }.validate().is_ok());
    }
}
