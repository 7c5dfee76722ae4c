//! The lines of a results file (JSON Lines). Metric lines are [`MetricRecord`]s as `eval` and
//! `bench` always wrote them; the other lines carry a `"record"` tag and hold what pictures are
//! made from: the run's provenance, test scores, training curves, image grids and 2-D embeddings.

use serde::{Deserialize, Serialize};

/// Which run a record belongs to.
#[derive(Debug, Clone, Copy)]
pub struct RunKey<'a> {
    pub dataset: &'a str,
    pub model: &'a str,
    pub seed: u64,
}

/// One measured number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricRecord {
    pub dataset: String,
    pub model: String,
    pub seed: u64,
    pub metric: String,
    pub value: f64,
    /// Wall time of the run that produced the value (fit + score).
    pub seconds: f64,
    /// MVTec protocol ([`crate::eval::mvtec`]): the category the value is of (absent elsewhere).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// MVTec protocol: the defect type of a per-defect-type value (good test images + that type);
    /// absent for a whole category.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub defect: Option<String>,
}

/// What produced a results file (one per `eval` / `bench` invocation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    pub oddity_version: String,
    /// `git describe` of the source tree oddity was built from, when it was built from a checkout.
    pub git_revision: Option<String>,
    pub command: Vec<String>,
    pub seeds: Vec<u64>,
    pub data: Vec<DataFile>,
    /// Logical CPUs available to the process.
    pub cores: usize,
    /// Start time, seconds since the Unix epoch.
    pub started_unix: u64,
    pub wall_seconds: f64,
}

/// An input file (or directory) and its checksum.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataFile {
    pub path: String,
    pub bytes: u64,
    /// SHA-256 of the file; of the sorted file names and contents for a directory.
    pub sha256: String,
}

/// Test scores of one run, with the anomaly labels and the detector's threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoresRecord {
    pub dataset: String,
    pub model: String,
    pub seed: u64,
    /// Threshold fitted on the training scores (score > threshold → anomaly).
    pub threshold: f32,
    pub scores: Vec<f32>,
    /// 1 = anomaly, 0 = normal, per score.
    pub anomaly: Vec<u8>,
    /// The sample's source file per score (image folders: the path relative to the folder);
    /// empty when the data has no file names (and in files written before oddity recorded them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
}

/// Training curves of one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryRecord {
    pub dataset: String,
    pub model: String,
    pub seed: u64,
    pub series: Vec<Series>,
}

/// One training curve, e.g. "generator loss per epoch".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    pub name: String,
    pub steps: Vec<u64>,
    pub values: Vec<f64>,
}

/// A grid of small images (PNG, base64): `rows × columns` cells, e.g. inputs, reconstructions
/// and differences (rows) of the most anomalous test images (columns).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageGrid {
    pub dataset: String,
    pub model: String,
    pub seed: u64,
    pub title: String,
    pub row_labels: Vec<String>,
    pub column_labels: Vec<String>,
    /// `cells[r][c]`: base64 PNG, or empty for no image.
    pub cells: Vec<Vec<String>>,
}

/// A 2-D map of samples (t-SNE of an embedding) with true classes and found clusters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmbeddingMap {
    pub dataset: String,
    pub model: String,
    pub seed: u64,
    pub method: String,
    /// `n × 2`, row-major.
    pub xy: Vec<f32>,
    pub classes: Vec<u32>,
    pub class_names: Vec<String>,
    pub clusters: Vec<u32>,
}

/// A non-metric line of a results file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "snake_case")]
pub enum Detail {
    Run(RunInfo),
    Scores(ScoresRecord),
    History(HistoryRecord),
    Images(ImageGrid),
    Embedding(EmbeddingMap),
}

/// Everything in a results file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Results {
    pub metrics: Vec<MetricRecord>,
    pub details: Vec<Detail>,
}

impl Results {
    /// The details of one kind, e.g. `select(|d| if let Detail::Scores(s) = d { Some(s) } else { None })`.
    pub fn select<'a, T>(&'a self, pick: impl Fn(&'a Detail) -> Option<&'a T>) -> Vec<&'a T> {
        self.details.iter().filter_map(pick).collect()
    }

    pub fn runs(&self) -> Vec<&RunInfo> {
        self.select(|d| if let Detail::Run(r) = d { Some(r) } else { None })
    }
}
