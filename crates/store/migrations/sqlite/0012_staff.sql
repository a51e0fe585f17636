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
    badge         TEXT NOT NULL UNIQUE,          -- what citizens see ("Agent 4F2K")
    created_at    INTEGER NOT NULL,
    created_by    TEXT NOT NULL,                 -- the inviter's badge, or "operator"
    disabled_at   INTEGER
);

CREATE TABLE staff_invitations (
    code_hash     BLOB PRIMARY KEY,              -- SHA-256 of the one-time code
    staff_id      TEXT NOT NULL REFERENCES staff_members(id) ON DELETE CASCADE,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    used_at       INTEGER
);
CREATE INDEX staff_invitations_staff ON staff_invitations (staff_id);

CREATE TABLE staff_passkeys (
    credential_id BLOB PRIMARY KEY,
    staff_id      TEXT NOT NULL REFERENCES staff_members(id) ON DELETE CASCADE,
    credential    TEXT NOT NULL,                 -- webauthn-rs Passkey (public key, counter)
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER
);
CREATE INDEX staff_passkeys_staff ON staff_passkeys (staff_id);

CREATE TABLE staff_sessions (
    token_hash    BLOB PRIMARY KEY,              -- SHA-256 of the cookie value
    staff_id      TEXT NOT NULL REFERENCES staff_members(id) ON DELETE CASCADE,
    created_at    INTEGER NOT NULL,              -- the passkey sign-in
    last_seen_at  INTEGER NOT NULL,
    reauth_at     INTEGER NOT NULL,              -- the latest passkey assertion
    expires_at    INTEGER NOT NULL,              -- absolute end
    ended_at      INTEGER
);
CREATE INDEX staff_sessions_staff ON staff_sessions (staff_id);

-- A staff passkey ceremony between its start and its finish, bound to the
-- browser that started it; removed before the answer is verified.
CREATE TABLE staff_ceremonies (
    id_hash       BLOB PRIMARY KEY,
    kind          TEXT NOT NULL,                 -- enrol | login | reauth
    browser_hash  BLOB NOT NULL,
    staff_id      TEXT REFERENCES staff_members(id) ON DELETE CASCADE,
    code_hash     BLOB,                         -- the invitation an enrolment spends
    state         TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL
);
CREATE INDEX staff_ceremonies_expiry ON staff_ceremonies (expires_at);

CREATE TABLE staff_grants (
    id            TEXT PRIMARY KEY,
    staff_id      TEXT NOT NULL REFERENCES staff_members(id) ON DELETE CASCADE,
    role          TEXT NOT NULL,                 -- a staff role of the PIA
    reason        TEXT NOT NULL,
    requested_by  TEXT NOT NULL,                 -- badge, or "operator"
    approved_by   TEXT NOT NULL,                 -- badge, or "operator"
    granted_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,              -- every grant ends
    revoked_at    INTEGER,
    revoked_by    TEXT
);
CREATE INDEX staff_grants_staff ON staff_grants (staff_id);

CREATE TABLE staff_requests (
    id            TEXT PRIMARY KEY,
    kind          TEXT NOT NULL,                 -- recovery | closure | grant
    citizen_id    TEXT REFERENCES citizens(id) ON DELETE SET NULL,
    grantee_id    TEXT REFERENCES staff_members(id) ON DELETE CASCADE,
    role          TEXT,                          -- the role a grant asks for
    grant_until   INTEGER,
    purpose       TEXT NOT NULL,                 -- a PIA purpose id, or a grant's reason
    reference     TEXT NOT NULL,                 -- ticket, complaint or request number
    requested_by  TEXT NOT NULL,                 -- a staff id (no key: the record outlives the member)
    requested_at  INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    decided_by    TEXT,
    decided_at    INTEGER,
    decision      TEXT                           -- approved | refused
);
CREATE INDEX staff_requests_open ON staff_requests (decided_at, expires_at);

-- Letters for the mail (a recovery code for the registered address): sealed
-- under the key-encryption key, opened only to print them.
CREATE TABLE mail_letters (
    id            TEXT PRIMARY KEY,
    citizen_id    TEXT REFERENCES citizens(id) ON DELETE CASCADE,
    kind          TEXT NOT NULL,                 -- recovery
    sealed        BLOB NOT NULL,
    created_at    INTEGER NOT NULL,
    printed_at    INTEGER,
    printed_by    TEXT
);

CREATE TABLE staff_alerts (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    at              INTEGER NOT NULL,
    staff_id        TEXT NOT NULL,
    badge           TEXT NOT NULL,
    kind            TEXT NOT NULL,               -- lookup_rate
    detail          TEXT NOT NULL,
    acknowledged_at INTEGER,
    acknowledged_by TEXT
);

-- The staff access register: one row per access to a citizen's file or act
-- on it (look-up, request, approval, complaint handled). Pseudonymous: the
-- citizen is a keyed hash of the register id, so the register survives the
-- account's closure without naming anyone. Append-only: no UPDATE ever; a
-- DELETE only for rows the retention pass has permitted (staff_access_purge,
-- written in the same transaction).
CREATE TABLE staff_access_log (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    at            INTEGER NOT NULL,
    staff_id      TEXT NOT NULL,
    badge         TEXT NOT NULL,
    role          TEXT NOT NULL,
    action        TEXT NOT NULL,
    purpose       TEXT NOT NULL,
    reference     TEXT NOT NULL,
    citizen_ref   BLOB NOT NULL,
    elements      TEXT NOT NULL                  -- JSON list of element ids
);
CREATE INDEX staff_access_log_staff ON staff_access_log (staff_id, at);
CREATE INDEX staff_access_log_citizen ON staff_access_log (citizen_ref, at);

CREATE TABLE staff_access_purge (
    until_seq     INTEGER NOT NULL
);

CREATE TRIGGER staff_access_log_no_update BEFORE UPDATE ON staff_access_log
BEGIN SELECT RAISE(ABORT, 'the staff access register is append-only: UPDATE refused'); END;
CREATE TRIGGER staff_access_log_purge_only BEFORE DELETE ON staff_access_log
WHEN OLD.seq > (SELECT COALESCE(MAX(until_seq), 0) FROM staff_access_purge)
BEGIN SELECT RAISE(ABORT, 'the staff access register is append-only: DELETE outside a retention purge refused'); END;
