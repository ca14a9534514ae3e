-- People erased at the district's request (`quickcard-portal person erase`). Keep in step with
-- ../postgres/0007_privacy.sql. Times are Unix seconds.
--
-- Only the user id and the time are kept: the id is what an old card carries, so the portal can
-- refuse that card with its own code (user_erased), and a later roster import that holds the
-- person again reports them instead of bringing their data back. Everything else about them is
-- deleted; their revocation row stays (reason replaced), so every card printed before the
-- erasure is also revoked.
CREATE TABLE erasures (
    user_id TEXT PRIMARY KEY,
    erased_at INTEGER NOT NULL
);

-- Retention (portal/src/retention.rs) deletes sessions and launch codes by their expiry, a
-- batch at a time: without these each batch would read the whole table.
CREATE INDEX sessions_expires ON sessions (expires_at);
CREATE INDEX launches_expires ON launches (expires_at);
