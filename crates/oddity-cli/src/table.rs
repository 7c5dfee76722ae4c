//! Plain-text tables for terminal output: metric tables of results records (mean ± sd over seeds).

use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use oddity::results::MetricRecord;
use oddity::results::table::{group_means, mean_sd_text};

/// A table with the given header.
pub fn new(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(header.to_vec());
    t
}

/// Category rows, each followed by its defect types, and with several categories a row with the
/// mean over categories (of each category's mean over seeds).
pub fn mvtec_table(records: &[MetricRecord]) -> Table {
    let cols = MVTEC_COLUMNS;
    let mut t = metric_table(records, &cols, 3);
    let mut categories: Vec<&str> = Vec::new();
    for r in records.iter().filter(|r| r.defect.is_none()) {
        if !categories.contains(&r.dataset.as_str()) {
            categories.push(&r.dataset);
        }
    }
    if categories.len() < 2 {
        return t;
    }
    let model = records.first().map(|r| r.model.clone()).unwrap_or_default();
    let mut row = vec![format!("mean of {} categories", categories.len()), model, "-".into()];
    for (_, metric) in cols {
        let means = group_means(
            records,
            &categories,
            |r| r.defect.is_none().then_some(r.dataset.as_str()),
            metric,
        );
        row.push(if means.len() == categories.len() {
            mean_sd_text(&means)
        } else {
            "-".into()
        });
    }
    row.push("-".into());
    t.add_row(row);
    t
}

const MVTEC_COLUMNS: [(&str, &str); 3] = [
    ("ROC-AUC", "roc_auc"),
    ("AUC-PR", "average_precision"),
    ("pixel ROC-AUC", "pixel_roc_auc"),
];

/// dataset × model rows with mean ± sd over seeds of the clustering metrics.
pub fn cluster_table(records: &[MetricRecord]) -> Table {
    let cols = [
        ("ACC", "acc"),
        ("NMI", "nmi"),
        ("ARI", "ari"),
        ("ACC refined", "acc_refined"),
        ("NMI refined", "nmi_refined"),
        ("ARI refined", "ari_refined"),
        ("ACC init", "acc_kmeans_init"),
    ];
    metric_table(records, &cols, 1)
}

/// dataset × model rows with mean ± sd of each metric over seeds, and mean seconds per run.
pub fn summary_table(records: &[MetricRecord]) -> Table {
    metric_table(records, &SUMMARY_COLUMNS, 3)
}

const SUMMARY_COLUMNS: [(&str, &str); 2] = [("ROC-AUC", "roc_auc"), ("AUC-PR", "average_precision")];

/// [`summary_table`] of a leave-one-class-out run over several classes (`--anomaly-class all`),
/// plus a row per model with the mean over the classes of each class's mean over seeds.
pub fn per_class_table(records: &[MetricRecord]) -> Table {
    let cols = SUMMARY_COLUMNS;
    let mut t = metric_table(records, &cols, 3);
    let mut models: Vec<&str> = Vec::new();
    for r in records {
        if !models.contains(&r.model.as_str()) {
            models.push(&r.model);
        }
    }
    for model in models {
        let mut datasets: Vec<&str> = Vec::new();
        for r in records.iter().filter(|r| r.model == model) {
            if !datasets.contains(&r.dataset.as_str()) {
                datasets.push(&r.dataset);
            }
        }
        if datasets.len() < 2 {
            continue;
        }
        let mut row = vec![
            format!("mean of {} classes", datasets.len()),
            model.to_string(),
            "-".into(),
        ];
        for (_, metric) in cols {
            let means = group_means(
                records,
                &datasets,
                |r| (r.model == model).then_some(r.dataset.as_str()),
                metric,
            );
            row.push(mean_sd_text(&means));
        }
        row.push("-".into());
        t.add_row(row);
    }
    t
}

/// dataset × model rows (in first-seen order): the number of seeds (records of the first
/// column's metric), mean ± sd of each `(header, metric)` column, and mean seconds per run.
fn metric_table(records: &[MetricRecord], cols: &[(&str, &str)], secs_decimals: usize) -> Table {
    let mut header = vec!["dataset", "model", "seeds"];
    header.extend(cols.iter().map(|c| c.0));
    header.push("seconds/run");
    let mut t = new(&header);
    let mut keys: Vec<(String, String)> = Vec::new();
    for r in records {
        let k = (r.dataset.clone(), r.model.clone());
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    for (dataset, model) in keys {
        let of = |metric: &str| -> Vec<&MetricRecord> {
            records
                .iter()
                .filter(|r| r.dataset == dataset && r.model == model && r.metric == metric)
                .collect()
        };
        let first = cols.first().map(|c| of(c.1)).unwrap_or_default();
        let secs: Vec<f64> = first.iter().map(|r| r.seconds).collect();
        let mut row = vec![dataset.clone(), model.clone(), first.len().to_string()];
        for (_, m) in cols {
            row.push(mean_sd_text(&of(m).iter().map(|r| r.value).collect::<Vec<_>>()));
        }
        row.push(format!(
            "{:.*}",
            secs_decimals,
            secs.iter().sum::<f64>() / secs.len().max(1) as f64
        ));
        t.add_row(row);
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(dataset: &str, seed: u64, metric: &str, value: f64) -> MetricRecord {
        MetricRecord {
            dataset: dataset.into(),
            model: "ganomaly".into(),
            seed,
            metric: metric.into(),
            value,
            seconds: 1.0,
            category: None,
            defect: None,
        }
    }

    /// The mean row averages each class's mean over seeds: classes 0.8 (0.7, 0.9) and 0.6 (one
    /// seed) give 0.7 ± 0.1414, not the mean of the three runs (0.733).
    #[test]
    fn per_class_mean_is_the_mean_of_the_class_means() {
        let records = vec![
            rec("m (anomaly 0)", 0, "roc_auc", 0.7),
            rec("m (anomaly 0)", 1, "roc_auc", 0.9),
            rec("m (anomaly 1)", 0, "roc_auc", 0.6),
            rec("m (anomaly 0)", 0, "average_precision", 0.5),
            rec("m (anomaly 1)", 0, "average_precision", 0.3),
        ];
        let text = per_class_table(&records).to_string();
        let last = text
            .lines()
            .rev()
            .find(|l| l.contains("mean of 2 classes"))
            .expect(&text);
        assert!(
            last.contains("0.7000 ± 0.1414") && last.contains("0.4000 ± 0.1414"),
            "{text}"
        );
        assert!(!summary_table(&records).to_string().contains("mean of"));
    }
}
