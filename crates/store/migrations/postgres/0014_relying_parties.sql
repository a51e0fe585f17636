-- 0014 relying parties bound to the privacy impact assessment: each client
-- names its entry in the PIA's register of relying parties, has a state
-- (pending until a privacy officer approves it, active, or suspended), a
-- version for concurrent edits (ETag / If-Match), names and purposes in
-- French, its keys by URI, and a registration access token (RFC 7592).
-- Clients registered before this migration keep working until start-up
-- checks them against the PIA: one outside it is suspended, never silently
-- kept.
ALTER TABLE clients ADD COLUMN pia_entry TEXT;
ALTER TABLE clients ADD COLUMN status TEXT NOT NULL DEFAULT 'active'
    CHECK (status IN ('pending', 'active', 'suspended'));
ALTER TABLE clients ADD COLUMN status_reason TEXT;
ALTER TABLE clients ADD COLUMN name_fr TEXT;
ALTER TABLE clients ADD COLUMN purpose_fr TEXT;
ALTER TABLE clients ADD COLUMN jwks_uri TEXT;
ALTER TABLE clients ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE clients ADD COLUMN registration_token_hash BYTEA;

-- Initial access tokens (RFC 7591 3): issued by an administrator for one
-- PIA entry, stored as a hash, usable until they expire or are used up.
CREATE TABLE initial_access_tokens (
    token_hash   BYTEA PRIMARY KEY,
    pia_entry    TEXT NOT NULL,
    issued_by    TEXT NOT NULL,             -- a staff badge, or "operator"
    issued_at    BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    uses_left    BIGINT NOT NULL,
    revoked_at   BIGINT
);

-- A four-eyes request about a relying party carries the change it asks
-- for (the client's new metadata, JSON), applied only on approval.
ALTER TABLE staff_requests ADD COLUMN client_id TEXT;
ALTER TABLE staff_requests ADD COLUMN payload TEXT;
