//! Sensitivity curves: a metric against one hyperparameter, from the model variants of a results
//! file (`name[key=value;…]`, as `oddity bench … --models` names them).
//!
//! The *reference* of a model is its variant naming the most keys (at least two): the settings
//! the sweep moves away from. Each of its keys gets a curve through the reference's value and
//! every one-key variant of that key. Each point is the mean over the datasets that every point
//! of the curve has, of the per-dataset mean over seeds.

use super::record::MetricRecord;
use super::table::{keys, stat};

/// `name[k=v;k=v]` → (`name`, [(k, v), …]); `None` without brackets or with a malformed list.
pub fn parse_variant(model: &str) -> Option<(&str, Vec<(&str, &str)>)> {
    let (base, rest) = model.split_once('[')?;
    let inner = rest.strip_suffix(']')?;
    let pairs = inner
        .split(';')
        .map(|kv| kv.split_once('=').map(|(k, v)| (k.trim(), v.trim())))
        .collect::<Option<Vec<_>>>()?;
    (!pairs.is_empty()).then_some((base, pairs))
}

/// One hyperparameter's curve.
#[derive(Debug, Clone, PartialEq)]
pub struct Curve {
    pub base: String,
    pub key: String,
    pub metric: String,
    /// The values, numeric ones in increasing order.
    pub values: Vec<String>,
    /// Position of the reference's value in `values`.
    pub reference: usize,
    /// Mean of the metric at each value (over `datasets`).
    pub mean: Vec<f64>,
    /// The datasets every point has, each with its per-value means over seeds.
    pub datasets: Vec<(String, Vec<f64>)>,
}

/// Every sensitivity curve of `metric` in `records` (see the module docs).
pub fn curves(records: &[MetricRecord], metric: &str) -> Vec<Curve> {
    let (datasets, models) = keys(records);
    let variants: Vec<(&String, &str, Vec<(&str, &str)>)> = models
        .iter()
        .filter_map(|m| parse_variant(m).map(|(b, kv)| (m, b, kv)))
        .collect();
    let mut bases: Vec<&str> = variants.iter().map(|v| v.1).collect();
    bases.dedup();
    let mut out = Vec::new();
    for base in bases {
        let of_base: Vec<_> = variants.iter().filter(|v| v.1 == base).collect();
        let Some(most) = of_base.iter().map(|v| v.2.len()).max().filter(|&n| n >= 2) else {
            continue;
        };
        let refs: Vec<_> = of_base.iter().filter(|v| v.2.len() == most).collect();
        let [reference] = refs.as_slice() else {
            continue;
        };
        for &(key, ref_value) in &reference.2 {
            let mut points: Vec<(&str, &str)> = vec![(ref_value, reference.0.as_str())];
            for v in &of_base {
                if let [(k, value)] = v.2.as_slice()
                    && *k == key
                    && !points.iter().any(|p| p.0 == *value)
                {
                    points.push((value, v.0.as_str()));
                }
            }
            if points.len() < 2 {
                continue;
            }
            let numeric: Option<Vec<f64>> = points.iter().map(|p| p.0.parse::<f64>().ok()).collect();
            if let Some(nums) = numeric {
                let mut order: Vec<usize> = (0..points.len()).collect();
                order.sort_by(|&a, &b| nums[a].total_cmp(&nums[b]));
                points = order.iter().map(|&i| points[i]).collect();
            }
            let per_dataset: Vec<(String, Vec<f64>)> = datasets
                .iter()
                .filter_map(|ds| {
                    let means: Option<Vec<f64>> = points
                        .iter()
                        .map(|p| stat(records, ds, p.1, metric).map(|s| s.mean))
                        .collect();
                    means.map(|m| (ds.clone(), m))
                })
                .collect();
            if per_dataset.is_empty() {
                continue;
            }
            let mean = (0..points.len())
                .map(|i| per_dataset.iter().map(|d| d.1[i]).sum::<f64>() / per_dataset.len() as f64)
                .collect();
            out.push(Curve {
                base: base.to_string(),
                key: key.to_string(),
                metric: metric.to_string(),
                values: points.iter().map(|p| p.0.to_string()).collect(),
                reference: points.iter().position(|p| p.0 == ref_value).unwrap_or(0),
                mean,
                datasets: per_dataset,
            });
        }
    }
    out
}
