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
use crate::platform::scan_bridge::outcome_of;
use crate::platform::{Camera, CameraEvent, Clock, Preview};
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
mod tests {
    use std::cell::Cell;
    use std::collections::VecDeque;

    use super::*;
    use crate::platform::ScanOutcome;
    use crate::platform::scan_bridge::preview_of;
    use crate::scanner::{Frame, ReplaySource, ScanConfig};

    #[derive(Debug, Clone, Default)]
    struct ManualClock(Rc<Cell<u64>>);

    impl Clock for ManualClock {
        fn unix_secs(&self) -> u64 {
            1_780_000_000
        }
        fn now_ms(&self) -> u64 {
            self.0.get()
        }
    }

    /// Replayed frames; counts pictures grabbed for the worker and frames taken inline.
    struct Source {
        replay: ReplaySource,
        grabs: Rc<Cell<u32>>,
        inline: Rc<Cell<u32>>,
    }

    impl FrameSource for Source {
        fn next_frame(&mut self) -> Result<Option<Frame>, SourceError> {
            self.inline.set(self.inline.get() + 1);
            self.replay.next_frame()
        }
        fn describe(&self) -> String {
            "test frames".into()
        }
    }

    impl RgbaSource for Source {
        type Data = Frame;
        fn next_rgba(&mut self) -> Result<Option<Rgba<Frame>>, SourceError> {
            self.grabs.set(self.grabs.get() + 1);
            Ok(self.replay.next_frame()?.map(|f| Rgba {
                width: f.width,
                height: f.height,
                data: f,
            }))
        }
    }

    /// The test's side of a channel: what was sent, what to answer, the state to report.
    #[derive(Default)]
    struct Remote {
        state: Option<ChannelState>,
        sent: VecDeque<Frame>,
        replies: VecDeque<Reply>,
        restarts: Vec<String>,
    }

    impl Remote {
        /// Scans the oldest frame sent with a real scanner, as the worker does.
        fn answer(&mut self, scanner: &mut Scanner) {
            let frame = self.sent.pop_front().expect("a frame in flight");
            let reply = Reply::Scanned {
                result: scanner.scan(&frame),
                preview: Some(preview_of(&frame)),
                scan_ms: 7.0,
            };
            // Through the bytes, as the browser does.
            let Reply::Scanned { result, .. } = &reply else {
                unreachable!()
            };
            assert_eq!(decode_result(&encode_result(result)).as_ref(), Some(result));
            self.replies.push_back(reply);
        }
    }

    #[derive(Clone, Default)]
    struct Channel(Rc<RefCell<Remote>>);

    impl ScanChannel for Channel {
        type Data = Frame;
        fn state(&mut self, _now_ms: u64) -> ChannelState {
            self.0.borrow().state.clone().unwrap_or(ChannelState::Ready)
        }
        fn send(&mut self, frame: Rgba<Frame>) -> Result<(), String> {
            self.0.borrow_mut().sent.push_back(frame.data);
            Ok(())
        }
        fn receive(&mut self) -> Option<Reply> {
            self.0.borrow_mut().replies.pop_front()
        }
        fn restart(&mut self, why: &str) {
            let mut r = self.0.borrow_mut();
            r.restarts.push(why.into());
            r.sent.clear();
        }
    }

    /// Every attempt runs: the default budget is wall-clock time, and this crate's tests are
    /// unoptimised on busy machines.
    fn unbudgeted() -> Scanner {
        Scanner::new(ScanConfig {
            budget_ms: None,
            ..ScanConfig::default()
        })
    }

    fn card_frame(text: &str) -> Frame {
        let code = qrcode::QrCode::new(text.as_bytes()).unwrap();
        let modules = code.width();
        let colors = code.to_colors();
        let (scale, quiet) = (8usize, 4usize);
        let side = (modules + 2 * quiet) * scale;
        let (w, h) = (640usize, 480usize);
        let mut luma = vec![255u8; w * h];
        let (ox, oy) = ((w - side) / 2, (h - side) / 2);
        for (i, c) in colors.iter().enumerate() {
            if *c == qrcode::Color::Dark {
                let (mx, my) = (i % modules + quiet, i / modules + quiet);
                for dy in 0..scale {
                    for dx in 0..scale {
                        luma[(oy + my * scale + dy) * w + ox + mx * scale + dx] = 0;
                    }
                }
            }
        }
        Frame::from_luma(w as u32, h as u32, luma).unwrap()
    }

    struct Rig {
        clock: ManualClock,
        remote: Rc<RefCell<Remote>>,
        grabs: Rc<Cell<u32>>,
        inline: Rc<Cell<u32>>,
        cam: OffThreadCamera<Source, Channel>,
        scanner: Scanner,
    }

    fn rig(text: &str) -> Rig {
        let clock = ManualClock::default();
        let (grabs, inline) = (Rc::new(Cell::new(0)), Rc::new(Cell::new(0)));
        let source = Source {
            replay: ReplaySource::from_frames(vec![card_frame(text)], "test")
                .unwrap()
                .looping(true),
            grabs: grabs.clone(),
            inline: inline.clone(),
        };
        let channel = Channel::default();
        let remote = channel.0.clone();
        let cam = OffThreadCamera::new(source, channel, Box::new(clock.clone()))
            .interval_ms(100)
            .fallback_scanner(unbudgeted());
        Rig {
            clock,
            remote,
            grabs,
            inline,
            cam,
            scanner: unbudgeted(),
        }
    }

    impl Rig {
        fn at(&mut self, ms: u64) -> Option<CameraEvent> {
            self.clock.0.set(ms);
            self.cam.poll()
        }
        fn answer(&mut self) {
            self.remote.borrow_mut().answer(&mut self.scanner);
        }
        fn in_flight(&self) -> usize {
            self.remote.borrow().sent.len()
        }
    }

    #[test]
    fn one_frame_in_flight_and_the_answer_goes_through_outcome_of() {
        let mut r = rig("QC:TESTCARD");
        // The first poll sends a frame and has nothing to report yet.
        assert!(r.at(0).is_none());
        assert_eq!((r.grabs.get(), r.in_flight()), (1, 1));
        // While it is in flight nothing newer is grabbed, however long it takes.
        for t in [16, 100, 250, 900] {
            assert!(r.at(t).is_none());
        }
        assert_eq!((r.grabs.get(), r.in_flight()), (1, 1));
        r.answer();
        match r.at(950) {
            Some(CameraEvent::Scanned { outcome, preview }) => {
                assert_eq!(outcome, ScanOutcome::Card("QC:TESTCARD".into()));
                let p = preview.unwrap();
                assert_eq!((p.width, p.height), (640, 480));
            }
            other => panic!("unexpected {other:?}"),
        }
        // The same poll sent the next frame (the interval had passed).
        assert_eq!((r.grabs.get(), r.in_flight()), (2, 1));
        r.answer();
        // An answer within the interval: reported, but the next frame waits for the interval.
        assert!(matches!(r.at(990), Some(CameraEvent::Scanned { .. })));
        assert_eq!(r.in_flight(), 0);
        assert!(r.at(1049).is_none());
        assert_eq!(r.in_flight(), 0);
        assert!(r.at(1050).is_none());
        assert_eq!(r.in_flight(), 1);
        let times = r.cam.times();
        let t = times.borrow();
        assert_eq!((t.frames, t.worker_frames, t.inline_frames), (2, 2, 0));
        assert_eq!(t.place, ScanPlace::Worker);
        assert_eq!(t.scan_median_ms(), Some(7.0));
        assert_eq!(r.inline.get(), 0, "nothing was scanned on the UI thread");
    }

    #[test]
    fn nothing_is_sent_while_the_worker_starts_or_the_screen_does_not_scan() {
        let mut r = rig("hello");
        r.remote.borrow_mut().state = Some(ChannelState::Starting);
        assert!(r.at(0).is_none());
        assert!(r.at(200).is_none());
        // Pictures are grabbed (camera problems show at once), none is sent.
        assert_eq!((r.grabs.get(), r.in_flight()), (2, 0));
        r.remote.borrow_mut().state = None;
        assert!(r.at(300).is_none());
        assert_eq!(r.in_flight(), 1);
        // The screen left scanning while the frame was out: its answer is dropped.
        r.cam.set_active(false);
        r.answer();
        assert!(r.at(400).is_none());
        assert!(r.at(1000).is_none());
        assert_eq!((r.grabs.get(), r.in_flight()), (3, 0));
        r.cam.set_active(true);
        assert!(r.at(1100).is_none());
        r.answer();
        // A foreign QR code goes to the core as text (it shows "not a school card").
        match r.at(1150) {
            Some(CameraEvent::Scanned { outcome, .. }) => {
                assert_eq!(outcome, ScanOutcome::Card("hello".into()))
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn lost_and_stuck_frames_do_not_stop_scanning() {
        let mut r = rig("QC:X");
        r.at(0);
        r.remote.borrow_mut().sent.clear();
        r.remote
            .borrow_mut()
            .replies
            .push_back(Reply::Lost("crashed".into()));
        assert!(r.at(150).is_none());
        assert_eq!((r.grabs.get(), r.in_flight()), (2, 1));
        // No answer at all: given up after STUCK_MS and the worker restarted.
        assert!(r.at(150 + STUCK_MS - 1).is_none());
        assert!(r.remote.borrow().restarts.is_empty());
        assert!(r.at(150 + STUCK_MS).is_none());
        assert_eq!(r.remote.borrow().restarts.len(), 1);
        assert!(r.at(250 + STUCK_MS).is_none());
        assert_eq!((r.grabs.get(), r.in_flight()), (3, 1));
    }

    #[test]
    fn an_unusable_worker_means_scanning_on_the_ui_thread() {
        let mut r = rig("QC:INLINE");
        r.remote.borrow_mut().state = Some(ChannelState::Unusable("no module workers".into()));
        match r.at(0) {
            Some(CameraEvent::Scanned { outcome, .. }) => {
                assert_eq!(outcome, ScanOutcome::Card("QC:INLINE".into()))
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!((r.grabs.get(), r.inline.get()), (0, 1));
        // Sampled as before: not again within the sampled camera's interval.
        assert!(r.at(50).is_none());
        let times = r.cam.times();
        let t = times.borrow();
        assert_eq!(t.place, ScanPlace::Inline);
        assert_eq!((t.worker_frames, t.inline_frames), (0, 1));
    }

    #[test]
    fn results_survive_the_trip_as_bytes() {
        let corners = [
            Point::new(1.5, 2.0),
            Point::new(100.25, 3.0),
            Point::new(99.0, 101.0),
            Point::new(-0.5, 98.75),
        ];
        let cases = vec![
            ScanResult::Card(FoundCode {
                bytes: b"QC:ABC".to_vec(),
                corners,
            }),
            ScanResult::Card(FoundCode {
                bytes: vec![],
                corners,
            }),
            ScanResult::Hint(Hint::NotQuickCard {
                text: "https://library.example.org/ü".into(),
                corners,
            }),
            ScanResult::Hint(Hint::NoCode),
            ScanResult::Hint(Hint::ComeCloser),
            ScanResult::Hint(Hint::TooDark),
            ScanResult::Hint(Hint::TooBright),
            ScanResult::Hint(Hint::HoldStill),
            ScanResult::Hint(Hint::SeenNotReadable),
        ];
        for r in cases {
            assert_eq!(decode_result(&encode_result(&r)), Some(r));
        }
        for bad in [&[][..], &[9], &[0, 1, 2], &[1, 0]] {
            assert_eq!(decode_result(bad), None, "{bad:?}");
        }
    }
}
