//! Datasets and the loaders for the formats people really have.
//!
//! [`load`] picks the loader from the path: a directory of IDX files (MNIST / Fashion-MNIST)
//! or of images (PNG, JPEG, BMP, TIFF, WebP; COIL-20 naming understood), or a `.npy`/`.npz`, `.mat` (v5 or v7.3), `.csv`, `.arff`,
//! `.parquet`, or `.tar.xz` holding one CSV/ARFF file.

mod dataset;
mod labels;

pub mod archive;
pub mod arff;
pub mod csv;
pub mod idx;
pub mod images;
pub mod mat;
pub mod npy;
pub mod parquet;
pub mod split;

use std::path::Path;

pub use dataset::{Dataset, Labels, Layout};
pub use labels::parse_labels;

use crate::error::{Error, Result};

/// Options that some loaders honour.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Label column for CSV / ARFF / Parquet (default: the last column). `Some("")` is not allowed;
    /// use [`LoadOptions::no_labels`] for files without a label column.
    pub label_column: Option<String>,
    /// Treat the file as unlabelled (every column is a feature).
    pub no_labels: bool,
    /// Label value that marks an anomaly (default: inferred, see [`parse_labels`]).
    pub anomaly_label: Option<String>,
    /// Resize images to `(height, width)` (image folders).
    pub resize: Option<(u32, u32)>,
    /// Convert every image to 1 (grayscale) or 3 (RGB) channels (image folders); by default each
    /// image keeps its own and a folder mixing them is an error.
    pub channels: Option<usize>,
}

/// What a path holds: one dataset, or a train/test pair (IDX directories).
#[derive(Debug, Clone)]
pub struct Loaded {
    pub train: Dataset,
    pub test: Option<Dataset>,
}

impl Loaded {
    /// One dataset: the only one, or train followed by test.
    pub fn into_all(self) -> Result<Dataset> {
        match self.test {
            None => Ok(self.train),
            Some(test) => {
                let name = self.train.name().trim_end_matches(" (train)").to_string();
                Ok(self.train.concat(&test)?.with_name(name))
            }
        }
    }
}

impl From<Dataset> for Loaded {
    fn from(train: Dataset) -> Self {
        Loaded { train, test: None }
    }
}

/// Loads whatever `path` holds, choosing the loader from the file extension or directory contents.
pub fn load(path: impl AsRef<Path>, opts: &LoadOptions) -> Result<Loaded> {
    let path = path.as_ref();
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if meta.is_dir() {
        return load_dir(path, opts);
    }
    let name = path
        .file_name()
        .map(|s| s.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let ext = |e: &str| name.ends_with(e);
    if ext(".npz") {
        npy::load_npz(path).map(Loaded::from)
    } else if ext(".npy") {
        npy::load_npy(path).map(Loaded::from)
    } else if ext(".mat") {
        mat::load(path).map(Loaded::from)
    } else if ext(".csv") {
        csv::load(path, opts).map(Loaded::from)
    } else if ext(".arff") {
        arff::load(path, opts).map(Loaded::from)
    } else if ext(".parquet") || ext(".pq") {
        parquet::load(path, opts).map(Loaded::from)
    } else if ext(".tar.xz") || ext(".txz") {
        archive::load_tar_xz(path, opts).map(Loaded::from)
    } else {
        Err(Error::UnsupportedFormat {
            path: path.to_path_buf(),
            reason: "expected a directory (IDX files or images) or a file ending in \
                     .npz, .npy, .mat, .csv, .arff, .parquet or .tar.xz"
                .into(),
        })
    }
}

fn load_dir(path: &Path, opts: &LoadOptions) -> Result<Loaded> {
    let mut has_idx = false;
    for entry in std::fs::read_dir(path).map_err(|e| Error::io(path, e))? {
        let entry = entry.map_err(|e| Error::io(path, e))?;
        has_idx |= entry
            .file_name()
            .to_string_lossy()
            .to_ascii_lowercase()
            .contains("idx3-ubyte");
    }
    if has_idx {
        idx::load_dir(path)
    } else if images::has_images(path) {
        images::load_image_dir(path, opts).map(Loaded::from)
    } else {
        Err(Error::UnsupportedFormat {
            path: path.to_path_buf(),
            reason: format!(
                "directory holds neither IDX files (*-idx3-ubyte[.gz]) nor images ({}) at any depth",
                images::EXTENSIONS.join(", ")
            ),
        })
    }
}
