//! oddity errors as Python exceptions, with the same message: one exception type per
//! [`oddity::Error`] variant (the table is in docs/python.md, "Errors").

use oddity::Error;
use pyo3::PyErr;
use pyo3::exceptions::{PyFileNotFoundError, PyOSError, PyRuntimeError, PyValueError};

pyo3::create_exception!(
    oddity,
    DivergedError,
    PyRuntimeError,
    "Training diverged (a NaN or infinite loss or weights): try a smaller learning rate."
);

/// `ValueError` for bad input, shapes or hyperparameters (sizes too large for memory too),
/// `OSError` (`FileNotFoundError` when missing) for files and model directories,
/// `oddity.DivergedError` (a `RuntimeError`) for a diverging fit, `RuntimeError` for backend failures.
pub fn to_py(e: Error) -> PyErr {
    let msg = match &e {
        // NumPy users index from 0: the position as `X[row, col]` (the CLI's message counts from 1).
        Error::NonFinite {
            context,
            row,
            col,
            value,
        } => format!("{context}: non-finite value {value} at row {row}, column {col} (X[{row}, {col}])"),
        _ => e.to_string(),
    };
    match e {
        Error::InvalidConfig { .. }
        | Error::Shape { .. }
        | Error::InvalidData(_)
        | Error::NonFinite { .. }
        | Error::UnknownModel { .. }
        | Error::TooLarge { .. } => PyValueError::new_err(msg),
        Error::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => PyFileNotFoundError::new_err(msg),
        Error::Io { .. }
        | Error::Format { .. }
        | Error::UnsupportedFormat { .. }
        | Error::ModelFile { .. }
        | Error::Output { .. } => PyOSError::new_err(msg),
        Error::Diverged { .. } => DivergedError::new_err(msg),
        Error::Device { .. } | Error::Backend(_) => PyRuntimeError::new_err(msg),
    }
}

/// `Result<T, oddity::Error>` → `PyResult<T>`.
pub trait OrPyErr<T> {
    fn py_err(self) -> pyo3::PyResult<T>;
}

impl<T> OrPyErr<T> for oddity::Result<T> {
    fn py_err(self) -> pyo3::PyResult<T> {
        self.map_err(to_py)
    }
}
