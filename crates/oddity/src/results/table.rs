//! Tables made from [`MetricRecord`]s: mean ± sd over seeds per dataset × model, means over
//! groups (classes, categories), as Markdown (best model per dataset in bold) or CSV.

use super::record::MetricRecord;

/// Mean, sample standard deviation and count of one metric for one dataset × model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stat {
    pub mean: f64,
    pub sd: f64,
    pub n: usize,
    /// Mean wall seconds per run.
    pub seconds: f64,
}

/// Datasets and models in order of first appearance.
pub fn keys(records: &[MetricRecord]) -> (Vec<String>, Vec<String>) {
    let mut datasets: Vec<String> = Vec::new();
    let mut models: Vec<String> = Vec::new();
    for r in records {
        if !datasets.contains(&r.dataset) {
            datasets.push(r.dataset.clone());
        }
        if !models.contains(&r.model) {
            models.push(r.model.clone());
        }
    }
    (datasets, models)
}

/// The statistic of `metric` for `dataset` × `model`, if any record has it.
pub fn stat(records: &[MetricRecord], dataset: &str, model: &str, metric: &str) -> Option<Stat> {
    let v: Vec<&MetricRecord> = records
        .iter()
        .filter(|r| r.dataset == dataset && r.model == model && r.metric == metric)
        .collect();
    let (mean, sd) = mean_sd(&v.iter().map(|r| r.value).collect::<Vec<_>>())?;
    let n = v.len();
    let seconds = v.iter().map(|r| r.seconds).sum::<f64>() / n as f64;
    Some(Stat { mean, sd, n, seconds })
}

/// Mean and sample standard deviation of `values` (sd 0 for one value); `None` for none.
pub fn mean_sd(values: &[f64]) -> Option<(f64, f64)> {
    if values.is_empty() {
        return None;
    }
    let n = values.len();
    let mean = values.iter().sum::<f64>() / n as f64;
    let sd = if n > 1 {
        (values.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
    } else {
        0.0
    };
    Some((mean, sd))
}

/// `mean ± sd` of `values` with 4 decimals; the mean alone for one value, `-` for none.
pub fn mean_sd_text(values: &[f64]) -> String {
    match mean_sd(values) {
        None => "-".into(),
        Some((m, _)) if values.len() == 1 => format!("{m:.4}"),
        Some((m, sd)) => format!("{m:.4} ± {sd:.4}"),
    }
}

/// The mean of `metric` in each of `groups` (in that order; groups without a value are left
/// out), a record being in the group `group_of` names (`None`: in none).
pub fn group_means<'a>(
    records: &'a [MetricRecord],
    groups: &[&str],
    group_of: impl Fn(&'a MetricRecord) -> Option<&'a str>,
    metric: &str,
) -> Vec<f64> {
    groups
        .iter()
        .filter_map(|g| {
            let v: Vec<f64> = records
                .iter()
                .filter(|r| r.metric == metric && group_of(r) == Some(*g))
                .map(|r| r.value)
                .collect();
            (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
        })
        .collect()
}

/// Whether a higher value of `metric` is better (ranking and clustering scores), as opposed to
/// timings and counts, which tables do not mark a best for.
pub fn higher_is_better(metric: &str) -> bool {
    !(metric.contains("_s_per_") || metric.ends_with("seconds") || metric.ends_with("_iters"))
}

/// Every metric in `records`, in order of first appearance.
pub fn metrics(records: &[MetricRecord]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in records {
        if !out.contains(&r.metric) {
            out.push(r.metric.clone());
        }
    }
    out
}

/// CSV of every dataset × model × metric: `dataset,model,metric,mean,sd,n,seconds_per_run`.
pub fn csv_table(records: &[MetricRecord]) -> String {
    let (datasets, models) = keys(records);
    let quote = |s: &str| {
        if s.contains([',', '"', '\n']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    };
    let mut out = String::from("dataset,model,metric,mean,sd,n,seconds_per_run\n");
    for metric in metrics(records) {
        for ds in &datasets {
            for m in &models {
                if let Some(s) = stat(records, ds, m, &metric) {
                    out.push_str(&format!(
                        "{},{},{},{},{},{},{}\n",
                        quote(ds),
                        quote(m),
                        quote(&metric),
                        s.mean,
                        s.sd,
                        s.n,
                        s.seconds
                    ));
                }
            }
        }
    }
    out
}

/// A Markdown table: rows datasets, columns models, cells `mean ± sd` of `metric`; the best mean
/// per row in bold (for metrics where [`higher_is_better`]); a last row with each model's mean
/// over the datasets it ran on.
pub fn markdown_table(records: &[MetricRecord], metric: &str) -> String {
    let (datasets, models) = keys(records);
    let mut out = format!(
        "| dataset | {} |\n|---|{}\n",
        models.join(" | "),
        "---|".repeat(models.len())
    );
    let mut sums = vec![(0.0, 0usize); models.len()];
    for ds in &datasets {
        let stats: Vec<Option<Stat>> = models.iter().map(|m| stat(records, ds, m, metric)).collect();
        let best = stats.iter().flatten().map(|s| s.mean).fold(f64::NEG_INFINITY, f64::max);
        let cells: Vec<String> = stats
            .iter()
            .enumerate()
            .map(|(j, s)| match s {
                None => "–".to_string(),
                Some(s) => {
                    sums[j].0 += s.mean;
                    sums[j].1 += 1;
                    let cell = format!("{:.3} ± {:.3}", s.mean, s.sd);
                    if s.mean == best && higher_is_better(metric) {
                        format!("**{cell}**")
                    } else {
                        cell
                    }
                }
            })
            .collect();
        out.push_str(&format!("| {ds} | {} |\n", cells.join(" | ")));
    }
    let means: Vec<String> = sums
        .iter()
        .map(|&(s, n)| {
            if n == 0 {
                "–".into()
            } else {
                format!("{:.3}", s / n as f64)
            }
        })
        .collect();
    out.push_str(&format!("| *mean* | {} |\n", means.join(" | ")));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(dataset: &str, model: &str, seed: u64, value: f64) -> MetricRecord {
        MetricRecord {
            dataset: dataset.into(),
            model: model.into(),
            seed,
            metric: "average_precision".into(),
            value,
            seconds: 1.0,
            category: None,
            defect: None,
        }
    }

    #[test]
    fn mean_sd_and_bold_best() {
        let r = vec![
            rec("a", "m1", 0, 0.5),
            rec("a", "m1", 1, 0.7),
            rec("a", "m2", 0, 0.9),
            rec("b", "m1", 0, 0.4),
        ];
        let s = stat(&r, "a", "m1", "average_precision").unwrap();
        assert!((s.mean - 0.6).abs() < 1e-12 && (s.sd - 0.1414).abs() < 1e-3 && s.n == 2);
        let t = markdown_table(&r, "average_precision");
        assert!(t.contains("| a | 0.600 ± 0.141 | **0.900 ± 0.000** |"), "{t}");
        assert!(t.contains("| b | **0.400 ± 0.000** | – |"), "{t}");
        assert!(t.contains("| *mean* | 0.500 | 0.900 |"), "{t}");
    }

    #[test]
    fn timings_get_no_best_and_csv_has_one_line_per_cell() {
        let mut r = vec![rec("a", "m1", 0, 2.0), rec("a", "m2", 0, 1.0)];
        r.iter_mut().for_each(|x| x.metric = "pretrain_s_per_epoch".into());
        assert!(!markdown_table(&r, "pretrain_s_per_epoch").contains("**"));
        r.push(rec("x,y", "m1", 0, 0.5));
        let csv = csv_table(&r);
        assert_eq!(csv.lines().count(), 4, "{csv}");
        assert!(csv.contains("\"x,y\",m1,average_precision,0.5,0,1,1\n"), "{csv}");
    }

    #[test]
    fn mean_sd_text_and_group_means() {
        assert_eq!(mean_sd_text(&[]), "-");
        assert_eq!(mean_sd_text(&[0.5]), "0.5000");
        assert_eq!(mean_sd_text(&[0.5, 0.7]), "0.6000 ± 0.1414");
        let r = vec![
            rec("a", "m", 0, 0.7),
            rec("a", "m", 1, 0.9),
            rec("b", "m", 0, 0.6),
            rec("c", "x", 0, 0.1),
        ];
        let means = group_means(
            &r,
            &["b", "a", "c"],
            |r| (r.model == "m").then_some(r.dataset.as_str()),
            "average_precision",
        );
        assert_eq!(means.len(), 2, "{means:?}");
        assert!(
            (means[0] - 0.6).abs() < 1e-12 && (means[1] - 0.8).abs() < 1e-12,
            "{means:?}"
        );
    }
}
