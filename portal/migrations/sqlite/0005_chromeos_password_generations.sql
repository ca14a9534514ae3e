-- The ChromeOS password is no longer stored: it is derived when it is handed out, as
-- HMAC-SHA256(the portal's ChromeOS password key, user id and generation) (see
-- portal/src/chromeos_password.rs). Keep in step with ../postgres/0005_chromeos_password_generations.sql.
-- Times are Unix seconds.
--
-- The plain-text passwords go, rows and table: a database backup must not hold a password
-- that unlocks a child's Chromebook profile. Users who signed in before get a derived
-- password from their next sign-in on (see "ChromeOS password" in portal/README.md for what
-- a changed password does to a Chromebook profile).
DROP TABLE chromeos_secrets;

-- generation: bumped when the user's cards are revoked and by
-- `quickcard-portal chromeos-password reset`; a user without a row is at generation 0.
CREATE TABLE chromeos_password_generations (
    user_id TEXT PRIMARY KEY,
    generation INTEGER NOT NULL,
    changed_at INTEGER NOT NULL
);
