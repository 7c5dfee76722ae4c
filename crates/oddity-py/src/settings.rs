//! Hyperparameters from Python (a JSON object) → [`Settings`], and validation without fitting.

use oddity::models::deep_cluster::DeepCluster;
use oddity::models::deep_sad::DeepSad;
use oddity::models::devnet::DevNet;
use oddity::models::dplan::Dplan;
use oddity::models::ganomaly::Ganomaly;
use oddity::models::iforest::IForest;
use oddity::models::repen::Repen;
use oddity::registry::{self, Settings, validate_config};
use oddity::{Error, Result};
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
    let entry = registry::find(kind).py_err()?;
    let (config, _common) = settings(params_json)?.apply(&entry).py_err()?;
    validate(kind, config).py_err()
}

fn validate(kind: &str, config: Value) -> Result<()> {
    match kind {
        "iforest" => validate_config::<IForest>(config).map(drop),
        "ganomaly" => validate_config::<Ganomaly>(config).map(drop),
        "dplan" => validate_config::<Dplan>(config).map(drop),
        "devnet" => validate_config::<DevNet>(config).map(drop),
        "deep-sad" => validate_config::<DeepSad>(config).map(drop),
        "repen" => validate_config::<Repen>(config).map(drop),
        "deep-cluster" => validate_config::<DeepCluster>(config).map(drop),
        other => Err(Error::config(
            other,
            "no validator for this model in the Python bindings",
        )),
    }
}

/// Default hyperparameters of model `kind` as a JSON object string.
#[pyfunction]
pub fn default_config(kind: &str) -> PyResult<String> {
    Ok(registry::find(kind).py_err()?.default_config().to_string())
}
