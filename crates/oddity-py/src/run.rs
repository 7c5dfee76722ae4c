//! Runs a fit on a worker thread with the GIL released, while the calling thread forwards
//! progress to a Python callback and watches for Ctrl-C.
//!
//! Interrupting: the calling thread runs `check_signals` every 100 ms; on `KeyboardInterrupt` (or
//! an exception from the progress callback) it sets a flag, and the worker unwinds out of the fit
//! at the model's next progress event (every tree, epoch or batch group). The exception is then
//! re-raised in Python; no partial model is kept.

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use oddity::progress::Progress;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;

/// Unwind payload used to leave a cancelled fit.
struct Cancelled;

/// The current phase: `id` grows with every `start`.
#[derive(Default, Clone)]
struct Phase {
    id: u64,
    name: String,
    total: Option<u64>,
    finished: bool,
}

/// Progress state shared between the worker (writes) and the calling thread (reads).
#[derive(Default)]
struct Shared {
    phase: Mutex<Phase>,
    done: AtomicU64,
    cancel: AtomicBool,
    finished: Mutex<bool>,
    wake: Condvar,
}

impl Progress for Shared {
    fn start(&self, phase: &str, total: Option<u64>) {
        self.check_cancel();
        if let Ok(mut p) = self.phase.lock() {
            *p = Phase {
                id: p.id + 1,
                name: phase.to_string(),
                total,
                finished: false,
            };
            self.done.store(0, Ordering::Relaxed);
        }
    }
    fn advance(&self, n: u64) {
        self.check_cancel();
        self.done.fetch_add(n, Ordering::Relaxed);
    }
    fn finish(&self) {
        if let Ok(mut p) = self.phase.lock() {
            p.finished = true;
        }
    }
}

impl Shared {
    fn check_cancel(&self) {
        if self.cancel.load(Ordering::Relaxed) {
            resume_unwind(Box::new(Cancelled));
        }
    }
    fn set_finished(&self) {
        if let Ok(mut f) = self.finished.lock() {
            *f = true;
        }
        self.wake.notify_all();
    }
    /// Waits up to `timeout` for the worker; true once it is done.
    fn wait_finished(&self, timeout: Duration) -> bool {
        let Ok(f) = self.finished.lock() else { return true };
        if *f {
            return true;
        }
        match self.wake.wait_timeout(f, timeout) {
            Ok((f, _)) => *f,
            Err(_) => true,
        }
    }
}

/// What the callback was last told, to send only changes.
#[derive(Default)]
struct Reported {
    id: u64,
    done: u64,
    open: bool,
}

/// Calls `callback(event, *args)`: `("start", name, total_or_None)`, `("advance", n)`, `("finish",)`.
/// A phase that started and ended between two calls is still reported (start, advance, finish).
fn report(cb: &Bound<'_, PyAny>, shared: &Shared, last: &mut Reported) -> PyResult<()> {
    let Ok(phase) = shared.phase.lock().map(|p| p.clone()) else {
        return Ok(());
    };
    let done = shared.done.load(Ordering::Relaxed);
    if phase.id != last.id {
        if last.open {
            cb.call1(("finish",))?;
        }
        cb.call1(("start", phase.name, phase.total))?;
        *last = Reported {
            id: phase.id,
            done: 0,
            open: true,
        };
    }
    if last.open && done > last.done {
        cb.call1(("advance", done - last.done))?;
        last.done = done;
    }
    if last.open && phase.finished {
        cb.call1(("finish",))?;
        last.open = false;
    }
    Ok(())
}

/// Runs `work(progress)` on a worker thread without the GIL; see the module docs.
pub fn with_progress<T: Send>(
    py: Python<'_>,
    callback: Option<&Bound<'_, PyAny>>,
    work: impl FnOnce(&dyn Progress) -> T + Send,
) -> PyResult<T> {
    let shared = Shared::default();
    std::thread::scope(|s| {
        let worker = s.spawn(|| {
            let out = catch_unwind(AssertUnwindSafe(|| work(&shared)));
            shared.set_finished();
            out
        });
        let mut raised: Option<PyErr> = None;
        let mut last = Reported::default();
        loop {
            let finished = py.detach(|| shared.wait_finished(Duration::from_millis(100)));
            if raised.is_none() {
                let res = py
                    .check_signals()
                    .and_then(|_| callback.map_or(Ok(()), |cb| report(cb, &shared, &mut last)));
                if let Err(e) = res {
                    shared.cancel.store(true, Ordering::Relaxed);
                    raised = Some(e);
                }
            }
            if finished {
                break;
            }
        }
        let joined = py.detach(|| worker.join());
        if raised.is_none()
            && let Some(cb) = callback
        {
            report(cb, &shared, &mut last)?;
            if last.open {
                cb.call1(("finish",))?;
            }
        }
        if let Some(e) = raised {
            return Err(e);
        }
        match joined {
            Ok(Ok(out)) => Ok(out),
            Ok(Err(payload)) | Err(payload) => Err(PyRuntimeError::new_err(format!(
                "oddity panicked during fit: {}",
                panic_message(payload.as_ref())
            ))),
        }
    })
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if p.is::<Cancelled>() {
        "cancelled".into()
    } else if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".into()
    }
}
