//! A camera scanned on the UI thread, sampled so drawing stays smooth.
//!
//! The page normally scans in a Web Worker ([`super::offthread`]); this is where frames are
//! scanned when it cannot (a browser without module workers, a worker that fails to load).
//! Then whatever the scanner spends on a frame, the page cannot draw. So instead of scanning
//! every frame the camera delivers, [`SampledCamera`] scans at most one frame per
//! [`SampledCamera::interval_ms`] (the scanner itself stops starting new attempts after its
//! per-frame budget). Between samples `poll` returns at once without touching the source. It
//! is generic over the scanner's [`FrameSource`], so the native tests drive it with the very
//! replay frames the demo uses, while the page feeds it `getUserMedia` frames.

use std::cell::RefCell;
use std::rc::Rc;

use web_time::Instant;

use crate::app::ports::{Camera, CameraEvent, Clock};
use crate::platform::scan_bridge::{outcome_of, preview_of};
use crate::scanner::{FrameSource, ScanConfig, Scanner, SourceError};

/// Default gap between two scanned frames: about 6 scans a second, each within the scanner's
/// 25 ms budget, leaves most of every second to drawing.
pub const DEFAULT_INTERVAL_MS: u64 = 160;

/// How long the last frames took: getting the frame on the UI thread (browser: `drawImage` +
/// `getImageData`) and scanning it (in the scan worker or on the UI thread), and where frames
/// were scanned. Shared, so the page can publish the numbers.
#[derive(Debug, Clone, Default)]
pub struct ScanTimes {
    grab_ms: std::collections::VecDeque<f64>,
    scan_ms: std::collections::VecDeque<f64>,
    /// Frames scanned in all.
    pub frames: u64,
    /// Of those, frames scanned off the UI thread (the page's scan worker).
    pub worker_frames: u64,
    /// Of those, frames scanned on the UI thread.
    pub inline_frames: u64,
    /// Where the next frame will be scanned.
    pub place: ScanPlace,
}

/// Where frames are scanned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ScanPlace {
    /// On the UI thread, between drawn frames.
    #[default]
    Inline,
    /// In a worker, while the UI thread draws.
    Worker,
}

impl ScanPlace {
    pub fn as_str(self) -> &'static str {
        match self {
            ScanPlace::Inline => "inline",
            ScanPlace::Worker => "worker",
        }
    }
}

impl ScanTimes {
    const KEEP: usize = 64;

    /// Records one scanned frame.
    pub fn push(&mut self, grab_ms: f64, scan_ms: f64, place: ScanPlace) {
        for (q, v) in [(&mut self.grab_ms, grab_ms), (&mut self.scan_ms, scan_ms)] {
            if q.len() == Self::KEEP {
                q.pop_front();
            }
            q.push_back(v);
        }
        self.frames += 1;
        match place {
            ScanPlace::Inline => self.inline_frames += 1,
            ScanPlace::Worker => self.worker_frames += 1,
        }
    }

    /// Median time to get a frame over the last 64 frames.
    pub fn grab_median_ms(&self) -> Option<f64> {
        median(&self.grab_ms)
    }

    /// Median scan time over the last 64 frames.
    pub fn scan_median_ms(&self) -> Option<f64> {
        median(&self.scan_ms)
    }
}

fn median(q: &std::collections::VecDeque<f64>) -> Option<f64> {
    let mut v: Vec<f64> = q.iter().copied().collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    Some(v[v.len() / 2])
}

/// A [`FrameSource`] and a [`Scanner`] polled from the UI, at most once per interval.
pub struct SampledCamera<S: FrameSource> {
    source: S,
    scanner: Scanner,
    clock: Box<dyn Clock>,
    interval_ms: u64,
    last_scan_ms: Option<u64>,
    active: bool,
    last_error: Option<SourceError>,
    scanned: u64,
    times: Rc<RefCell<ScanTimes>>,
}

impl<S: FrameSource> std::fmt::Debug for SampledCamera<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SampledCamera")
            .field("source", &self.source.describe())
            .field("interval_ms", &self.interval_ms)
            .field("scanned", &self.scanned)
            .finish_non_exhaustive()
    }
}

impl<S: FrameSource> SampledCamera<S> {
    /// Scans `source` with the default scanner settings and [`DEFAULT_INTERVAL_MS`].
    pub fn new(source: S, clock: Box<dyn Clock>) -> SampledCamera<S> {
        SampledCamera {
            source,
            scanner: Scanner::new(ScanConfig::default()),
            clock,
            interval_ms: DEFAULT_INTERVAL_MS,
            last_scan_ms: None,
            active: true,
            last_error: None,
            scanned: 0,
            times: Rc::default(),
        }
    }

    /// Scans with `scanner` (tests: one without a time budget, so a loaded machine cannot
    /// cut a read short).
    pub fn with_scanner(mut self, scanner: Scanner) -> SampledCamera<S> {
        self.scanner = scanner;
        self
    }

    /// Sets the least time between two scanned frames.
    pub fn interval_ms(mut self, ms: u64) -> SampledCamera<S> {
        self.interval_ms = ms;
        self
    }

    /// The frame and scan times, shared (the page publishes them for the benchmark).
    pub fn times(&self) -> Rc<RefCell<ScanTimes>> {
        self.times.clone()
    }

    /// Records into `times` (shared with a camera this one takes over from).
    pub fn with_times(mut self, times: Rc<RefCell<ScanTimes>>) -> SampledCamera<S> {
        times.borrow_mut().place = ScanPlace::Inline;
        self.times = times;
        self
    }

    /// How many frames were scanned so far.
    pub fn scanned(&self) -> u64 {
        self.scanned
    }
}

impl<S: FrameSource> Camera for SampledCamera<S> {
    fn poll(&mut self) -> Option<CameraEvent> {
        if !self.active {
            return None;
        }
        let now = self.clock.now_ms();
        if self
            .last_scan_ms
            .is_some_and(|t| now.saturating_sub(t) < self.interval_ms)
        {
            return None;
        }
        let t0 = Instant::now();
        match self.source.next_frame() {
            Ok(Some(frame)) => {
                let t1 = Instant::now();
                self.last_error = None;
                self.last_scan_ms = Some(now);
                self.scanned += 1;
                let outcome = outcome_of(self.scanner.scan(&frame));
                let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
                self.times
                    .borrow_mut()
                    .push(ms(t1 - t0), ms(t1.elapsed()), ScanPlace::Inline);
                Some(CameraEvent::Scanned {
                    outcome,
                    preview: Some(preview_of(&frame)),
                })
            }
            Ok(None) => None,
            Err(e) => {
                // Report each problem once; keep polling (transient errors recover by
                // themselves), but not faster than the sampling interval.
                self.last_scan_ms = Some(now);
                if self.last_error.as_ref() == Some(&e) {
                    return None;
                }
                let ev = CameraEvent::Failed {
                    code: e.code(),
                    message: e.to_string(),
                    transient: e.is_transient(),
                };
                self.last_error = Some(e);
                Some(ev)
            }
        }
    }

    fn set_active(&mut self, active: bool) {
        self.active = active;
    }

    fn describe(&self) -> String {
        self.source.describe()
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;
    use crate::app::ports::{Hint, ScanOutcome};
    use crate::platform::web::test_support::{ManualClock, card_frame, unbudgeted};
    use crate::scanner::Frame;

    /// Counts how often the camera side asked for a frame.
    struct Counting<S> {
        inner: S,
        pulls: Rc<Cell<u32>>,
    }

    impl<S: FrameSource> FrameSource for Counting<S> {
        fn next_frame(&mut self) -> Result<Option<Frame>, SourceError> {
            self.pulls.set(self.pulls.get() + 1);
            self.inner.next_frame()
        }
        fn describe(&self) -> String {
            self.inner.describe()
        }
    }

    fn replay(frames: Vec<Frame>) -> crate::scanner::ReplaySource {
        crate::scanner::ReplaySource::from_frames(frames, "test frames")
            .unwrap()
            .looping(true)
    }

    #[test]
    fn scans_at_most_once_per_interval_and_reads_the_card() {
        let clock = ManualClock::default();
        let pulls = Rc::new(Cell::new(0));
        let src = Counting {
            inner: replay(vec![card_frame("QC:TESTCARD")]),
            pulls: pulls.clone(),
        };
        let mut cam = SampledCamera::new(src, Box::new(clock.clone()))
            .with_scanner(unbudgeted())
            .interval_ms(200);

        let first = cam.poll().expect("the first poll scans a frame");
        match first {
            CameraEvent::Scanned { outcome, preview } => {
                assert_eq!(outcome, ScanOutcome::Card("QC:TESTCARD".into()));
                let p = preview.unwrap();
                assert_eq!((p.width, p.height), (640, 480));
            }
            other => panic!("unexpected {other:?}"),
        }
        // UI frames within the interval neither pull nor scan.
        for t in [16, 50, 120, 199] {
            clock.0.set(t);
            assert!(cam.poll().is_none(), "scanned again at {t} ms");
        }
        assert_eq!(pulls.get(), 1);
        clock.0.set(200);
        assert!(matches!(cam.poll(), Some(CameraEvent::Scanned { .. })));
        assert_eq!((pulls.get(), cam.scanned()), (2, 2));
        let times = cam.times();
        let t = times.borrow();
        assert_eq!((t.frames, t.inline_frames, t.worker_frames), (2, 2, 0));
        assert!(t.scan_median_ms().is_some_and(|ms| ms > 0.0));
    }

    #[test]
    fn inactive_cameras_leave_the_source_alone() {
        let clock = ManualClock::default();
        let pulls = Rc::new(Cell::new(0));
        let src = Counting {
            inner: replay(vec![card_frame("hello")]),
            pulls: pulls.clone(),
        };
        let mut cam = SampledCamera::new(src, Box::new(clock.clone())).with_scanner(unbudgeted());
        cam.set_active(false);
        clock.0.set(10_000);
        assert!(cam.poll().is_none());
        assert_eq!(pulls.get(), 0);
        cam.set_active(true);
        // A foreign QR code goes to the core as the scanner's hint (it shows "not a school card").
        match cam.poll() {
            Some(CameraEvent::Scanned { outcome, .. }) => {
                assert!(
                    matches!(outcome, ScanOutcome::Hint(Hint::NotQuickCard { ref text, .. }) if text == "hello"),
                    "{outcome:?}"
                )
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    /// A source that fails the same way until told otherwise.
    struct Failing(SourceError);

    impl FrameSource for Failing {
        fn next_frame(&mut self) -> Result<Option<Frame>, SourceError> {
            Err(self.0.clone())
        }
        fn describe(&self) -> String {
            "failing".into()
        }
    }

    #[test]
    fn each_camera_problem_is_reported_once() {
        let clock = ManualClock::default();
        let mut cam = SampledCamera::new(
            Failing(SourceError::PermissionDenied("NotAllowedError".into())),
            Box::new(clock.clone()),
        );
        match cam.poll() {
            Some(CameraEvent::Failed {
                code, transient, ..
            }) => {
                assert_eq!(code, "camera_permission");
                assert!(!transient);
            }
            other => panic!("unexpected {other:?}"),
        }
        for t in 1..20 {
            clock.0.set(t * 500);
            assert!(cam.poll().is_none());
        }
    }
}
