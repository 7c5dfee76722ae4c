//! indicatif progress bars behind the library's `Progress` trait. Bars draw on stderr only when
//! it is a terminal, so piped output and tests stay clean.

use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressState, ProgressStyle};
use oddity::progress::Progress;

/// A progress bar per phase.
#[derive(Default)]
pub struct Bars {
    bar: Mutex<Option<ProgressBar>>,
}

impl Bars {
    fn show(&self, bar: ProgressBar, phase: &str) {
        bar.set_message(phase.to_string());
        bar.enable_steady_tick(Duration::from_millis(200));
        if let Ok(mut b) = self.bar.lock()
            && let Some(old) = b.replace(bar)
        {
            old.finish_and_clear();
        }
    }
}

impl Progress for Bars {
    fn start(&self, phase: &str, total: Option<u64>) {
        let bar = match total {
            Some(t) => ProgressBar::new(t).with_style(
                ProgressStyle::with_template("{msg:>16} [{bar:30}] {pos}/{len} ({elapsed}, eta {eta})")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            ),
            None => ProgressBar::new_spinner(),
        };
        self.show(bar, phase);
    }
    /// `phase [=====>    ] 1280/3584 images (812 images/s, eta 3s)`.
    fn start_counted(&self, phase: &str, total: u64, unit: &str) {
        let owned = unit.to_string();
        let style = ProgressStyle::with_template(&format!(
            "{{msg}}\n{{bar:30}} {{pos}}/{{len}} {unit} ({{rate}}, {{elapsed}}, eta {{eta}})"
        ))
        .map(|s| {
            s.with_key("rate", move |st: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{:.0} {owned}/s", st.per_sec());
            })
        })
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        self.show(ProgressBar::new(total).with_style(style), phase);
    }
    fn advance(&self, n: u64) {
        if let Ok(b) = self.bar.lock()
            && let Some(bar) = b.as_ref()
        {
            bar.inc(n);
        }
    }
    fn finish(&self) {
        if let Ok(mut b) = self.bar.lock()
            && let Some(bar) = b.take()
        {
            bar.finish_and_clear();
        }
    }
}

/// A spinner for work of unknown length (loading a file).
pub struct Spinner(ProgressBar);

impl Spinner {
    pub fn new(msg: String) -> Self {
        let s = ProgressBar::new_spinner();
        s.set_message(msg);
        s.enable_steady_tick(Duration::from_millis(150));
        Spinner(s)
    }
    pub fn finish(self) {
        self.0.finish_and_clear();
    }
}
