//! The lines of a results file (JSON Lines). Metric lines are [`MetricRecord`]s as `eval` and
//! `bench` always wrote them; the other lines carry a `"record"` tag and hold what pictures are
//! made from: the run's provenance, test scores, training curves, image grids and 2-D embeddings.

use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::eval::MetricRecord;

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
    /// Reads a results file; a line that is neither a metric nor a tagged record is an error
    /// naming the file and line.
    pub fn read(path: &Path) -> Result<Results> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let mut out = Results::default();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let value: serde_json::Value = serde_json::from_str(line)
                .map_err(|e| Error::format(path, format!("line {}: not JSON: {e}", i + 1)))?;
            let bad = |e: serde_json::Error| Error::format(path, format!("line {}: {e}", i + 1));
            if value.get("record").is_some() {
                out.details.push(serde_json::from_value(value).map_err(bad)?);
            } else {
                out.metrics.push(serde_json::from_value(value).map_err(bad)?);
            }
        }
        if out.metrics.is_empty() && out.details.is_empty() {
            return Err(Error::format(path, "no results in the file"));
        }
        Ok(out)
    }

    /// The details of one kind, e.g. `select(|d| if let Detail::Scores(s) = d { Some(s) } else { None })`.
    pub fn select<'a, T>(&'a self, pick: impl Fn(&'a Detail) -> Option<&'a T>) -> Vec<&'a T> {
        self.details.iter().filter_map(pick).collect()
    }

    pub fn runs(&self) -> Vec<&RunInfo> {
        self.select(|d| if let Detail::Run(r) = d { Some(r) } else { None })
    }
}

/// Appends `details` to the results file at `path` (created if missing), one JSON object per line.
pub fn append_details(path: &Path, details: &[Detail]) -> Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| Error::io(path, e))?;
    let mut buf = Vec::new();
    for d in details {
        serde_json::to_writer(&mut buf, d).map_err(|e| Error::InvalidData(e.to_string()))?;
        buf.push(b'\n');
    }
    file.write_all(&buf).map_err(|e| Error::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_and_detail_lines_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.jsonl");
        let metric = r#"{"dataset":"d","model":"m","seed":1,"metric":"roc_auc","value":0.75,"seconds":0.5}"#;
        std::fs::write(&path, format!("{metric}\n")).unwrap();
        let scores = Detail::Scores(ScoresRecord {
            dataset: "d".into(),
            model: "m".into(),
            seed: 1,
            threshold: 0.5,
            scores: vec![0.1, 0.9],
            anomaly: vec![0, 1],
            files: vec!["good/a.png".into(), "crack/b.png".into()],
        });
        append_details(&path, std::slice::from_ref(&scores)).unwrap();
        let r = Results::read(&path).unwrap();
        assert_eq!(r.metrics.len(), 1);
        assert_eq!(r.metrics[0].value, 0.75);
        assert_eq!(r.details, vec![scores]);
        // A scores line without file names (older files) reads with none.
        let old =
            r#"{"record":"scores","dataset":"d","model":"m","seed":1,"threshold":0.5,"scores":[0.1],"anomaly":[0]}"#;
        std::fs::write(&path, format!("{old}\n")).unwrap();
        match &Results::read(&path).unwrap().details[0] {
            Detail::Scores(s) => assert!(s.files.is_empty()),
            d => panic!("{d:?}"),
        }
    }

    #[test]
    fn a_bad_line_names_the_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.jsonl");
        std::fs::write(&path, "{\"record\":\"scores\",\"dataset\":\"d\"}\n").unwrap();
        let e = Results::read(&path).unwrap_err().to_string();
        assert!(e.contains("bad.jsonl") && e.contains("line 1"), "{e}");
        std::fs::write(&path, "").unwrap();
        assert!(Results::read(&path).unwrap_err().to_string().contains("no results"));
    }
}
