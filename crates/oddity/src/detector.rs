//! The detector contract: fit on training data, score (higher = more anomalous, always),
//! threshold from a contamination rate on the training scores, predict, save, load.
//!
//! A model implements the small [`Model`] trait (fit, score, weights). [`Detector`] wraps it with
//! what every model shares, PyOD-style: the threshold and score range derived once from the
//! training scores, the expected input layout, and the model directory (see [`crate::persist`]).

use std::path::Path;

use serde::{Serialize, de::DeserializeOwned};

use crate::backend::Device;
use crate::checkpoint::Checkpointing;
use crate::data::{Dataset, Layout};
use crate::error::{Error, Result};
use crate::progress::Progress;

/// Default contamination (expected anomaly fraction in training data): PyOD's default, 0.1.
pub const DEFAULT_CONTAMINATION: f64 = 0.1;

/// What a fit needs besides the data and the config.
#[derive(Clone)]
pub struct FitContext<'a> {
    /// Seed for every random choice (same seed → same model on the same machine).
    pub seed: u64,
    /// Progress reporting (a bar in the CLI, silent in tests).
    pub progress: &'a dyn Progress,
    /// Checkpoint folder for models whose training supports it (see [`crate::checkpoint`]);
    /// the others ignore it.
    pub checkpoint: Option<Checkpointing>,
    /// Held-out data chosen by the caller for picking the training epoch (samples with anomaly
    /// flags, or normals only), e.g. by [`crate::eval::Plan::LeaveOneClassOut`]. Models
    /// that select an epoch (GANomaly) use it instead of carving their own; the others ignore it.
    pub validation: Option<&'a Dataset>,
    /// Where the burn models compute (default: the CPU). Not a hyperparameter: it is not saved,
    /// and a model fitted on one device loads on any (see [`crate::registry::load_on`]).
    pub device: Device,
}

impl<'a> FitContext<'a> {
    pub fn new(seed: u64, progress: &'a dyn Progress) -> Self {
        FitContext {
            seed,
            progress,
            checkpoint: None,
            validation: None,
            device: crate::backend::cpu(),
        }
    }

    /// Fits on `device` (see [`FitContext::device`]).
    pub fn with_device(mut self, device: Device) -> Self {
        self.device = device;
        self
    }

    /// Chooses the epoch on `data` (see [`FitContext::validation`]).
    pub fn with_validation(mut self, data: &'a Dataset) -> Self {
        self.validation = Some(data);
        self
    }

    /// Checkpoints training into `cfg.dir` (and resumes from it when `cfg.resume`).
    pub fn with_checkpoint(mut self, cfg: Checkpointing) -> Self {
        self.checkpoint = Some(cfg);
        self
    }
}

/// A model's hyperparameters: serde (for `model.json` and `--set key=value`), validated before fitting.
pub trait ModelConfig: Serialize + DeserializeOwned + Default + Clone + std::fmt::Debug + Send + Sync {
    /// Checks every hyperparameter; one typed error per rule.
    fn validate(&self) -> Result<()>;

    /// Memory (bytes, a lower bound; `None` on overflow) that each size key drives when fitting
    /// `n` samples of `layout`, checked against [`crate::budget::limit`] before fitting so an
    /// impossible size is an error naming the key, not an aborted allocation.
    fn memory(&self, _layout: Layout, _n: usize) -> Vec<(&'static str, Option<u128>)> {
        Vec::new()
    }

    /// Sets the hyperparameters that follow from the training data (e.g. GANomaly's image
    /// channels and size) unless `given(key)` says the user chose them. Called by
    /// [`crate::registry::ModelEntry::fit`] before validation; the default changes nothing.
    fn infer_from_data(&mut self, _train: &Dataset, _given: &dyn Fn(&str) -> bool) {}

    /// Named bundles of settings (`--set preset=NAME`), each a list of `key=value` pairs applied
    /// where `preset=` appears (later keys override them). The default has none.
    fn presets() -> &'static [Preset] {
        &[]
    }
}

/// A named bundle of `key=value` settings (see [`ModelConfig::presets`]).
pub struct Preset {
    pub name: &'static str,
    /// One line: where the values come from.
    pub about: &'static str,
    pub settings: &'static [&'static str],
}

/// What a model implements. The framework ([`Detector`]) adds thresholds, checks and persistence.
pub trait Model: Sized + Send + Sync {
    /// Registry name, e.g. `"iforest"`; also written to `model.json`.
    const KIND: &'static str;
    type Config: ModelConfig;

    /// Fits on `train` (already validated: non-empty, finite). `config` is already validated.
    fn fit(config: &Self::Config, train: &Dataset, ctx: &FitContext) -> Result<Self>;

    /// Anomaly scores, one per sample of `data`; higher = more anomalous.
    /// `data` has the layout the model was fitted on.
    fn score(&self, data: &Dataset) -> Result<Vec<f32>>;

    /// Writes the model's tensors to `path` (a `.safetensors` file). Called with a temporary
    /// path that is renamed into place afterwards.
    fn save_weights(&self, path: &Path) -> Result<()>;

    /// Rebuilds the model from its config and the tensors written by [`Model::save_weights`], on
    /// `device` (models without burn tensors ignore it).
    fn load_weights(config: &Self::Config, path: &Path, device: &Device) -> Result<Self>;

    /// The config as fitted, when fitting settles a hyperparameter the config left open (GANomaly's
    /// `bn_at_score = auto`): kept by [`Detector`] and written to `model.json` in place of the
    /// requested one. `None` (the default): the requested config.
    fn fitted_config(&self) -> Option<Self::Config> {
        None
    }

    /// Models that reconstruct their input (GANomaly's generator, autoencoders): each sample as
    /// the model sees it next to its reconstruction, for pictures. `None` for the others.
    fn reconstruct(&self, _data: &Dataset) -> Result<Option<Reconstruction>> {
        Ok(None)
    }
}

/// Models that also cluster (the clustering protocol, [`crate::eval::Plan::Clustering`]).
pub trait Clusterer: Model {
    /// The clusters of `data` after fitting, with the embedding and the fit's measures.
    fn clusters(&self, data: &Dataset) -> Result<Clustering>;
}

/// What a [`Clusterer`] found for some samples.
#[derive(Debug, Clone, PartialEq)]
pub struct Clustering {
    /// Cluster of each sample.
    pub clusters: Vec<u32>,
    /// Clusters after the model's final refinement, where it has one.
    pub refined: Option<Vec<u32>>,
    /// Clusters of the model's initialisation on the training samples (a baseline), if kept.
    pub initial: Option<Vec<u32>>,
    /// `n × dim` embedding of every sample.
    pub embedding: Vec<f32>,
    pub dim: usize,
    /// Measures of the fit (timings, iteration counts) as `(metric, value)`.
    pub measures: Vec<(String, f64)>,
}

/// Inputs as a model sees them (after resizing) and their reconstructions, both `n × layout`,
/// values in the data's scale ([0, 1] for images).
#[derive(Debug, Clone, PartialEq)]
pub struct Reconstruction {
    pub layout: Layout,
    pub input: Vec<f32>,
    pub output: Vec<f32>,
}

/// Parameters shared by every detector.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Common {
    /// Expected fraction of anomalies in the training data, in (0, 0.5]; sets the threshold.
    pub contamination: f64,
}

impl Default for Common {
    fn default() -> Self {
        Common {
            contamination: DEFAULT_CONTAMINATION,
        }
    }
}

impl Common {
    pub fn validate(&self) -> Result<()> {
        if !(self.contamination > 0.0 && self.contamination <= 0.5) {
            return Err(Error::config(
                "contamination",
                format!("must be in (0, 0.5], got {}", self.contamination),
            ));
        }
        Ok(())
    }
}

/// What is learnt from the training scores.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FitSummary {
    /// Score above which a sample is predicted anomalous.
    pub threshold: f32,
    /// Smallest and largest training score (for min-max scaled scores / probabilities).
    pub train_score_min: f32,
    pub train_score_max: f32,
    /// Mean and population standard deviation of the training scores (for `unify`
    /// probabilities), computed in `f64` and kept as `f32` like the scores. Absent in model files
    /// written before they were stored: see [`FitSummary::probability`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_score_mean: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_score_sd: Option<f32>,
    /// Layout of the samples the model was fitted on; scoring data must match.
    pub layout: Layout,
    /// Seed used for fitting.
    pub seed: u64,
    /// Number of training samples.
    pub n_train: usize,
    /// Column names of the training data (files with a header: CSV, ARFF, Parquet); scoring data
    /// with names must have the same ones in the same order. Absent in older model files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature_names: Option<Vec<String>>,
}

/// How scores become outlier probabilities: PyOD's `predict_proba(method=…)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProbabilityMethod {
    /// Min-max scaled by the training scores' range, clipped to [0, 1].
    #[default]
    Linear,
    /// `erf((s − mean) / (sd·√2))` with the training scores' mean and population sd, clipped to
    /// [0, 1] (Kriegel et al. 2011): everything at or below the training mean is 0.
    Unify,
}

impl std::str::FromStr for ProbabilityMethod {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "linear" => Ok(ProbabilityMethod::Linear),
            "unify" => Ok(ProbabilityMethod::Unify),
            _ => Err(Error::config(
                "method",
                format!("must be 'linear' or 'unify', got '{s}'"),
            )),
        }
    }
}

impl FitSummary {
    /// Outlier probability of each score, in [0, 1], from what was learnt on the training scores
    /// (never from the scores given, so one sample gets the same value alone or in a batch).
    /// A constant training score maps to 0 (`linear`) or to 0 / 1 below / above it (`unify`).
    /// `unify` on a model file that predates the stored mean and sd is an [`Error::InvalidData`]
    /// (refit the model); `linear` works for every model file.
    pub fn probability(&self, scores: &[f32], method: ProbabilityMethod) -> Result<Vec<f64>> {
        let p = |s: &f32| f64::from(*s);
        Ok(match method {
            ProbabilityMethod::Linear => {
                let (lo, hi) = (f64::from(self.train_score_min), f64::from(self.train_score_max));
                let range = hi - lo;
                scores
                    .iter()
                    .map(|s| {
                        if range > 0.0 {
                            ((p(s) - lo) / range).clamp(0.0, 1.0)
                        } else {
                            0.0
                        }
                    })
                    .collect()
            }
            ProbabilityMethod::Unify => {
                let (Some(mean), Some(sd)) = (self.train_score_mean, self.train_score_sd) else {
                    return Err(Error::InvalidData(
                        "unify probabilities need the training scores' mean and sd, which this model \
                         file predates (refit the model, or use linear)"
                            .into(),
                    ));
                };
                let (mean, sd) = (f64::from(mean), f64::from(sd));
                let z = |s: &f32| {
                    if sd > 0.0 {
                        (p(s) - mean) / (sd * std::f64::consts::SQRT_2)
                    } else if p(s) > mean {
                        f64::INFINITY
                    } else {
                        f64::NEG_INFINITY
                    }
                };
                scores
                    .iter()
                    .map(|s| crate::metrics::erf(z(s)).clamp(0.0, 1.0))
                    .collect()
            }
        })
    }
}

/// A fitted model with its threshold: the thing users fit, score, save and load.
pub struct Detector<M: Model> {
    pub model: M,
    pub config: M::Config,
    pub common: Common,
    pub summary: FitSummary,
    /// Scores of the training samples, computed once at fit (PyOD's `decision_scores_`);
    /// `None` for a detector loaded from disk.
    pub train_scores: Option<Vec<f32>>,
}

impl<M: Model> Detector<M> {
    /// Validates the config, fits, scores the training data and sets the threshold.
    pub fn fit(config: M::Config, common: Common, train: &Dataset, ctx: &FitContext) -> Result<Self> {
        common.validate()?;
        config.validate()?;
        crate::budget::check_config(
            M::KIND,
            &serde_json::to_value(&config).unwrap_or_default(),
            &config.memory(train.layout(), train.n()),
        )?;
        let model = M::fit(&config, train, ctx)?;
        let config = model.fitted_config().unwrap_or(config);
        let scores = model.score(train)?;
        check_scores(&scores, train.n())?;
        let threshold = threshold_from_scores(&scores, common.contamination);
        let (min, max) = min_max(&scores);
        let (mean, sd) = mean_sd(&scores);
        let summary = FitSummary {
            threshold,
            train_score_min: min,
            train_score_max: max,
            train_score_mean: Some(mean as f32),
            train_score_sd: Some(sd as f32),
            layout: train.layout(),
            seed: ctx.seed,
            n_train: train.n(),
            feature_names: train.feature_names().map(<[String]>::to_vec),
        };
        Ok(Detector {
            model,
            config,
            common,
            summary,
            train_scores: Some(scores),
        })
    }

    /// Raw anomaly scores (higher = more anomalous).
    pub fn score(&self, data: &Dataset) -> Result<Vec<f32>> {
        Dataset::check_columns(self.summary.feature_names.as_deref(), data)?;
        Dataset::check_layout(self.summary.layout, data)?;
        let scores = self.model.score(data)?;
        check_scores(&scores, data.n())?;
        Ok(scores)
    }

    /// `true` = anomaly: score strictly above the threshold.
    pub fn predict(&self, data: &Dataset) -> Result<Vec<bool>> {
        Ok(self
            .score(data)?
            .into_iter()
            .map(|s| s > self.summary.threshold)
            .collect())
    }

    pub fn threshold(&self) -> f32 {
        self.summary.threshold
    }

    /// Outlier probabilities of `scores` from the training scores (see [`FitSummary::probability`]).
    pub fn probability(&self, scores: &[f32], method: ProbabilityMethod) -> Result<Vec<f64>> {
        self.summary.probability(scores, method)
    }

    /// See [`Model::reconstruct`].
    pub fn reconstruct(&self, data: &Dataset) -> Result<Option<Reconstruction>> {
        Dataset::check_layout(self.summary.layout, data)?;
        self.model.reconstruct(data)
    }
}

fn check_scores(scores: &[f32], n: usize) -> Result<()> {
    if scores.len() != n {
        return Err(Error::Backend(format!(
            "model returned {} scores for {n} samples",
            scores.len()
        )));
    }
    if let Some(i) = scores.iter().position(|s| !s.is_finite()) {
        return Err(Error::Backend(format!(
            "model produced a non-finite score for row {}",
            i + 1
        )));
    }
    Ok(())
}

/// Threshold = the `(1 − contamination)` quantile of the training scores with linear
/// interpolation (numpy's default percentile, as PyOD uses).
pub fn threshold_from_scores(scores: &[f32], contamination: f64) -> f32 {
    let mut s: Vec<f64> = scores.iter().map(|&v| v as f64).collect();
    if s.is_empty() {
        return f32::INFINITY;
    }
    let pos = (1.0 - contamination) * (s.len() - 1) as f64;
    let lo = pos.floor() as usize;
    // Two order statistics in O(n): the lo-th value, then the smallest of what lies above it.
    let (_, &mut below, above) = s.select_nth_unstable_by(lo, f64::total_cmp);
    let next = above.iter().copied().min_by(f64::total_cmp).unwrap_or(below);
    let above = if pos.ceil() as usize > lo { next } else { below };
    (below + (above - below) * (pos - lo as f64)) as f32
}

/// Mean and population standard deviation (numpy's `std`, ddof 0), in `f64` with compensated
/// sums (so scores near the mean keep their sign and digits).
fn mean_sd(s: &[f32]) -> (f64, f64) {
    let n = s.len().max(1) as f64;
    let mean = compensated_sum(s.iter().map(|&v| f64::from(v))) / n;
    let var = compensated_sum(s.iter().map(|&v| (f64::from(v) - mean).powi(2))) / n;
    (mean, var.sqrt())
}

/// Neumaier's compensated summation.
fn compensated_sum(values: impl Iterator<Item = f64>) -> f64 {
    let (mut sum, mut lost) = (0.0f64, 0.0f64);
    for v in values {
        let t = sum + v;
        lost += if sum.abs() >= v.abs() {
            (sum - t) + v
        } else {
            (v - t) + sum
        };
        sum = t;
    }
    sum + lost
}

fn min_max(s: &[f32]) -> (f32, f32) {
    s.iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threshold_matches_numpy_percentile() {
        // np.percentile([1,2,3,4,5,6,7,8,9,10], 90) == 9.1
        let s: Vec<f32> = (1..=10).map(|v| v as f32).collect();
        assert!((threshold_from_scores(&s, 0.1) - 9.1).abs() < 1e-5);
        // np.percentile([3,1,2], 75) == 2.5
        assert!((threshold_from_scores(&[3.0, 1.0, 2.0], 0.25) - 2.5).abs() < 1e-6);
        // np.percentile([5, 1, 4, 2, 3, 3], 50) == 3.0; ([7], 90) == 7; ([2, 1], 50) == 1.5
        assert_eq!(threshold_from_scores(&[5.0, 1.0, 4.0, 2.0, 3.0, 3.0], 0.5), 3.0);
        assert_eq!(threshold_from_scores(&[7.0], 0.1), 7.0);
        assert_eq!(threshold_from_scores(&[2.0, 1.0], 0.5), 1.5);
    }

    fn summary_of(scores: &[f32]) -> FitSummary {
        let (min, max) = min_max(scores);
        let (mean, sd) = mean_sd(scores);
        FitSummary {
            threshold: 0.0,
            train_score_min: min,
            train_score_max: max,
            train_score_mean: Some(mean as f32),
            train_score_sd: Some(sd as f32),
            layout: Layout::Tabular { d: 1 },
            seed: 0,
            n_train: scores.len(),
            feature_names: None,
        }
    }

    #[test]
    fn probabilities_use_the_training_scores() {
        let s = summary_of(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        let lin = s
            .probability(&[0.0, 1.0, 2.0, 5.0, 9.0], ProbabilityMethod::Linear)
            .unwrap();
        assert_eq!(lin, vec![0.0, 0.0, 0.25, 1.0, 1.0]);
        // One sample alone gets what it gets in a batch.
        assert_eq!(s.probability(&[2.0], ProbabilityMethod::Linear).unwrap(), vec![0.25]);
        // mean 3, population sd √2 (kept as f32): erf((s − 3) / 2)
        let uni = s.probability(&[1.0, 3.0, 5.0], ProbabilityMethod::Unify).unwrap();
        assert_eq!(uni[..2], [0.0, 0.0]);
        assert!((uni[2] - 0.8427007929497149).abs() < 1e-7, "{uni:?}");
    }

    #[test]
    fn constant_training_scores_and_old_files() {
        let s = summary_of(&[2.0, 2.0]);
        assert_eq!(
            s.probability(&[1.0, 2.0, 3.0], ProbabilityMethod::Linear).unwrap(),
            vec![0.0; 3]
        );
        assert_eq!(
            s.probability(&[1.0, 2.0, 3.0], ProbabilityMethod::Unify).unwrap(),
            vec![0.0, 0.0, 1.0]
        );
        let old = FitSummary {
            train_score_mean: None,
            train_score_sd: None,
            ..summary_of(&[1.0, 3.0])
        };
        assert_eq!(old.probability(&[2.0], ProbabilityMethod::Linear).unwrap(), vec![0.5]);
        let e = old.probability(&[2.0], ProbabilityMethod::Unify).unwrap_err();
        assert!(
            matches!(e, Error::InvalidData(_)) && e.to_string().contains("refit"),
            "{e}"
        );
        assert!("softmax".parse::<ProbabilityMethod>().is_err());
        assert_eq!("unify".parse::<ProbabilityMethod>().unwrap(), ProbabilityMethod::Unify);
    }

    #[test]
    fn contamination_is_validated() {
        for bad in [0.0, -0.1, 0.51, f64::NAN] {
            let e = Common { contamination: bad }.validate().unwrap_err();
            assert!(e.to_string().contains("contamination"), "{e}");
        }
        assert!(Common { contamination: 0.5 }.validate().is_ok());
    }
}
