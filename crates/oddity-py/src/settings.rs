//! Hyperparameters from Python (a JSON object) → [`Settings`], and validation without fitting.

use oddity::registry::{self, Settings};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use serde_json::Value;

use crate::errors::OrPyErr;

/// Parses `{"key": value, ...}` into settings.
pub fn settings(params_json: &str) -> PyResult<Settings> {
    let v: Value = serde_json::from_str(params_json)
        .map_err(|e| PyValueError::new_err(format!("hyperparameters are not valid JSON: {e}")))?;
    let Value::Object(map) = v else {
        return Err(PyValueError::new_err("hyperparameters must be a JSON object"));
    };
    Ok(map.into_iter().fold(Settings::default(), |s, (k, v)| s.set(&k, v)))
}

/// Checks names, types and ranges of `params_json` for model `kind` as fitting would, without data.
#[pyfunction]
pub fn check(kind: &str, params_json: &str) -> PyResult<()> {
    registry::find(kind).py_err()?.check(&settings(params_json)?).py_err()
}

/// Default hyperparameters of model `kind` as a JSON object string.
#[pyfunction]
pub fn default_config(kind: &str) -> PyResult<String> {
    Ok(registry::find(kind).py_err()?.default_config().to_string())
}
