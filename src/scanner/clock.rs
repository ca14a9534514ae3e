//! Time for the per-frame budget, passed in so tests control it and the browser build works
//! (`std::time::Instant` panics on `wasm32-unknown-unknown`; `web_time` uses `performance.now()`
//! there and `std` elsewhere).
//!
//! [`AttemptClock`] is the test clock for the budget: it moves only when the scanner finishes
//! a decode attempt, so a budget allows the same attempts on every machine, loaded or not.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Time, passed in so tests control it: the one clock trait of the kiosk crate. The app core
/// reads it through [`crate::app::ports::Clock`] (the same trait); the scanner needs only the
/// monotonic side, for its per-frame budget.
pub trait Clock {
    /// Monotonic whole milliseconds since some fixed start (timers, idle sign-out).
    fn now_ms(&self) -> u64;

    /// Wall-clock time, Unix seconds (card validity dates).
    fn unix_secs(&self) -> u64;

    /// Monotonic milliseconds with their fraction, for the scanner's budget of a few
    /// milliseconds per frame. Clocks that only count whole milliseconds keep the default.
    fn precise_ms(&self) -> f64 {
        self.now_ms() as f64
    }

    /// The scanner has just finished one decode attempt. Real clocks ignore it;
    /// [`AttemptClock`] advances by a fixed step.
    fn attempt(&self) {}

    /// A callback that says `true` once this clock reaches `at_ms`, for rqrr to stop inside
    /// an attempt. `None` (the default, and [`AttemptClock`]'s): attempts are bounded by
    /// their deterministic work limit only, so tests give the same result on any machine.
    fn deadline(&self, at_ms: f64) -> Option<rqrr::Deadline> {
        let _ = at_ms;
        None
    }
}

/// The real clock.
#[derive(Debug, Clone, Copy)]
pub struct SystemClock {
    start: web_time::Instant,
}

impl SystemClock {
    pub fn new() -> SystemClock {
        SystemClock {
            start: web_time::Instant::now(),
        }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        SystemClock::new()
    }
}

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    fn unix_secs(&self) -> u64 {
        web_time::SystemTime::now()
            .duration_since(web_time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    }

    fn precise_ms(&self) -> f64 {
        self.start.elapsed().as_secs_f64() * 1000.0
    }

    fn deadline(&self, at_ms: f64) -> Option<rqrr::Deadline> {
        let at = self.start + std::time::Duration::from_secs_f64(at_ms.max(0.0) / 1000.0);
        Some(std::sync::Arc::new(move || web_time::Instant::now() >= at))
    }
}

/// A clock that stands still except that every decode attempt costs a fixed number of whole
/// milliseconds. With it a [`ScanConfig::budget_ms`](super::ScanConfig::budget_ms) becomes a
/// number of attempts ([`attempts_within`](AttemptClock::attempts_within)), the same on a
/// loaded CI machine as on an idle one: tests of the budgeted scanner cannot flip on a frame
/// whose read comes near the budget's end. Clones share the time.
#[derive(Debug, Clone)]
pub struct AttemptClock {
    step_ms: u64,
    now_ms: Arc<AtomicU64>,
}

impl AttemptClock {
    /// Every attempt costs `ms_per_attempt` (at least 1). Whole milliseconds keep the
    /// scanner's arithmetic exact, so the budget's edge falls where
    /// [`attempts_within`](AttemptClock::attempts_within) says.
    pub fn new(ms_per_attempt: u32) -> AttemptClock {
        AttemptClock {
            step_ms: u64::from(ms_per_attempt.max(1)),
            now_ms: Arc::default(),
        }
    }

    /// How many attempts the scanner makes at most on one frame under a budget of
    /// `budget_ms` on this clock: it starts another while no more than the budget is spent,
    /// and the first two always run.
    pub fn attempts_within(&self, budget_ms: f64) -> u64 {
        let budget = budget_ms.max(0.0).floor() as u64;
        (budget / self.step_ms + 1).max(2)
    }
}

impl Clock for AttemptClock {
    fn now_ms(&self) -> u64 {
        self.now_ms.load(Ordering::Relaxed)
    }

    /// The scanner never reads the wall clock; this one stands at the epoch.
    fn unix_secs(&self) -> u64 {
        0
    }

    fn attempt(&self) {
        self.now_ms.fetch_add(self.step_ms, Ordering::Relaxed);
    }
}
