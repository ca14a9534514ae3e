//! The scan worker's page side, driven natively with a scripted worker.

use std::cell::Cell;
use std::collections::VecDeque;

use super::*;
use crate::app::ports::ScanOutcome;
use crate::platform::scan_bridge::preview_of;
use crate::platform::web::test_support::{ManualClock, card_frame, unbudgeted};
use crate::scanner::{Frame, ReplaySource};

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
    // A foreign QR code goes to the core as the scanner's hint (it shows "not a school card").
    match r.at(1150) {
        Some(CameraEvent::Scanned { outcome, .. }) => {
            assert!(
                matches!(outcome, ScanOutcome::Hint(Hint::NotQuickCard { ref text, .. }) if text == "hello"),
                "{outcome:?}"
            )
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
