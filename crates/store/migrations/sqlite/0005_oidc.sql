-- 0005 OpenID Provider state: pending authorization requests, consents,
-- authorization codes, grants (token families), refresh tokens, revoked access
-- tokens, and used client-assertion ids. Secrets (codes, refresh tokens) are
-- stored only as SHA-256.

CREATE TABLE auth_requests (
    id                     TEXT PRIMARY KEY,     -- opaque handle carried through login and consent
    client_id              TEXT NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
    redirect_uri           TEXT NOT NULL,
    scope                  TEXT NOT NULL,
    state                  TEXT,
    nonce                  TEXT,
    code_challenge         TEXT NOT NULL,
    prompt                 TEXT,                 -- space-separated
    max_age                INTEGER,
    acr_values             TEXT,
    ui_locales             TEXT,
    claims                 TEXT,                 -- JSON of the claims parameter
    created_at             INTEGER NOT NULL,
    expires_at             INTEGER NOT NULL,
    consumed_at            INTEGER,
    -- prompt=login: when the citizen was sent to a fresh ceremony, and the
    -- session they had then, which can no longer satisfy this request
    forced_login_at        INTEGER,
    stale_session          TEXT
);

CREATE TABLE consents (
    id           TEXT PRIMARY KEY,
    citizen_id   TEXT NOT NULL REFERENCES citizens(id) ON DELETE CASCADE,
    client_id    TEXT NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
    scope        TEXT NOT NULL,                  -- granted scopes, space-separated
    claims       TEXT NOT NULL,                  -- JSON array of claim names consented to
    purpose      TEXT NOT NULL,                  -- the purpose text shown at the time
    granted_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    revoked_at   INTEGER
);
CREATE UNIQUE INDEX consents_one_live ON consents (citizen_id, client_id) WHERE revoked_at IS NULL;

CREATE TABLE grants (
    id           TEXT PRIMARY KEY,               -- one per authorization code: the token family
    citizen_id   TEXT REFERENCES citizens(id) ON DELETE CASCADE,
    client_id    TEXT NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
    session_id   TEXT,
    consent_id   TEXT,                           -- the consent the grant's disclosures rest on
    scope        TEXT NOT NULL,
    claims       TEXT,                           -- JSON of the claims parameter
    auth_time    INTEGER,
    acr          TEXT,
    amr          TEXT,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    revoked_at   INTEGER,
    revoked_reason TEXT
);
CREATE INDEX grants_citizen_client ON grants (citizen_id, client_id);
CREATE INDEX grants_session ON grants (session_id);

CREATE TABLE authorization_codes (
    code_hash       BLOB PRIMARY KEY,
    grant_id        TEXT NOT NULL REFERENCES grants(id) ON DELETE CASCADE,
    client_id       TEXT NOT NULL,
    redirect_uri    TEXT NOT NULL,
    code_challenge  TEXT NOT NULL,
    nonce           TEXT,
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    used_at         INTEGER
);

CREATE TABLE refresh_tokens (
    token_hash   BLOB PRIMARY KEY,
    grant_id     TEXT NOT NULL REFERENCES grants(id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    used_at      INTEGER
);
CREATE INDEX refresh_tokens_grant ON refresh_tokens (grant_id);

CREATE TABLE revoked_access_tokens (
    jti          TEXT PRIMARY KEY,
    expires_at   INTEGER NOT NULL
);

CREATE TABLE client_assertion_jtis (
    client_id    TEXT NOT NULL,
    jti          TEXT NOT NULL,
    expires_at   INTEGER NOT NULL,
    PRIMARY KEY (client_id, jti)
);
