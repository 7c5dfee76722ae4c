//! One error type for the whole library, with a `Result` alias.
//!
//! Every variant names what went wrong and where (file, field, row/column), so the CLI can
//! print it as one readable line. Library code never panics on user input.

use std::path::{Path, PathBuf};

/// Everything that can go wrong in oddity.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A hyperparameter is out of range or inconsistent with another one.
    #[error("invalid config: `{field}` {reason}")]
    InvalidConfig { field: String, reason: String },

    /// Data does not have the shape an operation needs: `what` (naming the file or input and the
    /// quantity) is `got` where `expected` was needed; a hint, if any, ends `got`.
    #[error("shape mismatch: {what}: expected {expected}, got {got}")]
    Shape {
        what: String,
        expected: String,
        got: String,
    },

    /// Input data is unusable for the operation (empty, wrong labels, ...).
    #[error("invalid data: {0}")]
    InvalidData(String),

    /// A NaN or infinite value where finite numbers are required. `row` and `col` are 0-based
    /// indices; the message counts from 1, as every message does (row 1 = the first data row).
    #[error("{context}: non-finite value {value} at row {}, column {}", row + 1, col + 1)]
    NonFinite {
        context: String,
        row: usize,
        col: usize,
        value: f64,
    },

    /// Reading or writing a file failed at the OS level.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A file exists but its contents are not what its format requires.
    #[error("{}: {reason}", path.display())]
    Format { path: PathBuf, reason: String },

    /// A file or directory kind that no loader understands.
    #[error("{}: unsupported data format ({reason})", path.display())]
    UnsupportedFormat { path: PathBuf, reason: String },

    /// A model name that is not registered.
    #[error("unknown model `{name}` (available: {available})")]
    UnknownModel { name: String, available: String },

    /// An output path (`--out`, `--checkpoint`, a report folder) that oddity must not or cannot write.
    #[error("{}: {reason}", path.display())]
    Output { path: PathBuf, reason: String },

    /// A size (from a hyperparameter or a file header) that needs more memory than this machine
    /// allows: refused before anything is allocated.
    /// `key` is the hyperparameter when a setting is to blame (a usage error), `None` for a file.
    #[error("{what} needs {} of memory, more than the {} this process may use (see docs/reliability.md)",
        needed.map_or("more than 2^128 bytes".to_string(), human_bytes), human_bytes(*.limit as u128))]
    TooLarge {
        key: Option<String>,
        what: String,
        needed: Option<u128>,
        limit: u64,
    },

    /// A model directory that is damaged, from another model kind, or from a newer oddity.
    #[error("model directory {}: {reason}", path.display())]
    ModelFile { path: PathBuf, reason: String },

    /// Training produced a non-finite loss or non-finite weights. `at` says where, counting from 1
    /// (`epoch 3`, `epoch 2, batch 1`, `step 40 (episode 2)`, `iteration 7`); `what` names what
    /// went non-finite (`the generator loss`, `non-finite weights`) and `loss` is its value when it
    /// is a loss; `advice` (what to try, the checkpoint kept) ends the message.
    #[error("{model} training diverged at {at}: {what}{}{advice}", loss.map_or(String::new(), |l| format!(" is {l}")))]
    Diverged {
        model: String,
        at: String,
        what: String,
        loss: Option<f64>,
        advice: String,
    },

    /// A `--device` whose backend is compiled in but that this machine does not have, or that
    /// fails to open (see [`crate::backend::parse_device`]).
    #[error("device `{device}`: {reason}")]
    Device { device: String, reason: String },

    /// The deep-learning backend failed.
    #[error("backend error: {0}")]
    Backend(String),
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Shorthand for [`Error::InvalidConfig`].
    pub fn config(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidConfig {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// Shorthand for [`Error::Shape`].
    pub fn shape(what: impl Into<String>, expected: impl std::fmt::Display, got: impl std::fmt::Display) -> Self {
        Error::Shape {
            what: what.into(),
            expected: expected.to_string(),
            got: got.to_string(),
        }
    }

    /// Shorthand for [`Error::Diverged`].
    pub fn diverged(
        model: impl Into<String>,
        at: impl Into<String>,
        what: impl Into<String>,
        loss: Option<f64>,
        advice: impl Into<String>,
    ) -> Self {
        Error::Diverged {
            model: model.into(),
            at: at.into(),
            what: what.into(),
            loss,
            advice: advice.into(),
        }
    }

    /// Shorthand for [`Error::Format`].
    pub fn format(path: impl AsRef<Path>, reason: impl Into<String>) -> Self {
        Error::Format {
            path: path.as_ref().to_path_buf(),
            reason: reason.into(),
        }
    }

    /// Shorthand for [`Error::Io`].
    pub fn io(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.as_ref().to_path_buf(),
            source,
        }
    }

    /// Shorthand for [`Error::Output`].
    pub fn output(path: impl AsRef<Path>, reason: impl Into<String>) -> Self {
        Error::Output {
            path: path.as_ref().to_path_buf(),
            reason: reason.into(),
        }
    }

    /// Shorthand for [`Error::ModelFile`].
    pub fn model_file(path: impl AsRef<Path>, reason: impl Into<String>) -> Self {
        Error::ModelFile {
            path: path.as_ref().to_path_buf(),
            reason: reason.into(),
        }
    }

    /// True for errors caused by how the program was called (bad config, unknown model):
    /// the CLI maps these to exit code 2.
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            Error::InvalidConfig { .. }
                | Error::UnknownModel { .. }
                | Error::TooLarge { key: Some(_), .. }
                | Error::Device { .. }
        )
    }
}

/// `1.5 GB`-style size (decimal units, as `df -H`).
pub fn human_bytes(b: u128) -> String {
    let units = ["bytes", "kB", "MB", "GB", "TB", "PB", "EB"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 1000.0 && u + 1 < units.len() {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{b} bytes")
    } else {
        format!("{v:.1} {}", units[u])
    }
}
