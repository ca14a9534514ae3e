//! # The scanner: from camera frames to QuickCard bytes, fast and forgiving
//!
//! Children hold cards crooked, too close, too far, moving, in dim classrooms, in front of cheap
//! 720p cameras. This module finds the code anyway and, when it cannot, says what to fix.
//!
//! - [`frame`]: the [`Frame`] every source yields (luma + optional RGB);
//! - [`source`]: the polled, non-blocking [`FrameSource`] trait and its [`SourceError`]s;
//! - [`replay`]: frames from image files or a folder (tests, benchmarks, the camera-less demo);
//! - `camera` (native, feature `camera`): a real camera through nokhwa, in a worker thread;
//! - [`Scanner`] (its per-frame search in `search`): the decoding pipeline around `rqrr` — local binarisation, right-sized
//!   grayscale with larger retries for small codes, contrast normalisation, several attempts
//!   within a per-frame time budget, the last code's location tried first, and every `rqrr`
//!   call inside `catch_unwind` (it panics on some real frames).
//!
//! Everything here but the camera compiles for `wasm32-unknown-unknown`. Note that on that
//! target panics abort, so there the containment cannot help; natively it does.

pub mod binarize;
#[cfg(all(feature = "camera", not(target_arch = "wasm32")))]
pub mod camera;
pub mod clock;
mod diagnose;
pub mod finder;
pub mod frame;
pub mod gray;
pub mod grids;
pub mod hint;
pub mod replay;
pub mod report;
mod search;
pub mod source;

use serde::Serialize;

pub use clock::{AttemptClock, Clock, SystemClock};
pub use frame::{Corners, Frame, Point};
pub use grids::{BitmapResult, Limits, decode_bitmap};
pub use hint::Hint;
pub use replay::ReplaySource;
pub use source::{FrameSource, SourceError};

use diagnose::diagnose;
use gray::{Gray, Rect, rect_around};
use search::{Run, Seen};

/// A QuickCard code read from a frame: its raw payload bytes (`QC:…`, not yet verified — pass
/// them to `quickcard::verify`) and where it is.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FoundCode {
    pub bytes: Vec<u8>,
    pub corners: Corners,
}

/// What one frame gave.
#[derive(Debug, Clone, PartialEq)]
pub enum ScanResult {
    /// A code whose payload starts with `QC:`.
    Card(FoundCode),
    /// No card: what to tell the person (includes foreign QR codes).
    Hint(Hint),
}

impl ScanResult {
    pub fn card(&self) -> Option<&FoundCode> {
        match self {
            ScanResult::Card(c) => Some(c),
            ScanResult::Hint(_) => None,
        }
    }
}

/// How hard the scanner tries per frame.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanConfig {
    /// Stop starting new attempts once this many milliseconds are spent on a frame (the first
    /// two always run). `None`: run every attempt (tests and the `decode` command).
    pub budget_ms: Option<f64>,
    /// For how many frames without a code the last code's location is tried first.
    pub remember_frames: u32,
}

impl Default for ScanConfig {
    fn default() -> Self {
        ScanConfig {
            budget_ms: Some(25.0),
            remember_frames: 15,
        }
    }
}

/// Numbers about the last [`Scanner::scan`] call (for logs and benchmarks).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct ScanStats {
    pub ms: f64,
    pub attempts: u32,
    /// rqrr panics contained during this frame.
    pub panics: u32,
    /// The attempt that read the code, if any.
    pub decoded_by: Option<&'static str>,
    /// rqrr's detection work over all attempts (deterministic: see [`grids::work_limit`]).
    pub work_units: u64,
    /// Attempts that rqrr stopped early (work limit spent or the frame's time up).
    pub cut_short: u32,
}

#[derive(Debug, Clone, Copy)]
struct Memory {
    rect: Rect,
    module: f32,
    age: u32,
}

/// The decoding pipeline. Keep one per camera: it remembers where the last code was.
pub struct Scanner {
    config: ScanConfig,
    clock: Box<dyn Clock + Send>,
    memory: Option<Memory>,
    stats: ScanStats,
    total_panics: u64,
}

impl std::fmt::Debug for Scanner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scanner")
            .field("config", &self.config)
            .field("memory", &self.memory)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl Scanner {
    /// A scanner on the system clock.
    pub fn new(config: ScanConfig) -> Scanner {
        Scanner::with_clock(config, Box::new(SystemClock::new()))
    }

    /// A scanner on the given clock (tests pass a fake one).
    pub fn with_clock(config: ScanConfig, clock: Box<dyn Clock + Send>) -> Scanner {
        Scanner {
            config,
            clock,
            memory: None,
            stats: ScanStats::default(),
            total_panics: 0,
        }
    }

    pub fn config(&self) -> &ScanConfig {
        &self.config
    }

    /// Statistics of the last scan.
    pub fn last_stats(&self) -> ScanStats {
        self.stats
    }

    /// rqrr panics contained since this scanner was made.
    pub fn total_panics(&self) -> u64 {
        self.total_panics
    }

    /// Forgets the last code's location (e.g. after a sign-in, so the next card starts fresh).
    pub fn forget(&mut self) {
        self.memory = None;
    }

    /// Looks for a code in one frame. Never panics, whatever the frame holds.
    pub fn scan(&mut self, frame: &Frame) -> ScanResult {
        let t0 = self.clock.precise_ms();
        self.stats = ScanStats::default();
        let (w, h) = (frame.width as usize, frame.height as usize);
        if frame.luma.len() != w * h || w < 21 || h < 21 {
            self.stats.ms = self.clock.precise_ms() - t0;
            return ScanResult::Hint(Hint::NoCode);
        }
        let full = Gray::new(w, h, frame.luma.clone());
        let half = full.downscale(2);
        let global = half.stats(half.full(), 2);
        let mut run = Run {
            t0,
            budget: self.config.budget_ms,
            clock: &*self.clock,
            full: &full,
            seen: Vec::new(),
            tried: Vec::new(),
            found: None,
            stats: &mut self.stats,
        };
        run.search(
            self.memory.map(|m| Seen {
                rect: m.rect,
                module: m.module,
            }),
            &half,
        );
        let found = run.found.take();
        let seen = std::mem::take(&mut run.seen);
        self.total_panics += self.stats.panics as u64;

        let result = match found {
            Some((bytes, corners, name)) => {
                self.stats.decoded_by = Some(name);
                if bytes.starts_with(quickcard::PREFIX.as_bytes()) {
                    let rect = rect_around(&corners, full.w, full.h, 0.5);
                    let side = ((corners[1].x - corners[0].x).powi(2)
                        + (corners[1].y - corners[0].y).powi(2))
                    .sqrt();
                    // QuickCards are version 6 (41 modules) or smaller.
                    let module = side / 41.0;
                    self.memory = Some(Memory {
                        rect,
                        module,
                        age: 0,
                    });
                    ScanResult::Card(FoundCode { bytes, corners })
                } else {
                    ScanResult::Hint(Hint::NotQuickCard {
                        text: String::from_utf8_lossy(&bytes).into_owned(),
                        corners,
                    })
                }
            }
            None => {
                if let Some(m) = &mut self.memory {
                    m.age += 1;
                    if m.age > self.config.remember_frames {
                        self.memory = None;
                    }
                }
                ScanResult::Hint(diagnose(&full, &global, &seen))
            }
        };
        self.stats.ms = self.clock.precise_ms() - t0;
        result
    }
}

#[cfg(test)]
#[path = "budget_tests.rs"]
mod tests;
