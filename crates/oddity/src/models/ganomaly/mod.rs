//! GANomaly (Akcay, Atapour-Abarghouei & Breckon, "GANomaly: Semi-Supervised Anomaly Detection
//! via Adversarial Training", ACCV 2018, arXiv 1805.06725), following the official PyTorch code
//! samet-akcay/ganomaly layer for layer.
//!
//! A generator G = encoder G_E → decoder G_D → encoder E learns to reconstruct normal images and
//! to map its reconstruction back to the same latent code; a DCGAN discriminator D supplies a
//! feature-matching loss. The anomaly score is the latent gap A(x) = ‖G_E(x) − E(G(x))‖, per
//! sample: `score_norm = l1` gives mean_k |z_k − ẑ_k| (the paper's Eq. 8 divided by nz),
//! `l2` gives mean_k (z_k − ẑ_k)² (the official code). Raw scores are returned (higher = more
//! anomalous); the official code's min-max scaling over the scored set is a reporting step.
//!
//! Input: images `[n, c, h, w]` with values in [0, 1] and `c = nc`. Images whose side is not
//! `isize` are resized to `isize × isize` with a bilinear (triangle) filter, sample centres at
//! half pixels and antialiased when shrinking (the `image` crate's `FilterType::Triangle`, the
//! same scheme as PIL's bilinear resize that torchvision's `Resize` uses in the official code);
//! then values are scaled to [−1, 1] (`Normalize(0.5, 0.5)`).
//!
//! Fitting: the epoch kept is chosen on a validation set when there is one — the caller's
//! ([`FitContext::validation`]; leave-one-class-out evaluation passes a seeded 10% of the
//! training normals, plus labelled anomalies if the user gives some, or under the official
//! protocol its test set), else, if the training set carries anomaly labels of both kinds, the
//! anomalies and a seeded 10% of the normals held out from it. With anomalies in the validation
//! set the epoch with the best ROC-AUC is kept; with normals only, the epoch with the lowest
//! validation loss w_con·L_con + w_enc·L_enc (the generator's data terms; D's features change
//! from epoch to epoch, so L_adv is left out). Without a validation set the last epoch is kept.
//!
//! Batch-norm statistics at scoring (`bn_at_score`): `auto` (the default) judges every epoch in
//! both modes — running statistics (PyTorch's `eval()`) and the scoring batch's statistics (the
//! official code, which never calls `eval()`) — and keeps the best (epoch, mode) pair; the fitted
//! model's config (`model.json`) records the mode kept. Why: after short runs the running
//! statistics lag behind the weights and can rank normals above anomalies (docs/bench/ganomaly.md).
//!
//! Weights: the generator's tensors (batch-norm running statistics included) in a safetensors
//! file written by burn-store; the discriminator is only needed for training and is not saved.

#[cfg(test)]
mod bn_measure;
mod config;
#[cfg(all(test, feature = "wgpu-untuned"))]
mod gpu_step_tests;
mod loss;
pub(crate) mod nets;
pub(crate) mod train;

use std::path::Path;

use burn::module::Module;
use burn::store::{ModuleSnapshot, SafetensorsStore};
use burn::tensor::Device;
use image::{ImageBuffer, Luma, imageops};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

pub use config::{BnAtScore, GanomalyConfig, Precision, ScoreNorm};
pub use loss::{adversarial, bce, contextual, discriminator, encoder};
pub use nets::{BnMode, Decoder, Encoder, GenOutput, NetD, NetG};

use crate::checkpoint::{self, Checkpointer};
use crate::data::{Dataset, Layout};
use crate::detector::{FitContext, Model, Reconstruction};
use crate::error::{Error, Result};
use train::{Images, Validation};

/// Fraction of the training normals held out for epoch selection when anomaly labels are given.
pub const VALIDATION_FRACTION: f64 = 0.1;

/// A fitted GANomaly generator.
pub struct Ganomaly {
    config: GanomalyConfig,
    device: Device,
    netg: NetG,
}

impl std::fmt::Debug for Ganomaly {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ganomaly").field("config", &self.config).finish()
    }
}

impl Ganomaly {
    /// The generator (in validation mode).
    pub fn generator(&self) -> &NetG {
        &self.netg
    }

    pub fn config(&self) -> &GanomalyConfig {
        &self.config
    }

    /// The same generator scoring with other batch-norm statistics (to report both modes from one
    /// fit); `auto` keeps the mode chosen when fitting.
    pub fn with_bn_at_score(mut self, mode: BnAtScore) -> Self {
        if mode != BnAtScore::Auto {
            self.config.bn_at_score = mode;
        }
        self
    }

    /// The batch-norm statistics this model scores with (`running` or `batch`; for a model fitted
    /// with `bn_at_score = auto`, the one chosen).
    pub fn bn_at_score(&self) -> BnAtScore {
        self.config.bn_at_score
    }
}

/// Resizes one `h × w` channel to `s × s` (see the module docs).
fn resize_channel(src: &[f32], h: usize, w: usize, s: usize) -> Result<Vec<f32>> {
    let img: ImageBuffer<Luma<f32>, Vec<f32>> = ImageBuffer::from_raw(w as u32, h as u32, src.to_vec())
        .ok_or_else(|| Error::shape("GANomaly: image channel", format!("{h}x{w} values"), src.len()))?;
    Ok(imageops::resize(&img, s as u32, s as u32, imageops::FilterType::Triangle).into_raw())
}

/// `data`'s images as network input: resized to `isize`, scaled from [0, 1] to [−1, 1].
pub(crate) fn prepare(data: &Dataset, cfg: &GanomalyConfig) -> Result<Images> {
    let (c, h, w) = match data.layout() {
        Layout::Images { c, h, w } => (c, h, w),
        Layout::Tabular { d } => {
            return Err(Error::shape(
                format!("{}: GANomaly input", data.name()),
                "images [n, c, h, w]",
                format!("tabular data with {d} features per sample"),
            ));
        }
    };
    if c != cfg.nc {
        return Err(Error::shape(
            format!("{}: image channels", data.name()),
            format!("nc = {}", cfg.nc),
            format!("{c} (set nc={c})"),
        ));
    }
    let s = cfg.isize;
    let mut x = Vec::with_capacity(data.n() * c * s * s);
    for i in 0..data.n() {
        let row = data.row(i);
        for ch in 0..c {
            let plane = &row[ch * h * w..(ch + 1) * h * w];
            if (h, w) == (s, s) {
                x.extend(plane.iter().map(|v| v * 2.0 - 1.0));
            } else {
                x.extend(resize_channel(plane, h, w, s)?.into_iter().map(|v| v * 2.0 - 1.0));
            }
        }
    }
    Ok(Images { n: data.n(), x })
}

/// The batch-norm statistics scoring uses (`bn_at_score`). A fitted or loaded model never holds
/// `auto` (fitting resolves it, loading refuses it); were it to, running statistics are used.
pub(crate) fn score_mode(cfg: &GanomalyConfig) -> BnMode {
    match cfg.bn_at_score {
        BnAtScore::Running | BnAtScore::Auto => BnMode::Running,
        BnAtScore::Batch => BnMode::Batch,
    }
}

/// Raw scores of prepared images, in batches of `batch_size`.
pub(crate) fn score_images(netg: &NetG, images: &Images, cfg: &GanomalyConfig, device: &Device) -> Result<Vec<f32>> {
    let mode = score_mode(cfg);
    let mut scores = Vec::with_capacity(images.n);
    let idx: Vec<usize> = (0..images.n).collect();
    for chunk in idx.chunks(cfg.batch_size.max(1)) {
        let x = train::batch(images, chunk, cfg, device);
        let out = netg.forward(x, mode);
        let diff = (out.latent_i - out.latent_o).reshape([chunk.len(), cfg.nz]);
        let per = match cfg.score_norm {
            ScoreNorm::L1 => diff.abs().mean_dim(1),
            ScoreNorm::L2 => diff.square().mean_dim(1),
        };
        let v = per
            .into_data()
            .try_to_vec::<f32>()
            .map_err(|e| Error::Backend(format!("reading scores: {e:?}")))?;
        scores.extend(v);
    }
    Ok(scores)
}

/// Splits labelled training data into training normals and a validation set (all anomalies +
/// [`VALIDATION_FRACTION`] of the normals, at least one), or `None` when there are no labels of both kinds.
fn split_validation(train: &Dataset, seed: u64) -> Result<Option<(Dataset, Dataset)>> {
    let Some(flags) = train.anomaly_flags() else {
        return Ok(None);
    };
    let mut normals: Vec<usize> = (0..train.n()).filter(|&i| !flags[i]).collect();
    let anomalies: Vec<usize> = (0..train.n()).filter(|&i| flags[i]).collect();
    if normals.len() < 3 || anomalies.is_empty() {
        return Ok(None);
    }
    // A stream of its own, so the split does not shift the training draws.
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed_0f_0a11);
    normals.shuffle(&mut rng);
    let n_val = ((normals.len() as f64 * VALIDATION_FRACTION).round() as usize).clamp(1, normals.len() - 2);
    let mut val_idx: Vec<usize> = normals[..n_val].to_vec();
    val_idx.extend(&anomalies);
    let mut train_idx = normals[n_val..].to_vec();
    train_idx.sort_unstable();
    Ok(Some((train.select(&train_idx)?, train.select(&val_idx)?)))
}

impl Model for Ganomaly {
    const KIND: &'static str = "ganomaly";
    type Config = GanomalyConfig;

    fn fit(config: &GanomalyConfig, train: &Dataset, ctx: &FitContext) -> Result<Self> {
        let device = ctx.device.clone();
        let validation = |va: &Dataset| -> Result<Validation> {
            let flags = va.anomaly_flags().map(<[bool]>::to_vec).unwrap_or_default();
            Ok(Validation::new(prepare(va, config)?, flags))
        };
        // The caller's validation set, else one held out of labelled training data, else none.
        let (train_images, val) = match ctx.validation {
            Some(va) => (prepare(train, config)?, Some(validation(va)?)),
            None => match split_validation(train, ctx.seed)? {
                Some((tr, va)) => (prepare(&tr, config)?, Some(validation(&va)?)),
                None => (prepare(train, config)?, None),
            },
        };
        // A resumed run must train on the same data with the same seed and architecture; the
        // schedule (epochs, lr) may change (the device is not in the config).
        let ckpt = ctx.checkpoint.as_ref().map(|c| {
            let fp = checkpoint::fingerprint(Self::KIND, ctx.seed, config, &["epochs", "lr"], train);
            Checkpointer::new(c, Self::KIND, fp)
        });
        let (netg, bn_at_score) = train::fit(config, &train_images, val.as_ref(), &device, ctx, ckpt.as_ref())?;
        Ok(Ganomaly {
            config: GanomalyConfig {
                bn_at_score,
                ..config.clone()
            },
            device,
            netg,
        })
    }

    /// The config with `bn_at_score` as chosen (`auto` resolved to `running` or `batch`).
    fn fitted_config(&self) -> Option<GanomalyConfig> {
        Some(self.config.clone())
    }

    fn score(&self, data: &Dataset) -> Result<Vec<f32>> {
        let images = prepare(data, &self.config)?;
        score_images(&self.netg, &images, &self.config, &self.device)
    }

    fn reconstruct(&self, data: &Dataset) -> Result<Option<Reconstruction>> {
        let images = prepare(data, &self.config)?;
        let mode = score_mode(&self.config);
        let mut output = Vec::with_capacity(images.x.len());
        let idx: Vec<usize> = (0..images.n).collect();
        for chunk in idx.chunks(self.config.batch_size.max(1)) {
            let x = train::batch(&images, chunk, &self.config, &self.device);
            let fake = self.netg.forward(x, mode).fake;
            let v = fake
                .into_data()
                .try_to_vec::<f32>()
                .map_err(|e| Error::Backend(format!("reading reconstructions: {e:?}")))?;
            output.extend(v);
        }
        // Back from the network's [-1, 1] to the data's [0, 1].
        let unscale = |v: Vec<f32>| v.into_iter().map(|x| (x + 1.0) / 2.0).collect();
        let s = self.config.isize;
        Ok(Some(Reconstruction {
            layout: Layout::Images {
                c: self.config.nc,
                h: s,
                w: s,
            },
            input: unscale(images.x),
            output: unscale(output),
        }))
    }

    fn save_weights(&self, path: &Path) -> Result<()> {
        let mut store = SafetensorsStore::from_file(path)
            .metadata("format", "oddity-ganomaly")
            .metadata("version", "1")
            .overwrite(true);
        self.netg
            .save_into(&mut store)
            .map_err(|e| Error::format(path, format!("writing GANomaly weights: {e}")))
    }

    fn load_weights(config: &GanomalyConfig, path: &Path, device: &Device) -> Result<Self> {
        let device = device.clone();
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let (_, header) = safetensors::SafeTensors::read_metadata(&bytes)
            .map_err(|e| Error::format(path, format!("not a safetensors file: {e}")))?;
        let implied = NetG::value_count(config.isize, config.nz, config.nc, config.ngf, config.extralayers);
        crate::persist::check_value_count(path, &header, implied)?;
        let mut netg = NetG::new(
            config.isize,
            config.nz,
            config.nc,
            config.ngf,
            config.extralayers,
            &device,
        );
        let mut store = SafetensorsStore::from_bytes(Some(bytes));
        let result = netg
            .load_from(&mut store)
            .map_err(|e| Error::format(path, format!("not a GANomaly weights file for this config: {e}")))?;
        if !result.is_success() {
            return Err(Error::format(
                path,
                format!("GANomaly weights do not fit this config: {result}"),
            ));
        }
        if config.bn_at_score == BnAtScore::Auto {
            return Err(Error::config(
                "bn_at_score",
                format!(
                    "is `auto` for the weights {}: `auto` is chosen when fitting, and a fitted model's config \
                     says `running` or `batch`",
                    path.display()
                ),
            ));
        }
        Ok(Ganomaly {
            config: config.clone(),
            device,
            netg: netg.valid(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Labels;

    #[test]
    fn the_value_count_of_a_config_is_what_its_weights_file_holds() {
        let dir = tempfile::tempdir().unwrap();
        let device = crate::backend::cpu();
        for (isize, nz, nc, ngf, extra) in [(16, 4, 1, 4, 0), (32, 8, 1, 8, 1), (64, 5, 3, 6, 2)] {
            let path = dir.path().join("w.safetensors");
            let mut store = SafetensorsStore::from_file(&path).overwrite(true);
            NetG::new(isize, nz, nc, ngf, extra, &device)
                .save_into(&mut store)
                .unwrap();
            let bytes = std::fs::read(&path).unwrap();
            let (_, header) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
            let implied = NetG::value_count(isize, nz, nc, ngf, extra);
            crate::persist::check_value_count(&path, &header, implied).unwrap();
            let other = NetG::value_count(isize, nz + 1, nc, ngf, extra);
            assert!(crate::persist::check_value_count(&path, &header, other).is_err());
        }
        assert_eq!(NetG::value_count(1 << 62, usize::MAX, 1, usize::MAX, 0), None);
    }

    fn images(c: usize, h: usize, w: usize, x: Vec<f32>) -> Dataset {
        Dataset::new("img", Layout::Images { c, h, w }, x, Labels::None).unwrap()
    }

    #[test]
    fn tabular_data_is_a_shape_error() {
        let data = Dataset::tabular("t.csv", 4, vec![0.5; 8], Labels::None).unwrap();
        let e = prepare(&data, &GanomalyConfig::default()).err().unwrap();
        assert!(matches!(e, Error::Shape { .. }), "{e}");
        assert!(
            e.to_string().contains("t.csv") && e.to_string().contains("images"),
            "{e}"
        );
    }

    #[test]
    fn channel_count_must_match_nc() {
        let data = images(3, 32, 32, vec![0.5; 3 * 32 * 32]);
        let e = prepare(&data, &GanomalyConfig::default()).err().unwrap();
        assert!(
            matches!(e, Error::Shape { .. }) && e.to_string().contains("nc=3"),
            "{e}"
        );
    }

    #[test]
    fn scaling_and_resizing() {
        let cfg = GanomalyConfig::default();
        // Same size: only scaled to [-1, 1].
        let data = images(1, 32, 32, (0..1024).map(|i| (i % 2) as f32).collect());
        let p = prepare(&data, &cfg).unwrap();
        assert_eq!((p.n, p.x.len()), (1, 1024));
        assert_eq!(&p.x[..4], &[-1.0, 1.0, -1.0, 1.0]);
        // 28 -> 32: a constant image stays constant.
        let p = prepare(&images(1, 28, 28, vec![0.25; 784]), &cfg).unwrap();
        assert_eq!(p.x.len(), 1024);
        assert!(p.x.iter().all(|v| (v + 0.5).abs() < 1e-6));
        // 2 -> 4 bilinear with half-pixel centres (PIL / torchvision): a row [0, 1] becomes
        // [0, 0.25, 0.75, 1] (output centres 0.25, 0.75, 1.25, 1.75 in input pixels, edges clamped).
        let small = GanomalyConfig {
            isize: 4,
            ..GanomalyConfig::default()
        };
        let p = prepare(&images(1, 2, 2, vec![0.0, 1.0, 0.0, 1.0]), &small).unwrap();
        let row: Vec<f32> = p.x[..4].iter().map(|v| (v + 1.0) / 2.0).collect();
        for (got, want) in row.iter().zip([0.0, 0.25, 0.75, 1.0]) {
            assert!((got - want).abs() < 1e-6, "{row:?}");
        }
    }

    /// A caller's validation set of normals only: the epoch kept is the one with the lowest
    /// validation loss (recorded per epoch), not the last one.
    #[test]
    fn normals_only_validation_keeps_the_epoch_with_the_lowest_validation_loss() {
        use rand::Rng;
        let cfg = GanomalyConfig {
            bn_at_score: BnAtScore::Running,
            ..tiny_fast(6)
        };
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let x: Vec<f32> = (0..48 * 256).map(|_| rng.random::<f32>()).collect();
        let train = images(1, 16, 16, x[..32 * 256].to_vec());
        let val = images(1, 16, 16, x[32 * 256..].to_vec());
        let recorder = crate::report::HistoryRecorder::new(&crate::progress::Silent);
        let ctx = FitContext::new(3, &recorder).with_validation(&val);
        let model = Ganomaly::fit(&cfg, &train, &ctx).unwrap();
        let history = recorder.take();
        let losses = &history
            .iter()
            .find(|s| s.name == "validation loss per epoch")
            .expect("a validation loss per epoch")
            .values;
        assert_eq!(losses.len(), 6);
        let best = (0..6).min_by(|&a, &b| losses[a].total_cmp(&losses[b])).unwrap();
        assert_ne!(
            best, 5,
            "this seed's losses {losses:?} must not be lowest at the last epoch"
        );
        let v = Validation::new(prepare(&val, &cfg).unwrap(), vec![]);
        let (_, series, kept) = v.merit(&model.netg, &cfg, &model.device).unwrap();
        assert_eq!(series, "validation loss per epoch");
        assert_eq!(kept, losses[best], "{losses:?}");
    }

    /// isize 16, nz 4, ngf = ndf = 4, batch 8, a high learning rate: fits in well under a second.
    fn tiny_fast(epochs: usize) -> GanomalyConfig {
        GanomalyConfig {
            isize: 16,
            nz: 4,
            ngf: 4,
            ndf: 4,
            batch_size: 8,
            epochs,
            lr: 0.05,
            ..GanomalyConfig::default()
        }
    }

    /// `n` seeded noise images of 16×16.
    fn noise(n: usize, seed: u64) -> Dataset {
        use rand::Rng;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        images(1, 16, 16, (0..n * 256).map(|_| rng.random::<f32>()).collect())
    }

    /// The kept epoch's validation loss in the mode kept: the lowest value of the mode's series.
    fn kept_loss(model: &Ganomaly, val: &Dataset) -> f64 {
        let v = Validation::new(prepare(val, &model.config).unwrap(), vec![]);
        v.merit(&model.netg, &model.config, &model.device).unwrap().2
    }

    /// `auto` judges each epoch in both modes and keeps the better pair: the kept (epoch, mode)
    /// has the lowest validation loss of both fixed-mode fits (same seed, same training), and
    /// scores as the fixed-mode fit of that mode does; the fitted config records the mode.
    #[test]
    fn auto_keeps_the_epoch_and_batch_norm_mode_with_the_lowest_validation_loss() {
        let (train, val) = (noise(32, 2), noise(16, 3));
        let fit = |mode: BnAtScore| {
            let recorder = crate::report::HistoryRecorder::new(&crate::progress::Silent);
            let cfg = GanomalyConfig {
                bn_at_score: mode,
                ..tiny_fast(4)
            };
            let ctx = FitContext::new(4, &recorder).with_validation(&val);
            (Ganomaly::fit(&cfg, &train, &ctx).unwrap(), recorder.take())
        };
        let (running, _) = fit(BnAtScore::Running);
        let (batch, _) = fit(BnAtScore::Batch);
        let (auto, history) = fit(BnAtScore::Auto);
        let series = |name: &str| history.iter().find(|s| s.name == name).unwrap().values.clone();
        let (r, b) = (
            series("validation loss per epoch, BN running"),
            series("validation loss per epoch, BN batch"),
        );
        assert_eq!((r.len(), b.len()), (4, 4));
        let min = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
        assert_eq!(kept_loss(&running, &val), min(&r));
        assert_eq!(kept_loss(&batch, &val), min(&b));
        let margin = 1.0 + train::AUTO_BATCH_MARGIN;
        let want = if min(&b) * margin >= min(&r) {
            (BnAtScore::Running, &running)
        } else {
            (BnAtScore::Batch, &batch)
        };
        assert_eq!(auto.bn_at_score(), want.0, "running {r:?}, batch {b:?}");
        assert_eq!(auto.fitted_config().unwrap().bn_at_score, want.0);
        assert_eq!(auto.score(&val).unwrap(), want.1.score(&val).unwrap());
        assert_eq!(kept_loss(&auto, &val), kept_loss(want.1, &val));
        // This seed's data makes the two modes differ (else the test shows nothing).
        assert_ne!(min(&r), min(&b));
    }

    /// Without validation data `auto` compares the last epoch's loss on training images in both
    /// modes; a fixed mode is kept as given; a saved model cannot be loaded as `auto`.
    #[test]
    fn auto_without_validation_data_chooses_on_training_images() {
        let train = noise(40, 5);
        let recorder = crate::report::HistoryRecorder::new(&crate::progress::Silent);
        let model = Ganomaly::fit(&tiny_fast(2), &train, &FitContext::new(6, &recorder)).unwrap();
        let history = recorder.take();
        let loss = |m: &str| {
            let s = history
                .iter()
                .find(|s| s.name == format!("training-image loss, BN {m}"))
                .unwrap();
            assert_eq!(s.steps, [2]);
            s.values[0]
        };
        let (r, b) = (loss("running"), loss("batch"));
        let want = if b * (1.0 + train::AUTO_BATCH_MARGIN) >= r {
            BnAtScore::Running
        } else {
            BnAtScore::Batch
        };
        assert_eq!(model.bn_at_score(), want, "running {r}, batch {b}");
        // The same value as the training images' loss in that mode (all 40 < the sample cap).
        assert_eq!(
            kept_loss(&model, &train),
            if want == BnAtScore::Running { r } else { b }
        );
        let fixed = GanomalyConfig {
            bn_at_score: BnAtScore::Batch,
            ..tiny_fast(2)
        };
        let fixed = Ganomaly::fit(&fixed, &train, &FitContext::new(6, &crate::progress::Silent)).unwrap();
        assert_eq!(fixed.bn_at_score(), BnAtScore::Batch);
        assert_eq!(model.with_bn_at_score(BnAtScore::Auto).bn_at_score(), want);

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.safetensors");
        fixed.save_weights(&path).unwrap();
        let e = Ganomaly::load_weights(&tiny_fast(2), &path, &crate::backend::cpu()).unwrap_err();
        assert!(
            matches!(&e, Error::InvalidConfig { field, .. } if field == "bn_at_score")
                && e.to_string().contains("w.safetensors"),
            "{e}"
        );
        assert!(Ganomaly::load_weights(&fixed.config, &path, &crate::backend::cpu()).is_ok());
    }

    #[test]
    fn validation_split_holds_out_anomalies_and_a_tenth_of_the_normals() {
        // 40 samples, every 5th an anomaly: 32 normals, 8 anomalies.
        let flags: Vec<bool> = (0..40).map(|i| i % 5 == 0).collect();
        let x: Vec<f32> = (0..40 * 4).map(|i| (i / 4) as f32 / 40.0).collect();
        let data = Dataset::new("v", Layout::Images { c: 1, h: 2, w: 2 }, x, Labels::Anomaly(flags)).unwrap();
        let (train, val) = split_validation(&data, 9).unwrap().unwrap();
        assert_eq!(train.n(), 32 - 3, "round(0.1 * 32) = 3 normals held out");
        assert!(train.anomaly_flags().unwrap().iter().all(|&f| !f));
        assert_eq!(val.n(), 3 + 8);
        assert_eq!(val.anomaly_flags().unwrap().iter().filter(|&&f| f).count(), 8);
        // Deterministic for a seed; no overlap between the parts.
        let (train2, _) = split_validation(&data, 9).unwrap().unwrap();
        assert_eq!(train.x(), train2.x());
        for i in 0..val.n() {
            assert!((0..train.n()).all(|j| train.row(j) != val.row(i)));
        }
        // No anomaly labels: no split.
        let plain = data.clone().with_labels(Labels::None).unwrap();
        assert!(split_validation(&plain, 9).unwrap().is_none());
    }
}
