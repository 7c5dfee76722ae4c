//! `oddity eval`: run a model's standard protocol and report its metrics.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use oddity::data::{Labels, Loaded};
use oddity::eval::{self, ClusteringRun, Evaluation, Job, LocoOptions, LocoProtocol, Plan};
use oddity::registry::{ModelEntry, Protocol};
use oddity::report::RunClock;
use oddity::results::{Detail, EmbeddingMap, MetricRecord, append_details, append_records};
use oddity::{Error, Result, registry};

use crate::load_args::{DataArgs, DeviceArgs, SplitArgs, settings};
use crate::progress::Bars;
use crate::table::{cluster_table, mvtec_table, per_class_table, summary_table};

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
    #[command(flatten)]
    device: DeviceArgs,
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
    let mut settings = args.device.apply(settings(&args.sets)?);
    if let Some(k) = args.k {
        settings = settings.set("n_clusters", serde_json::json!(k));
    }
    settings.apply(&entry)?;
    let bars = Bars::default();
    if args.loco.protocol == Some(ProtocolArg::Mvtec) {
        return run_mvtec(&args, &entry, &settings, &clock, &bars);
    }
    let (data, plans) = plans(&args, &entry)?;
    let name = args.data.dataset_name();
    let mut out = Evaluation::default();
    for plan in &plans {
        for &seed in &args.seeds {
            let job = Job {
                entry: &entry,
                settings: &settings,
                dataset: &data,
                name: &name,
                seed,
                progress: &bars,
            };
            let mut e = eval::run(&job, plan)?;
            if args.tsne_samples > 0 {
                for run in &e.clusterings {
                    let map = write_tsne(run, entry.name, &args.plots, &name, args.tsne_samples)?;
                    e.details.push(Detail::Embedding(map));
                }
            }
            out.extend(e);
        }
    }
    let table: &dyn Fn(&[MetricRecord]) -> comfy_table::Table = match plans.as_slice() {
        [Plan::Clustering] => &cluster_table,
        [Plan::LeaveOneClassOut { .. }, _, ..] => &per_class_table,
        _ => &summary_table,
    };
    finish(&args, &clock, out, table)
}

/// The data and the plans the arguments ask for (one per anomaly class with `--anomaly-class
/// all`), checked before the data is read where they can be.
fn plans(args: &Args, entry: &ModelEntry) -> Result<(Loaded, Vec<Plan>)> {
    let task = match (entry.can_cluster(), args.task) {
        (true, t) => t.unwrap_or(Task::Cluster),
        (false, Some(Task::Cluster)) => {
            return Err(Error::config(
                "task",
                format!("`{}` is not a clustering model (see `oddity models`)", entry.name),
            ));
        }
        (false, _) => Task::Anomaly,
    };
    if task == Task::Cluster {
        return Ok((args.data.load_all()?.into(), vec![Plan::Clustering]));
    }
    let loco = matches!(entry.protocol, Protocol::LeaveOneClassOut | Protocol::Clustering);
    if !loco && args.loco.given() {
        return Err(Error::config(
            "protocol",
            "--protocol, --val-fraction, --val-anomalies and --max-train apply to leave-one-class-out \
             models (ganomaly, deep-cluster --task anomaly)",
        ));
    }
    if !loco {
        let plan = match args.split.given() {
            Some(split) => Plan::Weak(split),
            None => Plan::standard(entry.protocol)?,
        };
        if let Plan::Weak(split) = &plan {
            split.validate()?;
        }
        return Ok((args.data.load_all()?.into(), vec![plan]));
    }
    let options = args.loco.options()?;
    let spec = args.anomaly_class.as_deref().ok_or_else(|| {
        Error::config(
            "anomaly-class",
            format!("`{}` needs --anomaly-class K (or all)", entry.name),
        )
    })?;
    let data = args.data.load()?;
    let classes: Vec<u32> = if spec.eq_ignore_ascii_case("all") {
        match data.train.labels() {
            Labels::Classes { names, .. } => (0..names.len() as u32).collect(),
            _ => return Err(Error::InvalidData(format!("{}: no class labels", data.train.name()))),
        }
    } else {
        vec![
            spec.trim()
                .parse()
                .map_err(|_| Error::config("anomaly-class", format!("expected a class id or `all`, got `{spec}`")))?,
        ]
    };
    let plans = classes
        .into_iter()
        .map(|anomaly_class| Plan::LeaveOneClassOut {
            anomaly_class,
            options: options.clone(),
        })
        .collect();
    Ok((data, plans))
}

/// `--protocol mvtec`: every category under `--data`, one at a time, for every seed.
fn run_mvtec(
    args: &Args,
    entry: &ModelEntry,
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
            out.extend(eval::mvtec::evaluate_mvtec(entry, settings, &cat, seed, bars)?);
        }
    }
    finish(args, clock, out, &mvtec_table)
}

/// The results file, report folder and t-SNE folder, checked before any training.
fn check_outputs(args: &Args) -> Result<()> {
    if let Some(path) = &args.results {
        oddity::output::check_file(path)?;
    }
    if let Some(dir) = &args.report {
        oddity::output::check_dir(dir)?;
    }
    if registry::find(&args.model).is_ok_and(|e| e.can_cluster())
        && args.task != Some(Task::Anomaly)
        && args.loco.protocol != Some(ProtocolArg::Mvtec)
        && args.tsne_samples > 0
    {
        oddity::output::check_dir(&args.plots)?;
    }
    Ok(())
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
        let results = oddity::results::Results::read(&path)?;
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
fn write_tsne(run: &ClusteringRun, model: &str, dir: &Path, dataset: &str, samples: usize) -> Result<EmbeddingMap> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let (seed, found) = (run.seed, &run.clustering);
    let n = run.truth.len();
    let idx = oddity::tsne::subsample(n, samples, seed);
    let d = found.dim;
    let mut x = Vec::with_capacity(idx.len() * d);
    for &i in &idx {
        x.extend_from_slice(&found.embedding[i * d..(i + 1) * d]);
    }
    let spinner = crate::progress::Spinner::new(format!("t-SNE of {} points", idx.len()));
    let xy = oddity::tsne::tsne_2d(&x, d, oddity::tsne::PERPLEXITY, seed);
    spinner.finish();
    let xy = xy?;
    let stem = format!("{}-seed{seed}-tsne", dataset.replace([' ', '/'], "_"));
    let csv = dir.join(format!("{stem}.csv"));
    let mut text = String::from("index,x,y,class,cluster,cluster_refined\n");
    for (r, &i) in idx.iter().enumerate() {
        let refined = found.refined.as_ref().map(|c| c[i].to_string()).unwrap_or_default();
        text.push_str(&format!(
            "{i},{},{},{},{},{refined}\n",
            xy[2 * r],
            xy[2 * r + 1],
            run.truth[i],
            found.clusters[i]
        ));
    }
    oddity::output::write_file(&csv, text.as_bytes())?;
    let truth: Vec<u32> = idx.iter().map(|&i| run.truth[i]).collect();
    let clusters: Vec<u32> = idx.iter().map(|&i| found.clusters[i]).collect();
    let cluster_names: Vec<String> = (0..=clusters.iter().copied().max().unwrap_or(0))
        .map(|c| format!("cluster {c}"))
        .collect();
    let by_class = dir.join(format!("{stem}-class.png"));
    let by_cluster = dir.join(format!("{stem}-cluster.png"));
    let what = format!(
        "{dataset}, {model}, seed {seed}: t-SNE of the embedding ({} points)",
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
        model: model.into(),
        seed,
        method: "t-SNE".into(),
        xy,
        classes: truth,
        class_names: run.class_names.clone(),
        clusters,
    })
}
