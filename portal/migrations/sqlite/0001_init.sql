-- QuickCard portal schema (SQLite). Keep in step with ../postgres/0001_init.sql: same tables,
-- same columns, same meaning. Times are Unix seconds; flags are 0/1 integers.

CREATE TABLE schools (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    given_name TEXT NOT NULL,
    family_name TEXT NOT NULL,
    display_name TEXT NOT NULL,
    email TEXT,
    username TEXT,
    grades TEXT NOT NULL DEFAULT '',
    updated_at INTEGER NOT NULL
);

CREATE TABLE user_schools (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    school_id TEXT NOT NULL,
    PRIMARY KEY (user_id, school_id)
);

CREATE TABLE classes (
    id TEXT PRIMARY KEY,
    school_id TEXT NOT NULL,
    name TEXT NOT NULL
);

CREATE TABLE enrollments (
    class_id TEXT NOT NULL REFERENCES classes(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    PRIMARY KEY (class_id, user_id)
);

CREATE TABLE guardians (
    parent_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    child_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (parent_id, child_id)
);

-- Staff PINs for second-factor cards: argon2id PHC strings, never the PIN.
CREATE TABLE pins (
    user_id TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    hash TEXT NOT NULL,
    set_at INTEGER NOT NULL
);

-- Kiosks: the enrolment code and the credential are stored as SHA-256 hex only.
CREATE TABLE kiosks (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    school_id TEXT NOT NULL,
    enrol_code_hash TEXT UNIQUE,
    enrol_expires_at INTEGER,
    credential_hash TEXT UNIQUE,
    created_at INTEGER NOT NULL,
    enrolled_at INTEGER,
    disabled_at INTEGER,
    last_seen_at INTEGER
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    kiosk_id TEXT NOT NULL,
    card_id TEXT NOT NULL,
    second_factor INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    ended_at INTEGER,
    end_reason TEXT,
    -- token hash of the session whose start ended this one (copied card, re-scan)
    ended_by TEXT
);
-- At most one open session per card: two replicas racing to start a session for the same
-- card cannot both win (the loser retries and ends the winner's session as a copied card).
CREATE UNIQUE INDEX sessions_open_card ON sessions (card_id) WHERE ended_at IS NULL;
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_ended_by ON sessions (ended_by) WHERE ended_by IS NOT NULL;

-- One-time launch tokens (SHA-256 hex), redeemed by GET /v1/launch/{token}.
CREATE TABLE launches (
    token_hash TEXT PRIMARY KEY,
    session_hash TEXT NOT NULL,
    user_id TEXT NOT NULL,
    kiosk_id TEXT NOT NULL,
    app_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER
);

-- Cards of a user issued before issued_before are refused.
CREATE TABLE revocations (
    user_id TEXT PRIMARY KEY,
    issued_before INTEGER NOT NULL,
    revoked_at INTEGER NOT NULL,
    reason TEXT NOT NULL
);

-- Wrong-PIN counters and lockouts, per user.
CREATE TABLE lockouts (
    user_id TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    first_failure_at INTEGER NOT NULL,
    locked_until INTEGER NOT NULL
);

-- Fixed-window rate-limit counters ("kiosk:ID", "card:ID", "enrol:IP").
CREATE TABLE rate_buckets (
    bucket TEXT PRIMARY KEY,
    window_start INTEGER NOT NULL,
    hits INTEGER NOT NULL
);

CREATE TABLE audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    result TEXT NOT NULL,
    user_id TEXT,
    kiosk_id TEXT,
    card_id TEXT,
    flagged INTEGER NOT NULL DEFAULT 0,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_user ON audit (user_id, at);
CREATE INDEX audit_at ON audit (at);
