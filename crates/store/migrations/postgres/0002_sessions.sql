-- 0002 sessions: the seam between the passkey service and the OIDC server.
-- A citizen's authenticated browser session, referenced by an HttpOnly cookie
-- whose value is stored only as SHA-256.

CREATE TABLE sessions (
    id_hash      BYTEA PRIMARY KEY,
    citizen_id   TEXT NOT NULL REFERENCES citizens(id) ON DELETE CASCADE,
    auth_time    BIGINT NOT NULL,           -- when the last ceremony completed
    acr          TEXT NOT NULL,              -- level of assurance reached
    amr          TEXT NOT NULL,              -- JSON array of RFC 8176 methods
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    revoked_at   BIGINT
);
CREATE INDEX sessions_citizen ON sessions (citizen_id);
