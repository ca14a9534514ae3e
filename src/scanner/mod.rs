//! # The scanner: from camera frames to QuickCard bytes, fast and forgiving
//!
//! Children hold cards crooked, too close, too far, moving, in dim classrooms, in front of cheap
//! 720p cameras. This module finds the code anyway and, when it cannot, says what to fix.
//!
//! - [`frame`]: the [`Frame`] every source yields (luma + optional RGB);
//! - [`source`]: the polled, non-blocking [`FrameSource`] trait and its [`SourceError`]s;
//! - [`replay`]: frames from image files or a folder (tests, benchmarks, the camera-less demo);
//! - `camera` (native, feature `camera`): a real camera through nokhwa, in a worker thread;
//! - [`Scanner`]: the decoding pipeline around `rqrr` — local binarisation, right-sized
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
pub mod finder;
pub mod frame;
pub mod gray;
pub mod hint;
pub mod replay;
pub mod report;
pub mod source;

use std::panic::{AssertUnwindSafe, catch_unwind};

use serde::Serialize;

pub use clock::{Clock, SystemClock};
pub use frame::{Corners, Frame, Point};
pub use hint::Hint;
pub use replay::ReplaySource;
pub use source::{FrameSource, SourceError};

use gray::{Gray, Rect};

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
    clock: Box<dyn Clock>,
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

/// Evidence that a code is in view although it was not read.
#[derive(Debug, Clone, Copy)]
struct Seen {
    rect: Rect,
    module: f32,
}

/// The outcome of one rqrr pass over one bitmap.
#[derive(Default)]
struct Pass {
    decoded: Vec<(Vec<u8>, Corners)>,
    /// Grids found but not decodable, and finder groups: in full-frame pixels.
    seen: Vec<Seen>,
    panicked: bool,
}

impl Scanner {
    /// A scanner on the system clock.
    pub fn new(config: ScanConfig) -> Scanner {
        Scanner::with_clock(config, Box::new(SystemClock::new()))
    }

    /// A scanner on the given clock (tests pass a fake one).
    pub fn with_clock(config: ScanConfig, clock: Box<dyn Clock>) -> Scanner {
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
        let t0 = self.clock.now_ms();
        self.stats = ScanStats::default();
        let full = Gray::new(
            frame.width as usize,
            frame.height as usize,
            frame.luma.clone(),
        );
        let half = full.downscale(2);
        let global = half.stats(half.full(), 2);
        let mut seen: Vec<Seen> = Vec::new();

        let mut attempts: Vec<Attempt> = Vec::with_capacity(8);
        if let Some(m) = self.memory {
            attempts.push(Attempt::Region("memory", m.rect, factor_for(m.module)));
        }
        attempts.push(Attempt::Whole("half-hybrid", 2, Bin::Hybrid));
        attempts.push(Attempt::Whole("quarter-hybrid", 4, Bin::Hybrid));
        attempts.push(Attempt::Seen);
        attempts.push(Attempt::Whole("full-hybrid", 1, Bin::Hybrid));
        attempts.push(Attempt::Whole("half-mean", 2, Bin::Mean(10, 4)));
        attempts.push(Attempt::Whole("full-mean", 1, Bin::Mean(16, 4)));

        let mut found: Option<(Vec<u8>, Corners, &'static str)> = None;
        let mut done_regions: Vec<Rect> = Vec::new();
        let mut i = 0;
        while i < attempts.len() {
            let a = attempts[i].clone();
            i += 1;
            if self.stats.attempts >= 2
                && let Some(b) = self.config.budget_ms
                && self.clock.now_ms() - t0 > b
            {
                break;
            }
            let passes: Vec<(&'static str, Pass)> = match a {
                Attempt::Whole(name, f, bin) => {
                    let img = match f {
                        1 => full.clone(),
                        2 => half.clone(),
                        _ => half.downscale(f / 2),
                    };
                    vec![(name, run_pass(img, f as f32, 0.0, 0.0, bin, true))]
                }
                Attempt::Region(name, r, f) => {
                    done_regions.push(r);
                    let img = full.crop(r, f);
                    vec![(
                        name,
                        run_pass(img, f as f32, r.x0 as f32, r.y0 as f32, Bin::Hybrid, false),
                    )]
                }
                Attempt::Seen => {
                    let mut out = Vec::new();
                    for s in pick_regions(&seen, full.w, full.h) {
                        if done_regions.iter().any(|d| overlap(d, &s.rect) > 0.7) {
                            continue;
                        }
                        done_regions.push(s.rect);
                        let f = factor_for(s.module);
                        let img = full.crop(s.rect, f);
                        out.push((
                            "seen-region",
                            run_pass(
                                img,
                                f as f32,
                                s.rect.x0 as f32,
                                s.rect.y0 as f32,
                                Bin::Hybrid,
                                false,
                            ),
                        ));
                        let img = full.crop(s.rect, f);
                        out.push((
                            "seen-region-mean",
                            run_pass(
                                img,
                                f as f32,
                                s.rect.x0 as f32,
                                s.rect.y0 as f32,
                                Bin::Mean(((s.module / f as f32) * 4.0) as usize + 2, 2),
                                false,
                            ),
                        ));
                    }
                    out
                }
            };
            for (name, p) in passes {
                self.stats.attempts += 1;
                if p.panicked {
                    self.stats.panics += 1;
                    self.total_panics += 1;
                }
                seen.extend(p.seen.into_iter().filter_map(|mut s| {
                    s.rect = s.rect.clip(full.w, full.h);
                    (s.rect.w() >= 16 && s.rect.h() >= 16).then_some(s)
                }));
                if found.is_none()
                    && let Some((bytes, corners)) = pick(p.decoded)
                {
                    found = Some((bytes, corners, name));
                }
            }
            if found.is_some() {
                break;
            }
        }

        let result = match found {
            Some((bytes, corners, name)) => {
                self.stats.decoded_by = Some(name);
                if bytes.starts_with(quickcard::PREFIX.as_bytes()) {
                    let rect = rect_around(&corners, full.w, full.h, 0.6);
                    let module = (rect.w().max(rect.h()) as f32 / 1.6) / 45.0;
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
        self.stats.ms = self.clock.now_ms() - t0;
        result
    }
}

#[derive(Debug, Clone, Copy)]
enum Bin {
    Hybrid,
    /// Window radius, bias.
    Mean(usize, i32),
}

#[derive(Debug, Clone)]
enum Attempt {
    /// The whole frame downscaled by a factor.
    Whole(&'static str, usize, Bin),
    /// A region of the full frame, downscaled by a factor.
    Region(&'static str, Rect, usize),
    /// Regions where earlier attempts saw a code but could not read it.
    Seen,
}

/// Downscale factor that leaves about 4–6 pixels per module.
fn factor_for(module: f32) -> usize {
    ((module / 4.0).floor() as usize).clamp(1, 4)
}

fn overlap(a: &Rect, b: &Rect) -> f32 {
    let x0 = a.x0.max(b.x0);
    let x1 = a.x1.min(b.x1);
    let y0 = a.y0.max(b.y0);
    let y1 = a.y1.min(b.y1);
    if x1 <= x0 || y1 <= y0 {
        return 0.0;
    }
    let i = ((x1 - x0) * (y1 - y0)) as f32;
    i / ((b.w() * b.h()) as f32).max(1.0)
}

/// The bounding box of some corners, grown by `grow` of its size on each side, inside the frame.
fn rect_around(c: &Corners, w: usize, h: usize, grow: f32) -> Rect {
    let xs = c.iter().map(|p| p.x);
    let ys = c.iter().map(|p| p.y);
    let (x0, x1) = xs.fold((f32::MAX, f32::MIN), |(a, b), v| (a.min(v), b.max(v)));
    let (y0, y1) = ys.fold((f32::MAX, f32::MIN), |(a, b), v| (a.min(v), b.max(v)));
    let gw = (x1 - x0) * grow;
    let gh = (y1 - y0) * grow;
    let g = gw.max(gh);
    let r = Rect {
        x0: (x0 - g).max(0.0) as usize,
        y0: (y0 - g).max(0.0) as usize,
        x1: ((x1 + g).max(0.0) as usize).min(w),
        y1: ((y1 + g).max(0.0) as usize).min(h),
    };
    if r.x1 <= r.x0 + 8 || r.y1 <= r.y0 + 8 {
        return Rect {
            x0: 0,
            y0: 0,
            x1: w,
            y1: h,
        };
    }
    r
}

/// Prefers a QuickCard when several codes were read.
fn pick(mut decoded: Vec<(Vec<u8>, Corners)>) -> Option<(Vec<u8>, Corners)> {
    if let Some(i) = decoded
        .iter()
        .position(|(b, _)| b.starts_with(quickcard::PREFIX.as_bytes()))
    {
        return Some(decoded.swap_remove(i));
    }
    decoded.into_iter().next()
}

/// Up to two distinct regions worth a closer look, biggest evidence first.
fn pick_regions(seen: &[Seen], w: usize, h: usize) -> Vec<Seen> {
    let mut out: Vec<Seen> = Vec::new();
    for s in seen {
        if out.iter().any(|o| overlap(&o.rect, &s.rect) > 0.5) {
            continue;
        }
        let _ = (w, h);
        out.push(*s);
        if out.len() == 2 {
            break;
        }
    }
    out
}

/// Binarises, runs rqrr (panics contained) and the finder spotter over one image whose pixel
/// (x, y) is frame pixel (ox + x·scale, oy + y·scale).
fn run_pass(mut img: Gray, scale: f32, ox: f32, oy: f32, bin: Bin, finders: bool) -> Pass {
    let mut pass = Pass::default();
    if img.w < 21 || img.h < 21 {
        return pass;
    }
    let st = img.stats(img.full(), 3);
    img.stretch(st.lo, st.hi);
    let bits = match bin {
        Bin::Hybrid => binarize::hybrid(&img),
        Bin::Mean(r, bias) => binarize::local_mean(&img, r.max(2), bias),
    };
    let to_frame = |x: f32, y: f32| Point::new(ox + x * scale, oy + y * scale);
    let (w, h) = (img.w, img.h);
    let res = catch_unwind(AssertUnwindSafe(|| {
        let mut prepared = rqrr::PreparedImage::prepare_from_bitmap(w, h, |x, y| bits[y * w + x]);
        let grids = prepared.detect_grids();
        let mut out = Vec::new();
        for g in grids {
            let mut bytes = Vec::new();
            let ok = g.decode_to(&mut bytes).is_ok();
            let size = rqrr::BitGrid::size(&g.grid);
            out.push((ok.then_some(bytes), g.bounds, size));
        }
        out
    }));
    match res {
        Ok(grids) => {
            for (bytes, b, size) in grids {
                let corners: Corners = [0, 1, 2, 3].map(|i| to_frame(b[i].x as f32, b[i].y as f32));
                match bytes {
                    Some(bytes) => pass.decoded.push((bytes, corners)),
                    None => {
                        let rect = rect_around(&corners, usize::MAX, usize::MAX, 0.15);
                        let side = ((rect.w().max(rect.h())) as f32) / 1.3;
                        pass.seen.push(Seen {
                            rect,
                            module: side / size.max(21) as f32,
                        });
                    }
                }
            }
        }
        Err(_) => pass.panicked = true,
    }
    if finders && pass.decoded.is_empty() {
        let fs = finder::find(&bits, w, h, 1);
        // Three finders of similar module size, roughly where a code's corners would be.
        let good: Vec<_> = fs.iter().filter(|f| f.hits >= 2).collect();
        for (i, a) in good.iter().enumerate() {
            let mates: Vec<_> = good
                .iter()
                .enumerate()
                .filter(|(j, b)| {
                    *j != i && {
                        let r = a.module / b.module;
                        let d = ((a.x - b.x).powi(2) + (a.y - b.y).powi(2)).sqrt();
                        (0.6..1.66).contains(&r) && d > a.module * 12.0 && d < a.module * 70.0
                    }
                })
                .map(|(_, b)| *b)
                .collect();
            if mates.len() < 2 && !(mates.len() == 1 && good.len() == 2) {
                continue;
            }
            let pts: Vec<Point> = std::iter::once(*a)
                .chain(mates.iter().copied())
                .map(|f| to_frame(f.x, f.y))
                .collect();
            let module = a.module * scale;
            let x0 = pts.iter().map(|p| p.x).fold(f32::MAX, f32::min) - module * 8.0;
            let x1 = pts.iter().map(|p| p.x).fold(f32::MIN, f32::max) + module * 8.0;
            let y0 = pts.iter().map(|p| p.y).fold(f32::MAX, f32::min) - module * 8.0;
            let y1 = pts.iter().map(|p| p.y).fold(f32::MIN, f32::max) + module * 8.0;
            let c = [
                Point::new(x0, y0),
                Point::new(x1, y0),
                Point::new(x1, y1),
                Point::new(x0, y1),
            ];
            pass.seen.push(Seen {
                rect: rect_around(&c, usize::MAX, usize::MAX, 0.05),
                module,
            });
            break;
        }
    }
    pass
}

/// Turns what was seen into one instruction.
fn diagnose(full: &Gray, global: &gray::Stats, seen: &[Seen]) -> Hint {
    if let Some(s) = seen.first() {
        let r = Rect {
            x0: s.rect.x0.min(full.w - 1),
            y0: s.rect.y0.min(full.h - 1),
            x1: s.rect.x1.min(full.w),
            y1: s.rect.y1.min(full.h),
        };
        if r.w() < 4 || r.h() < 4 {
            return Hint::SeenNotReadable;
        }
        let st = full.stats(r, 2);
        if s.module < 2.2 {
            return Hint::ComeCloser;
        }
        if st.hi < 70 || st.mean < 45.0 {
            return Hint::TooDark;
        }
        if st.saturated > 0.06 {
            return Hint::TooBright;
        }
        if full.sharpness(r) < 0.12 {
            return Hint::HoldStill;
        }
        return Hint::SeenNotReadable;
    }
    if global.hi < 50 || global.mean < 30.0 {
        return Hint::TooDark;
    }
    if global.saturated > 0.35 {
        return Hint::TooBright;
    }
    Hint::NoCode
}
