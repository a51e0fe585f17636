-- 0003 passkeys: WebAuthn credentials, the server-side state of ceremonies in
-- progress, rate-limit counters and each citizen's security events. Never edit
-- once released; add a new numbered file instead. Timestamps are Unix seconds.

-- The WebAuthn user handle (user.id) of a citizen: a random 16-byte value that
-- authenticators store with a discoverable credential and return at login. It
-- is not the internal citizen id, so nothing an authenticator keeps links to
-- the register or to another service.
CREATE TABLE passkey_users (
    citizen_id   TEXT PRIMARY KEY REFERENCES citizens(id) ON DELETE CASCADE,
    user_handle  BYTEA NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL
);

CREATE TABLE passkeys (
    credential_id    BYTEA PRIMARY KEY,       -- unique across all citizens (WebAuthn 7.1 step 25)
    citizen_id       TEXT NOT NULL REFERENCES citizens(id) ON DELETE CASCADE,
    name             TEXT NOT NULL,          -- chosen by the citizen ("My phone")
    credential       TEXT NOT NULL,          -- webauthn-rs Passkey as JSON: COSE public key, counter, flags
    sign_count       BIGINT NOT NULL,       -- highest signature counter seen (0: the authenticator has none)
    backup_eligible  BIGINT NOT NULL CHECK (backup_eligible IN (0, 1)),  -- synced passkey
    backed_up        BIGINT NOT NULL CHECK (backed_up IN (0, 1)),
    enrolled_via     TEXT NOT NULL CHECK (enrolled_via IN ('enrolment', 'recovery', 'account')),
    created_at       BIGINT NOT NULL,
    last_used_at     BIGINT
);
CREATE INDEX passkeys_citizen ON passkeys (citizen_id);

-- A ceremony in progress. The browser holds only a random handle (stored here
-- as SHA-256) and is bound by the hash of its browser cookie; the row is
-- deleted when the ceremony finishes (or fails), so a challenge serves once.
CREATE TABLE webauthn_ceremonies (
    id_hash       BYTEA PRIMARY KEY,
    kind          TEXT NOT NULL CHECK (kind IN ('grant', 'enrol', 'add', 'login')),
    browser_hash  BYTEA NOT NULL,
    citizen_id    TEXT REFERENCES citizens(id) ON DELETE CASCADE,
    code_hash     BYTEA,                      -- the enrolment code the ceremony spends on success
    request       TEXT,                      -- the pending authorization request to resume
    state         TEXT NOT NULL,             -- webauthn-rs ceremony state (JSON)
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL
);
CREATE INDEX webauthn_ceremonies_expiry ON webauthn_ceremonies (expires_at);

-- Fixed-window attempt counters, shared by every node through the database.
CREATE TABLE rate_limits (
    bucket        BYTEA PRIMARY KEY,          -- keyed hash of what is limited (a client address, a code)
    window_start  BIGINT NOT NULL,
    hits          BIGINT NOT NULL
);
CREATE INDEX rate_limits_window ON rate_limits (window_start);

-- What happened to a citizen's account (sign-ins, passkeys added or removed,
-- recovery, refused counters): shown to the citizen and handed to the consent
-- ledger (an outbox: `exported_at` is set once the ledger has the event).
CREATE TABLE security_events (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    citizen_id   TEXT NOT NULL REFERENCES citizens(id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,
    detail       TEXT NOT NULL,              -- JSON object
    at           BIGINT NOT NULL,
    exported_at  BIGINT
);
CREATE INDEX security_events_citizen ON security_events (citizen_id, at);
CREATE INDEX security_events_unexported ON security_events (exported_at, id);
