//! The fitted model as a Python object.

use std::path::PathBuf;

use numpy::{PyArray1, PyReadonlyArray1};
use oddity::data::{Labels, Layout};
use oddity::detector::{FitContext, ProbabilityMethod};
use oddity::registry::{self, AnyDetector};
use pyo3::prelude::*;

use crate::data::{Floats, dataset, labels};
use crate::errors::OrPyErr;
use crate::settings::settings;
use crate::threads;

/// A fitted oddity detector (any model). The Python classes in `oddity` wrap it.
#[pyclass(frozen, module = "oddity._native")]
pub struct Model {
    inner: Box<dyn AnyDetector>,
}

#[pymethods]
impl Model {
    /// Fits model `kind` with the hyperparameters in `params_json` (a JSON object; `contamination`
    /// included) on `x` (float32/float64, `[n, d]`, `[n, h, w]` or `[n, c, h, w]`); `y` = optional
    /// 0/1 labels (1 = labelled anomaly). `progress(event, *args)` receives progress events.
    /// `n_jobs`: threads of a pool made for this call (see [`threads::pool`]).
    #[staticmethod]
    #[pyo3(signature = (kind, params_json, x, y=None, seed=0, progress=None, n_jobs=None))]
    fn fit(
        py: Python<'_>,
        kind: &str,
        params_json: &str,
        x: &Bound<'_, PyAny>,
        y: Option<PyReadonlyArray1<'_, u8>>,
        seed: u64,
        progress: Option<&Bound<'_, PyAny>>,
        n_jobs: Option<i64>,
    ) -> PyResult<Model> {
        let pool = threads::pool(n_jobs)?;
        let entry = registry::find(kind).py_err()?;
        let settings = settings(params_json)?;
        settings.apply(&entry).py_err()?;
        let x = Floats::extract(x)?;
        let layout = x.layout()?;
        let labels = labels(y)?;
        let view = x.view();
        let fitted = crate::run::with_progress(py, progress, |p| {
            threads::install(pool.as_ref(), || {
                let data = dataset("X", layout, &view, labels)?;
                entry.fit(&settings, &data, &FitContext::new(seed, p))
            })
        })?;
        Ok(Model {
            inner: fitted.py_err()?,
        })
    }

    /// Loads a model directory written by `save` or by `oddity fit`.
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<Model> {
        let inner = py.detach(|| registry::load(&path)).py_err()?;
        Ok(Model { inner })
    }

    /// Writes the model directory (`model.json` + weights), the format the CLI reads.
    fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        py.detach(|| self.inner.save(&path)).py_err()
    }

    /// Raw anomaly scores (float32), higher = more anomalous; `n_jobs` as in `fit`.
    #[pyo3(signature = (x, n_jobs=None))]
    fn score<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        n_jobs: Option<i64>,
    ) -> PyResult<Bound<'py, PyArray1<f32>>> {
        let pool = threads::pool(n_jobs)?;
        let x = Floats::extract(x)?;
        let layout = x.layout()?;
        let view = x.view();
        let scores = py
            .detach(|| {
                threads::install(pool.as_ref(), || {
                    let data = dataset("X", layout, &view, Labels::None)?;
                    self.inner.score(&data)
                })
            })
            .py_err()?;
        Ok(PyArray1::from_vec(py, scores))
    }

    /// Outlier probabilities (float64) of `scores` (from `score`) by `method`, `"linear"` or
    /// `"unify"`, from the training scores (`oddity::detector::FitSummary::probability`).
    fn probability<'py>(
        &self,
        py: Python<'py>,
        scores: PyReadonlyArray1<'py, f32>,
        method: &str,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let method: ProbabilityMethod = method.parse().py_err()?;
        let p = self.inner.probability(scores.as_slice()?, method).py_err()?;
        Ok(PyArray1::from_vec(py, p))
    }

    /// Registry name, e.g. `"iforest"`.
    #[getter]
    fn kind(&self) -> &'static str {
        self.inner.kind()
    }

    #[getter]
    fn threshold(&self) -> f32 {
        self.inner.threshold()
    }

    #[getter]
    fn contamination(&self) -> f64 {
        self.inner.common().contamination
    }

    /// Smallest and largest training score (for `predict_proba`).
    #[getter]
    fn train_score_range(&self) -> (f32, f32) {
        let s = self.inner.summary();
        (s.train_score_min, s.train_score_max)
    }

    /// Training scores from fitting; `None` for a loaded model.
    #[getter]
    fn train_scores<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyArray1<f32>>> {
        self.inner.train_scores().map(|s| PyArray1::from_slice(py, s))
    }

    #[getter]
    fn seed(&self) -> u64 {
        self.inner.summary().seed
    }

    #[getter]
    fn n_train(&self) -> usize {
        self.inner.summary().n_train
    }

    /// Sample shape the model expects, without the sample count: `(d,)` or `(c, h, w)`.
    #[getter]
    fn sample_shape(&self) -> Vec<usize> {
        match self.inner.summary().layout {
            Layout::Tabular { d } => vec![d],
            Layout::Images { c, h, w } => vec![c, h, w],
        }
    }

    /// The model's hyperparameters as a JSON object string.
    #[getter]
    fn config_json(&self) -> String {
        self.inner.config_json().to_string()
    }

    fn __repr__(&self) -> String {
        format!(
            "<oddity model {} threshold={} {}>",
            self.inner.kind(),
            self.inner.threshold(),
            self.inner.config_json()
        )
    }
}
