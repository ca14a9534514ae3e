//! Bounded detection: a deterministic work meter and an optional deadline.
//!
//! Detection on a noisy, dim or textured image can find thousands of capstone candidates. Their
//! flood fills, pairings and alignment searches then grow far faster than the image (region
//! colours are recycled through a small cache, so one large dark region may be repainted again
//! and again). A caller with a time budget per frame cannot stop that from outside.
//!
//! Every loop in detection whose length depends on the image spends *work units* here (one per
//! pixel painted or looked at, one per candidate pair or search step). Once the limit is spent,
//! or the deadline has passed, every loop stops and detection returns the grids it has found so
//! far. The counts are deterministic, so tests can assert bounds that do not depend on the
//! speed of the machine.

use std::cell::Cell;
use std::fmt;
use std::sync::Arc;

/// How often (in work units) the deadline callback is asked.
const DEADLINE_EVERY: u64 = 1 << 13;

/// A callback that says `true` once the caller's time is up.
pub type Deadline = Arc<dyn Fn() -> bool + Send + Sync>;

/// What one detection did: deterministic counts for tests and diagnostics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Work {
    /// Work units spent (pixels painted or looked at, pairs, search steps).
    pub units: u64,
    /// Capstone candidates that passed the line test and were examined.
    pub candidates: u64,
    /// Capstones found.
    pub capstones: u64,
    /// Capstone triples tested as a possible grid.
    pub groups_tested: u64,
    /// Detection stopped early: the work limit was spent or the deadline passed.
    pub exhausted: bool,
}

#[derive(Clone)]
pub(crate) struct Meter {
    limit: u64,
    deadline: Option<Deadline>,
    next_check: Cell<u64>,
    work: Cell<Work>,
}

impl fmt::Debug for Meter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Meter")
            .field("limit", &self.limit)
            .field("deadline", &self.deadline.is_some())
            .field("work", &self.work.get())
            .finish()
    }
}

impl Default for Meter {
    fn default() -> Self {
        Meter {
            limit: u64::MAX,
            deadline: None,
            next_check: Cell::new(DEADLINE_EVERY),
            work: Cell::new(Work::default()),
        }
    }
}

impl Meter {
    pub(crate) fn set_limit(&mut self, units: u64) {
        self.limit = units;
    }

    pub(crate) fn set_deadline(&mut self, deadline: Deadline) {
        self.deadline = Some(deadline);
    }

    pub(crate) fn work(&self) -> Work {
        self.work.get()
    }

    /// True once detection must stop.
    #[inline]
    pub(crate) fn exhausted(&self) -> bool {
        self.work.get().exhausted
    }

    /// Spends `units`; false when detection must stop (now or earlier).
    #[inline]
    pub(crate) fn spend(&self, units: u64) -> bool {
        let mut w = self.work.get();
        if w.exhausted {
            return false;
        }
        w.units = w.units.saturating_add(units);
        if w.units > self.limit {
            w.exhausted = true;
        } else if w.units >= self.next_check.get() {
            self.next_check.set(w.units + DEADLINE_EVERY);
            if self.deadline.as_ref().is_some_and(|d| d()) {
                w.exhausted = true;
            }
        }
        self.work.set(w);
        !w.exhausted
    }

    pub(crate) fn count(&self, f: impl FnOnce(&mut Work)) {
        let mut w = self.work.get();
        f(&mut w);
        self.work.set(w);
    }

    /// Takes over what another meter (a scratch copy of the image) spent.
    pub(crate) fn absorb(&self, other: &Meter) {
        let spent = other.work().units.saturating_sub(self.work().units);
        if !self.spend(spent) || other.exhausted() {
            self.count(|w| w.exhausted = true);
        }
    }
}
