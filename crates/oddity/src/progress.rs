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
}

/// Reports nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl Progress for Silent {
    fn start(&self, _: &str, _: Option<u64>) {}
    fn advance(&self, _: u64) {}
    fn finish(&self) {}
}
