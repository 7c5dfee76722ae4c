//! Data-loading options shared by the subcommands that read a dataset.

use std::path::{Path, PathBuf};

use oddity::Result;
use oddity::data::split::WeakSplitConfig;
use oddity::data::{Dataset, Layout, LoadOptions, Loaded, load};

use crate::progress::Spinner;

#[derive(clap::Args, Debug, Clone)]
pub struct DataArgs {
    /// Data file or directory: .npz/.npy, .mat (v5 or v7.3), .csv, .arff, .parquet, .tar.xz,
    /// a directory of IDX files (MNIST, Fashion-MNIST) or of images (PNG, JPEG, BMP, TIFF, WebP;
    /// read recursively).
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
    /// Resize images to HxW, e.g. 32x32 (image folders; `score` defaults to the model's size).
    #[arg(long, value_name = "HxW", value_parser = parse_size)]
    pub resize: Option<(u32, u32)>,
    /// Convert every image to 1 (grayscale) or 3 (RGB) channels (image folders; needed when a
    /// folder mixes them; `score` defaults to the model's).
    #[arg(long, value_name = "1|3", value_parser = parse_channels)]
    pub channels: Option<usize>,
}

impl DataArgs {
    pub fn options(&self) -> LoadOptions {
        LoadOptions {
            label_column: self.label_col.clone(),
            no_labels: self.no_labels,
            anomaly_label: self.anomaly_label.clone(),
            resize: self.resize,
            channels: self.channels,
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

    /// [`DataArgs::load_all`] for a model fitted on `layout`: an image folder is resized to the
    /// model's image size and converted to its channel count unless `--resize` / `--channels` say
    /// otherwise.
    pub fn load_all_for(&self, layout: Layout) -> Result<Dataset> {
        let mut args = self.clone();
        // Image folders are brought to the model's size and channels; IDX folders are not resized.
        if let Layout::Images { c, h, w } = layout
            && self.data.is_dir()
            && oddity::data::images::has_images(&self.data)
        {
            args.resize = args.resize.or(Some((h as u32, w as u32)));
            args.channels = args.channels.or(Some(c).filter(|&c| c == 1 || c == 3));
        }
        args.load_all()
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

fn parse_channels(s: &str) -> std::result::Result<usize, String> {
    match s.trim() {
        "1" => Ok(1),
        "3" => Ok(3),
        _ => Err(format!("expected 1 (grayscale) or 3 (RGB), got `{s}`")),
    }
}

/// Parses `--set` pairs into settings (a usage error on a malformed pair).
pub fn settings(sets: &[String]) -> Result<oddity::registry::Settings> {
    oddity::registry::Settings::parse(sets)
}

/// `--device` of `fit` and `eval`: where the burn models compute.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct DeviceArgs {
    /// Where GANomaly and deep-cluster compute: `cpu` (default), or `cuda[:N]`, `rocm[:N]`,
    /// `wgpu[:N]`, `vulkan[:N]`, `metal[:N]` in a build with that feature (`oddity info
    /// --devices`). The other models run on the CPU. Not saved with the model.
    #[arg(long, value_name = "DEVICE")]
    pub device: Option<String>,
}

impl DeviceArgs {
    /// `settings` with the device added (the same as `--set device=D`, which it overrides).
    pub fn apply(&self, settings: oddity::registry::Settings) -> oddity::registry::Settings {
        match &self.device {
            Some(d) => settings.set("device", serde_json::Value::String(d.clone())),
            None => settings,
        }
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
