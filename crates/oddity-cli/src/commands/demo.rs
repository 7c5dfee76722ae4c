//! `oddity demo`: the main job on the small real datasets shipped in the repository's `data/`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use oddity::data::split::WeakSplitConfig;
use oddity::data::{LoadOptions, Loaded, load};
use oddity::detector::FitContext;
use oddity::eval::{self, Job, LocoOptions, Plan, leave_one_class_out_split};
use oddity::metrics::{average_precision, roc_auc};
use oddity::progress::Progress;
use oddity::registry::{self, ModelEntry, Protocol, Settings};
use oddity::results::MetricRecord;
use oddity::{Error, Result};

use crate::progress::Bars;
use crate::table::{cluster_table, summary_table};

#[derive(clap::Args)]
pub struct Args {
    /// Folder holding the shipped data (default: the repository's data/ folder).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Seeds per dataset.
    #[arg(long, default_value_t = 3)]
    seeds: u64,
}

/// (file under data/, label column) of the tabular anomaly datasets the demo runs, one per format.
const TABULAR: &[(&str, Option<&str>)] = &[
    ("odds/wbc.mat", None),
    ("odds/cardio.mat", None),
    ("odds/smtp.mat", None),
    ("adbench/4_breastw.npz", None),
    ("adbench/32_shuttle.npz", None),
    ("adrepository/annthyroid_21feat_normalised.csv", Some("class")),
    ("adrepository/cmc-nominal.arff", None),
    ("parquet/cardio.parquet", Some("label")),
];

pub fn run(args: Args) -> Result<()> {
    let dir = args.data_dir.unwrap_or_else(default_data_dir);
    if !dir.is_dir() {
        return Err(Error::io(
            &dir,
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "data folder not found; pass --data-dir DIR",
            ),
        ));
    }
    let start = Instant::now();
    let bars = Bars::default();
    let mut records = Vec::new();
    let models: Vec<_> = registry::models()
        .into_iter()
        .filter(|m| m.protocol == Protocol::Unsupervised)
        .collect();
    for (file, label) in TABULAR {
        let path = dir.join(file);
        let opts = LoadOptions {
            label_column: label.map(str::to_string),
            ..Default::default()
        };
        let data: Loaded = load(&path, &opts)?.into_all()?.into();
        // The file name with its extension: the demo shows one dataset per format.
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| file.to_string());
        eprintln!("{name}: {} samples × {} features", data.train.n(), data.train.dim());
        for m in &models {
            for seed in 0..args.seeds {
                records.extend(records_of(
                    m,
                    &Settings::default(),
                    &data,
                    &name,
                    seed,
                    &bars,
                    &Plan::Unsupervised,
                )?);
            }
        }
    }
    println!("{}", summary_table(&records));
    println!(
        "Unsupervised protocol: fit on all samples without labels, score them, compare with the anomaly labels. \
         {} seeds per dataset.",
        args.seeds
    );
    let weak = weakly_supervised(&dir, args.seeds, &bars)?;
    println!("{}", summary_table(&weak));
    let split = WeakSplitConfig::default();
    println!(
        "Weakly supervised protocol (DPLAN, DevNet): stratified {:.0}/{:.0} split; {} labelled anomalies from the \
         training split; the unlabelled training data keeps {}% anomalies; scored on the test split. Isolation \
         Forest ignores the labels. {} seeds per dataset, the same split for every model.",
        100.0 * (1.0 - split.test_fraction),
        100.0 * split.test_fraction,
        split.labeled_anomalies,
        100.0 * split.contamination,
        args.seeds
    );
    let (images, chosen) = image_models(&dir, &bars)?;
    println!("{}", summary_table(&images));
    println!(
        "Leave-one-class-out on the shipped MNIST subset (1,000 train / 500 test digits): digit {ANOMALY_DIGIT} is the \
         anomaly, train on the other training digits less 10% held out for validation, test on all test digits. A \
         short run (GANomaly: {GANOMALY_EPOCHS} epochs, ngf = ndf = 16) scored with batch-norm running statistics \
         (PyTorch's eval mode) and with each test batch's statistics (the official code's scoring). The default, \
         bn_at_score = auto, keeps the epoch and mode with the lowest validation loss (batch statistics only when \
         lower by more than 2%): here {chosen}, the same model as the {chosen} row. Running statistics of so short \
         a run lag behind the weights (docs/bench/ganomaly.md). {:.1}s in all.",
        start.elapsed().as_secs_f64()
    );
    let clustering = clustering_models(&dir, &bars)?;
    println!("{}", cluster_table(&clustering));
    println!(
        "Deep clustering (DCEC conv autoencoder) on all 1,500 digits of the shipped MNIST subset, 10 clusters, against \
         the digit labels: a short run ({DC_PRETRAIN_EPOCHS} pretraining epochs instead of 200, {DC_MAXITER} fine-tuning \
         iterations, batch 64). ACC after fine-tuning, after the final k-means refinement, and of k-means on the \
         pretrained embedding. {:.1}s in all.",
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Shipped tabular sets with enough anomalies for the weakly supervised protocol.
const WEAK: &[(&str, Option<&str>)] = &[
    ("adbench/6_cardio.npz", None),
    ("adrepository/annthyroid_21feat_normalised.csv", Some("class")),
];

/// Every weakly supervised model, and Isolation Forest, on the same splits.
fn weakly_supervised(dir: &Path, seeds: u64, bars: &Bars) -> Result<Vec<MetricRecord>> {
    let models: Vec<_> = registry::models()
        .into_iter()
        .filter(|m| m.protocol == Protocol::WeaklySupervised || m.name == "iforest")
        .collect();
    let split = WeakSplitConfig::default();
    let mut records = Vec::new();
    for (file, label) in WEAK {
        let path = dir.join(file);
        let opts = LoadOptions {
            label_column: label.map(str::to_string),
            ..Default::default()
        };
        let data: Loaded = load(&path, &opts)?.into_all()?.into();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| file.to_string());
        for m in &models {
            for seed in 0..seeds {
                let plan = Plan::Weak(split);
                records.extend(records_of(m, &Settings::default(), &data, &name, seed, bars, &plan)?);
            }
        }
    }
    Ok(records)
}

/// Pretraining epochs of the demo's deep-cluster run (the default is 200).
const DC_PRETRAIN_EPOCHS: u32 = 6;
/// Fine-tuning iterations of the demo's deep-cluster run (the default is 20,000).
const DC_MAXITER: u32 = 150;

/// deep-cluster on the MNIST subset (train + test), clustering protocol.
fn clustering_models(dir: &Path, bars: &Bars) -> Result<Vec<MetricRecord>> {
    let data: Loaded = load(dir.join("mnist-small"), &LoadOptions::default())?
        .into_all()?
        .into();
    let entry = registry::find("deep-cluster")?;
    let settings = Settings::parse(&[
        format!("pretrain_epochs={DC_PRETRAIN_EPOCHS}"),
        format!("maxiter={DC_MAXITER}"),
        "batch_size=64".into(),
        "update_interval=50".into(),
        "n_init=5".into(),
    ])?;
    records_of(&entry, &settings, &data, "mnist-small", 0, bars, &Plan::Clustering)
}

/// The metric records of `entry` on `data` under `plan`.
fn records_of(
    entry: &ModelEntry,
    settings: &Settings,
    data: &Loaded,
    name: &str,
    seed: u64,
    progress: &dyn Progress,
    plan: &Plan,
) -> Result<Vec<MetricRecord>> {
    let job = Job {
        entry,
        settings,
        dataset: data,
        name,
        seed,
        progress,
    };
    Ok(eval::run(&job, plan)?.records)
}

/// The digit held out as the anomaly class in the image part of the demo.
const ANOMALY_DIGIT: u32 = 0;
/// Training epochs of the demo's GANomaly run (the default is 15; this keeps the demo short).
const GANOMALY_EPOCHS: u32 = 3;

/// GANomaly on the MNIST subset, leave-one-class-out (honest protocol, epoch chosen on 10% of the
/// training normals), with the default `bn_at_score = auto` and with each batch-norm mode fixed;
/// returns the records and the mode `auto` kept. The fixed mode `auto` kept is the same model
/// (same training, and the epoch it keeps is that mode's best), so it is not fitted twice.
fn image_models(dir: &Path, bars: &Bars) -> Result<(Vec<MetricRecord>, String)> {
    let loaded = load(dir.join("mnist-small"), &LoadOptions::default())?;
    let entry = registry::find("ganomaly")?;
    let split = leave_one_class_out_split(&loaded, ANOMALY_DIGIT, &LocoOptions::default(), true, 0)?;
    // ([ROC-AUC, AUC-PR], seconds, the mode the model scores with)
    let run = |bn: &str| -> Result<([f64; 2], f64, String)> {
        let settings = Settings::parse(&[
            format!("epochs={GANOMALY_EPOCHS}"),
            "ngf=16".into(),
            "ndf=16".into(),
            "batch_size=32".into(),
            format!("bn_at_score={bn}"),
        ])?;
        let start = Instant::now();
        let mut ctx = FitContext::new(0, bars);
        if let Some(v) = &split.validation {
            ctx = ctx.with_validation(v);
        }
        let det = entry.fit(&settings, &split.train, &ctx)?;
        let scores = det.score(&split.test)?;
        let seconds = start.elapsed().as_secs_f64();
        let kept = det.config_json()["bn_at_score"].as_str().unwrap_or("?").to_string();
        let metrics = [
            roc_auc(&split.test_flags, &scores)?,
            average_precision(&split.test_flags, &scores)?,
        ];
        Ok((metrics, seconds, kept))
    };
    let auto = run("auto")?;
    let chosen = auto.2.clone();
    let mut rows = vec![(
        format!("mnist-small (anomaly {ANOMALY_DIGIT}), BN auto (default) = {chosen}"),
        auto.0,
        auto.1,
    )];
    for bn in ["running", "batch"] {
        let (metrics, seconds) = if bn == chosen {
            (auto.0, auto.1)
        } else {
            let (m, s, _) = run(bn)?;
            (m, s)
        };
        rows.push((
            format!("mnist-small (anomaly {ANOMALY_DIGIT}), BN {bn}"),
            metrics,
            seconds,
        ));
    }
    let mut records = Vec::new();
    for (dataset, metrics, seconds) in rows {
        for (metric, value) in ["roc_auc", "average_precision"].into_iter().zip(metrics) {
            records.push(MetricRecord {
                dataset: dataset.clone(),
                model: entry.name.to_string(),
                seed: 0,
                metric: metric.to_string(),
                value,
                seconds,
                category: None,
                defect: None,
            });
        }
    }
    Ok((records, chosen))
}

fn default_data_dir() -> PathBuf {
    // Next to the binary's source tree when run with `cargo run`; else ./data.
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data");
    if repo.is_dir() { repo } else { PathBuf::from("data") }
}
