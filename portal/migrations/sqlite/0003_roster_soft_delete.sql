-- Users who leave the roster are kept, marked removed, instead of deleted. Keep in step with
-- ../postgres/0003_roster_soft_delete.sql. Times are Unix seconds.
--
-- removed_at: NULL while the user is on the roster; the time of the import that found them
-- missing (or disabled) otherwise. A removed user has no school links and cannot sign in, but
-- their revocation, lockout and PIN stay keyed by their id: a child briefly dropped from the
-- export and then re-added must not get a revoked card back, nor be unlocked, nor lose a PIN.
ALTER TABLE users ADD COLUMN removed_at INTEGER;
