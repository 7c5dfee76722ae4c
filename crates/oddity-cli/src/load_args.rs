//! Data-loading options shared by the subcommands that read a dataset.

use std::path::{Path, PathBuf};

use oddity::Result;
use oddity::data::{Dataset, LoadOptions, Loaded, load};

use crate::progress::Spinner;

#[derive(clap::Args, Debug, Clone)]
pub struct DataArgs {
    /// Data file or directory: .npz/.npy, .mat (v5 or v7.3), .csv, .arff, .parquet, .tar.xz,
    /// a directory of IDX files (MNIST, Fashion-MNIST) or of PNG images (COIL-20).
    #[arg(long, value_name = "PATH")]
    pub data: PathBuf,
    /// Label column of a CSV / ARFF / Parquet file (default: the last column).
    #[arg(long, value_name = "NAME")]
    pub label_col: Option<String>,
    /// The file has no label column: every column is a feature.
    #[arg(long, conflicts_with = "label_col")]
    pub no_labels: bool,
    /// Label value that marks an anomaly (default: 1/yes/true/anomaly/outlier, else the rarer of two values).
    #[arg(long, value_name = "VALUE")]
    pub anomaly_label: Option<String>,
    /// Resize images to HxW, e.g. 32x32 (PNG folders).
    #[arg(long, value_name = "HxW", value_parser = parse_size)]
    pub resize: Option<(u32, u32)>,
}

impl DataArgs {
    pub fn options(&self) -> LoadOptions {
        LoadOptions {
            label_column: self.label_col.clone(),
            no_labels: self.no_labels,
            anomaly_label: self.anomaly_label.clone(),
            resize: self.resize,
        }
    }

    /// Loads the data, showing a spinner.
    pub fn load(&self) -> Result<Loaded> {
        let spinner = Spinner::new(format!("loading {}", self.data.display()));
        let out = load(&self.data, &self.options());
        spinner.finish();
        out
    }

    /// Loads the data as one dataset (train + test joined where the source has both).
    pub fn load_all(&self) -> Result<Dataset> {
        self.load()?.into_all()
    }

    /// Short dataset name for tables: the file name without extensions.
    pub fn dataset_name(&self) -> String {
        dataset_name(&self.data)
    }
}

pub fn dataset_name(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    let lower = name.to_ascii_lowercase();
    for ext in [
        ".tar.xz", ".npz", ".npy", ".mat", ".csv", ".arff", ".parquet", ".pq", ".txz",
    ] {
        if lower.ends_with(ext) {
            return name[..name.len() - ext.len()].to_string();
        }
    }
    name
}

fn parse_size(s: &str) -> std::result::Result<(u32, u32), String> {
    let (h, w) = s
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("expected HxW, e.g. 32x32, got `{s}`"))?;
    let p = |v: &str| {
        v.trim()
            .parse::<u32>()
            .ok()
            .filter(|&v| v > 0)
            .ok_or_else(|| format!("bad size `{s}`"))
    };
    Ok((p(h)?, p(w)?))
}

/// Parses `--set` pairs into settings (a usage error on a malformed pair).
pub fn settings(sets: &[String]) -> Result<oddity::registry::Settings> {
    oddity::registry::Settings::parse(sets)
}
