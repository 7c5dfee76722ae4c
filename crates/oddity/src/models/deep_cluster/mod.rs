//! Deep clustering (`deep-cluster`): the DEC / IDEC / DCEC family as organised by Aljalbout et al.,
//! "Clustering with Deep Learning: Taxonomy and New Methods" (arXiv 1801.07648).
//!
//! An autoencoder (DCEC's convolutional one by default, or DEC/IDEC's fully connected one) is
//! pretrained on MSE; k-means on its embedding initialises K centroids μ_j of a clustering layer
//! that assigns samples softly by Student's t; encoder, decoder and centroids are then fine-tuned
//! on γ·KL(P‖Q) + L_rec (IDEC / DCEC) with the sharpened target P recomputed every
//! `update_interval` iterations. See [`config`] for every hyperparameter and its source, and
//! [`train`](self) for the loop.
//!
//! As a detector (the seed presents clustering as anomaly detection), the score of a sample is
//! the Euclidean distance of its embedding to the nearest centroid (default), 1 − max_j q_ij, or
//! the reconstruction error.
//!
//! Input: images `[n, c, h, w]` (conv or MLP) or tabular rows (MLP), used as given (images in
//! [0, 1], as the official code's `x / 255`).
//!
//! Weights: the autoencoder, the centroids and (with `refine`) the k-means-refined centroids in a
//! safetensors file written by burn-store, with the input shape in its metadata.

mod augment;
pub mod autoencoder;
mod clustering;
pub mod clustering_layer;
pub mod config;
pub mod kmeans;
pub mod spectral;
mod train;

use std::path::{Path, PathBuf};

use burn::module::{Module, Param};
use burn::store::{ModuleSnapshot, SafetensorsStore};
use burn::tensor::{Device, Tensor, TensorData};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

pub use autoencoder::{Autoencoder, InputShape};
pub use clustering_layer::{kl_loss, kmeans_loss, soft_assign, sq_distances, target_distribution};
pub use config::{Arch, ClusterLoss, DeepClusterConfig, Init, Precision, ScoreKind, Weighting};
pub use train::schedule;

use crate::checkpoint::{self, Checkpointer};
use crate::data::{Dataset, Layout};
use crate::detector::{FitContext, Model, Reconstruction};
use crate::error::{Error, Result};

/// The trainable network: autoencoder + clustering layer.
#[derive(Module, Debug)]
pub struct DeepClusterNet {
    pub ae: Autoencoder,
    /// Centroids μ `[K, embedding]`.
    pub centroids: Param<Tensor<2>>,
}

/// What happened during a fit (not saved with the model).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FitStats {
    /// Pretraining epochs run here (0 when a pretrained autoencoder was loaded).
    pub pretrain_epochs: usize,
    pub pretrain_seconds: f64,
    /// Mean MSE of the last pretraining epoch.
    pub pretrain_loss: f64,
    pub kmeans_seconds: f64,
    /// Cluster labels of the initialisation: k-means (the "AE + k-means" baseline) or, with
    /// `init = spectral`, spectral clustering of the pretrained embedding.
    #[serde(skip)]
    pub labels_kmeans_init: Vec<u32>,
    pub finetune_iters: usize,
    pub finetune_seconds: f64,
    /// Fraction of labels changed at the last P update.
    pub last_delta_label: f64,
    /// Fine-tuning stopped because fewer than `tol` labels changed.
    pub stopped_at_tol: bool,
    pub refine_seconds: f64,
}

/// Samples as flat rows.
pub(crate) struct Rows {
    pub n: usize,
    pub dim: usize,
    /// Each row as an image (1 × 1 × dim for tabular data).
    pub shape: InputShape,
    pub x: Vec<f32>,
}

impl Rows {
    fn row(&self, i: usize) -> &[f32] {
        &self.x[i * self.dim..(i + 1) * self.dim]
    }
}

/// A fitted deep-clustering model.
pub struct DeepCluster {
    config: DeepClusterConfig,
    device: Device,
    input: InputShape,
    net: DeepClusterNet,
    /// k-means centroids of the final embedding `[K × embedding]`, row-major (`refine`).
    refined: Option<Vec<f32>>,
    stats: FitStats,
}

impl std::fmt::Debug for DeepCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeepCluster")
            .field("config", &self.config)
            .field("input", &self.input)
            .finish()
    }
}

/// Checks `data` against the arch (and a fitted input shape) and flattens it.
fn prepare(data: &Dataset, cfg: &DeepClusterConfig, expect: Option<InputShape>) -> Result<Rows> {
    let layout = data.layout();
    if cfg.arch == Arch::Conv && matches!(layout, Layout::Tabular { .. }) {
        return Err(Error::shape(
            format!("{}: input of arch=conv", data.name()),
            "images [n, c, h, w]",
            format!("tabular data with {} features (use arch=mlp)", layout.dim()),
        ));
    }
    let shape = InputShape::of(layout);
    if let Some(e) = expect
        && e != shape
    {
        return Err(Error::shape(
            format!("{}: sample shape", data.name()),
            format!("{}x{}x{} (as fitted)", e.c, e.h, e.w),
            format!("{}x{}x{}", shape.c, shape.h, shape.w),
        ));
    }
    if cfg.augment && matches!(layout, Layout::Tabular { .. }) {
        return Err(Error::config(
            "augment",
            format!(
                "rotates and shifts images; {} is tabular ({} features)",
                data.name(),
                layout.dim()
            ),
        ));
    }
    Ok(Rows {
        n: data.n(),
        dim: layout.dim(),
        shape,
        x: data.x().to_vec(),
    })
}

/// Metadata of a pretrained-autoencoder directory (`ae.json`): what must match to reuse it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct PretrainedInfo {
    format: String,
    arch: Arch,
    conv_filters: Vec<usize>,
    conv_kernels: Vec<usize>,
    mlp_hidden: Vec<usize>,
    embedding: usize,
    input: InputShape,
    /// Informational: how it was trained.
    pretrain_epochs: usize,
    #[serde(default)]
    augment: bool,
    seed: u64,
}

const PRETRAINED_FORMAT: &str = "oddity-deep-cluster-ae-1";

impl PretrainedInfo {
    fn of(cfg: &DeepClusterConfig, input: InputShape, seed: u64) -> Self {
        PretrainedInfo {
            format: PRETRAINED_FORMAT.into(),
            arch: cfg.arch,
            conv_filters: cfg.conv_filters.clone(),
            conv_kernels: cfg.conv_kernels.clone(),
            mlp_hidden: cfg.mlp_hidden.clone(),
            embedding: cfg.embedding,
            input,
            pretrain_epochs: cfg.pretrain_epochs,
            augment: cfg.augment,
            seed,
        }
    }

    /// The first architecture field that differs from `other`, as (name, theirs, ours).
    fn mismatch(&self, other: &PretrainedInfo) -> Option<(&'static str, String, String)> {
        let cmp = |n: &'static str, a: String, b: String| (a != b).then_some((n, a, b));
        cmp("format", self.format.clone(), other.format.clone())
            .or_else(|| cmp("arch", format!("{:?}", self.arch), format!("{:?}", other.arch)))
            .or_else(|| {
                if self.arch == Arch::Conv {
                    cmp(
                        "conv_filters",
                        format!("{:?}", self.conv_filters),
                        format!("{:?}", other.conv_filters),
                    )
                    .or_else(|| {
                        cmp(
                            "conv_kernels",
                            format!("{:?}", self.conv_kernels),
                            format!("{:?}", other.conv_kernels),
                        )
                    })
                } else {
                    cmp(
                        "mlp_hidden",
                        format!("{:?}", self.mlp_hidden),
                        format!("{:?}", other.mlp_hidden),
                    )
                }
            })
            .or_else(|| cmp("embedding", self.embedding.to_string(), other.embedding.to_string()))
            .or_else(|| cmp("input", format!("{:?}", self.input), format!("{:?}", other.input)))
    }
}

/// Loads the pretrained autoencoder in `dir` if there is one (checking that it fits `cfg`).
fn load_pretrained(
    dir: &Path,
    cfg: &DeepClusterConfig,
    input: InputShape,
    seed: u64,
    device: &Device,
) -> Result<Option<Autoencoder>> {
    let weights = dir.join("ae.safetensors");
    let meta = dir.join("ae.json");
    if !weights.exists() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&meta).map_err(|e| Error::io(&meta, e))?;
    let info: PretrainedInfo = serde_json::from_str(&text)
        .map_err(|e| Error::format(&meta, format!("not a pretrained-autoencoder file: {e}")))?;
    if let Some((field, theirs, ours)) = info.mismatch(&PretrainedInfo::of(cfg, input, seed)) {
        return Err(Error::config(
            "pretrained",
            format!(
                "{} holds an autoencoder with {field} = {theirs}, this run needs {ours} (use another directory)",
                dir.display()
            ),
        ));
    }
    let mut ae = Autoencoder::new(cfg, input, device)?;
    let mut store = SafetensorsStore::from_file(&weights);
    let result = ae
        .load_from(&mut store)
        .map_err(|e| Error::format(&weights, format!("not an autoencoder weights file: {e}")))?;
    if !result.is_success() {
        return Err(Error::format(
            &weights,
            format!("autoencoder weights do not fit: {result}"),
        ));
    }
    Ok(Some(ae))
}

/// Writes a pretrained autoencoder to `dir` (a temporary name, then renamed into place).
fn save_pretrained(dir: &Path, ae: &Autoencoder, info: &PretrainedInfo) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let tmp = dir.join(".ae.safetensors.tmp");
    let mut store = SafetensorsStore::from_file(&tmp)
        .metadata("format", PRETRAINED_FORMAT)
        .overwrite(true);
    ae.save_into(&mut store)
        .map_err(|e| Error::format(&tmp, format!("writing autoencoder weights: {e}")))?;
    let meta = dir.join("ae.json");
    let text = serde_json::to_string_pretty(info).map_err(|e| Error::InvalidData(e.to_string()))?;
    std::fs::write(&meta, text).map_err(|e| Error::io(&meta, e))?;
    let weights = dir.join("ae.safetensors");
    std::fs::rename(&tmp, &weights).map_err(|e| Error::io(&weights, e))
}

impl DeepCluster {
    pub fn config(&self) -> &DeepClusterConfig {
        &self.config
    }

    /// What happened during the fit (default values for a loaded model).
    pub fn stats(&self) -> &FitStats {
        &self.stats
    }

    /// The centroids μ of the clustering layer, `K × embedding` row-major.
    pub fn centroids(&self) -> Result<Vec<f32>> {
        train::values(self.net.centroids.val())
    }

    /// The k-means-refined centroids, if `refine` was on.
    pub fn refined_centroids(&self) -> Option<&[f32]> {
        self.refined.as_deref()
    }

    /// Embeddings of `data`, `n × embedding` row-major.
    pub fn embed(&self, data: &Dataset) -> Result<Vec<f32>> {
        let x = prepare(data, &self.config, Some(self.input))?;
        train::embed_all(&self.net.ae, &x, &self.device)
    }

    /// Soft assignments q of `data`, `n × K` row-major.
    pub fn soft_assignments(&self, data: &Dataset) -> Result<Vec<f32>> {
        let x = prepare(data, &self.config, Some(self.input))?;
        train::assign_all(&self.net, &x, self.config.alpha, &self.device)
    }

    /// Cluster of each sample: argmax_j q_ij.
    pub fn assign(&self, data: &Dataset) -> Result<Vec<u32>> {
        Ok(train::argmax_rows(
            &self.soft_assignments(data)?,
            self.config.n_clusters,
        ))
    }

    /// Cluster of each sample by the nearest refined centroid (`None` without `refine`).
    pub fn assign_refined(&self, data: &Dataset) -> Result<Option<Vec<u32>>> {
        let Some(c) = &self.refined else { return Ok(None) };
        let z = self.embed(data)?;
        let e = self.config.embedding;
        Ok(Some(
            z.chunks_exact(e).map(|r| kmeans::nearest(r, c, e).0 as u32).collect(),
        ))
    }

    /// Mean squared reconstruction error per sample.
    pub fn reconstruction_error(&self, data: &Dataset) -> Result<Vec<f32>> {
        let x = prepare(data, &self.config, Some(self.input))?;
        let idx: Vec<usize> = (0..x.n).collect();
        let mut out = Vec::with_capacity(x.n);
        for chunk in idx.chunks(1024) {
            let xb = train::batch(&x, chunk, &self.device);
            let rec = self.net.ae.decode(self.net.ae.encode(xb.clone()));
            out.extend(train::values((rec - xb).square().mean_dim(1))?);
        }
        Ok(out)
    }
}

/// Settings a resumed fit may change: they do not affect pretraining up to the checkpoint.
const FREE_ON_RESUME: &[&str] = &[
    "pretrain_epochs",
    "lr",
    "n_clusters",
    "alpha",
    "loss",
    "weighting",
    "gamma",
    "schedule_start",
    "schedule_end",
    "maxiter",
    "update_interval",
    "tol",
    "init",
    "spectral_neighbors",
    "n_init",
    "kmeans_max_iter",
    "refine",
    "score",
    "pretrained",
];

impl Model for DeepCluster {
    const KIND: &'static str = "deep-cluster";
    type Config = DeepClusterConfig;

    fn fit(config: &DeepClusterConfig, train: &Dataset, ctx: &FitContext) -> Result<Self> {
        let device = ctx.device.clone();
        let x = prepare(train, config, None)?;
        if config.n_clusters > x.n {
            return Err(Error::config(
                "n_clusters",
                format!("is {} but {} has only {} samples", config.n_clusters, train.name(), x.n),
            ));
        }
        let input = InputShape::of(train.layout());
        let ad = device.clone().autodiff();
        // Pretraining and fine-tuning draw from separate streams, so a run that reuses a
        // pretrained autoencoder fine-tunes exactly as the run that pretrained it.
        let mut rng = ChaCha8Rng::seed_from_u64(ctx.seed);
        let mut rng_finetune = ChaCha8Rng::seed_from_u64(ctx.seed);
        rng_finetune.set_stream(1);
        let mut stats = FitStats::default();
        let pretrained_dir = (!config.pretrained.is_empty()).then(|| PathBuf::from(&config.pretrained));
        let loaded = match &pretrained_dir {
            Some(dir) => load_pretrained(dir, config, input, ctx.seed, &ad)?,
            None => None,
        };
        let ae = match loaded {
            Some(ae) => ae,
            None => {
                // Only pretraining is checkpointed: a resumed run must share the data, seed and
                // autoencoder; the schedule and every fine-tuning setting may change.
                let ckpt = ctx.checkpoint.as_ref().map(|c| {
                    let fp = checkpoint::fingerprint(Self::KIND, ctx.seed, config, FREE_ON_RESUME, train);
                    Checkpointer::new(c, Self::KIND, fp)
                });
                let ae = train::pretrain(config, input, &x, &ad, &mut rng, ctx, &mut stats, ckpt.as_ref())?;
                if let Some(dir) = &pretrained_dir {
                    save_pretrained(dir, &ae, &PretrainedInfo::of(config, input, ctx.seed))?;
                }
                ae
            }
        };
        let (net, refined) = train::cluster(config, ae, &x, &ad, &mut rng_finetune, ctx, &mut stats)?;
        Ok(DeepCluster {
            config: config.clone(),
            device,
            input,
            net,
            refined,
            stats,
        })
    }

    fn score(&self, data: &Dataset) -> Result<Vec<f32>> {
        match self.config.score {
            ScoreKind::CentroidDistance => {
                let x = prepare(data, &self.config, Some(self.input))?;
                let idx: Vec<usize> = (0..x.n).collect();
                let mut out = Vec::with_capacity(x.n);
                for chunk in idx.chunks(1024) {
                    let z = self.net.ae.encode(train::batch(&x, chunk, &self.device));
                    let d2 = sq_distances(z, self.net.centroids.val());
                    out.extend(train::values(d2.min_dim(1).clamp_min(0.0).sqrt())?);
                }
                Ok(out)
            }
            ScoreKind::OneMinusMaxQ => {
                let q = self.soft_assignments(data)?;
                Ok(q.chunks_exact(self.config.n_clusters)
                    .map(|r| 1.0 - r.iter().copied().fold(f32::NEG_INFINITY, f32::max))
                    .collect())
            }
            ScoreKind::Reconstruction => self.reconstruction_error(data),
        }
    }

    fn reconstruct(&self, data: &Dataset) -> Result<Option<Reconstruction>> {
        let x = prepare(data, &self.config, Some(self.input))?;
        let idx: Vec<usize> = (0..x.n).collect();
        let mut output = Vec::with_capacity(x.n * x.dim);
        for chunk in idx.chunks(1024) {
            let xb = train::batch(&x, chunk, &self.device);
            output.extend(train::values(self.net.ae.decode(self.net.ae.encode(xb)))?);
        }
        Ok(Some(Reconstruction {
            layout: data.layout(),
            input: data.x().to_vec(),
            output,
        }))
    }

    fn save_weights(&self, path: &Path) -> Result<()> {
        let input = serde_json::to_string(&self.input).map_err(|e| Error::InvalidData(e.to_string()))?;
        let refined = match &self.refined {
            Some(c) => serde_json::to_string(c).map_err(|e| Error::InvalidData(e.to_string()))?,
            None => "null".into(),
        };
        let mut store = SafetensorsStore::from_file(path)
            .metadata("format", "oddity-deep-cluster")
            .metadata("version", "1")
            .metadata("input", input)
            .metadata("refined_centroids", refined)
            .overwrite(true);
        self.net
            .save_into(&mut store)
            .map_err(|e| Error::format(path, format!("writing deep-cluster weights: {e}")))
    }

    fn load_weights(config: &DeepClusterConfig, path: &Path, device: &Device) -> Result<Self> {
        let device = device.clone();
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let (_, header) = safetensors::SafeTensors::read_metadata(&bytes)
            .map_err(|e| Error::format(path, format!("not a safetensors file: {e}")))?;
        let meta = header.metadata().clone().unwrap_or_default();
        let get = |key: &str| {
            meta.get(key)
                .ok_or_else(|| Error::format(path, format!("no `{key}` in the weights' metadata")))
        };
        if get("format")?.as_str() != "oddity-deep-cluster" {
            return Err(Error::format(path, "not a deep-cluster weights file"));
        }
        let input: InputShape = serde_json::from_str(get("input")?)
            .map_err(|e| Error::format(path, format!("bad `input` metadata: {e}")))?;
        let refined: Option<Vec<f32>> = serde_json::from_str(get("refined_centroids")?)
            .map_err(|e| Error::format(path, format!("bad `refined_centroids` metadata: {e}")))?;
        if let Some(c) = &refined
            && Some(c.len()) != config.n_clusters.checked_mul(config.embedding)
        {
            return Err(Error::format(
                path,
                "refined centroids do not fit n_clusters × embedding",
            ));
        }
        let input = input
            .checked()
            .ok_or_else(|| Error::format(path, format!("bad `input` metadata: {input:?}")))?;
        let centroids = (config.n_clusters as u128).checked_mul(config.embedding as u128);
        let implied = Autoencoder::value_count(config, input)
            .map_err(|e| Error::format(path, e.to_string()))?
            .zip(centroids)
            .and_then(|(a, c)| a.checked_add(c));
        crate::persist::check_value_count(path, &header, implied)?;
        let zeros = Tensor::<2>::from_data(
            TensorData::new(
                vec![0f32; config.n_clusters * config.embedding],
                [config.n_clusters, config.embedding],
            ),
            &device,
        );
        let mut net = DeepClusterNet {
            ae: Autoencoder::new(config, input, &device)?,
            centroids: Param::from_tensor(zeros),
        };
        let mut store = SafetensorsStore::from_bytes(Some(bytes));
        let result = net
            .load_from(&mut store)
            .map_err(|e| Error::format(path, format!("not a deep-cluster weights file for this config: {e}")))?;
        if !result.is_success() {
            return Err(Error::format(
                path,
                format!("deep-cluster weights do not fit this config: {result}"),
            ));
        }
        Ok(DeepCluster {
            config: config.clone(),
            device,
            input,
            net,
            refined,
            stats: FitStats::default(),
        })
    }
}
