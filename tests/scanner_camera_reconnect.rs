//! The camera worker's recovery, through the same `FrameSource` the kiosk polls: a scripted
//! camera device (the one edge a test machine cannot have) that is missing, then busy, then
//! streams sample photos, then is unplugged mid-stream and plugged back in. The worker, its
//! retries, the frame slot, the scanner and card verification are the real ones; so are the
//! kiosk's camera thread, state machine and screens in the last test.
//!
//! Nothing here is timed: every step waits for its condition with a generous deadline (a
//! failure guard, not a speed claim), and the worker retries every 20 ms instead of every
//! second so the waits stay short.
#![cfg(feature = "camera")]

mod kiosk_support;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use quickcard::Role;
use quickcard_kiosk::app::KioskApp;
use quickcard_kiosk::app::driver::{Kiosk, Services};
use quickcard_kiosk::platform::demo_frames::with_card;
use quickcard_kiosk::platform::native::ThreadCamera;
use quickcard_kiosk::scanner::camera::{CameraSource, Capture, Device};
use quickcard_kiosk::scanner::replay::load_frame;
use quickcard_kiosk::scanner::{
    AttemptClock, Frame, FrameSource, ScanConfig, ScanResult, Scanner, SourceError,
};

use kiosk_support::*;

/// Retry interval of the worker in these tests (the real one is a second).
const RETRY: Duration = Duration::from_millis(20);
/// How long any one condition may take before the test fails. Generous on purpose: CI
/// machines are loaded.
const DEADLINE: Duration = Duration::from_secs(60);

/// What the scripted camera does now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Not plugged in: opening fails with "no camera".
    Absent,
    /// Another program has it.
    Busy,
    /// Streams frame `n` of the device's frames, about 50 per second.
    Streaming(usize),
    /// Streams frame `n`, but every other frame is a corrupt MJPEG frame.
    Glitchy(usize),
    /// The stream breaks with an unclear error and the device is gone from the system.
    Vanished,
    /// Pulled out: the open stream fails with "unplugged", and so does opening it again.
    Unplugged,
}

/// The state the test changes and observes, shared with the device in the worker thread.
struct Script {
    mode: Mutex<Mode>,
    opens: AtomicUsize,
    /// Streams opened and not yet released.
    live: AtomicUsize,
    device_dropped: AtomicBool,
}

impl Script {
    fn new(mode: Mode) -> Arc<Script> {
        Arc::new(Script {
            mode: Mutex::new(mode),
            opens: AtomicUsize::new(0),
            live: AtomicUsize::new(0),
            device_dropped: AtomicBool::new(false),
        })
    }
    fn set(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }
    fn mode(&self) -> Mode {
        *self.mode.lock().unwrap()
    }
    fn opens(&self) -> usize {
        self.opens.load(Ordering::SeqCst)
    }
    fn live(&self) -> usize {
        self.live.load(Ordering::SeqCst)
    }
}

struct ScriptDevice {
    script: Arc<Script>,
    frames: Arc<Vec<Frame>>,
}

impl Drop for ScriptDevice {
    fn drop(&mut self) {
        self.script.device_dropped.store(true, Ordering::SeqCst);
    }
}

impl Device for ScriptDevice {
    fn describe(&self) -> String {
        "scripted camera (starting)".into()
    }
    fn open(&mut self) -> Result<Box<dyn Capture>, SourceError> {
        self.script.opens.fetch_add(1, Ordering::SeqCst);
        match self.script.mode() {
            Mode::Absent => Err(SourceError::NoCamera),
            Mode::Busy => Err(SourceError::Busy),
            Mode::Unplugged | Mode::Vanished => Err(SourceError::Unplugged),
            Mode::Streaming(_) | Mode::Glitchy(_) => {
                self.script.live.fetch_add(1, Ordering::SeqCst);
                Ok(Box::new(ScriptCapture {
                    script: self.script.clone(),
                    frames: self.frames.clone(),
                    count: 0,
                }))
            }
        }
    }
    fn present(&mut self) -> bool {
        !matches!(
            self.script.mode(),
            Mode::Absent | Mode::Vanished | Mode::Unplugged
        )
    }
}

struct ScriptCapture {
    script: Arc<Script>,
    frames: Arc<Vec<Frame>>,
    count: u64,
}

impl Drop for ScriptCapture {
    fn drop(&mut self) {
        self.script.live.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Capture for ScriptCapture {
    fn describe(&self) -> String {
        "scripted camera 1280x720@50".into()
    }
    fn frame(&mut self) -> Result<Frame, SourceError> {
        // A camera blocks until its next frame.
        std::thread::sleep(Duration::from_millis(20));
        self.count += 1;
        match self.script.mode() {
            Mode::Streaming(n) => Ok(self.frames[n].clone()),
            Mode::Glitchy(n) if self.count.is_multiple_of(2) => Ok(self.frames[n].clone()),
            Mode::Glitchy(_) => Err(SourceError::Camera("corrupt MJPEG frame".into())),
            Mode::Vanished => Err(SourceError::Camera("select() timed out".into())),
            Mode::Unplugged => Err(SourceError::Unplugged),
            // Unplugged and replaced by "busy"/"absent" between two frames: the stream breaks.
            Mode::Absent | Mode::Busy => Err(SourceError::Unplugged),
        }
    }
}

fn start(mode: Mode, frames: Vec<Frame>) -> (CameraSource, Arc<Script>) {
    let script = Script::new(mode);
    let device = ScriptDevice {
        script: script.clone(),
        frames: Arc::new(frames),
    };
    (CameraSource::with_device(Box::new(device), RETRY), script)
}

fn photos() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-cards/photos")
}

fn photo(name: &str) -> Frame {
    load_frame(&photos().join(name)).expect("sample photo")
}

/// The roster id on the card in a sample photo (from the photo set's manifest).
fn subject_of(file: &str) -> String {
    let text = std::fs::read_to_string(photos().join("manifest.json")).expect("manifest");
    let m: serde_json::Value = serde_json::from_str(&text).expect("manifest parses");
    m.as_array()
        .expect("list")
        .iter()
        .find(|e| e["file"] == file)
        .and_then(|e| e["subject"].as_str())
        .expect("a card photo")
        .to_string()
}

/// Waits until `f` gives an answer; fails the test after [`DEADLINE`].
fn wait_for<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(t) = f() {
            return t;
        }
        assert!(start.elapsed() < DEADLINE, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Polls until the source reports `want`. Frames still in the slot from before may come
/// first; any other error fails.
fn wait_for_error(source: &mut CameraSource, want: SourceError, allowed: &[SourceError]) {
    wait_for(&format!("{want:?}"), || match source.next_frame() {
        Err(e) if e == want => Some(()),
        Err(e) => {
            assert!(
                allowed.contains(&e),
                "unexpected error {e:?} waiting for {want:?}"
            );
            None
        }
        Ok(_) => None,
    });
}

/// Polls and scans frames until one yields a card that verifies; returns its subject and how
/// many frames came. Errors are only allowed before the first frame (the last phase's error
/// stays until the camera is open again).
fn wait_for_verified_card(
    source: &mut CameraSource,
    before_first: &[SourceError],
) -> (String, u32) {
    let key = quickcard::IssuerKey::demo().public();
    let trust = quickcard::TrustList::new(vec![quickcard::TrustedKey::new(key, "demo")], true)
        .expect("demo trust list");
    let opts = quickcard::VerifyOptions {
        now: quickcard::time::parse("2026-11-25").expect("date"),
        skew_secs: 300,
        school: Some("sch-lincoln-elementary".into()),
        ..quickcard::VerifyOptions::default()
    };
    // As the kiosk scans (its per-frame budget), on the attempt-counting clock so a loaded
    // machine scans alike.
    let mut scanner = Scanner::with_clock(ScanConfig::default(), Box::new(AttemptClock::new(1)));
    let mut frames = 0;
    wait_for("a verified card", || match source.next_frame() {
        Ok(Some(f)) => {
            frames += 1;
            assert_eq!((f.width, f.height), (1280, 720));
            let ScanResult::Card(card) = scanner.scan(&f) else {
                return None;
            };
            let v = quickcard::verify(&card.bytes, &trust, &opts).expect("the card verifies");
            Some((v.claims.subject.to_string(), frames))
        }
        Ok(None) => None,
        Err(e) => {
            assert!(
                frames == 0 && before_first.contains(&e),
                "error {e:?} after {frames} frames"
            );
            None
        }
    })
}

/// Drops the source on another thread and waits (with the deadline) for the drop to return,
/// so a worker that does not stop fails the test instead of hanging it.
fn drop_within_deadline(source: CameraSource) {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        drop(source);
        let _ = tx.send(());
    });
    rx.recv_timeout(DEADLINE)
        .expect("dropping the camera source stops its worker");
}

#[test]
fn a_camera_missing_then_busy_then_unplugged_recovers_and_cards_flow_again() {
    let (first, second) = ("baseline-00.jpg", "rotation-02.jpg");
    let (mut source, script) = start(Mode::Absent, vec![photo(first), photo(second)]);
    assert_eq!(source.describe(), "scripted camera (starting)");

    // No camera: said clearly, and the worker keeps trying to open it.
    wait_for_error(&mut source, SourceError::NoCamera, &[]);
    wait_for("open retries", || (script.opens() >= 3).then_some(()));
    assert_eq!(source.next_frame(), Err(SourceError::NoCamera));
    assert!(SourceError::NoCamera.is_transient());

    // Another program has it.
    script.set(Mode::Busy);
    wait_for_error(&mut source, SourceError::Busy, &[SourceError::NoCamera]);
    assert_eq!(script.live(), 0);

    // It is free: frames come, and they carry a card that verifies.
    script.set(Mode::Streaming(0));
    let (subject, _) = wait_for_verified_card(&mut source, &[SourceError::Busy]);
    assert_eq!(subject, subject_of(first));
    assert_eq!(source.describe(), "scripted camera 1280x720@50");
    assert_eq!(script.live(), 1);

    // Pulled out mid-stream: reported as unplugged (no panic, no stale frames), the stream is
    // released, and the worker keeps trying.
    script.set(Mode::Unplugged);
    wait_for_error(&mut source, SourceError::Unplugged, &[]);
    assert!(SourceError::Unplugged.is_transient());
    wait_for("the stream released", || (script.live() == 0).then_some(()));
    let opens = script.opens();
    wait_for("open retries while unplugged", || {
        (script.opens() >= opens + 2).then_some(())
    });
    for _ in 0..5 {
        assert_eq!(source.next_frame(), Err(SourceError::Unplugged));
    }

    // Plugged back in: new frames flow (another card, so they are not the old ones) and the
    // card verifies.
    script.set(Mode::Streaming(1));
    let (subject, _) = wait_for_verified_card(&mut source, &[SourceError::Unplugged]);
    assert_eq!(subject, subject_of(second));
    assert_ne!(subject_of(first), subject_of(second));
    let frames = wait_for("more frames", || {
        let mut n = 0;
        while n < 3 {
            match source.next_frame() {
                Ok(Some(_)) => n += 1,
                Ok(None) => std::thread::sleep(Duration::from_millis(2)),
                Err(e) => panic!("error {e:?} while streaming again"),
            }
        }
        Some(n)
    });
    assert_eq!(frames, 3);

    // Dropping the source stops the worker: the device (owned by the worker thread) and its
    // stream are released.
    assert!(!script.device_dropped.load(Ordering::SeqCst));
    drop_within_deadline(source);
    assert!(script.device_dropped.load(Ordering::SeqCst));
    assert_eq!(script.live(), 0);
}

#[test]
fn corrupt_frames_now_and_then_are_skipped_and_a_vanished_device_is_unplugged() {
    let (mut source, script) = start(Mode::Glitchy(0), vec![photo("baseline-00.jpg")]);
    // Every other frame is corrupt: the good ones come through and no error is reported.
    let mut good = 0;
    wait_for("ten good frames between corrupt ones", || {
        match source.next_frame() {
            Ok(Some(_)) => good += 1,
            Ok(None) => {}
            Err(e) => panic!("a corrupt frame now and then is not an error: {e:?}"),
        }
        (good >= 10).then_some(())
    });
    assert_eq!(script.opens(), 1, "the stream stayed open");

    // The stream keeps failing with an unclear error and the device is gone: unplugged.
    script.set(Mode::Vanished);
    wait_for_error(&mut source, SourceError::Unplugged, &[]);
    wait_for("the stream released", || (script.live() == 0).then_some(()));

    script.set(Mode::Streaming(0));
    wait_for_verified_card(&mut source, &[SourceError::Unplugged]);
    drop_within_deadline(source);
    assert!(script.device_dropped.load(Ordering::SeqCst));
}

#[test]
fn dropping_the_source_stops_the_worker_while_it_waits_to_retry() {
    // A long retry interval: the worker is asleep between attempts when the source is dropped.
    let script = Script::new(Mode::Absent);
    let device = ScriptDevice {
        script: script.clone(),
        frames: Arc::new(vec![]),
    };
    let mut source = CameraSource::with_device(Box::new(device), Duration::from_secs(3600));
    wait_for_error(&mut source, SourceError::NoCamera, &[]);
    drop_within_deadline(source);
    assert!(script.device_dropped.load(Ordering::SeqCst));
    assert_eq!(script.opens(), 1);
}

// ----- the kiosk over the real camera thread ---------------------------------------------

fn step_until(
    h: &mut Harness<'static, KioskApp>,
    what: &str,
    mut done: impl FnMut(&Harness<'static, KioskApp>) -> bool,
) {
    let start = Instant::now();
    loop {
        h.step();
        if done(h) {
            return;
        }
        assert!(
            start.elapsed() < DEADLINE,
            "gave up waiting for {what}; screen {:?}",
            h.state().kiosk().screen().name()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn has(h: &Harness<'static, KioskApp>, label: &str) -> bool {
    h.query_all_by_label(label).next().is_some()
}

fn has_part(h: &Harness<'static, KioskApp>, part: &str) -> bool {
    h.query_all_by_label_contains(part).next().is_some()
}

#[test]
fn the_kiosk_shows_an_unplugged_camera_and_scans_again_when_it_comes_back() {
    let rig = Rig::new();
    let classroom = photo("no-code-00.jpg");
    let maya = with_card(
        &classroom,
        &card("stu-maya", Role::Student, SCHOOL, false, false),
        6,
        0,
    );
    let (source, script) = start(Mode::Streaming(0), vec![classroom, maya]);
    // The native kiosk's camera thread (scanner included) over the camera source.
    let camera = ThreadCamera::start(Box::new(source), Arc::new(|| {}));
    let services = Services {
        camera: Box::new(camera),
        ..rig.services()
    };
    let app = KioskApp::new(Kiosk::new(rig.settings(), services), true);
    let mut h = Harness::builder()
        .with_size([1280.0, 800.0])
        .build_ui_state(|ui, app: &mut KioskApp| app.show(ui), app);

    step_until(&mut h, "the scanning screen", |h| {
        // The classroom frames are scanned: the hint for "no code in view".
        h.state().kiosk().screen().name() == "scanning"
            && has(h, "Hold your card up to the camera.")
    });

    script.set(Mode::Unplugged);
    step_until(&mut h, "the camera-error screen", |h| {
        has(h, "The camera is not working.") && has_part(h, "the camera was unplugged")
    });
    assert_eq!(h.state().kiosk().screen().name(), "not-ready");

    // Plugged back in: the kiosk is back to scanning by itself.
    script.set(Mode::Streaming(0));
    step_until(&mut h, "scanning again", |h| {
        h.state().kiosk().screen().name() == "scanning"
            && has(h, "Hold your card up to the camera.")
            && !has(h, "The camera is not working.")
    });

    // And a card held up now signs in.
    script.set(Mode::Streaming(1));
    step_until(&mut h, "the dashboard", |h| has(h, "Hi, Maya!"));
    assert!(
        rig.portal
            .calls()
            .iter()
            .any(|c| c.starts_with("exchange QC:")),
        "{:?}",
        rig.portal.calls()
    );
    // Dropping the kiosk stops the camera thread, which drops the source and its worker.
    drop(h);
    assert!(script.device_dropped.load(Ordering::SeqCst));
    assert_eq!(script.live(), 0);
}
