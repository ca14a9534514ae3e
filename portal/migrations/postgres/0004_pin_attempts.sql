-- PIN attempts per user and per source (a kiosk, or the network a sign-in page is used from),
-- counted before the PIN is checked, so parallel guesses cannot pass the limit. Keep in step
-- with ../sqlite/0004_pin_attempts.sql. Times are Unix seconds.
--
-- attempts: attempts counted in the window that began at window_start (a right PIN clears);
-- locked_until: 0 when not locked; locked_forever (see portal/src/pin_attempts.rs) until a
--   person unlocks; level: lockouts served since the last right PIN (15 minutes, then an hour,
--   then until unlocked). Lockouts are per source, so a stranger with a photo of a card locks
--   out only the device or network they guess from, not the card's owner everywhere; the
--   user-wide cap across all sources stays in the lockouts table and never escalates.
CREATE TABLE pin_attempts (
    user_id TEXT NOT NULL,
    source TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    window_start BIGINT NOT NULL,
    locked_until BIGINT NOT NULL,
    level BIGINT NOT NULL,
    PRIMARY KEY (user_id, source)
);
