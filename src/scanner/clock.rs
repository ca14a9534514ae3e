//! Time for the per-frame budget, passed in so tests control it and the browser build works
//! (`std::time::Instant` panics on `wasm32-unknown-unknown`; `web_time` uses `performance.now()`
//! there and `std` elsewhere).

/// Milliseconds since some fixed start.
pub trait Clock: Send {
    fn now_ms(&self) -> f64;
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
    fn now_ms(&self) -> f64 {
        self.start.elapsed().as_secs_f64() * 1000.0
    }
}
