-- 0017 which passkey opened each session, and sliding rate-limit windows.
-- Never edit once released; add a new numbered file instead.

-- The passkey whose ceremony opened a session. Kept after the session ends
-- (and after its row is purged) for as long as anything may rest on it: a
-- grant issued under the session (`grants.session_id`, the session's `sid`)
-- can outlive the session by its refresh tokens. Removing the passkey ends
-- its live sessions and revokes the grants issued under every session it
-- opened; the rows go with the passkey (cascade) or once neither the session
-- nor a grant of it is left (pruned as the passkey opens new sessions).
CREATE TABLE session_credentials (
    session_hash   BYTEA PRIMARY KEY,         -- sessions.id_hash
    session_id     TEXT NOT NULL,            -- the same session's sid (grants.session_id)
    citizen_id     TEXT NOT NULL REFERENCES citizens(id) ON DELETE CASCADE,
    credential_id  BYTEA NOT NULL REFERENCES passkeys(credential_id) ON DELETE CASCADE,
    created_at     BIGINT NOT NULL
);
CREATE INDEX session_credentials_credential ON session_credentials (credential_id);

-- Rate limits count in a window that slides with the clock instead of one
-- aligned to it (where twice the budget fitted across a boundary): one row
-- per bucket and second with the attempts counted then; a budget is spent
-- when the rows of the last window add up to it. The old fixed-window
-- counters are only minutes of state: they are dropped.
DROP TABLE rate_limits;
CREATE TABLE rate_limits (
    bucket  BYTEA NOT NULL,                   -- keyed hash of what is limited (client address and hint, a code)
    at      BIGINT NOT NULL,                -- the second the attempts were counted
    hits    BIGINT NOT NULL,
    PRIMARY KEY (bucket, at)
);
CREATE INDEX rate_limits_at ON rate_limits (at);
