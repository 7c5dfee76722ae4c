//! Progress reporting for long-running work. The library only calls this trait; the CLI
//! draws bars (indicatif), tests and library users get [`Silent`] by default.

/// Receives progress events from fitting and scoring.
pub trait Progress: Send + Sync {
    /// A new phase begins, with `total` units of work if known.
    fn start(&self, phase: &str, total: Option<u64>);
    /// `n` more units are done.
    fn advance(&self, n: u64);
    /// The current phase is over.
    fn finish(&self);
    /// One point of a training curve: `series` (e.g. `"loss_g per epoch"`) has `value` at `step`
    /// (epoch, episode or iteration, as the series name says). Ignored unless a recorder collects
    /// it (see [`crate::report::HistoryRecorder`]).
    fn record(&self, _series: &str, _step: u64, _value: f64) {}
}

/// Reports nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl Progress for Silent {
    fn start(&self, _: &str, _: Option<u64>) {}
    fn advance(&self, _: u64) {}
    fn finish(&self) {}
}
