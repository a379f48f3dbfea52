//! How long a call may work, and who may stop it: a deadline and a
//! cancellation flag, polled cheaply in every loop of the comparison and of
//! the witness search.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The time a call may take and the flag that stops it, for
/// [`crate::check_with`] and [`crate::diff_with`].
///
/// Past the deadline, or once the flag is set (by another thread: the
/// caller went away, the server shuts down), the comparison stops with
/// [`crate::Error::Budget`]; witness search stops too, and the findings
/// not yet given a witness are counted in
/// [`crate::Report::witnesses_timed_out`].
///
/// ```
/// use accord_compat::Budget;
/// use std::sync::{Arc, atomic::AtomicBool};
/// use std::time::{Duration, Instant};
/// let cancel = Arc::new(AtomicBool::new(false));
/// let budget = Budget::until(Instant::now() + Duration::from_secs(5)).with_cancel(cancel.clone());
/// assert!(budget.deadline.is_some() && budget.cancel.is_some());
/// ```
#[derive(Debug, Clone, Default)]
pub struct Budget {
    /// Past this instant the call stops; `None`: no deadline.
    pub deadline: Option<Instant>,
    /// When set to `true`, the call stops; `None`: it cannot be cancelled.
    pub cancel: Option<Arc<AtomicBool>>,
}

impl Budget {
    /// A budget that ends at `deadline`.
    pub fn until(deadline: Instant) -> Self {
        Budget {
            deadline: Some(deadline),
            cancel: None,
        }
    }

    /// The same budget, also stopped when `flag` becomes `true`.
    pub fn with_cancel(mut self, flag: Arc<AtomicBool>) -> Self {
        self.cancel = Some(flag);
        self
    }
}

/// Why a call stopped before its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    /// The budget's deadline passed.
    Deadline,
    /// The budget's flag was set.
    Cancelled,
    /// The comparison made more steps than allowed.
    Steps,
    /// The comparison nested deeper than allowed.
    Depth,
    /// The comparison produced more findings than allowed.
    Findings,
}

/// The running side of a [`Budget`]: polled in loops, it reads the flag
/// every time and the clock every [`Meter::CLOCK_EVERY`] polls.
#[derive(Debug)]
pub(crate) struct Meter<'a> {
    deadline: Option<Instant>,
    cancel: Option<&'a AtomicBool>,
    polls: u32,
    /// Set once a poll found the budget spent; later polls repeat it.
    pub stopped: Option<Stop>,
}

impl<'a> Meter<'a> {
    const CLOCK_EVERY: u32 = 64;

    pub(crate) fn new(budget: &'a Budget) -> Self {
        Meter {
            deadline: budget.deadline,
            cancel: budget.cancel.as_deref(),
            polls: 0,
            stopped: None,
        }
    }

    /// The same flag, with the earlier of this meter's deadline and `within`
    /// from now.
    pub(crate) fn narrowed(&self, within: Duration) -> Meter<'a> {
        let until = Instant::now().checked_add(within);
        let deadline = match (self.deadline, until) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Meter {
            deadline,
            cancel: self.cancel,
            polls: 0,
            stopped: self.stopped,
        }
    }

    /// `Some` once the budget is spent. Cheap: an atomic load, and the clock
    /// now and then.
    pub(crate) fn poll(&mut self) -> Option<Stop> {
        if self.stopped.is_some() {
            return self.stopped;
        }
        if self.cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
            self.stopped = Some(Stop::Cancelled);
            return self.stopped;
        }
        self.polls = self.polls.wrapping_add(1);
        if self.polls.is_multiple_of(Self::CLOCK_EVERY) {
            return self.check_clock();
        }
        None
    }

    /// Like [`Meter::poll`], reading the clock whatever the count: for
    /// loops whose steps are costly.
    pub(crate) fn poll_now(&mut self) -> Option<Stop> {
        if self.poll().is_some() {
            return self.stopped;
        }
        self.check_clock()
    }

    fn check_clock(&mut self) -> Option<Stop> {
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            self.stopped = Some(Stop::Deadline);
        }
        self.stopped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_flag_stops_at_the_next_poll_and_a_past_deadline_soon_after() {
        let flag = Arc::new(AtomicBool::new(false));
        let budget = Budget::default().with_cancel(flag.clone());
        let mut meter = Meter::new(&budget);
        assert_eq!(meter.poll(), None);
        flag.store(true, Ordering::Relaxed);
        assert_eq!(meter.poll(), Some(Stop::Cancelled));

        let past = Budget::until(Instant::now());
        let mut meter = Meter::new(&past);
        let stopped = (0..=Meter::CLOCK_EVERY).find_map(|_| meter.poll());
        assert_eq!(stopped, Some(Stop::Deadline));
        assert_eq!(Meter::new(&past).poll_now(), Some(Stop::Deadline));
        assert_eq!(Meter::new(&Budget::default()).poll_now(), None);
    }
}
