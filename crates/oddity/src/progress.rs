//! Progress reporting for long-running work. The library only calls this trait; the CLI
//! draws bars (indicatif), tests and library users get [`Silent`] by default.

/// Receives progress events from fitting and scoring.
pub trait Progress: Send + Sync {
    /// A new phase begins, with `total` units of work if known.
    fn start(&self, phase: &str, total: Option<u64>);
    /// Like [`Progress::start`] for `total` units named `unit` (e.g. `"images"`), so that a display
    /// can show a rate (images/s). By default the same as `start`.
    fn start_counted(&self, phase: &str, total: u64, unit: &str) {
        let _ = unit;
        self.start(phase, Some(total));
    }
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

/// Estimates the time a training loop has left from the epochs it has run so far (in this
/// process: a resumed run starts counting afresh).
#[derive(Debug, Clone)]
pub struct EpochClock {
    start: std::time::Instant,
    first: usize,
    last: usize,
}

impl EpochClock {
    /// A loop about to run epochs `first..=last`.
    pub fn new(first: usize, last: usize) -> Self {
        EpochClock {
            start: std::time::Instant::now(),
            first,
            last,
        }
    }

    /// `", about 2m05s left"` when `epoch` (1-based, not yet run) starts, from the mean time of the
    /// epochs before it; empty for the first one.
    pub fn left(&self, epoch: usize) -> String {
        let done = epoch.saturating_sub(self.first);
        if done == 0 {
            return String::new();
        }
        let per = self.start.elapsed().as_secs_f64() / done as f64;
        let todo = (self.last + 1).saturating_sub(epoch);
        format!(", about {} left", duration(per * todo as f64))
    }
}

/// `"45s"`, `"3m05s"` or `"2h07m"`.
pub fn duration(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(0.4), "0s");
        assert_eq!(duration(45.2), "45s");
        assert_eq!(duration(185.0), "3m05s");
        assert_eq!(duration(7620.0), "2h07m");
    }

    #[test]
    fn the_clock_says_nothing_before_an_epoch_ends() {
        let c = EpochClock::new(3, 5);
        assert_eq!(c.left(3), "");
        assert!(c.left(4).starts_with(", about ") && c.left(4).ends_with(" left"));
    }
}
