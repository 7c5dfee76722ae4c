//! `oddity._native`: the Rust side of the `oddity` Python package. The PyOD-style classes live in
//! `python/oddity/__init__.py`; this module fits, scores, saves and loads any registered model.

mod data;
mod errors;
mod model;
mod run;
mod settings;
mod threads;

use pyo3::prelude::*;

/// `(name, about, protocol, input)` of every registered model, e.g. `("devnet", "...",
/// "weakly-supervised", "tabular")`.
#[pyfunction]
fn models() -> Vec<(&'static str, &'static str, &'static str, &'static str)> {
    oddity::registry::models()
        .into_iter()
        .map(|m| (m.name, m.about, m.protocol.name(), m.input.name()))
        .collect()
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<model::Model>()?;
    m.add("DivergedError", m.py().get_type::<errors::DivergedError>())?;
    m.add_function(wrap_pyfunction!(models, m)?)?;
    m.add_function(wrap_pyfunction!(settings::check, m)?)?;
    m.add_function(wrap_pyfunction!(settings::default_config, m)?)?;
    m.add_function(wrap_pyfunction!(threads::pool_size, m)?)?;
    Ok(())
}
