//! The per-frame budget on the test clock.

use super::*;

/// A frame with nothing to read: the scanner goes through all its whole-frame attempts.
fn blank() -> Frame {
    Frame::from_luma(640, 360, vec![128; 640 * 360]).expect("size")
}

#[test]
fn the_budget_stops_attempts_by_the_clock_and_the_first_two_always_run() {
    let mut unlimited = Scanner::with_clock(
        ScanConfig {
            budget_ms: None,
            ..ScanConfig::default()
        },
        Box::new(AttemptClock::new(10)),
    );
    assert_eq!(unlimited.scan(&blank()), ScanResult::Hint(Hint::NoCode));
    let all = unlimited.last_stats().attempts;
    assert!(all >= 4, "{all} attempts");
    assert_eq!(unlimited.last_stats().ms, f64::from(all) * 10.0);
    for (ms, want) in [(10, 3), (12, 3), (13, 2), (30, 2), (8, 4)] {
        let clock = AttemptClock::new(ms);
        let allowed = clock.attempts_within(25.0);
        let mut s = Scanner::with_clock(ScanConfig::default(), Box::new(clock));
        assert_eq!(s.scan(&blank()), ScanResult::Hint(Hint::NoCode));
        assert_eq!(s.last_stats().attempts, want, "{ms} ms per attempt");
        assert_eq!(u64::from(want), allowed.min(u64::from(all)), "{ms} ms");
    }
}
