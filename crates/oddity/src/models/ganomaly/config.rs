//! GANomaly hyperparameters.
//!
//! Defaults follow Akcay, Atapour-Abarghouei & Breckon, "GANomaly: Semi-Supervised Anomaly
//! Detection via Adversarial Training", ACCV 2018 (arXiv 1805.06725), and the official code
//! samet-akcay/ganomaly (`options.py`, `lib/networks.py`, `lib/model.py`).

use serde::{Deserialize, Serialize};

pub use crate::nn::fast::Precision;

use crate::budget::bytes;
use crate::data::{Dataset, Layout};
use crate::detector::ModelConfig;
use crate::error::{Error, Result};

/// The norm of z − ẑ used as the anomaly score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ScoreNorm {
    /// Mean absolute difference, mean_k |z_k − ẑ_k|: the paper's A(x) = ‖G_E(x) − E(G(x))‖₁ (Eq. 8),
    /// divided by nz.
    #[default]
    L1,
    /// Mean squared difference, mean_k (z_k − ẑ_k)²: the official code's
    /// `torch.mean(torch.pow(latent_i - latent_o, 2), dim=1)`.
    L2,
}

/// Which statistics batch norm uses when scoring.
///
/// The paper does not say; the official code scores in training mode (batch statistics: it
/// never calls `eval()`, see `lib/model.py` `test`). Running statistics make a sample's score
/// independent of the batch it is scored in, but after a short run they lag behind the weights
/// and can invert the ranking (docs/bench/ganomaly.md), so oddity chooses between the two on the
/// validation data, like the epoch (`auto`, the default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum BnAtScore {
    /// Chosen when fitting, like the epoch: every epoch is judged in both modes on the validation
    /// data (lowest validation loss on held-out normals, or best ROC-AUC when the validation data
    /// has anomalies) and the best (epoch, mode) pair is kept; batch statistics only when better
    /// by more than 2% (`train::AUTO_BATCH_MARGIN`), since their scores depend on the batch.
    /// Without validation data, the last epoch's loss on (up to [`AUTO_TRAINING_SAMPLE`]) training
    /// images decides. A fitted model records the mode it chose (`model.json`'s config says
    /// `running` or `batch`).
    #[default]
    Auto,
    /// Running statistics learnt in training (PyTorch `eval()` mode): a sample's score does not
    /// depend on the other samples scored with it.
    Running,
    /// Batch statistics of each scoring batch of `batch_size` samples, as the official code does
    /// (it never switches to `eval()`); scores then depend on the batch composition.
    Batch,
}

impl BnAtScore {
    pub fn name(self) -> &'static str {
        match self {
            BnAtScore::Auto => "auto",
            BnAtScore::Running => "running",
            BnAtScore::Batch => "batch",
        }
    }
}

/// Training images (a seeded subsample) on which `bn_at_score = auto` chooses the batch-norm
/// mode when there is no validation data.
pub const AUTO_TRAINING_SAMPLE: usize = 1024;

/// GANomaly hyperparameters (paper + official code; see the module docs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GanomalyConfig {
    /// Side of the square input images; data of another size is resized (bilinear). A power of
    /// two ≥ 16 (the DCGAN pyramid). Fitting through the registry (CLI, `eval`) without setting it
    /// takes the smallest power of two ≥ the images' larger side, between 16 and
    /// [`MAX_INFERRED_ISIZE`] (MNIST 28×28 → 32, the official `--isize 32`). Default 32.
    pub isize: usize,
    /// Image channels. Fitting through the registry without setting it takes the training
    /// images' channel count. Default 1 (MNIST, official `--nc` for MNIST).
    pub nc: usize,
    /// Latent size of z. Default 100: paper §4.2 and official `--nz 100`.
    pub nz: usize,
    /// Base width of the generator's encoders/decoder. Default 64: official `--ngf 64`.
    pub ngf: usize,
    /// Base width of the discriminator. Default 64: official `--ndf 64`.
    pub ndf: usize,
    /// Extra 3×3 conv + BN + activation layers in every encoder/decoder. Default 0: official `--extralayers 0`.
    pub extralayers: usize,
    /// Weight of the adversarial (feature-matching) loss. Default 1: paper §4.2, official `--w_adv 1`.
    pub w_adv: f64,
    /// Weight of the contextual (L1 reconstruction) loss. Default 50: paper §4.2, official `--w_con 50`.
    pub w_con: f64,
    /// Weight of the encoder (latent L2) loss. Default 1: paper §4.2, official `--w_enc 1`.
    pub w_enc: f64,
    /// Adam learning rate (both networks). Default 2e-4: paper §4.2, official `--lr 0.0002`.
    pub lr: f64,
    /// Adam β₁. Default 0.5: paper §4.2, official `--beta1 0.5`.
    pub beta1: f64,
    /// Adam β₂. Default 0.999: official code (`betas=(opt.beta1, 0.999)`).
    pub beta2: f64,
    /// Gradient clipping: each parameter tensor's gradient rescaled to at most this L2 norm
    /// (burn's `GradientClippingConfig::Norm`, per tensor), for G and D. Default 0 = off, as in the
    /// paper and the official code.
    pub clip_norm: f64,
    /// Mini-batch size (training and scoring). Default 64: official `--batchsize 64`.
    pub batch_size: usize,
    /// Training epochs. Default 15: paper §4.2 and official `--niter 15`.
    pub epochs: usize,
    /// Norm of z − ẑ for the score. Default `l1`, the paper's formula (Eq. 8); `l2` is the official code.
    pub score_norm: ScoreNorm,
    /// Batch-norm statistics when scoring: `auto` (default: chosen on the validation data like the
    /// epoch, see [`BnAtScore::Auto`]), `running` (PyTorch's eval mode) or `batch` (the official
    /// code's scoring).
    pub bn_at_score: BnAtScore,
    /// Arithmetic of the convolutions' products in training steps: `f32` (default) or `bf16`
    /// (operands rounded to bf16, f32 sums and master weights, like PyTorch's bf16 autocast; on AMX
    /// tiles where the CPU has them, the same rounding at f32 speed on other CPUs). CPU only: GPU
    /// devices train in f32. Scoring and validation stay f32. Not in the paper or the official code
    /// (f32); issue 16.
    pub precision: Precision,
}

impl Default for GanomalyConfig {
    fn default() -> Self {
        GanomalyConfig {
            isize: 32,
            nc: 1,
            nz: 100,
            ngf: 64,
            ndf: 64,
            extralayers: 0,
            w_adv: 1.0,
            w_con: 50.0,
            w_enc: 1.0,
            lr: 2e-4,
            beta1: 0.5,
            beta2: 0.999,
            clip_norm: 0.0,
            batch_size: 64,
            epochs: 15,
            score_norm: ScoreNorm::L1,
            bn_at_score: BnAtScore::Auto,
            precision: Precision::F32,
        }
    }
}

/// The largest `isize` inferred from the data: larger images are resized down to it unless
/// `isize` is set (the networks' cost grows with the square of the side).
pub const MAX_INFERRED_ISIZE: usize = 256;

/// The `isize` inferred for `h × w` images (see [`GanomalyConfig::isize`]).
pub fn inferred_isize(h: usize, w: usize) -> usize {
    h.max(w).next_power_of_two().clamp(16, MAX_INFERRED_ISIZE)
}

impl ModelConfig for GanomalyConfig {
    /// The training images resized to isize (f32), the widest convolutions' weights, a batch of
    /// input images.
    fn memory(&self, layout: Layout, n: usize) -> Vec<(&'static str, Option<u128>)> {
        let c = match layout {
            Layout::Images { c, .. } => c,
            Layout::Tabular { .. } => self.nc,
        };
        vec![
            ("isize", bytes(&[n, c, self.isize, self.isize], 4)),
            ("ngf", bytes(&[self.ngf, self.ngf, 16], 4)),
            ("ndf", bytes(&[self.ndf, self.ndf, 16], 4)),
            ("nz", bytes(&[self.nz, self.ngf.max(self.ndf), 16], 4)),
            (
                "batch_size",
                bytes(&[self.batch_size.min(n.max(1)), c, self.isize, self.isize], 4),
            ),
        ]
    }

    fn infer_from_data(&mut self, train: &Dataset, given: &dyn Fn(&str) -> bool) {
        let Layout::Images { c, h, w } = train.layout() else {
            return;
        };
        if !given("nc") {
            self.nc = c;
        }
        if !given("isize") {
            self.isize = inferred_isize(h, w);
        }
    }

    fn validate(&self) -> Result<()> {
        if self.nz == 0 {
            return Err(Error::config("nz", "must be at least 1, got 0"));
        }
        if self.isize < 16 || !self.isize.is_power_of_two() {
            return Err(Error::config(
                "isize",
                format!("must be a power of two >= 16 (16, 32, 64, ...), got {}", self.isize),
            ));
        }
        for (name, v) in [("nc", self.nc), ("ngf", self.ngf), ("ndf", self.ndf)] {
            if v == 0 {
                return Err(Error::config(name, "must be at least 1, got 0"));
            }
        }
        if self.ngf < 2 {
            return Err(Error::config(
                "ngf",
                "must be at least 2 (the decoder starts at ngf / 2)",
            ));
        }
        if !(self.clip_norm.is_finite() && self.clip_norm >= 0.0) {
            return Err(Error::config(
                "clip_norm",
                format!("must be finite and >= 0 (0 = off), got {}", self.clip_norm),
            ));
        }
        for (name, w) in [("w_adv", self.w_adv), ("w_con", self.w_con), ("w_enc", self.w_enc)] {
            if !(w.is_finite() && w >= 0.0) {
                return Err(Error::config(name, format!("must be a finite number >= 0, got {w}")));
            }
        }
        if self.w_adv + self.w_con + self.w_enc == 0.0 {
            return Err(Error::config(
                "w_adv",
                "w_adv, w_con and w_enc are all 0: the generator would not learn",
            ));
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return Err(Error::config("lr", format!("must be > 0, got {}", self.lr)));
        }
        for (name, b) in [("beta1", self.beta1), ("beta2", self.beta2)] {
            if !(0.0..1.0).contains(&b) {
                return Err(Error::config(name, format!("must be in [0, 1), got {b}")));
            }
        }
        if self.batch_size < 2 {
            return Err(Error::config(
                "batch_size",
                format!(
                    "must be at least 2 (batch norm needs 2 samples), got {}",
                    self.batch_size
                ),
            ));
        }
        if self.epochs == 0 {
            return Err(Error::config("epochs", "must be at least 1, got 0"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn channels_and_size_follow_the_data_unless_given() {
        let data = |c, h, w| {
            Dataset::new(
                "i",
                Layout::Images { c, h, w },
                vec![0.5; c * h * w],
                crate::data::Labels::None,
            )
            .unwrap()
        };
        let mut cfg = GanomalyConfig::default();
        cfg.infer_from_data(&data(3, 28, 20), &|_| false);
        assert_eq!((cfg.nc, cfg.isize), (3, 32));
        cfg.infer_from_data(&data(1, 8, 8), &|_| false);
        assert_eq!((cfg.nc, cfg.isize), (1, 16));
        cfg.infer_from_data(&data(1, 100, 300), &|_| false);
        assert_eq!(cfg.isize, 256);
        cfg.infer_from_data(&data(1, 64, 64), &|_| false);
        assert_eq!(cfg.isize, 64);
        let mut set = GanomalyConfig::default();
        set.infer_from_data(&data(3, 128, 128), &|k| k == "isize" || k == "nc");
        assert_eq!((set.nc, set.isize), (1, 32));
        let tab = Dataset::tabular("t", 2, vec![0.0; 2], crate::data::Labels::None).unwrap();
        set.infer_from_data(&tab, &|_| false);
        assert_eq!((set.nc, set.isize), (1, 32));
    }

    fn field(c: GanomalyConfig) -> String {
        match c.validate() {
            Err(Error::InvalidConfig { field, .. }) => field,
            other => panic!("expected InvalidConfig, got {other:?}"),
        }
    }

    fn with(f: impl FnOnce(&mut GanomalyConfig)) -> GanomalyConfig {
        let mut c = GanomalyConfig::default();
        f(&mut c);
        c
    }

    #[test]
    fn defaults_match_paper_and_official_code() {
        let c = GanomalyConfig::default();
        assert_eq!(
            (c.isize, c.nc, c.nz, c.ngf, c.ndf, c.extralayers),
            (32, 1, 100, 64, 64, 0)
        );
        assert_eq!((c.w_adv, c.w_con, c.w_enc), (1.0, 50.0, 1.0));
        assert_eq!((c.lr, c.beta1, c.beta2), (2e-4, 0.5, 0.999));
        assert_eq!((c.batch_size, c.epochs), (64, 15));
        assert_eq!((c.score_norm, c.bn_at_score), (ScoreNorm::L1, BnAtScore::Auto));
        assert_eq!(c.precision, Precision::F32);
        assert!(c.validate().is_ok());
        let parsed: GanomalyConfig = serde_json::from_value(json!({})).unwrap();
        assert_eq!(parsed, c);
    }

    #[test]
    fn serde_names_and_unknown_fields() {
        let c: GanomalyConfig = serde_json::from_value(json!({"score_norm": "l2", "bn_at_score": "batch"})).unwrap();
        assert_eq!((c.score_norm, c.bn_at_score), (ScoreNorm::L2, BnAtScore::Batch));
        for mode in [BnAtScore::Auto, BnAtScore::Running, BnAtScore::Batch] {
            assert_eq!(serde_json::to_value(mode).unwrap(), json!(mode.name()));
        }
        assert!(serde_json::from_value::<GanomalyConfig>(json!({"score_norm": "l3"})).is_err());
        let c: GanomalyConfig = serde_json::from_value(json!({"precision": "bf16"})).unwrap();
        assert_eq!(c.precision, Precision::Bf16);
        for p in [Precision::F32, Precision::Bf16] {
            assert_eq!(serde_json::to_value(p).unwrap(), json!(p.name()));
        }
        assert!(serde_json::from_value::<GanomalyConfig>(json!({"precision": "fp8"})).is_err());
        assert!(serde_json::from_value::<GanomalyConfig>(json!({"nzz": 3})).is_err());
    }

    #[test]
    fn nz_must_be_positive() {
        assert_eq!(field(with(|c| c.nz = 0)), "nz");
        assert!(with(|c| c.nz = 1).validate().is_ok());
    }

    #[test]
    fn isize_must_be_power_of_two_at_least_16() {
        for bad in [0, 8, 24, 28, 48, 100] {
            assert_eq!(field(with(|c| c.isize = bad)), "isize", "{bad}");
        }
        for good in [16, 32, 64, 128] {
            assert!(with(|c| c.isize = good).validate().is_ok(), "{good}");
        }
    }

    #[test]
    fn clip_norm_must_be_finite_and_non_negative() {
        assert_eq!(field(with(|c| c.clip_norm = -1.0)), "clip_norm");
        assert_eq!(field(with(|c| c.clip_norm = f64::INFINITY)), "clip_norm");
        assert!(with(|c| c.clip_norm = 1.0).validate().is_ok());
    }

    #[test]
    fn weights_must_be_non_negative() {
        assert_eq!(field(with(|c| c.w_adv = -1.0)), "w_adv");
        assert_eq!(field(with(|c| c.w_con = -0.5)), "w_con");
        assert_eq!(field(with(|c| c.w_enc = f64::NAN)), "w_enc");
        assert!(with(|c| c.w_adv = 0.0).validate().is_ok());
    }

    #[test]
    fn weights_must_not_all_be_zero() {
        let e = with(|c| (c.w_adv, c.w_con, c.w_enc) = (0.0, 0.0, 0.0))
            .validate()
            .unwrap_err();
        assert!(e.to_string().contains("all 0"), "{e}");
    }

    #[test]
    fn lr_must_be_positive() {
        for bad in [0.0, -1e-3, f64::NAN, f64::INFINITY] {
            assert_eq!(field(with(|c| c.lr = bad)), "lr", "{bad}");
        }
    }

    #[test]
    fn betas_must_be_in_unit_interval() {
        assert_eq!(field(with(|c| c.beta1 = 1.0)), "beta1");
        assert_eq!(field(with(|c| c.beta1 = -0.1)), "beta1");
        assert_eq!(field(with(|c| c.beta2 = 1.5)), "beta2");
        assert!(with(|c| c.beta1 = 0.0).validate().is_ok());
    }

    #[test]
    fn batch_size_at_least_two() {
        assert_eq!(field(with(|c| c.batch_size = 1)), "batch_size");
        assert!(with(|c| c.batch_size = 2).validate().is_ok());
    }

    #[test]
    fn epochs_at_least_one() {
        assert_eq!(field(with(|c| c.epochs = 0)), "epochs");
    }

    #[test]
    fn widths_are_checked() {
        assert_eq!(field(with(|c| c.nc = 0)), "nc");
        assert_eq!(field(with(|c| c.ngf = 1)), "ngf");
        assert_eq!(field(with(|c| c.ndf = 0)), "ndf");
    }
}
