//! `n_jobs`: a rayon thread pool made for one call, so a detector's setting never changes the
//! process-wide pool (other detectors, other libraries) or needs `RAYON_NUM_THREADS`.

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use rayon::{ThreadPool, ThreadPoolBuilder};

/// Threads for `n_jobs` as joblib / scikit-learn count them: `k > 0` → k, `-1` → every core,
/// `-2` → all but one, … (at least 1); `None` → `None` (rayon's global pool: every core, or
/// `RAYON_NUM_THREADS`).
pub fn threads(n_jobs: Option<i64>) -> PyResult<Option<usize>> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as i64;
    match n_jobs {
        None => Ok(None),
        Some(0) => Err(PyValueError::new_err(
            "invalid config: `n_jobs` must be None or a non-zero integer, got 0",
        )),
        Some(k) if k > 0 => Ok(Some(k as usize)),
        Some(k) => Ok(Some((cores + 1 + k).max(1) as usize)),
    }
}

/// The pool for one call (`None`: run on the global pool).
pub fn pool(n_jobs: Option<i64>) -> PyResult<Option<ThreadPool>> {
    let Some(n) = threads(n_jobs)? else { return Ok(None) };
    ThreadPoolBuilder::new()
        .num_threads(n)
        .thread_name(|i| format!("oddity-{i}"))
        .build()
        .map(Some)
        .map_err(|e| PyRuntimeError::new_err(format!("cannot start {n} threads for n_jobs: {e}")))
}

/// Runs `work` inside `pool` (its rayon calls use that pool), or directly without one.
pub fn install<T: Send>(pool: Option<&ThreadPool>, work: impl FnOnce() -> T + Send) -> T {
    match pool {
        Some(pool) => pool.install(work),
        None => work(),
    }
}

/// How many threads rayon code sees when run with `n_jobs` (for tests and `n_jobs` checks).
#[pyfunction]
#[pyo3(signature = (n_jobs=None))]
pub fn pool_size(n_jobs: Option<i64>) -> PyResult<usize> {
    let pool = pool(n_jobs)?;
    Ok(install(pool.as_ref(), rayon::current_num_threads))
}
