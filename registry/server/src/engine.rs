//! The compatibility engine as the registry calls it: within the work
//! budget of the request being decided.
//!
//! A request's [`Work`] (its deadline: the call's own, or `--check-time`,
//! whichever comes first; and a flag set when its caller goes away or the
//! server shuts down) is put in place around each decision on the blocking
//! thread that makes it ([`within`]); every comparison of that decision,
//! semver and consumers alike, then runs under it ([`check`]). A comparison
//! that goes over it ends in [`Error::Budget`] (RESOURCE_EXHAUSTED, naming
//! the bound), never in a stall.

use std::{
    cell::RefCell,
    sync::{
        Arc, Mutex, PoisonError, Weak,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use accord_compat::{Budget, Mode, Options, Policy, Report, Schema};

use crate::{config::Limits, error::Error};

/// The work a request may make the engine do.
#[derive(Debug, Clone)]
pub struct Work {
    /// When its comparisons must stop.
    pub deadline: Instant,
    /// Set when its caller is gone or the server shuts down.
    pub cancel: Arc<AtomicBool>,
    /// How long witness search may take in one comparison.
    pub witness_time: Duration,
}

impl Work {
    /// The budget of a request under `limits`, with the call's own
    /// deadline when it has one.
    pub fn of_request(limits: &Limits, call_deadline: Option<Duration>) -> Self {
        let time = call_deadline.map_or(limits.check_time, |d| d.min(limits.check_time));
        Self {
            deadline: Instant::now() + time,
            cancel: Arc::new(AtomicBool::new(false)),
            witness_time: limits.witness_time,
        }
    }

    /// The engine's options for this work.
    pub fn options(&self) -> Options {
        Options {
            budget: Budget::until(self.deadline).with_cancel(self.cancel.clone()),
            witness_time: self.witness_time,
            ..Options::default()
        }
    }

    /// A guard that cancels the work when dropped: held by a call's
    /// handler, it stops the comparison once the caller is gone.
    pub fn cancel_on_drop(&self) -> CancelOnDrop {
        CancelOnDrop(self.cancel.clone())
    }
}

/// Cancels a request's work when dropped (see [`Work::cancel_on_drop`]):
/// once its call has ended, normally or not, nothing is left to compare.
#[derive(Debug)]
pub struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

/// The cancellation flags of the work under way, to set them all at
/// shutdown.
#[derive(Debug, Default)]
pub struct InFlight {
    flags: Mutex<Vec<Weak<AtomicBool>>>,
    stopping: AtomicBool,
}

impl InFlight {
    /// Registers a request's work, so that a shutdown cancels it.
    pub fn register(&self, work: &Work) {
        if self.stopping.load(Ordering::Acquire) {
            work.cancel.store(true, Ordering::Release);
            return;
        }
        let mut flags = self.flags.lock().unwrap_or_else(PoisonError::into_inner);
        if flags.len() >= 1024 {
            flags.retain(|f| f.strong_count() > 0);
        }
        flags.push(Arc::downgrade(&work.cancel));
    }

    /// Cancels every work under way and every one registered from now on.
    pub fn cancel_all(&self) {
        self.stopping.store(true, Ordering::Release);
        let flags = std::mem::take(&mut *self.flags.lock().unwrap_or_else(PoisonError::into_inner));
        for flag in flags.iter().filter_map(Weak::upgrade) {
            flag.store(true, Ordering::Release);
        }
    }
}

thread_local! {
    static CURRENT: RefCell<Option<Options>> = const { RefCell::new(None) };
}

/// Runs `f` with `work` as the budget of every comparison it makes on this
/// thread.
pub fn within<T>(work: &Work, f: impl FnOnce() -> T) -> T {
    struct Reset(Option<Options>);
    impl Drop for Reset {
        fn drop(&mut self) {
            let previous = self.0.take();
            CURRENT.with(|c| *c.borrow_mut() = previous);
        }
    }
    let previous = CURRENT.with(|c| c.borrow_mut().replace(work.options()));
    let _reset = Reset(previous);
    f()
}

/// Compares `new` with `earlier` under the budget in place ([`within`]),
/// or the engine's default bounds outside any request.
pub fn check(new: &Schema, earlier: &[&Schema], mode: Mode, policy: Policy) -> Result<Report, Error> {
    let options = CURRENT.with(|c| c.borrow().clone()).unwrap_or_default();
    accord_compat::check_with(new, earlier, mode, policy, &options).map_err(Error::from_engine)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema(text: &str) -> Schema {
        Schema::parse(text).unwrap()
    }

    #[test]
    fn a_cancelled_request_stops_its_comparisons_with_a_budget_error() {
        let limits = Limits::default();
        let work = Work::of_request(&limits, None);
        let old = schema(r#"{"type":"object","properties":{"a":{"type":"number"}}}"#);
        let new = schema(r#"{"type":"object","properties":{"a":{"type":"integer"}}}"#);
        assert!(within(&work, || check(&new, &[&old], Mode::Backward, Policy::Strict)).is_ok());
        drop(work.cancel_on_drop());
        let err = within(&work, || check(&new, &[&old], Mode::Backward, Policy::Strict)).unwrap_err();
        assert!(matches!(err, Error::Budget { .. }), "{err}");
        assert!(err.to_string().contains("cancelled"), "{err}");
        // Outside the request, the default bounds again.
        assert!(check(&new, &[&old], Mode::Backward, Policy::Strict).is_ok());
    }

    #[test]
    fn a_past_deadline_stops_the_comparison_and_names_it() {
        let limits = Limits {
            check_time: Duration::ZERO,
            ..Limits::default()
        };
        let work = Work::of_request(&limits, None);
        // Enough properties that the engine looks at its clock.
        let wide = |ty: &str| {
            let properties: Vec<String> = (0..5000)
                .map(|i| format!(r#""p{i}":{{"type":"{ty}"}}"#))
                .collect();
            schema(&format!(
                r#"{{"type":"object","properties":{{{}}}}}"#,
                properties.join(",")
            ))
        };
        let (old, new) = (wide("string"), wide("integer"));
        let err = within(&work, || check(&new, &[&old], Mode::Backward, Policy::Strict)).unwrap_err();
        assert!(err.to_string().contains("deadline"), "{err}");
    }

    #[test]
    fn a_shutdown_cancels_the_work_under_way_and_to_come() {
        let in_flight = InFlight::default();
        let limits = Limits::default();
        let running = Work::of_request(&limits, None);
        in_flight.register(&running);
        in_flight.cancel_all();
        assert!(running.cancel.load(Ordering::Acquire));
        let late = Work::of_request(&limits, None);
        in_flight.register(&late);
        assert!(late.cancel.load(Ordering::Acquire));
    }
}
