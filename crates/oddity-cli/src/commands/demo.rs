//! `oddity demo`: the main job on the small real datasets shipped in the repository's `data/`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use oddity::data::{LoadOptions, load};
use oddity::eval::evaluate;
use oddity::registry::{self, Protocol, Settings};
use oddity::{Error, Result};

use crate::commands::eval::summary_table;
use crate::progress::Bars;

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
        let data = load(&path, &opts)?.into_all()?;
        // The file name with its extension: the demo shows one dataset per format.
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| file.to_string());
        eprintln!("{name}: {} samples × {} features", data.n(), data.dim());
        for m in &models {
            for seed in 0..args.seeds {
                records.extend(evaluate(m, &Settings::default(), &data, &name, seed, &bars)?);
            }
        }
    }
    println!("{}", summary_table(&records));
    println!(
        "Unsupervised protocol: fit on all samples without labels, score them, compare with the anomaly labels. \
         {} seeds per dataset; {:.1}s in all.",
        args.seeds,
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

fn default_data_dir() -> PathBuf {
    // Next to the binary's source tree when run with `cargo run`; else ./data.
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data");
    if repo.is_dir() { repo } else { PathBuf::from("data") }
}
