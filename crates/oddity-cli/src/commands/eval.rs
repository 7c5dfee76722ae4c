//! `oddity eval`: run a model's standard protocol and report its metrics.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use oddity::data::Labels;
use oddity::data::split::WeakSplitConfig;
use oddity::eval::{
    ClusteringRun, Evaluation, LocoOptions, LocoProtocol, MetricRecord, evaluate_clustering, evaluate_detailed,
    evaluate_leave_one_class_out_detailed, evaluate_weakly_supervised_detailed,
};
use oddity::registry::Protocol;
use oddity::report::images::{RunKey, cluster_grid};
use oddity::report::records::{EmbeddingMap, HistoryRecord};
use oddity::report::{Detail, RunClock, append_details};
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
    /// Also append the results to this JSON-lines file: metric records, and the details a
    /// report draws from (test scores, training curves, images, provenance).
    #[arg(long, value_name = "FILE.jsonl")]
    results: Option<PathBuf>,
    /// Write the results to DIR/results.jsonl (replacing it) and the HTML report to
    /// DIR/report.html (see `oddity report`).
    #[arg(long, value_name = "DIR")]
    report: Option<PathBuf>,
    /// Leave-one-class-out models (ganomaly): the anomaly class id, or `all` for every class.
    #[arg(long, value_name = "K|all")]
    anomaly_class: Option<String>,
    /// Clustering models (deep-cluster): `cluster` (default; ACC / NMI / ARI against the classes,
    /// fitted on all samples) or `anomaly` (leave-one-class-out with --anomaly-class).
    #[arg(long, value_enum)]
    task: Option<Task>,
    /// Number of clusters (sets `n_clusters`).
    #[arg(long, value_name = "K")]
    k: Option<usize>,
    /// `--task cluster`: points in the t-SNE pictures (a seeded random subsample); 0 = no t-SNE.
    #[arg(long, value_name = "N", default_value_t = oddity::tsne::DEFAULT_SAMPLES)]
    tsne_samples: usize,
    /// `--task cluster`: folder for the t-SNE pictures (PNG) and coordinates (CSV).
    #[arg(long, value_name = "DIR", default_value = "plots")]
    plots: PathBuf,
    #[command(flatten)]
    split: SplitArgs,
    #[command(flatten)]
    loco: LocoArgs,
}

/// Leave-one-class-out options (ganomaly; deep-cluster with --task anomaly).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct LocoArgs {
    /// `honest` [default]: train on the training split's other classes, choose the epoch on a
    /// held-out part of them, test on the test split. `official`: the GANomaly code's protocol —
    /// normals of both splits pooled 80/20, test = 20% + all of class K, epoch chosen ON THE TEST
    /// SET (optimistic; for comparing with the paper). `mvtec`: an MVTec AD folder (one category
    /// or a folder of categories): fit on train/good, score test/, image- and pixel-level metrics
    /// per category and defect type (any model; pixel maps for models that reconstruct).
    #[arg(long, value_enum, value_name = "honest|official|mvtec")]
    protocol: Option<ProtocolArg>,
    /// Honest protocol: fraction of the training normals held out for choosing the epoch [default: 0.1].
    #[arg(long, value_name = "FRACTION")]
    val_fraction: Option<f64>,
    /// Honest protocol: samples of class K from the training split the model may see in its
    /// validation part (then the epoch is chosen by ROC-AUC, not by loss) [default: 0].
    #[arg(long, value_name = "N")]
    val_anomalies: Option<usize>,
    /// Train on at most N samples (a seeded subsample), for quick runs.
    #[arg(long, value_name = "N")]
    max_train: Option<usize>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum ProtocolArg {
    Honest,
    Official,
    Mvtec,
}

impl LocoArgs {
    fn given(&self) -> bool {
        self.protocol.is_some()
            || self.val_fraction.is_some()
            || self.val_anomalies.is_some()
            || self.max_train.is_some()
    }

    fn options(&self) -> Result<LocoOptions> {
        let d = LocoOptions::default();
        let opts = LocoOptions {
            protocol: match self.protocol {
                Some(ProtocolArg::Official) => LocoProtocol::Official,
                _ => LocoProtocol::Honest,
            },
            val_fraction: self.val_fraction.unwrap_or(d.val_fraction),
            val_anomalies: self.val_anomalies.unwrap_or(d.val_anomalies),
            max_train: self.max_train,
        };
        opts.validate()?;
        Ok(opts)
    }
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

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Task {
    Cluster,
    Anomaly,
}

pub fn run(args: Args) -> Result<()> {
    let clock = RunClock::start();
    if let Some(dup) = args
        .seeds
        .iter()
        .enumerate()
        .find(|(i, s)| args.seeds[..*i].contains(s))
    {
        return Err(Error::config("seed", format!("{} is given twice", dup.1)));
    }
    check_outputs(&args)?;
    let entry = registry::find(&args.model)?;
    let mut settings = settings(&args.sets)?;
    if let Some(k) = args.k {
        settings = settings.set("n_clusters", serde_json::json!(k));
    }
    settings.apply(&entry)?;
    let name = args.data.dataset_name();
    let bars = Bars::default();
    let mut out = Evaluation::default();
    if args.loco.protocol == Some(ProtocolArg::Mvtec) {
        return run_mvtec(&args, &entry, &settings, &clock, &bars);
    }
    let task = match (entry.protocol, args.task) {
        (Protocol::Clustering, t) => t.unwrap_or(Task::Cluster),
        (_, Some(Task::Cluster)) => {
            return Err(Error::config(
                "task",
                format!("`{}` is not a clustering model (see `oddity models`)", entry.name),
            ));
        }
        (_, _) => Task::Anomaly,
    };
    if entry.protocol == Protocol::Clustering && task == Task::Cluster {
        let data = args.data.load_all()?;
        for &seed in &args.seeds {
            let run = evaluate_clustering(&entry, &settings, &data, &name, seed, &bars)?;
            let key = RunKey {
                dataset: &name,
                model: entry.name,
                seed,
            };
            if !run.history.is_empty() {
                out.details.push(Detail::History(HistoryRecord {
                    dataset: name.clone(),
                    model: entry.name.into(),
                    seed,
                    series: run.history.clone(),
                }));
            }
            if let Some(grid) = cluster_grid(key, &data, &run.clusters, 10)? {
                out.details.push(Detail::Images(grid));
            }
            if args.tsne_samples > 0 {
                let map = write_tsne(&run, &args.plots, &name, seed, args.tsne_samples)?;
                out.details.push(Detail::Embedding(map));
            }
            out.records.extend(run.records);
        }
        return finish(&args, &clock, out, &cluster_table);
    }
    let loco = matches!(entry.protocol, Protocol::LeaveOneClassOut | Protocol::Clustering);
    if !loco && args.loco.given() {
        return Err(Error::config(
            "protocol",
            "--protocol, --val-fraction, --val-anomalies and --max-train apply to leave-one-class-out \
             models (ganomaly, deep-cluster --task anomaly)",
        ));
    }
    let mut per_class_mean = false;
    if loco {
        let opts = args.loco.options()?;
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
        per_class_mean = classes.len() > 1;
        for &k in &classes {
            for &seed in &args.seeds {
                let e = evaluate_leave_one_class_out_detailed(&entry, &settings, &data, k, &opts, &name, seed, &bars)?;
                extend(&mut out, e);
            }
        }
    } else if entry.protocol == Protocol::WeaklySupervised || args.split.given().is_some() {
        let split = args.split.config();
        split.validate()?;
        let data = args.data.load_all()?;
        for &seed in &args.seeds {
            let e = evaluate_weakly_supervised_detailed(&entry, &settings, &data, &split, &name, seed, &bars)?;
            extend(&mut out, e);
        }
    } else {
        let data = args.data.load_all()?;
        for &seed in &args.seeds {
            extend(
                &mut out,
                evaluate_detailed(&entry, &settings, &data, &name, seed, &bars)?,
            );
        }
    }
    if per_class_mean {
        return finish(&args, &clock, out, &per_class_table);
    }
    finish(&args, &clock, out, &summary_table)
}

/// `--protocol mvtec`: every category under `--data`, one at a time, for every seed.
fn run_mvtec(
    args: &Args,
    entry: &registry::ModelEntry,
    settings: &registry::Settings,
    clock: &RunClock,
    bars: &Bars,
) -> Result<()> {
    let ignored = [
        ("anomaly-class", args.anomaly_class.is_some()),
        ("task", args.task.is_some()),
        ("k", args.k.is_some()),
        ("val-fraction", args.loco.val_fraction.is_some()),
        ("val-anomalies", args.loco.val_anomalies.is_some()),
        ("max-train", args.loco.max_train.is_some()),
        ("labeled-anomalies", args.split.labeled_anomalies.is_some()),
        ("contamination", args.split.contamination.is_some()),
        ("test-fraction", args.split.test_fraction.is_some()),
        ("label-col", args.data.label_col.is_some()),
        ("no-labels", args.data.no_labels),
        ("anomaly-label", args.data.anomaly_label.is_some()),
    ];
    if let Some((flag, _)) = ignored.iter().find(|(_, on)| *on) {
        return Err(Error::config(
            *flag,
            "does not apply to --protocol mvtec (train/good is the training set, test/ the test set, \
             its folders the labels)",
        ));
    }
    let dirs = oddity::data::mvtec::categories(&args.data.data)?;
    let opts = args.data.options();
    let mut out = Evaluation::default();
    for dir in &dirs {
        let spinner = crate::progress::Spinner::new(format!("loading {}", dir.root.display()));
        let cat = oddity::data::mvtec::load_category(dir, &opts);
        spinner.finish();
        let cat = cat?;
        for &seed in &args.seeds {
            extend(
                &mut out,
                oddity::eval::mvtec::evaluate_mvtec(entry, settings, &cat, seed, bars)?,
            );
        }
    }
    finish(args, clock, out, &mvtec_table)
}

/// Category rows, each followed by its defect types, and with several categories a row with the
/// mean over categories (of each category's mean over seeds).
fn mvtec_table(records: &[MetricRecord]) -> comfy_table::Table {
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
        let means: Vec<f64> = categories
            .iter()
            .filter_map(|c| {
                let v: Vec<f64> = records
                    .iter()
                    .filter(|r| r.defect.is_none() && r.dataset == *c && r.metric == metric)
                    .map(|r| r.value)
                    .collect();
                (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
            })
            .collect();
        row.push(if means.len() == categories.len() {
            mean_sd(&means)
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

/// The results file, report folder and t-SNE folder, checked before any training.
fn check_outputs(args: &Args) -> Result<()> {
    if let Some(path) = &args.results {
        oddity::output::check_file(path)?;
    }
    if let Some(dir) = &args.report {
        oddity::output::check_dir(dir)?;
    }
    if args.model == "deep-cluster"
        && args.task != Some(Task::Anomaly)
        && args.loco.protocol != Some(ProtocolArg::Mvtec)
        && args.tsne_samples > 0
    {
        oddity::output::check_dir(&args.plots)?;
    }
    Ok(())
}

fn extend(out: &mut Evaluation, e: Evaluation) {
    out.records.extend(e.records);
    out.details.extend(e.details);
}

/// Writes the results file(s) and the report, then prints the table (or JSON).
fn finish(
    args: &Args,
    clock: &RunClock,
    mut out: Evaluation,
    table: &dyn Fn(&[MetricRecord]) -> comfy_table::Table,
) -> Result<()> {
    let run = clock.finish(
        std::env::args().collect(),
        args.seeds.clone(),
        &[args.data.data.as_path()],
    )?;
    out.details.insert(0, Detail::Run(run));
    if let Some(path) = &args.results {
        append_records(path, &out.records)?;
        append_details(path, &out.details)?;
    }
    if let Some(dir) = &args.report {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let path = dir.join("results.jsonl");
        if path.exists() {
            std::fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
        }
        append_records(&path, &out.records)?;
        append_details(&path, &out.details)?;
        let results = oddity::report::Results::read(&path)?;
        let written = oddity::report::build(&results, &path, dir)?;
        eprintln!("report: {}", written.html.display());
    }
    if args.json {
        print_json(&out.records)?;
    } else {
        println!("{}", table(&out.records));
    }
    Ok(())
}

fn print_json(records: &[MetricRecord]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    for r in records {
        let line = serde_json::to_string(r).map_err(|e| Error::InvalidData(e.to_string()))?;
        writeln!(out, "{line}").map_err(|e| Error::io(crate::STDOUT, e))?;
    }
    Ok(())
}

/// t-SNE of a seeded subsample of the embedding: `<dataset>-seed<S>-tsne.csv` (x, y, class,
/// cluster, cluster_refined) and two PNGs, coloured by class and by cluster.
pub fn write_tsne(run: &ClusteringRun, dir: &Path, dataset: &str, seed: u64, samples: usize) -> Result<EmbeddingMap> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let n = run.truth.len();
    let idx = oddity::tsne::subsample(n, samples, seed);
    let d = run.dim;
    let mut x = Vec::with_capacity(idx.len() * d);
    for &i in &idx {
        x.extend_from_slice(&run.embedding[i * d..(i + 1) * d]);
    }
    let spinner = crate::progress::Spinner::new(format!("t-SNE of {} points", idx.len()));
    let xy = oddity::tsne::tsne_2d(&x, d, oddity::tsne::PERPLEXITY, seed);
    spinner.finish();
    let xy = xy?;
    let stem = format!("{}-seed{seed}-tsne", dataset.replace([' ', '/'], "_"));
    let csv = dir.join(format!("{stem}.csv"));
    let mut text = String::from("index,x,y,class,cluster,cluster_refined\n");
    for (r, &i) in idx.iter().enumerate() {
        let refined = run
            .clusters_refined
            .as_ref()
            .map(|c| c[i].to_string())
            .unwrap_or_default();
        text.push_str(&format!(
            "{i},{},{},{},{},{refined}\n",
            xy[2 * r],
            xy[2 * r + 1],
            run.truth[i],
            run.clusters[i]
        ));
    }
    oddity::output::write_file(&csv, text.as_bytes())?;
    let truth: Vec<u32> = idx.iter().map(|&i| run.truth[i]).collect();
    let clusters: Vec<u32> = idx.iter().map(|&i| run.clusters[i]).collect();
    let cluster_names: Vec<String> = (0..=clusters.iter().copied().max().unwrap_or(0))
        .map(|c| format!("cluster {c}"))
        .collect();
    let by_class = dir.join(format!("{stem}-class.png"));
    let by_cluster = dir.join(format!("{stem}-cluster.png"));
    let what = format!(
        "{dataset}, deep-cluster, seed {seed}: t-SNE of the embedding ({} points)",
        idx.len()
    );
    oddity::plot::scatter_png(
        &by_class,
        &format!("{what}, true class"),
        &xy,
        &truth,
        &run.class_names,
        (900, 800),
    )?;
    oddity::plot::scatter_png(
        &by_cluster,
        &format!("{what}, cluster"),
        &xy,
        &clusters,
        &cluster_names,
        (900, 800),
    )?;
    eprintln!(
        "t-SNE: {}, {}, {}",
        by_class.display(),
        by_cluster.display(),
        csv.display()
    );
    Ok(EmbeddingMap {
        dataset: dataset.into(),
        model: "deep-cluster".into(),
        seed,
        method: "t-SNE".into(),
        xy,
        classes: truth,
        class_names: run.class_names.clone(),
        clusters,
    })
}

/// dataset × model rows with mean ± sd over seeds of the clustering metrics.
pub fn cluster_table(records: &[MetricRecord]) -> comfy_table::Table {
    let cols = [
        ("ACC", "acc"),
        ("NMI", "nmi"),
        ("ARI", "ari"),
        ("ACC refined", "acc_refined"),
        ("NMI refined", "nmi_refined"),
        ("ARI refined", "ari_refined"),
        ("ACC AE+k-means", "acc_kmeans_init"),
    ];
    metric_table(records, &cols, 1)
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
    metric_table(records, &SUMMARY_COLUMNS, 3)
}

const SUMMARY_COLUMNS: [(&str, &str); 2] = [("ROC-AUC", "roc_auc"), ("AUC-PR", "average_precision")];

/// [`summary_table`] of a leave-one-class-out run over several classes (`--anomaly-class all`),
/// plus a row per model with the mean over the classes of each class's mean over seeds.
fn per_class_table(records: &[MetricRecord]) -> comfy_table::Table {
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
            let means: Vec<f64> = datasets
                .iter()
                .filter_map(|d| {
                    let v: Vec<f64> = records
                        .iter()
                        .filter(|r| r.model == model && r.dataset == *d && r.metric == metric)
                        .map(|r| r.value)
                        .collect();
                    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
                })
                .collect();
            row.push(mean_sd(&means));
        }
        row.push("-".into());
        t.add_row(row);
    }
    t
}

/// dataset × model rows (in first-seen order): the number of seeds (records of the first
/// column's metric), mean ± sd of each `(header, metric)` column, and mean seconds per run.
fn metric_table(records: &[MetricRecord], cols: &[(&str, &str)], secs_decimals: usize) -> comfy_table::Table {
    let mut header = vec!["dataset", "model", "seeds"];
    header.extend(cols.iter().map(|c| c.0));
    header.push("seconds/run");
    let mut t = table::new(&header);
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
            row.push(mean_sd(&of(m).iter().map(|r| r.value).collect::<Vec<_>>()));
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
