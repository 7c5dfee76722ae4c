//! The registry of models by name, and a dyn-safe view of a fitted detector, so the CLI (and the
//! Python package) can fit, score, save and load any model without knowing its type.

use std::path::Path;

use serde_json::{Map, Value};

use crate::backend::Device;
use crate::data::Dataset;
use crate::detector::{
    Clusterer, Clustering, Common, Detector, FitContext, FitSummary, Model, ModelConfig, Preset, ProbabilityMethod,
    Reconstruction,
};
use crate::error::{Error, Result};
use crate::models::deep_cluster::DeepCluster;
use crate::models::deep_sad::DeepSad;
use crate::models::devnet::DevNet;
use crate::models::dplan::Dplan;
use crate::models::ganomaly::Ganomaly;
use crate::models::iforest::IForest;
use crate::models::repen::Repen;
use crate::persist::{self, ModelFile};

/// A fitted detector of any kind.
pub trait AnyDetector: Send + Sync {
    fn kind(&self) -> &'static str;
    /// Raw anomaly scores, higher = more anomalous.
    fn score(&self, data: &Dataset) -> Result<Vec<f32>>;
    /// `true` = anomaly.
    fn predict(&self, data: &Dataset) -> Result<Vec<bool>>;
    fn threshold(&self) -> f32;
    /// Outlier probabilities of `scores` (see [`FitSummary::probability`]).
    fn probability(&self, scores: &[f32], method: ProbabilityMethod) -> Result<Vec<f64>>;
    fn summary(&self) -> &FitSummary;
    /// Scores of the training samples from fitting (`None` once loaded from disk).
    fn train_scores(&self) -> Option<&[f32]>;
    fn common(&self) -> Common;
    /// The model's hyperparameters as JSON.
    fn config_json(&self) -> Value;
    /// Writes the model directory.
    fn save(&self, dir: &Path) -> Result<()>;
    /// Inputs and reconstructions, for models that reconstruct (see [`Model::reconstruct`]).
    fn reconstruct(&self, data: &Dataset) -> Result<Option<Reconstruction>>;
}

impl<M: Model + 'static> AnyDetector for Detector<M> {
    fn kind(&self) -> &'static str {
        M::KIND
    }
    fn score(&self, data: &Dataset) -> Result<Vec<f32>> {
        Detector::score(self, data)
    }
    fn predict(&self, data: &Dataset) -> Result<Vec<bool>> {
        Detector::predict(self, data)
    }
    fn threshold(&self) -> f32 {
        Detector::threshold(self)
    }
    fn probability(&self, scores: &[f32], method: ProbabilityMethod) -> Result<Vec<f64>> {
        Detector::probability(self, scores, method)
    }
    fn summary(&self) -> &FitSummary {
        &self.summary
    }
    fn common(&self) -> Common {
        self.common
    }
    fn train_scores(&self) -> Option<&[f32]> {
        self.train_scores.as_deref()
    }
    fn config_json(&self) -> Value {
        crate::json::to_value(&self.config).unwrap_or(Value::Null)
    }
    fn save(&self, dir: &Path) -> Result<()> {
        persist::save(self, dir)
    }
    fn reconstruct(&self, data: &Dataset) -> Result<Option<Reconstruction>> {
        Detector::reconstruct(self, data)
    }
}

/// What kind of data and labels a model's standard protocol needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// Fit on all samples without labels, score them, compare with anomaly labels.
    Unsupervised,
    /// Class K is the anomaly: fit on the training split's other classes, score the whole test
    /// split, compare with "class == K" (see [`crate::eval::Plan::LeaveOneClassOut`]).
    LeaveOneClassOut,
    /// A few labelled anomalies and contaminated unlabelled data (DevNet / DPLAN): see
    /// [`crate::data::split`] and [`crate::eval::Plan::Weak`].
    WeaklySupervised,
    /// Clustering models: fit on all samples, compare the clusters with the class labels (ACC,
    /// NMI, ARI; see [`crate::eval::Plan::Clustering`]). As detectors they are evaluated
    /// leave-one-class-out.
    Clustering,
}

impl Protocol {
    /// Its name in listings (`oddity models`).
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Unsupervised => "unsupervised",
            Protocol::LeaveOneClassOut => "leave-one-class-out",
            Protocol::WeaklySupervised => "weakly-supervised",
            Protocol::Clustering => "clustering",
        }
    }
}

/// The kind of data a model reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// Rows of numbers.
    Tabular,
    /// Images (`c × h × w`).
    Images,
}

impl Input {
    /// Its name in listings.
    pub fn name(self) -> &'static str {
        match self {
            Input::Tabular => "tabular",
            Input::Images => "images",
        }
    }
}

type FitFn = fn(Value, Common, &Dataset, &FitContext, &dyn Fn(&str) -> bool) -> Result<Box<dyn AnyDetector>>;
type ClusterFn = fn(Value, &Dataset, &FitContext) -> Result<Clustering>;

/// One registered model.
pub struct ModelEntry {
    pub name: &'static str,
    /// One line for `--help` and listings.
    pub about: &'static str,
    pub protocol: Protocol,
    pub input: Input,
    /// Settings (`key=value`) for a fit of a second or so on tiny data of the model's input kind:
    /// what tests and the fuzz harness use.
    pub quick: &'static [&'static str],
    default_config: fn() -> Value,
    fit: FitFn,
    load: fn(&Path, ModelFile, &Device) -> Result<Box<dyn AnyDetector>>,
    /// Parses and validates a config (type errors name the model kind).
    check: fn(Value) -> Result<()>,
    /// Named bundles of settings (see [`ModelConfig::presets`]).
    pub presets: &'static [Preset],
    /// Fits and clusters, for models that cluster ([`ModelEntry::clusters`]).
    cluster: Option<ClusterFn>,
}

impl ModelEntry {
    fn of<M: Model + 'static>(about: &'static str, protocol: Protocol, input: Input) -> Self {
        ModelEntry {
            name: M::KIND,
            about,
            protocol,
            input,
            quick: &[],
            default_config: || crate::json::to_value(&M::Config::default()).unwrap_or(Value::Null),
            fit: |config, common, data, ctx, given| {
                let mut config: M::Config =
                    serde_json::from_value(config).map_err(|e| Error::config(M::KIND, e.to_string()))?;
                config.infer_from_data(data, given);
                Ok(Box::new(Detector::<M>::fit(config, common, data, ctx)?))
            },
            load: |dir, file, device| Ok(Box::new(persist::load_from_file::<M>(dir, file, device)?)),
            check: |config| validate_config::<M>(config).map(drop),
            presets: M::Config::presets(),
            cluster: None,
        }
    }

    /// With quick settings for tests ([`ModelEntry::quick`]).
    fn quick(self, quick: &'static [&'static str]) -> Self {
        ModelEntry { quick, ..self }
    }

    /// With the clustering capability of `M` (the entry's own model).
    fn clusters<M: Clusterer + 'static>(self) -> Self {
        ModelEntry {
            cluster: Some(|config, data, ctx| {
                let config = validate_config::<M>(config)?;
                M::fit(&config, data, ctx)?.clusters(data)
            }),
            ..self
        }
    }

    /// Whether the model clusters (the clustering protocol applies to it).
    pub fn can_cluster(&self) -> bool {
        self.cluster.is_some()
    }

    /// The model's default hyperparameters as JSON.
    pub fn default_config(&self) -> Value {
        (self.default_config)()
    }

    /// The quick settings ([`ModelEntry::quick`]) parsed.
    pub fn quick_settings(&self) -> Result<Settings> {
        Settings::parse(self.quick)
    }

    /// Checks `settings` (names, types, ranges) as fitting would, without data.
    pub fn check(&self, settings: &Settings) -> Result<()> {
        settings.apply(self).map(drop)
    }

    /// Fits with the defaults overridden by `settings` (`key=value` pairs, see [`Settings`]);
    /// hyperparameters that follow from the data and are not in `settings` are inferred from
    /// `data` (see [`ModelConfig::infer_from_data`]).
    /// A `device` setting overrides `ctx.device` (see [`Settings::device`]).
    pub fn fit(&self, settings: &Settings, data: &Dataset, ctx: &FitContext) -> Result<Box<dyn AnyDetector>> {
        let settings = &settings.expand_presets(self)?;
        let (config, common) = settings.apply(self)?;
        let on_device;
        let ctx = match settings.device()? {
            Some(device) => {
                on_device = ctx.clone().with_device(device);
                &on_device
            }
            None => ctx,
        };
        (self.fit)(config, common, data, ctx, &|key| settings.has(key))
    }

    /// Fits with `settings` on `data` and clusters it; an error for a model that does not cluster.
    pub fn fit_clusters(&self, settings: &Settings, data: &Dataset, ctx: &FitContext) -> Result<Clustering> {
        let Some(cluster) = self.cluster else {
            let clusterers: Vec<&str> = models().iter().filter(|m| m.can_cluster()).map(|m| m.name).collect();
            return Err(Error::config(
                "task",
                format!(
                    "the clustering protocol needs a clustering model ({}), not `{}`",
                    clusterers.join(", "),
                    self.name
                ),
            ));
        };
        let (config, _) = settings.apply(self)?;
        cluster(config, data, ctx)
    }
}

/// Every registered model.
pub fn models() -> Vec<ModelEntry> {
    vec![
        ModelEntry::of::<IForest>(
            "Isolation Forest (Liu et al. 2008), scikit-learn defaults",
            Protocol::Unsupervised,
            Input::Tabular,
        )
        .quick(&["n_estimators=5", "max_samples=32"]),
        ModelEntry::of::<Ganomaly>(
            "GANomaly (Akcay et al. 2018), images, official-code architecture and defaults",
            Protocol::LeaveOneClassOut,
            Input::Images,
        )
        .quick(&["epochs=1", "ngf=4", "ndf=4", "nz=4", "isize=16"]),
        ModelEntry::of::<Dplan>(
            "DPLAN (Pang et al. 2021), deep Q-learning from a few labelled anomalies, tabular",
            Protocol::WeaklySupervised,
            Input::Tabular,
        )
        .quick(&["episodes=1", "steps_per_episode=50", "warmup_steps=20"]),
        ModelEntry::of::<DevNet>(
            "DevNet (Pang et al. 2019), deviation loss with a Gaussian prior, official-code defaults",
            Protocol::WeaklySupervised,
            Input::Tabular,
        )
        .quick(&["epochs=1"]),
        ModelEntry::of::<DeepSad>(
            "Deep SAD (Ruff et al. 2020), hypersphere with inverse loss on labelled anomalies, official tabular MLP",
            Protocol::WeaklySupervised,
            Input::Tabular,
        )
        .quick(&["epochs=1", "ae_epochs=1"]),
        ModelEntry::of::<Repen>(
            "REPEN (Pang et al. 2018) with known outliers, triplet ranking representation scored by LeSiNN",
            Protocol::WeaklySupervised,
            Input::Tabular,
        )
        .quick(&["epochs=1"]),
        ModelEntry::of::<DeepCluster>(
            "Deep clustering (DEC / IDEC / DCEC): autoencoder + Student's t clustering layer, anomaly = distance to centroid",
            Protocol::Clustering,
            Input::Images,
        )
        .quick(&[
            "pretrain_epochs=1",
            "maxiter=2",
            "update_interval=1",
            "n_init=1",
            "n_clusters=2",
            "conv_filters=[2,2,2]",
            "embedding=2",
        ])
        .clusters::<DeepCluster>(),
    ]
}

/// The model called `name`.
pub fn find(name: &str) -> Result<ModelEntry> {
    let all = models();
    let names: Vec<&str> = all.iter().map(|m| m.name).collect();
    let available = names.join(", ");
    all.into_iter()
        .find(|m| m.name == name)
        .ok_or_else(|| Error::UnknownModel {
            name: name.to_string(),
            available,
        })
}

/// Loads any model directory onto the CPU (see [`load_on`]).
pub fn load(dir: &Path) -> Result<Box<dyn AnyDetector>> {
    load_on(dir, &crate::backend::cpu())
}

/// Loads any model directory onto `device`, dispatching on the kind recorded in `model.json`.
/// The device a model was fitted on is not recorded: any model loads on any device.
pub fn load_on(dir: &Path, device: &Device) -> Result<Box<dyn AnyDetector>> {
    let file = persist::read_model_file(dir)?;
    let entry = find(&file.kind).map_err(|_| Error::model_file(dir, format!("unknown model kind `{}`", file.kind)))?;
    (entry.load)(dir, file, device)
}

/// The setting that chooses the device (see [`Settings`]).
const DEVICE_KEY: &str = "device";
/// The setting that names a bundle of settings (see [`ModelConfig::presets`]).
pub const PRESET_KEY: &str = "preset";

/// Hyperparameter overrides given as `key=value` (CLI `--set`). Values are parsed as JSON when
/// they are valid JSON (`100`, `0.5`, `true`, `"auto"`), else taken as strings (`auto`).
/// `contamination` is shared by every model; `device` (`cpu`, `cuda:1`, …) says where to fit, not
/// what (it goes to [`FitContext::device`], not into the config); every other key must be a field
/// of the model's config, or `preset` (a named bundle of settings, see [`ModelConfig::presets`]).
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pairs: Vec<(String, Value)>,
}

impl Settings {
    /// Parses `key=value` strings.
    pub fn parse<S: AsRef<str>>(items: &[S]) -> Result<Self> {
        let mut pairs = Vec::new();
        for item in items {
            let item = item.as_ref();
            let (k, v) = item
                .split_once('=')
                .ok_or_else(|| Error::config(item, "expected key=value"))?;
            let k = k.trim();
            if k.is_empty() {
                return Err(Error::config(item, "empty key"));
            }
            let v = v.trim();
            let value = serde_json::from_str(v).unwrap_or_else(|_| Value::String(v.to_string()));
            pairs.push((k.to_string(), value));
        }
        Ok(Settings { pairs })
    }

    /// Whether `key` was given.
    pub fn has(&self, key: &str) -> bool {
        self.pairs.iter().any(|(k, _)| k == key)
    }

    /// The `device` setting, parsed (`None` when not given).
    pub fn device(&self) -> Result<Option<Device>> {
        let Some((_, v)) = self.pairs.iter().rev().find(|(k, _)| k == DEVICE_KEY) else {
            return Ok(None);
        };
        let spec = v
            .as_str()
            .ok_or_else(|| Error::config(DEVICE_KEY, format!("must be a device name, got {v}")))?;
        crate::backend::parse_device(spec).map(Some)
    }

    pub fn set(mut self, key: &str, value: Value) -> Self {
        self.pairs.push((key.to_string(), value));
        self
    }

    /// These settings with every `preset=NAME` replaced, in place, by that preset's settings.
    pub fn expand_presets(&self, entry: &ModelEntry) -> Result<Settings> {
        let mut pairs = Vec::with_capacity(self.pairs.len());
        for (k, v) in &self.pairs {
            if k != PRESET_KEY {
                pairs.push((k.clone(), v.clone()));
                continue;
            }
            let name = v.as_str().unwrap_or_default();
            let Some(preset) = entry.presets.iter().find(|p| p.name == name) else {
                let known: Vec<&str> = entry.presets.iter().map(|p| p.name).collect();
                let known = if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                };
                return Err(Error::config(
                    PRESET_KEY,
                    format!("`{v}` is not a preset of `{}` (known: {known})", entry.name),
                ));
            };
            pairs.extend(Settings::parse(preset.settings)?.pairs);
        }
        Ok(Settings { pairs })
    }

    /// The model config (defaults + overrides) and the common parameters.
    pub fn apply(&self, entry: &ModelEntry) -> Result<(Value, Common)> {
        let expanded = self.expand_presets(entry)?;
        let pairs = &expanded.pairs;
        let mut config = match entry.default_config() {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        let mut common = Common::default();
        for (k, v) in pairs {
            if k == DEVICE_KEY {
                self.device()?;
            } else if k == "contamination" {
                common.contamination = v
                    .as_f64()
                    .ok_or_else(|| Error::config("contamination", format!("must be a number, got {v}")))?;
            } else if config.contains_key(k) {
                config.insert(k.clone(), v.clone());
            } else {
                let mut known: Vec<&str> = config.keys().map(String::as_str).collect();
                known.extend(["contamination", DEVICE_KEY, PRESET_KEY]);
                return Err(Error::config(
                    k,
                    format!(
                        "is not a hyperparameter of `{}` (known: {})",
                        entry.name,
                        known.join(", ")
                    ),
                ));
            }
        }
        common.validate()?;
        // Types and ranges now, before any data is read; a type error names the key at fault
        // (serde's own message names only the type).
        if let Err(e) = (entry.check)(Value::Object(config.clone())) {
            let type_error = matches!(&e, Error::InvalidConfig { field, .. } if field == entry.name);
            if type_error {
                let defaults = entry.default_config();
                for (k, v) in pairs.iter().filter(|(k, _)| k != "contamination" && k != DEVICE_KEY) {
                    let mut one = defaults.clone();
                    one[k.as_str()] = v.clone();
                    if let Err(Error::InvalidConfig { field, reason }) = (entry.check)(one)
                        && field == entry.name
                    {
                        return Err(Error::config(k, format!("= {v}: {reason}")));
                    }
                }
            }
            return Err(e);
        }
        Ok((Value::Object(config), common))
    }
}

/// Validates a config JSON for model `M` without fitting (used by tests and `--dry-run` style checks).
pub fn validate_config<M: Model>(config: Value) -> Result<M::Config> {
    let c: M::Config = serde_json::from_value(config).map_err(|e| Error::config(M::KIND, e.to_string()))?;
    c.validate()?;
    Ok(c)
}
