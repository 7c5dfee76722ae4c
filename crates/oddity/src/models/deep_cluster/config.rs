//! Deep-clustering hyperparameters.
//!
//! Sources of the defaults:
//! - DEC: Xie, Girshick & Farhadi, "Unsupervised Deep Embedding for Clustering Analysis", ICML 2016
//!   (arXiv 1511.06335): the d-500-500-2000-10 autoencoder, Student's t with α = 1, the target
//!   distribution P, k-means with 20 restarts, the 0.1% label-change stopping rule.
//! - IDEC: Guo, Gao, Liu & Yin, "Improved Deep Embedded Clustering with Local Structure
//!   Preservation", IJCAI 2017, and the official Keras code XifengGuo/IDEC (`IDEC.py`): loss
//!   γ·KL(P‖Q) + L_rec with γ = 0.1, batch 256, update interval 140 (MNIST), tol 0.001, Adam.
//! - DCEC: Guo, Liu, Zhu & Yin, "Deep Clustering with Convolutional Autoencoders", ICONIP 2017, and
//!   the official Keras code XifengGuo/DCEC (`ConvAE.py`, `DCEC.py`): filters 32-64-128, kernels
//!   5-5-3 with stride 2, embedding 10, 200 pretraining epochs with Adam, batch 256, maxiter 2·10⁴,
//!   update interval 140, tol 0.001, γ = 0.1, `KMeans(n_clusters, n_init=20)`.
//! - Aljalbout, Golkov, Siddiqui, Strobel & Cremers, "Clustering with Deep Learning: Taxonomy and
//!   New Methods", 2018 (arXiv 1801.07648): the α-weighted loss α·L_cluster + (1 − α)·L_rec with
//!   a rising α schedule, the k-means loss, and the final k-means refinement step.
//! - `init = spectral` (not in those papers): spectral clustering of the pretrained embedding on
//!   its k-nearest-neighbour graph as scikit-learn's `SpectralClustering(affinity=
//!   "nearest_neighbors", n_neighbors=10)` (Shi & Malik 2000; von Luxburg, "A Tutorial on Spectral
//!   Clustering", 2007), after N2D (McConville et al., "N2D: (Not Too) Deep Clustering via
//!   Clustering the Local Manifold of an Autoencoded Embedding", ICPR 2020).
//!
//! Adam uses the Keras / PyTorch defaults (lr 1e-3, β 0.9 / 0.999, ε 1e-8), set explicitly
//! because burn's default ε is 1e-5.

use serde::{Deserialize, Serialize};

pub use crate::nn::fast::Precision;

use crate::budget::{bytes, sum};
use crate::data::Layout;
use crate::detector::ModelConfig;
use crate::error::{Error, Result};

/// The autoencoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Arch {
    /// DCEC's convolutional autoencoder (images only).
    #[default]
    Conv,
    /// DEC/IDEC's fully connected autoencoder (any data, images flattened).
    Mlp,
}

/// The clustering loss L_cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ClusterLoss {
    /// KL(P‖Q), mean over the batch of Σ_j p_ij log(p_ij / q_ij) (DEC / IDEC / DCEC; Keras `kld`).
    #[default]
    Kl,
    /// The k-means loss Σ_j r_ij ‖z_i − μ_j‖², r_ij = 1 for the nearest centroid (Aljalbout et al.),
    /// mean over the batch.
    Kmeans,
}

/// How the clustering layer's centroids are initialised from the pretrained embedding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Init {
    /// k-means (DEC §3.2, IDEC, DCEC).
    #[default]
    Kmeans,
    /// Spectral clustering on the embedding's k-nearest-neighbour graph (scikit-learn's
    /// `SpectralClustering(affinity="nearest_neighbors")`), centroids = the clusters' means. Follows
    /// manifolds k-means cuts across (COIL-20's pose arcs); not in the DEC family's papers. The first
    /// target distribution P of fine-tuning is then the spectral partition itself (one-hot),
    /// later ones DEC's P from q as usual.
    Spectral,
}

/// How the clustering and reconstruction losses are combined during fine-tuning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Weighting {
    /// L = γ·L_cluster + L_rec (IDEC / DCEC).
    #[default]
    Gamma,
    /// L = a·L_cluster + (1 − a)·L_rec with a rising linearly from `schedule_start` to
    /// `schedule_end` over the `maxiter` fine-tuning iterations (Aljalbout et al.'s α-weighting).
    Schedule,
}

/// The anomaly score of a sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ScoreKind {
    /// Euclidean distance of the embedding to the nearest centroid μ_j.
    #[default]
    CentroidDistance,
    /// 1 − max_j q_ij.
    OneMinusMaxQ,
    /// Mean squared reconstruction error of the autoencoder.
    Reconstruction,
}

/// Deep-clustering hyperparameters (see the module docs for sources).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeepClusterConfig {
    /// Autoencoder: `conv` (DCEC, default) or `mlp` (DEC / IDEC).
    pub arch: Arch,
    /// Conv AE filters per layer. Default [32, 64, 128]: DCEC `filters=[32, 64, 128, 10]`.
    pub conv_filters: Vec<usize>,
    /// Conv AE kernel sizes (stride 2 each). Default [5, 5, 3]: DCEC `ConvAE.py`.
    pub conv_kernels: Vec<usize>,
    /// MLP hidden widths. Default [500, 500, 2000]: DEC §4.3 / IDEC `dims=[d, 500, 500, 2000, 10]`.
    pub mlp_hidden: Vec<usize>,
    /// Size of the embedding z. Default 10: DEC, IDEC and DCEC.
    pub embedding: usize,
    /// Number of clusters K. Default 10 (MNIST): DEC / IDEC / DCEC `--n_clusters 10`.
    pub n_clusters: usize,
    /// Degrees of freedom α of the Student's t kernel. Default 1: DEC §3.1.1 ("α = 1 for all experiments").
    pub alpha: f64,
    /// Clustering loss: `kl` (default, DEC family) or `kmeans` (Aljalbout et al.).
    pub loss: ClusterLoss,
    /// Loss combination: `gamma` (default, IDEC / DCEC) or `schedule` (Aljalbout et al.).
    pub weighting: Weighting,
    /// γ in L = γ·L_cluster + L_rec. Default 0.1: IDEC paper §4 and DCEC `--gamma 0.1`.
    pub gamma: f64,
    /// Start of the rising weight a in `weighting = schedule`. Default 0.1 (the seed gives no
    /// number; with the default end this starts at IDEC's γ / (1 + γ) ≈ 0.09 balance).
    pub schedule_start: f64,
    /// End of the rising weight a in `weighting = schedule`. Default 0.9 (keeps some
    /// reconstruction, as IDEC argues; a = 1 is DEC).
    pub schedule_end: f64,
    /// Pretraining epochs of the autoencoder (MSE). Default 200: DCEC `pretrain(epochs=200)`, IDEC
    /// `--pretrain_epochs 200`.
    pub pretrain_epochs: usize,
    /// Adam learning rate (pretraining and fine-tuning). Default 1e-3: Keras `'adam'` (DCEC, IDEC).
    pub lr: f64,
    /// Mini-batch size. Default 256: DCEC / IDEC `--batch_size 256`.
    pub batch_size: usize,
    /// Gradient clipping in pretraining and fine-tuning: each parameter tensor's gradient rescaled
    /// to at most this L2 norm (burn's `GradientClippingConfig::Norm`, per tensor). Default 0 =
    /// off, as in DEC / IDEC / DCEC.
    pub clip_norm: f64,
    /// DEC-DA's data augmentation (Guo et al. 2018): pretraining and fine-tuning batches are random
    /// rotations and shifts of the images; the target distribution P and the final assignments use
    /// the clean images. Default false: DEC, IDEC and DCEC train without it. Images only.
    pub augment: bool,
    /// Largest random shift with `augment`, as a fraction of height and width. Default 0.1: DEC-DA's
    /// `ImageDataGenerator(width_shift_range=0.1, height_shift_range=0.1, …)`.
    pub augment_shift: f64,
    /// Largest random rotation with `augment`, in degrees. Default 10: DEC-DA's `rotation_range=10`.
    pub augment_degrees: f64,
    /// Maximum fine-tuning iterations (mini-batches). Default 20000: DCEC / IDEC `--maxiter 2e4`.
    pub maxiter: usize,
    /// Iterations between updates of the target distribution P (and the stopping check).
    /// Default 140: DCEC / IDEC `--update_interval 140` (MNIST).
    pub update_interval: usize,
    /// Stop when fewer than this fraction of labels changed between two updates. Default 0.001:
    /// DEC §3.2 (0.1%), DCEC / IDEC `--tol 0.001`.
    pub tol: f64,
    /// Initial clusters of the pretrained embedding: `kmeans` (default: DEC §3.2, IDEC, DCEC) or
    /// `spectral` (kNN-graph spectral clustering; see [`Init::Spectral`]).
    pub init: Init,
    /// Neighbours per point in `init = spectral`'s graph, the point itself counted. Default 10:
    /// scikit-learn's `SpectralClustering(n_neighbors=10)`.
    pub spectral_neighbors: usize,
    /// k-means restarts (k-means++ seeding each). Default 20: DEC §4.3, DCEC `KMeans(n_init=20)`.
    pub n_init: usize,
    /// Lloyd iterations per k-means run. Default 300: scikit-learn's `KMeans(max_iter=300)`, which
    /// the official code calls.
    pub kmeans_max_iter: usize,
    /// Re-run k-means on the final embedding (Aljalbout et al.'s refinement). Default true.
    /// Both clusterings are kept and reported.
    pub refine: bool,
    /// Anomaly score: `centroid_distance` (default), `one_minus_max_q`, `reconstruction`.
    pub score: ScoreKind,
    /// Directory of a pretrained autoencoder to reuse, or to write after pretraining when it holds
    /// none (`ae.safetensors` + `ae.json`). Empty (default): pretrain and keep nothing.
    pub pretrained: String,
    /// Arithmetic of the convolutions' products in pretraining and fine-tuning steps: `f32` (default)
    /// or `bf16` (operands rounded to bf16, f32 sums and master weights, like PyTorch's bf16
    /// autocast; on AMX tiles where the CPU has them, the same rounding at f32 speed on other CPUs).
    /// CPU only: GPU devices train in f32. Embeddings, targets and k-means stay f32. The papers'
    /// Keras code trains in f32; issue 16. The MLP variant has no convolutions: no effect.
    pub precision: Precision,
}

impl Default for DeepClusterConfig {
    fn default() -> Self {
        DeepClusterConfig {
            arch: Arch::Conv,
            conv_filters: vec![32, 64, 128],
            conv_kernels: vec![5, 5, 3],
            mlp_hidden: vec![500, 500, 2000],
            embedding: 10,
            n_clusters: 10,
            alpha: 1.0,
            loss: ClusterLoss::Kl,
            weighting: Weighting::Gamma,
            gamma: 0.1,
            schedule_start: 0.1,
            schedule_end: 0.9,
            pretrain_epochs: 200,
            lr: 1e-3,
            batch_size: 256,
            clip_norm: 0.0,
            augment: false,
            augment_shift: 0.1,
            augment_degrees: 10.0,
            maxiter: 20_000,
            update_interval: 140,
            tol: 0.001,
            init: Init::Kmeans,
            spectral_neighbors: 10,
            n_init: 20,
            kmeans_max_iter: 300,
            refine: true,
            score: ScoreKind::CentroidDistance,
            pretrained: String::new(),
            precision: Precision::F32,
        }
    }
}

impl ModelConfig for DeepClusterConfig {
    /// Embeddings and soft assignments of every sample, the layers' weights, a batch.
    fn memory(&self, layout: Layout, n: usize) -> Vec<(&'static str, Option<u128>)> {
        let d = layout.dim();
        let dense = |w: &[usize]| sum(&w.windows(2).map(|p| bytes(&[p[0], p[1]], 4)).collect::<Vec<_>>());
        let mlp: Vec<usize> = std::iter::once(d).chain(self.mlp_hidden.iter().copied()).collect();
        let k = self.conv_kernels.iter().copied().max().unwrap_or(1);
        let convs = sum(&self
            .conv_filters
            .windows(2)
            .map(|p| bytes(&[p[0], p[1], k, k], 4))
            .chain(self.conv_filters.first().map(|&f| bytes(&[f, k, k], 4)))
            .collect::<Vec<_>>());
        vec![
            (
                "embedding",
                bytes(&[n.saturating_add(mlp.last().copied().unwrap_or(d)), self.embedding], 4),
            ),
            ("n_clusters", bytes(&[n, self.n_clusters], 8)),
            ("mlp_hidden", dense(&mlp)),
            ("conv_filters", convs),
            ("batch_size", bytes(&[self.batch_size.min(n.max(1)), d], 4)),
        ]
    }

    fn validate(&self) -> Result<()> {
        if !(self.clip_norm >= 0.0 && self.clip_norm.is_finite()) {
            return Err(Error::config(
                "clip_norm",
                format!("must be finite and >= 0 (0 = off), got {}", self.clip_norm),
            ));
        }
        if !(0.0..1.0).contains(&self.augment_shift) {
            return Err(Error::config(
                "augment_shift",
                format!(
                    "must be in [0, 1) (a fraction of the image size), got {}",
                    self.augment_shift
                ),
            ));
        }
        if !(0.0..=180.0).contains(&self.augment_degrees) {
            return Err(Error::config(
                "augment_degrees",
                format!("must be in [0, 180], got {}", self.augment_degrees),
            ));
        }
        if self.n_clusters < 2 {
            return Err(Error::config(
                "n_clusters",
                format!("must be at least 2, got {}", self.n_clusters),
            ));
        }
        if self.spectral_neighbors < 2 {
            return Err(Error::config(
                "spectral_neighbors",
                format!(
                    "must be at least 2 (the point itself counts as one), got {}",
                    self.spectral_neighbors
                ),
            ));
        }
        if self.embedding == 0 {
            return Err(Error::config("embedding", "must be at least 1, got 0"));
        }
        if self.conv_filters.is_empty() || self.conv_filters.contains(&0) {
            return Err(Error::config(
                "conv_filters",
                format!(
                    "must be a non-empty list of positive widths, got {:?}",
                    self.conv_filters
                ),
            ));
        }
        if self.conv_kernels.len() != self.conv_filters.len() {
            return Err(Error::config(
                "conv_kernels",
                format!(
                    "needs one kernel size per conv layer ({} filters), got {:?}",
                    self.conv_filters.len(),
                    self.conv_kernels
                ),
            ));
        }
        if let Some(&k) = self.conv_kernels.iter().find(|&&k| k == 0 || k % 2 == 0) {
            return Err(Error::config(
                "conv_kernels",
                format!("kernel sizes must be odd (3, 5, ...), got {k}"),
            ));
        }
        if self.mlp_hidden.contains(&0) {
            return Err(Error::config(
                "mlp_hidden",
                format!("widths must be positive, got {:?}", self.mlp_hidden),
            ));
        }
        if !(self.alpha.is_finite() && self.alpha > 0.0) {
            return Err(Error::config("alpha", format!("must be > 0, got {}", self.alpha)));
        }
        if !(self.gamma.is_finite() && self.gamma >= 0.0) {
            return Err(Error::config("gamma", format!("must be >= 0, got {}", self.gamma)));
        }
        for (name, v) in [
            ("schedule_start", self.schedule_start),
            ("schedule_end", self.schedule_end),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(Error::config(name, format!("must be in [0, 1], got {v}")));
            }
        }
        if self.schedule_start > self.schedule_end {
            return Err(Error::config(
                "schedule_start",
                format!(
                    "must not exceed schedule_end ({} > {})",
                    self.schedule_start, self.schedule_end
                ),
            ));
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return Err(Error::config("lr", format!("must be > 0, got {}", self.lr)));
        }
        if self.batch_size == 0 {
            return Err(Error::config("batch_size", "must be at least 1, got 0"));
        }
        if self.update_interval == 0 {
            return Err(Error::config("update_interval", "must be at least 1, got 0"));
        }
        if !(self.tol.is_finite() && (0.0..=1.0).contains(&self.tol)) {
            return Err(Error::config("tol", format!("must be in [0, 1], got {}", self.tol)));
        }
        if self.n_init == 0 {
            return Err(Error::config("n_init", "must be at least 1, got 0"));
        }
        if self.kmeans_max_iter == 0 {
            return Err(Error::config("kmeans_max_iter", "must be at least 1, got 0"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field(c: DeepClusterConfig) -> String {
        match c.validate() {
            Err(Error::InvalidConfig { field, .. }) => field,
            other => panic!("expected InvalidConfig, got {other:?}"),
        }
    }

    fn with(f: impl FnOnce(&mut DeepClusterConfig)) -> DeepClusterConfig {
        let mut c = DeepClusterConfig::default();
        f(&mut c);
        c
    }

    #[test]
    fn precision_is_f32_by_default_and_names_are_checked() {
        assert_eq!(DeepClusterConfig::default().precision, Precision::F32);
        let c: DeepClusterConfig = serde_json::from_value(serde_json::json!({"precision": "bf16"})).unwrap();
        assert_eq!(c.precision, Precision::Bf16);
        let err = serde_json::from_value::<DeepClusterConfig>(serde_json::json!({"precision": "half"}));
        assert!(err.is_err_and(|e| e.to_string().contains("half")));
    }

    #[test]
    fn augment_shift_must_be_a_fraction_below_one() {
        assert_eq!(field(with(|c| c.augment_shift = -0.1)), "augment_shift");
        assert_eq!(field(with(|c| c.augment_shift = 1.0)), "augment_shift");
        assert_eq!(field(with(|c| c.augment_shift = f64::NAN)), "augment_shift");
        assert!(with(|c| c.augment_shift = 0.0).validate().is_ok());
    }

    #[test]
    fn augment_degrees_must_be_between_0_and_180() {
        assert_eq!(field(with(|c| c.augment_degrees = -1.0)), "augment_degrees");
        assert_eq!(field(with(|c| c.augment_degrees = 181.0)), "augment_degrees");
        assert_eq!(field(with(|c| c.augment_degrees = f64::INFINITY)), "augment_degrees");
        assert!(with(|c| c.augment_degrees = 45.0).validate().is_ok());
    }

    #[test]
    fn clip_norm_must_be_finite_and_non_negative() {
        assert_eq!(field(with(|c| c.clip_norm = -1.0)), "clip_norm");
        assert_eq!(field(with(|c| c.clip_norm = f64::NAN)), "clip_norm");
        assert!(with(|c| c.clip_norm = 5.0).validate().is_ok());
    }

    #[test]
    fn defaults_match_the_papers_and_official_code() {
        let c = DeepClusterConfig::default();
        assert_eq!(
            (c.arch, c.conv_filters.clone(), c.conv_kernels.clone()),
            (Arch::Conv, vec![32, 64, 128], vec![5, 5, 3])
        );
        assert_eq!(c.mlp_hidden, vec![500, 500, 2000]);
        assert_eq!((c.embedding, c.n_clusters, c.alpha, c.gamma), (10, 10, 1.0, 0.1));
        assert_eq!(
            (c.pretrain_epochs, c.batch_size, c.maxiter, c.update_interval),
            (200, 256, 20_000, 140)
        );
        assert_eq!((c.tol, c.n_init, c.lr), (0.001, 20, 1e-3));
        assert!(c.validate().is_ok());
        let parsed: DeepClusterConfig = serde_json::from_value(json!({})).unwrap();
        assert_eq!(parsed, c);
    }

    #[test]
    fn serde_names() {
        let c: DeepClusterConfig = serde_json::from_value(json!({
            "arch": "mlp", "loss": "kmeans", "weighting": "schedule", "score": "one_minus_max_q"
        }))
        .unwrap();
        assert_eq!(
            (c.arch, c.loss, c.weighting, c.score),
            (
                Arch::Mlp,
                ClusterLoss::Kmeans,
                Weighting::Schedule,
                ScoreKind::OneMinusMaxQ
            )
        );
        assert!(serde_json::from_value::<DeepClusterConfig>(json!({"arch": "cnn"})).is_err());
        assert!(serde_json::from_value::<DeepClusterConfig>(json!({"k": 3})).is_err());
    }

    #[test]
    fn every_rule_names_its_field() {
        assert_eq!(field(with(|c| c.n_clusters = 1)), "n_clusters");
        assert_eq!(field(with(|c| c.embedding = 0)), "embedding");
        assert_eq!(field(with(|c| c.conv_filters = vec![])), "conv_filters");
        assert_eq!(field(with(|c| c.conv_kernels = vec![5, 5])), "conv_kernels");
        assert_eq!(field(with(|c| c.conv_kernels = vec![5, 4, 3])), "conv_kernels");
        assert_eq!(field(with(|c| c.mlp_hidden = vec![500, 0])), "mlp_hidden");
        assert_eq!(field(with(|c| c.alpha = 0.0)), "alpha");
        assert_eq!(field(with(|c| c.gamma = -1.0)), "gamma");
        assert_eq!(field(with(|c| c.schedule_end = 1.5)), "schedule_end");
        assert_eq!(
            field(with(|c| (c.schedule_start, c.schedule_end) = (0.8, 0.2))),
            "schedule_start"
        );
        assert_eq!(field(with(|c| c.lr = 0.0)), "lr");
        assert_eq!(field(with(|c| c.batch_size = 0)), "batch_size");
        assert_eq!(field(with(|c| c.update_interval = 0)), "update_interval");
        assert_eq!(field(with(|c| c.tol = 2.0)), "tol");
        assert_eq!(field(with(|c| c.n_init = 0)), "n_init");
        assert_eq!(field(with(|c| c.spectral_neighbors = 1)), "spectral_neighbors");
        assert!(with(|c| c.mlp_hidden = vec![]).validate().is_ok());
    }
}
