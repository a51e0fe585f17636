-- 0012 the staff plane: members of staff (not citizens) with their passkeys,
-- sessions, invitations and role grants; the four-eyes requests; the letters
-- queued for the mail; the alerts raised for the privacy officer; and the
-- staff access register, which outlives the citizens' accounts it refers to.
--
-- Who may do what is not stored here: each role's actions come from the
-- adopted PIA (pia/inventory.toml). A grant only says who holds which role,
-- who asked for it, who approved it, and until when.

CREATE TABLE staff_members (
    id            TEXT PRIMARY KEY,
    display_name  TEXT NOT NULL,
    badge         TEXT NOT NULL UNIQUE,
    created_at    BIGINT NOT NULL,
    created_by    TEXT NOT NULL,
    disabled_at   BIGINT
);

CREATE TABLE staff_invitations (
    code_hash     BYTEA PRIMARY KEY,
    staff_id      TEXT NOT NULL REFERENCES staff_members(id) ON DELETE CASCADE,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    used_at       BIGINT
);
CREATE INDEX staff_invitations_staff ON staff_invitations (staff_id);

CREATE TABLE staff_passkeys (
    credential_id BYTEA PRIMARY KEY,
    staff_id      TEXT NOT NULL REFERENCES staff_members(id) ON DELETE CASCADE,
    credential    TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT
);
CREATE INDEX staff_passkeys_staff ON staff_passkeys (staff_id);

CREATE TABLE staff_sessions (
    token_hash    BYTEA PRIMARY KEY,
    staff_id      TEXT NOT NULL REFERENCES staff_members(id) ON DELETE CASCADE,
    created_at    BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL,
    reauth_at     BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    ended_at      BIGINT
);
CREATE INDEX staff_sessions_staff ON staff_sessions (staff_id);

-- A staff passkey ceremony between its start and its finish, bound to the
-- browser that started it; removed before the answer is verified.
CREATE TABLE staff_ceremonies (
    id_hash       BYTEA PRIMARY KEY,
    kind          TEXT NOT NULL,                 -- enrol | login | reauth
    browser_hash  BYTEA NOT NULL,
    staff_id      TEXT REFERENCES staff_members(id) ON DELETE CASCADE,
    code_hash     BYTEA,                         -- the invitation an enrolment spends
    state         TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL
);
CREATE INDEX staff_ceremonies_expiry ON staff_ceremonies (expires_at);

CREATE TABLE staff_grants (
    id            TEXT PRIMARY KEY,
    staff_id      TEXT NOT NULL REFERENCES staff_members(id) ON DELETE CASCADE,
    role          TEXT NOT NULL,
    reason        TEXT NOT NULL,
    requested_by  TEXT NOT NULL,
    approved_by   TEXT NOT NULL,
    granted_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    revoked_at    BIGINT,
    revoked_by    TEXT
);
CREATE INDEX staff_grants_staff ON staff_grants (staff_id);

CREATE TABLE staff_requests (
    id            TEXT PRIMARY KEY,
    kind          TEXT NOT NULL,
    citizen_id    TEXT REFERENCES citizens(id) ON DELETE SET NULL,
    grantee_id    TEXT REFERENCES staff_members(id) ON DELETE CASCADE,
    role          TEXT,
    grant_until   BIGINT,
    purpose       TEXT NOT NULL,
    reference     TEXT NOT NULL,
    requested_by  TEXT NOT NULL,                 -- a staff id (no key: the record outlives the member)
    requested_at  BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    decided_by    TEXT,
    decided_at    BIGINT,
    decision      TEXT
);
CREATE INDEX staff_requests_open ON staff_requests (decided_at, expires_at);

CREATE TABLE mail_letters (
    id            TEXT PRIMARY KEY,
    citizen_id    TEXT REFERENCES citizens(id) ON DELETE CASCADE,
    kind          TEXT NOT NULL,
    sealed        BYTEA NOT NULL,
    created_at    BIGINT NOT NULL,
    printed_at    BIGINT,
    printed_by    TEXT
);

CREATE TABLE staff_alerts (
    id              BIGSERIAL PRIMARY KEY,
    at              BIGINT NOT NULL,
    staff_id        TEXT NOT NULL,
    badge           TEXT NOT NULL,
    kind            TEXT NOT NULL,
    detail          TEXT NOT NULL,
    acknowledged_at BIGINT,
    acknowledged_by TEXT
);

CREATE TABLE staff_access_log (
    seq           BIGSERIAL PRIMARY KEY,
    at            BIGINT NOT NULL,
    staff_id      TEXT NOT NULL,
    badge         TEXT NOT NULL,
    role          TEXT NOT NULL,
    action        TEXT NOT NULL,
    purpose       TEXT NOT NULL,
    reference     TEXT NOT NULL,
    citizen_ref   BYTEA NOT NULL,
    elements      TEXT NOT NULL
);
CREATE INDEX staff_access_log_staff ON staff_access_log (staff_id, at);
CREATE INDEX staff_access_log_citizen ON staff_access_log (citizen_ref, at);

CREATE TABLE staff_access_purge (
    until_seq     BIGINT NOT NULL
);

CREATE FUNCTION staff_access_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION 'the staff access register is append-only: UPDATE refused'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF OLD.seq > (SELECT COALESCE(MAX(until_seq), 0) FROM staff_access_purge) THEN
        RAISE EXCEPTION 'the staff access register is append-only: DELETE outside a retention purge refused'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN OLD;
END
$$;
CREATE TRIGGER staff_access_log_append_only BEFORE UPDATE OR DELETE ON staff_access_log
    FOR EACH ROW EXECUTE FUNCTION staff_access_guard();
CREATE FUNCTION staff_access_no_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the staff access register is append-only: TRUNCATE refused'
        USING ERRCODE = 'integrity_constraint_violation';
END
$$;
CREATE TRIGGER staff_access_log_no_truncate BEFORE TRUNCATE ON staff_access_log
    FOR EACH STATEMENT EXECUTE FUNCTION staff_access_no_truncate();
