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
pub mod mvtec;
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
        let idx = std::fs::read_dir(path)
            .map(|it| {
                it.filter_map(|e| e.ok())
                    .any(|e| e.file_name().to_string_lossy().contains("idx3-ubyte"))
            })
            .unwrap_or(false);
        unused_options(path, opts, false, !idx)?;
        return load_dir(path, opts);
    }
    if !meta.is_file() && !is_fifo(&meta) {
        // `/dev/zero` given as data would be read forever.
        return Err(Error::UnsupportedFormat {
            path: path.to_path_buf(),
            reason: "a device or socket, not a data file".into(),
        });
    }
    let name = path
        .file_name()
        .map(|s| s.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let ext = |e: &str| name.ends_with(e);
    let has_columns = [".csv", ".arff", ".parquet", ".pq", ".tar.xz", ".txz"]
        .iter()
        .any(|e| ext(e));
    unused_options(path, opts, has_columns, false)?;
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

/// Options the format at `path` would ignore are an error, not silently dropped: label options
/// apply to files with named columns (CSV, ARFF, Parquet; `--no-labels` to image folders too),
/// `--resize` to image folders.
fn unused_options(path: &Path, opts: &LoadOptions, has_columns: bool, images: bool) -> Result<()> {
    let given = [
        ("label-col", opts.label_column.is_some()),
        // image folders take `--no-labels` (class folders / COIL-20 names dropped)
        ("no-labels", opts.no_labels && !images),
        ("anomaly-label", opts.anomaly_label.is_some()),
    ];
    if !has_columns && let Some((flag, _)) = given.iter().find(|(_, on)| *on) {
        return Err(Error::config(
            *flag,
            format!(
                "applies to files with named columns (CSV, ARFF, Parquet); {} keeps its labels apart \
                 (`y`, label files or class folders)",
                path.display()
            ),
        ));
    }
    if !images && opts.resize.is_some() {
        return Err(Error::config(
            "resize",
            format!("applies to image folders; {} is not one", path.display()),
        ));
    }
    Ok(())
}

/// A named pipe (`<(zcat data.csv.gz)`) is read like a file; it ends.
fn is_fifo(meta: &std::fs::Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        meta.file_type().is_fifo()
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        false
    }
}

/// A number written in a text file (CSV, ARFF) as f32. The `Err` says what is wrong: not a number,
/// or a finite value beyond f32's range, which would otherwise become ±inf and be reported as a
/// non-finite value (`1e308` is a number the file really holds; `inf` is not).
pub(crate) fn parse_f32(text: &str) -> std::result::Result<f32, String> {
    let v: f32 = text
        .parse()
        .map_err(|_| format!("`{}` is not a number", text.escape_debug()))?;
    let word = text.trim_start_matches(['+', '-']).to_ascii_lowercase();
    if v.is_infinite() && word != "inf" && word != "infinity" {
        return Err(out_of_f32_range(text));
    }
    Ok(v)
}

/// A value stored as f64 (NPY, MAT, Parquet) as f32; `Err` for a finite value beyond f32's range.
pub(crate) fn narrow_f64(v: f64) -> std::result::Result<f32, String> {
    let f = v as f32;
    if f.is_infinite() && v.is_finite() {
        return Err(out_of_f32_range(&format!("{v:e}")));
    }
    Ok(f)
}

/// The message for a value (as written) that f32 cannot hold.
fn out_of_f32_range(written: &str) -> String {
    format!(
        "{written} is out of f32 range (largest magnitude {:e}); rescale the feature",
        f32::MAX
    )
}

/// Where a value sits in row-major data of `dim` values a row, as people count: `row R, column C`
/// (both from 1).
pub(crate) fn row_col(index: usize, dim: usize) -> String {
    format!("row {}, column {}", index / dim.max(1) + 1, index % dim.max(1) + 1)
}
