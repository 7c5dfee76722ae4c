//! Where a command's work runs.

/// Runs `f` on a thread of rayon's global pool (the caller waits, asleep), so that the serial parts
/// of a training step — burn's autodiff graph, losses, small tensor operations — run on one of the
/// pool's threads instead of a third thread competing with them for the cores. With 2 cores and the
/// step on the calling thread, 2 pool threads spinning between parallel loops and the caller shared
/// 2 CPUs; on the pool, a DCEC pretraining step took 3–5 % less wall time (perf stat, 2026-12-05,
/// docs/bench/speed.md). The Python binding runs its calls through `ThreadPool::install` when `n_jobs` is
/// given (then on a pool thread too); with the default it still runs them on the caller's thread.
/// Thread-local settings (`nn::fast::set_fast_kernels`, precision scopes) must be made inside `f`.
pub fn on_pool<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    if rayon::current_thread_index().is_some() {
        return f();
    }
    rayon::scope(|_| f())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_work_runs_on_a_pool_thread_and_returns_its_value() {
        assert!(rayon::current_thread_index().is_none(), "tests run outside the pool");
        let (inside, v) = super::on_pool(|| (rayon::current_thread_index(), 41 + 1));
        assert!(inside.is_some());
        assert_eq!(v, 42);
        // Nested: stays on the same thread.
        let nested = super::on_pool(|| {
            let outer = rayon::current_thread_index();
            super::on_pool(|| rayon::current_thread_index() == outer)
        });
        assert!(nested);
    }
}
