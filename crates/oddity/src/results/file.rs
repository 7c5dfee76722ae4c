//! The results file: append records, read them back, and keep the latest record of each run.

use std::io::Write;
use std::path::Path;

use serde::Serialize;

use super::record::{Detail, MetricRecord, Results};
use crate::error::{Error, Result};

/// Appends metric records to the JSON-lines file at `path` (created if missing).
pub fn append_records(path: &Path, records: &[MetricRecord]) -> Result<()> {
    append_lines(path, records)
}

/// Appends `details` to the results file at `path` (created if missing), one JSON object per line.
pub fn append_details(path: &Path, details: &[Detail]) -> Result<()> {
    append_lines(path, details)
}

fn append_lines<T: Serialize>(path: &Path, items: &[T]) -> Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| Error::io(path, e))?;
    let mut buf = Vec::new();
    for item in items {
        serde_json::to_writer(&mut buf, item).map_err(|e| Error::InvalidData(e.to_string()))?;
        buf.push(b'\n');
    }
    file.write_all(&buf).map_err(|e| Error::io(path, e))
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
}

/// `records` with a later record for the same dataset, model, seed and metric replacing an
/// earlier one (in the place of the first).
pub fn latest_wins(records: Vec<MetricRecord>) -> Vec<MetricRecord> {
    let mut out: Vec<MetricRecord> = Vec::new();
    for r in records {
        match out
            .iter_mut()
            .find(|o| o.dataset == r.dataset && o.model == r.model && o.seed == r.seed && o.metric == r.metric)
        {
            Some(o) => *o = r,
            None => out.push(r),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::record::ScoresRecord;

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

    #[test]
    fn the_latest_record_of_a_run_wins_in_the_place_of_the_first() {
        let rec = |seed: u64, metric: &str, value: f64| MetricRecord {
            dataset: "d".into(),
            model: "m".into(),
            seed,
            metric: metric.into(),
            value,
            seconds: 1.0,
            category: None,
            defect: None,
        };
        let all = vec![rec(0, "roc_auc", 0.1), rec(1, "roc_auc", 0.2), rec(0, "roc_auc", 0.3)];
        let kept = latest_wins(all);
        assert_eq!(kept, vec![rec(0, "roc_auc", 0.3), rec(1, "roc_auc", 0.2)]);
    }
}
