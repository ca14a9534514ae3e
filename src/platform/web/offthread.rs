//! Scanning off the UI thread: the page grabs camera frames, a worker scans them.
//!
//! Why: a frame can take 40–50 ms of scanning (the scanner's 25 ms budget plus the attempt
//! under way when it runs out), and while the page's own thread scans, the page cannot draw.
//! In a Web Worker it can. [`OffThreadCamera`] is the UI side: at most every
//! [`WORKER_INTERVAL_MS`] it grabs a picture (RGBA, in the browser still outside wasm memory),
//! hands it to a [`ScanChannel`] (the browser's is a module worker running this same wasm
//! module: `worker.rs`) and keeps at most one frame in flight. While the worker is busy no
//! newer frame is grabbed, so the frame scanned next is always the newest. The worker's answer
//! becomes the core's [`CameraEvent`] through [`outcome_of`], as on every other camera.
//!
//! When the channel says it cannot work (the browser's: the worker never started), the camera
//! falls back to a [`SampledCamera`] on the same source: scanning on the UI thread, sampled.
//! Generic over source and channel, so native tests drive it with real frames and a channel
//! that answers when the test says so.
//!
//! The scanner's answer crosses the channel as bytes ([`encode_result`], [`decode_result`]:
//! a tag, the code's corners, the payload), so both sides hold the same [`ScanResult`].

use std::cell::RefCell;
use std::rc::Rc;

use web_time::Instant;

use super::sampled::{SampledCamera, ScanPlace, ScanTimes};
use crate::app::ports::{Camera, CameraEvent, Clock, Preview};
use crate::platform::scan_bridge::outcome_of;
use crate::scanner::{FoundCode, FrameSource, Hint, Point, ScanResult, Scanner, SourceError};

/// Least time between two frames sent to the worker: up to 10 scans a second. The UI thread
/// only grabs (a few ms a frame); the interval bounds the worker's share of a Chromebook's
/// CPU (frames without a card take the scanner's whole budget).
pub const WORKER_INTERVAL_MS: u64 = 100;

/// A frame in flight for this long is given up and the worker started again.
pub const STUCK_MS: u64 = 10_000;

/// One grabbed picture: `width * height * 4` bytes of RGBA in `data`, not yet scanned.
#[derive(Debug)]
pub struct Rgba<D> {
    pub width: u32,
    pub height: u32,
    pub data: D,
}

/// A camera that hands out pictures as they are grabbed, without converting them (the
/// browser: the `ImageData`'s buffer, which is transferred to the worker, not copied), and
/// frames for scanning on the UI thread when there is no worker.
pub trait RgbaSource: FrameSource {
    type Data;
    /// Like [`FrameSource::next_frame`]: `Ok(None)` while there is no picture yet.
    fn next_rgba(&mut self) -> Result<Option<Rgba<Self::Data>>, SourceError>;
}

/// A scan worker's answer to the frame in flight.
#[derive(Debug)]
pub enum Reply {
    Scanned {
        result: ScanResult,
        preview: Option<Preview>,
        /// Time the worker took (conversion and scan).
        scan_ms: f64,
    },
    /// The frame was not scanned (the worker failed on it or was restarted).
    Lost(String),
}

/// Whether a channel takes frames.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChannelState {
    /// Loading, or starting again after a crash.
    Starting,
    Ready,
    /// It will not work here (why): scan on the UI thread instead.
    Unusable(String),
}

/// The way to a scanner on another thread.
pub trait ScanChannel {
    type Data;
    fn state(&mut self, now_ms: u64) -> ChannelState;
    /// Hands a frame over (the camera sends one at a time, and only when `Ready`).
    fn send(&mut self, frame: Rgba<Self::Data>) -> Result<(), String>;
    /// The answer to the frame in flight, once it is there.
    fn receive(&mut self) -> Option<Reply>;
    /// Gives up on the frame in flight and starts the scanner again.
    fn restart(&mut self, why: &str);
}

struct InFlight {
    sent_ms: u64,
    grab_ms: f64,
}

struct Worker<S, C> {
    source: S,
    channel: C,
    clock: Box<dyn Clock>,
    in_flight: Option<InFlight>,
    last_grab_ms: Option<u64>,
    last_error: Option<SourceError>,
}

enum Place<S: FrameSource, C> {
    Worker(Worker<S, C>),
    Inline(SampledCamera<S>),
    /// Only while moving from `Worker` to `Inline`.
    Switching,
}

/// Frames grabbed on the UI thread, scanned through a [`ScanChannel`]; on the UI thread
/// (a [`SampledCamera`]) if the channel is unusable.
pub struct OffThreadCamera<S: RgbaSource, C: ScanChannel<Data = S::Data>> {
    place: Place<S, C>,
    active: bool,
    interval_ms: u64,
    times: Rc<RefCell<ScanTimes>>,
    fallback_scanner: Option<Scanner>,
}

impl<S: RgbaSource, C: ScanChannel<Data = S::Data>> std::fmt::Debug for OffThreadCamera<S, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OffThreadCamera")
            .field("source", &self.describe())
            .field("place", &self.times.borrow().place)
            .finish_non_exhaustive()
    }
}

impl<S: RgbaSource, C: ScanChannel<Data = S::Data>> OffThreadCamera<S, C> {
    /// Scans `source`'s frames through `channel`, at most one every [`WORKER_INTERVAL_MS`].
    pub fn new(source: S, channel: C, clock: Box<dyn Clock>) -> OffThreadCamera<S, C> {
        let times: Rc<RefCell<ScanTimes>> = Rc::default();
        times.borrow_mut().place = ScanPlace::Worker;
        OffThreadCamera {
            place: Place::Worker(Worker {
                source,
                channel,
                clock,
                in_flight: None,
                last_grab_ms: None,
                last_error: None,
            }),
            active: true,
            interval_ms: WORKER_INTERVAL_MS,
            times,
            fallback_scanner: None,
        }
    }

    /// Sets the least time between two frames sent.
    pub fn interval_ms(mut self, ms: u64) -> OffThreadCamera<S, C> {
        self.interval_ms = ms;
        self
    }

    /// The scanner to use on the UI thread if the channel turns out unusable (default: the
    /// kiosk's, [`ScanConfig::default`](crate::scanner::ScanConfig)).
    pub fn fallback_scanner(mut self, scanner: Scanner) -> OffThreadCamera<S, C> {
        self.fallback_scanner = Some(scanner);
        self
    }

    /// Frame and scan times and where frames are scanned, shared (the page publishes them).
    pub fn times(&self) -> Rc<RefCell<ScanTimes>> {
        self.times.clone()
    }

    /// Scanning on the UI thread from now on, on the same source.
    fn fall_back(&mut self, why: &str) {
        let Place::Worker(w) = std::mem::replace(&mut self.place, Place::Switching) else {
            return;
        };
        tracing::warn!(%why, "no scan worker: scanning on the UI thread");
        let mut cam = SampledCamera::new(w.source, w.clock).with_times(self.times.clone());
        if let Some(scanner) = self.fallback_scanner.take() {
            cam = cam.with_scanner(scanner);
        }
        cam.set_active(self.active);
        self.place = Place::Inline(cam);
    }
}

impl<S: RgbaSource, C: ScanChannel<Data = S::Data>> Camera for OffThreadCamera<S, C> {
    fn poll(&mut self) -> Option<CameraEvent> {
        let w = match &mut self.place {
            Place::Inline(cam) => return cam.poll(),
            Place::Switching => return None,
            Place::Worker(w) => w,
        };
        let now = w.clock.now_ms();
        let ready = match w.channel.state(now) {
            ChannelState::Unusable(why) => {
                self.fall_back(&why);
                return self.poll();
            }
            ChannelState::Starting => {
                // A worker starting (again) has nothing of ours.
                w.in_flight = None;
                false
            }
            ChannelState::Ready => true,
        };
        let mut event = None;
        while let Some(reply) = w.channel.receive() {
            let Some(sent) = w.in_flight.take() else {
                continue;
            };
            if let Reply::Scanned {
                result,
                preview,
                scan_ms,
            } = reply
            {
                self.times
                    .borrow_mut()
                    .push(sent.grab_ms, scan_ms, ScanPlace::Worker);
                // A frame from before the scanning screen was left is of no use to the core.
                if self.active {
                    event = Some(CameraEvent::Scanned {
                        outcome: outcome_of(result),
                        preview,
                    });
                }
            }
        }
        if !self.active {
            return event;
        }
        if let Some(sent) = &w.in_flight {
            if now.saturating_sub(sent.sent_ms) >= STUCK_MS {
                w.channel
                    .restart(&format!("no answer for {} s", STUCK_MS / 1000));
                w.in_flight = None;
            }
            return event;
        }
        if w.last_grab_ms
            .is_some_and(|t| now.saturating_sub(t) < self.interval_ms)
        {
            return event;
        }
        let t0 = Instant::now();
        match w.source.next_rgba() {
            Ok(Some(rgba)) => {
                w.last_error = None;
                w.last_grab_ms = Some(now);
                // While the worker starts, pictures are grabbed (and dropped) only so that
                // camera problems show at once.
                if ready {
                    match w.channel.send(rgba) {
                        Ok(()) => {
                            w.in_flight = Some(InFlight {
                                sent_ms: now,
                                grab_ms: t0.elapsed().as_secs_f64() * 1000.0,
                            })
                        }
                        Err(why) => w.channel.restart(&why),
                    }
                }
            }
            Ok(None) => {}
            Err(e) => {
                // Report each problem once, as the sampled camera does; one event per poll.
                w.last_grab_ms = Some(now);
                if event.is_none() && w.last_error.as_ref() != Some(&e) {
                    event = Some(CameraEvent::Failed {
                        code: e.code(),
                        message: e.to_string(),
                        transient: e.is_transient(),
                    });
                    w.last_error = Some(e);
                }
            }
        }
        event
    }

    fn set_active(&mut self, active: bool) {
        self.active = active;
        if let Place::Inline(cam) = &mut self.place {
            cam.set_active(active);
        }
    }

    fn describe(&self) -> String {
        match &self.place {
            Place::Worker(w) => w.source.describe(),
            Place::Inline(cam) => cam.describe(),
            Place::Switching => String::new(),
        }
    }
}

// The scanner's result as bytes: tag, then for codes the four corners (x, y as f32, little
// endian) and the payload.
const TAG_CARD: u8 = 0;
const TAG_NOT_QUICKCARD: u8 = 7;
const CORNERS_LEN: usize = 4 * 2 * 4;

fn hint_tag(h: &Hint) -> u8 {
    match h {
        Hint::NoCode => 1,
        Hint::ComeCloser => 2,
        Hint::TooDark => 3,
        Hint::TooBright => 4,
        Hint::HoldStill => 5,
        Hint::SeenNotReadable => 6,
        Hint::NotQuickCard { .. } => TAG_NOT_QUICKCARD,
    }
}

/// `result` as bytes for the trip from the worker to the page.
pub fn encode_result(result: &ScanResult) -> Vec<u8> {
    let coded = |tag: u8, corners: &[Point; 4], payload: &[u8]| {
        let mut out = Vec::with_capacity(1 + CORNERS_LEN + payload.len());
        out.push(tag);
        for p in corners {
            out.extend_from_slice(&p.x.to_le_bytes());
            out.extend_from_slice(&p.y.to_le_bytes());
        }
        out.extend_from_slice(payload);
        out
    };
    match result {
        ScanResult::Card(found) => coded(TAG_CARD, &found.corners, &found.bytes),
        ScanResult::Hint(Hint::NotQuickCard { text, corners }) => {
            coded(TAG_NOT_QUICKCARD, corners, text.as_bytes())
        }
        ScanResult::Hint(h) => vec![hint_tag(h)],
    }
}

/// The [`ScanResult`] [`encode_result`] wrote; `None` if `bytes` is not one.
pub fn decode_result(bytes: &[u8]) -> Option<ScanResult> {
    let (&tag, rest) = bytes.split_first()?;
    let code = || {
        if rest.len() < CORNERS_LEN {
            return None;
        }
        let (c, payload) = rest.split_at(CORNERS_LEN);
        let f = |i: usize| f32::from_le_bytes([c[i], c[i + 1], c[i + 2], c[i + 3]]);
        let corners = [0, 1, 2, 3].map(|k| Point::new(f(k * 8), f(k * 8 + 4)));
        Some((corners, payload))
    };
    let hint = |h: Hint| rest.is_empty().then_some(ScanResult::Hint(h));
    match tag {
        TAG_CARD => code().map(|(corners, payload)| {
            ScanResult::Card(FoundCode {
                bytes: payload.to_vec(),
                corners,
            })
        }),
        TAG_NOT_QUICKCARD => code().map(|(corners, payload)| {
            ScanResult::Hint(Hint::NotQuickCard {
                text: String::from_utf8_lossy(payload).into_owned(),
                corners,
            })
        }),
        1 => hint(Hint::NoCode),
        2 => hint(Hint::ComeCloser),
        3 => hint(Hint::TooDark),
        4 => hint(Hint::TooBright),
        5 => hint(Hint::HoldStill),
        6 => hint(Hint::SeenNotReadable),
        _ => None,
    }
}

#[cfg(test)]
#[path = "offthread_tests.rs"]
mod tests;
