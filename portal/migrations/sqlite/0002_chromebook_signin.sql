-- Chromebook sign-in (issue 10): the portal as the district's SAML identity provider.
-- Keep in step with ../postgres/0002_chromebook_signin.sql. Times are Unix seconds.

-- One row per accepted SAML AuthnRequest, while the child scans the card on the sign-in page.
-- id_hash: SHA-256 (hex) of the opaque sign-in request id handed to the page. The raw
-- SAMLRequest is kept so the request is parsed (and checked) again when it is answered.
-- (issuer, request_id) is unique: an AuthnRequest ID is accepted, and answered, at most once.
-- Rows are deleted after expires_at (the AuthnRequest is then too old to be accepted anyway).
CREATE TABLE saml_pending (
    id_hash TEXT PRIMARY KEY,
    issuer TEXT NOT NULL,
    request_id TEXT NOT NULL,
    acs_url TEXT NOT NULL,
    relay_state TEXT,
    saml_request TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    answered_at INTEGER,
    user_id TEXT,
    UNIQUE (issuer, request_id)
);
CREATE INDEX saml_pending_expires ON saml_pending (expires_at);

-- The per-user ChromeOS password passed with the Chrome Credentials Passing API: random,
-- created on the user's first Chromebook sign-in, stable afterwards. Held only here (never
-- printed, never on a card, never logged). It must be readable to be passed on, so it is
-- stored as is; protect the database accordingly.
CREATE TABLE chromeos_secrets (
    user_id TEXT PRIMARY KEY,
    secret TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
