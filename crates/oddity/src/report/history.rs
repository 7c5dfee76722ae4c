//! Collects the training curves a model reports through [`Progress::record`] while passing every
//! progress event on to the progress display.

use std::sync::Mutex;

use crate::progress::Progress;
use crate::results::Series;

/// A [`Progress`] that forwards to `inner` and keeps the recorded series, in first-seen order.
pub struct HistoryRecorder<'a> {
    inner: &'a dyn Progress,
    series: Mutex<Vec<Series>>,
}

impl<'a> HistoryRecorder<'a> {
    pub fn new(inner: &'a dyn Progress) -> Self {
        HistoryRecorder {
            inner,
            series: Mutex::new(Vec::new()),
        }
    }

    /// The series recorded so far (and clears them).
    pub fn take(&self) -> Vec<Series> {
        self.series
            .lock()
            .map(|mut s| std::mem::take(&mut *s))
            .unwrap_or_default()
    }
}

impl Progress for HistoryRecorder<'_> {
    fn start(&self, phase: &str, total: Option<u64>) {
        self.inner.start(phase, total);
    }
    fn start_counted(&self, phase: &str, total: u64, unit: &str) {
        self.inner.start_counted(phase, total, unit);
    }
    fn advance(&self, n: u64) {
        self.inner.advance(n);
    }
    fn finish(&self) {
        self.inner.finish();
    }
    fn record(&self, series: &str, step: u64, value: f64) {
        self.inner.record(series, step, value);
        let Ok(mut all) = self.series.lock() else { return };
        let i = match all.iter().position(|s| s.name == series) {
            Some(i) => i,
            None => {
                all.push(Series {
                    name: series.to_string(),
                    steps: Vec::new(),
                    values: Vec::new(),
                });
                all.len() - 1
            }
        };
        all[i].steps.push(step);
        all[i].values.push(value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::Silent;

    #[test]
    fn keeps_series_apart_in_first_seen_order() {
        let r = HistoryRecorder::new(&Silent);
        r.record("loss", 1, 0.5);
        r.record("eps", 1, 1.0);
        r.record("loss", 2, 0.25);
        let s = r.take();
        assert_eq!(s.len(), 2);
        assert_eq!(
            (s[0].name.as_str(), &s[0].steps[..], &s[0].values[..]),
            ("loss", &[1u64, 2][..], &[0.5, 0.25][..])
        );
        assert_eq!(s[1].name, "eps");
        assert!(r.take().is_empty());
    }
}
