//! Every frame costs the scanner bounded work, whatever it shows. A lab camera looks at an empty,
//! dim or busy room most of the day; one such frame (`sample-cards/photos/pathological/`) used
//! to hold the scanner for minutes inside a single rqrr call.
//!
//! These tests count work (rqrr's deterministic work units, the spotter's candidates), never
//! time, so a fast or a loaded machine cannot make them pass or fail. Time per frame is measured
//! by the scanner benchmark (`benches/scanner.rs`: median, p99.9 and maximum).

#[path = "scanner_support/pathological.rs"]
mod pathological;

use std::path::Path;
use std::sync::Arc;

use quickcard_kiosk::scanner::{
    AttemptClock, Frame, ScanConfig, ScanResult, Scanner, binarize, decode_bitmap, finder,
    gray::Gray,
    grids::{WORK_PER_CALL, work_limit},
    replay::load_frame,
};

fn dim_empty_room() -> Frame {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sample-cards/photos/pathological/dim-empty-room.jpg");
    load_frame(&p).expect("the dim room frame loads")
}

fn every_frame() -> Vec<(String, Frame)> {
    let mut out = vec![("dim-empty-room".to_string(), dim_empty_room())];
    for (name, luma) in pathological::frames() {
        let f = Frame::from_luma(pathological::W as u32, pathological::H as u32, luma);
        out.push((name.to_string(), f.expect("size")));
    }
    out
}

/// The most one rqrr call may spend on a `w`×`h` bitmap: its limit plus what the step that
/// crosses it may add (one flood-fill row, one scratch copy, one perspective fit).
fn call_bound(w: usize, h: usize) -> u64 {
    work_limit(w, h) + (w * h) as u64 / 4 + 100_000
}

/// With no time budget the scanner makes every attempt it has (about 30 rqrr calls over a
/// 1280×720 frame, its halves, quarters and crops); each is bounded, so the frame is too.
const FRAME_BOUND_ALL_ATTEMPTS: u64 = 30 * (8 * 1280 * 720 + WORK_PER_CALL);

#[test]
fn no_frame_of_an_empty_room_costs_more_than_a_fixed_amount_of_work() {
    for (name, frame) in every_frame() {
        let mut s = Scanner::with_clock(
            ScanConfig {
                budget_ms: None,
                ..ScanConfig::default()
            },
            Box::new(AttemptClock::new(1)),
        );
        let r = s.scan(&frame);
        assert!(
            r.card().is_none(),
            "{name}: a card read from a frame without one"
        );
        let st = s.last_stats();
        assert!(
            st.work_units <= FRAME_BOUND_ALL_ATTEMPTS,
            "{name}: {} work units in {} attempts",
            st.work_units,
            st.attempts
        );
        assert_eq!(st.panics, 0, "{name}");
    }
}

#[test]
fn the_kiosk_budget_makes_a_few_bounded_attempts_on_the_dim_room() {
    // 5 ms per attempt on the test clock: the 25 ms budget allows 6 attempts.
    let clock = AttemptClock::new(5);
    let allowed = clock.attempts_within(25.0);
    let mut s = Scanner::with_clock(ScanConfig::default(), Box::new(clock));
    let r = s.scan(&dim_empty_room());
    assert!(matches!(r, ScanResult::Hint(_)));
    let st = s.last_stats();
    assert!(
        u64::from(st.attempts) <= allowed,
        "{} attempts",
        st.attempts
    );
    assert!(
        st.work_units <= allowed * call_bound(1280, 720),
        "{} work units",
        st.work_units
    );
}

/// Each generated frame, binarised as the scanner does, in single rqrr calls at the sizes the
/// scanner uses: each call stays within its bound, and the pathological ones hit the limit
/// instead of running on.
#[test]
fn every_rqrr_call_stays_within_its_work_limit() {
    let mut cut = Vec::new();
    for (name, frame) in every_frame() {
        let full = Gray::new(1280, 720, frame.luma.clone());
        for img in [full.downscale(2), full.clone()] {
            for bits in [binarize::hybrid(&img), binarize::local_mean(&img, 10, 4)] {
                let r = decode_bitmap(&bits, img.w, img.h);
                assert!(!r.panicked, "{name}");
                assert!(r.codes.is_empty(), "{name}");
                assert!(
                    r.work.units <= call_bound(img.w, img.h),
                    "{name} {}×{}: {:?}",
                    img.w,
                    img.h,
                    r.work
                );
                if r.work.exhausted {
                    cut.push(name.clone());
                }
            }
        }
    }
    // The field of finder-like squares really is pathological for rqrr: without the limit it
    // would pair hundreds of capstones. If nothing hits the limit any more, the limit is not
    // exercised here: find another frame that needs it.
    assert!(
        cut.contains(&"finder-field".to_string()),
        "cut short: {cut:?}"
    );
}

#[test]
fn the_work_limit_and_the_deadline_stop_rqrr_early_and_cleanly() {
    let (name, frame) = every_frame().swap_remove(6); // finder-field
    assert_eq!(name, "finder-field");
    let img = Gray::new(1280, 720, frame.luma);
    let bits = binarize::hybrid(&img);
    let prepared =
        || rqrr::PreparedImage::prepare_from_bitmap(1280, 720, |x, y| bits[y * 1280 + x]);

    let mut unlimited = prepared();
    let all = unlimited.detect_grids().len();
    let full_work = unlimited.work();
    assert!(!full_work.exhausted);
    assert!(full_work.capstones > 100, "{full_work:?}");

    let mut small = prepared();
    small.set_work_limit(50_000);
    let grids = small.detect_grids().len();
    let w = small.work();
    assert!(w.exhausted, "{w:?}");
    // The step that crosses the limit may add one scratch copy (w·h/16) or one fit.
    assert!(w.units <= 50_000 + 1280 * 720 / 16 + 20_000, "{w:?}");
    assert!(grids <= all);

    // A deadline that has already passed stops detection at its first check.
    let mut late = prepared();
    late.set_deadline(Arc::new(|| true));
    let _ = late.detect_grids();
    let w = late.work();
    assert!(
        w.exhausted && w.units < 8192 + 1280 * 720 / 16 + 20_000,
        "{w:?}"
    );
}

#[test]
fn the_finder_spotter_keeps_a_bounded_number_of_candidates_on_textures() {
    for (name, luma) in pathological::frames() {
        let img = Gray::new(pathological::W, pathological::H, luma);
        let bits = binarize::hybrid(&img);
        let found = finder::find(&bits, img.w, img.h, 1);
        assert!(
            found.len() <= finder::MAX_CANDIDATES,
            "{name}: {}",
            found.len()
        );
    }
}
