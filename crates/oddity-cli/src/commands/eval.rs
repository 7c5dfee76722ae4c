//! `oddity eval`: run a model's standard protocol and report its metrics.

use std::io::Write as _;
use std::path::PathBuf;

use oddity::data::Labels;
use oddity::data::split::WeakSplitConfig;
use oddity::eval::{MetricRecord, evaluate, evaluate_leave_one_class_out, evaluate_weakly_supervised};
use oddity::registry::Protocol;
use oddity::{Error, Result, registry};

use crate::load_args::{DataArgs, settings};
use crate::progress::Bars;
use crate::table;

#[derive(clap::Args)]
pub struct Args {
    /// Model name (see `oddity models`).
    #[arg(long)]
    model: String,
    #[command(flatten)]
    data: DataArgs,
    /// Random seed; repeat for several runs (--seed 0 --seed 1 ...).
    #[arg(long = "seed", default_values_t = [0u64])]
    seeds: Vec<u64>,
    /// Hyperparameter override, repeatable: --set key=value
    #[arg(long = "set", value_name = "KEY=VALUE")]
    sets: Vec<String>,
    /// Print one JSON object per line instead of a table.
    #[arg(long)]
    json: bool,
    /// Also append the records to this JSON-lines results file.
    #[arg(long, value_name = "FILE.jsonl")]
    results: Option<PathBuf>,
    /// Leave-one-class-out models (ganomaly): the anomaly class id, or `all` for every class.
    #[arg(long, value_name = "K|all")]
    anomaly_class: Option<String>,
    #[command(flatten)]
    split: SplitArgs,
}

/// The weakly supervised protocol's split (DevNet / DPLAN). Used by the weakly supervised models,
/// and by any model when one of these flags is given, so every model sees the same split per seed.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct SplitArgs {
    /// Number of labelled anomalies drawn from the training split [default: 60].
    #[arg(long, value_name = "N")]
    pub labeled_anomalies: Option<usize>,
    /// Fraction of anomalies in the unlabelled training data [default: 0.02].
    #[arg(long, value_name = "RATE")]
    pub contamination: Option<f64>,
    /// Fraction of each class held out for testing [default: 0.2].
    #[arg(long, value_name = "FRACTION")]
    pub test_fraction: Option<f64>,
}

impl SplitArgs {
    /// The split config when any flag was given.
    pub fn given(&self) -> Option<WeakSplitConfig> {
        if self.labeled_anomalies.is_none() && self.contamination.is_none() && self.test_fraction.is_none() {
            return None;
        }
        Some(self.config())
    }

    pub fn config(&self) -> WeakSplitConfig {
        let d = WeakSplitConfig::default();
        WeakSplitConfig {
            test_fraction: self.test_fraction.unwrap_or(d.test_fraction),
            labeled_anomalies: self.labeled_anomalies.unwrap_or(d.labeled_anomalies),
            contamination: self.contamination.unwrap_or(d.contamination),
        }
    }
}

pub fn run(args: Args) -> Result<()> {
    let entry = registry::find(&args.model)?;
    let settings = settings(&args.sets)?;
    settings.apply(&entry)?;
    let name = args.data.dataset_name();
    let bars = Bars::default();
    let mut records = Vec::new();
    if entry.protocol == Protocol::LeaveOneClassOut {
        let spec = args.anomaly_class.as_deref().ok_or_else(|| {
            Error::config(
                "anomaly-class",
                format!("`{}` needs --anomaly-class K (or all)", entry.name),
            )
        })?;
        let data = args.data.load()?;
        let classes: Vec<u32> =
            if spec.eq_ignore_ascii_case("all") {
                match data.train.labels() {
                    Labels::Classes { names, .. } => (0..names.len() as u32).collect(),
                    _ => return Err(Error::InvalidData(format!("{}: no class labels", data.train.name()))),
                }
            } else {
                vec![spec.trim().parse().map_err(|_| {
                    Error::config("anomaly-class", format!("expected a class id or `all`, got `{spec}`"))
                })?]
            };
        for &k in &classes {
            for &seed in &args.seeds {
                records.extend(evaluate_leave_one_class_out(
                    &entry, &settings, &data, k, &name, seed, &bars,
                )?);
            }
        }
    } else if entry.protocol == Protocol::WeaklySupervised || args.split.given().is_some() {
        let split = args.split.config();
        split.validate()?;
        let data = args.data.load_all()?;
        for &seed in &args.seeds {
            records.extend(evaluate_weakly_supervised(
                &entry, &settings, &data, &split, &name, seed, &bars,
            )?);
        }
    } else {
        let data = args.data.load_all()?;
        for &seed in &args.seeds {
            records.extend(evaluate(&entry, &settings, &data, &name, seed, &bars)?);
        }
    }
    if let Some(path) = &args.results {
        append_records(path, &records)?;
    }
    if args.json {
        let mut out = std::io::stdout().lock();
        for r in &records {
            let line = serde_json::to_string(r).map_err(|e| Error::InvalidData(e.to_string()))?;
            writeln!(out, "{line}").map_err(|e| Error::io("<stdout>", e))?;
        }
    } else {
        println!("{}", summary_table(&records));
    }
    Ok(())
}

/// Appends records to a JSON-lines file.
pub fn append_records(path: &std::path::Path, records: &[MetricRecord]) -> Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| Error::io(path, e))?;
    for r in records {
        let line = serde_json::to_string(r).map_err(|e| Error::InvalidData(e.to_string()))?;
        writeln!(f, "{line}").map_err(|e| Error::io(path, e))?;
    }
    Ok(())
}

/// dataset × model rows with mean ± sd of each metric over seeds, and mean seconds per run.
pub fn summary_table(records: &[MetricRecord]) -> comfy_table::Table {
    let mut t = table::new(&["dataset", "model", "seeds", "ROC-AUC", "AUC-PR", "seconds/run"]);
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
        let auc = of("roc_auc");
        let ap = of("average_precision");
        let secs: Vec<f64> = auc.iter().map(|r| r.seconds).collect();
        t.add_row(vec![
            dataset.clone(),
            model.clone(),
            auc.len().to_string(),
            mean_sd(&auc.iter().map(|r| r.value).collect::<Vec<_>>()),
            mean_sd(&ap.iter().map(|r| r.value).collect::<Vec<_>>()),
            format!("{:.3}", secs.iter().sum::<f64>() / secs.len().max(1) as f64),
        ]);
    }
    t
}

fn mean_sd(v: &[f64]) -> String {
    if v.is_empty() {
        return "-".into();
    }
    let m = v.iter().sum::<f64>() / v.len() as f64;
    if v.len() == 1 {
        return format!("{m:.4}");
    }
    let sd = (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt();
    format!("{m:.4} ± {sd:.4}")
}
