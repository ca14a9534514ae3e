//! How often the admin PIN may be guessed.
//!
//! The admin PIN pad is the only way out of kiosk mode, and it is on screen for anyone at the
//! kiosk: with no limit a four-digit PIN falls to a patient child (or a script on a keyboard)
//! in an afternoon. So every fifth wrong PIN in a row locks the pad, longer each time (30 s,
//! then 2 minutes, then 10 minutes for every later lock); while it is locked the pad takes no
//! digits and checks nothing. A right PIN clears the count. A lock that only grows to
//! 10 minutes still lets the technician in the same morning after a child played with the pad.
//!
//! Time is the kiosk's monotonic clock (the injected [`Clock`](crate::app::ports::Clock)), so
//! changing the wall clock does not open the pad, and tests move time by hand.

/// Wrong PINs in a row that lock the pad.
pub const WRONG_PER_LOCK: u32 = 5;

/// How long each lock lasts, in order; the last one repeats.
pub const LOCK_STEPS_MS: [u64; 3] = [30_000, 2 * 60_000, 10 * 60_000];

/// The admin PIN's attempt count and lock; lives as long as the kiosk (closing the pad does
/// not reset it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdminLock {
    /// Wrong PINs since the last lock or right PIN.
    wrong: u32,
    /// Locks since the last right PIN (which step the next lock takes).
    locks: u32,
    /// Monotonic ms until which the pad is locked.
    until_ms: u64,
}

impl AdminLock {
    /// How long the pad stays locked after `now_ms`; `None` when it is open.
    pub fn remaining_ms(&self, now_ms: u64) -> Option<u64> {
        (now_ms < self.until_ms).then(|| self.until_ms - now_ms)
    }

    /// Counts a wrong PIN at `now_ms`; returns how long the pad is now locked, when this PIN
    /// locked it.
    pub fn wrong(&mut self, now_ms: u64) -> Option<u64> {
        self.wrong += 1;
        if self.wrong < WRONG_PER_LOCK {
            return None;
        }
        let step = (self.locks as usize).min(LOCK_STEPS_MS.len() - 1);
        let lock = LOCK_STEPS_MS[step];
        self.wrong = 0;
        self.locks = self.locks.saturating_add(1);
        self.until_ms = now_ms.saturating_add(lock);
        Some(lock)
    }

    /// A right PIN: the count and the lock steps start again.
    pub fn right(&mut self) {
        *self = AdminLock::default();
    }
}

/// A wait in whole seconds for a message: under a minute in seconds, else in minutes (rounded
/// up, so "1 minute" is never shown while more than a minute is left).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    Seconds(u64),
    Minutes(u64),
}

impl Wait {
    pub fn from_ms(ms: u64) -> Wait {
        let secs = ms.div_ceil(1000).max(1);
        if secs < 60 {
            Wait::Seconds(secs)
        } else {
            Wait::Minutes(secs.div_ceil(60))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fifth_wrong_pin_locks_longer_and_a_right_pin_starts_again() {
        let mut lock = AdminLock::default();
        let mut now = 1_000;
        for _ in 0..4 {
            assert_eq!(lock.wrong(now), None);
            assert_eq!(lock.remaining_ms(now), None);
        }
        assert_eq!(lock.wrong(now), Some(30_000));
        assert_eq!(lock.remaining_ms(now + 29_999), Some(1));
        assert_eq!(lock.remaining_ms(now + 30_000), None);
        for expected in [2 * 60_000, 10 * 60_000, 10 * 60_000] {
            now += 60 * 60_000;
            for _ in 0..4 {
                assert_eq!(lock.wrong(now), None);
            }
            assert_eq!(lock.wrong(now), Some(expected));
        }
        lock.right();
        assert_eq!(lock, AdminLock::default());
        for _ in 0..4 {
            assert_eq!(lock.wrong(now), None);
        }
        assert_eq!(lock.wrong(now), Some(30_000));
    }

    #[test]
    fn waits_read_as_seconds_then_whole_minutes() {
        assert_eq!(Wait::from_ms(30_000), Wait::Seconds(30));
        assert_eq!(Wait::from_ms(1), Wait::Seconds(1));
        assert_eq!(Wait::from_ms(59_001), Wait::Minutes(1));
        assert_eq!(Wait::from_ms(61_000), Wait::Minutes(2));
        assert_eq!(Wait::from_ms(10 * 60_000), Wait::Minutes(10));
    }
}
