-- 0015 automation for the admin API: a member of staff may hold automation
-- clients (a pipeline's credentials) that act with that member's roles
-- through short-lived admin access tokens (client_credentials). Both are
-- stored as hashes; a client dies with its owner.
CREATE TABLE automation_clients (
    client_id       TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    owner_staff_id  TEXT NOT NULL REFERENCES staff_members(id) ON DELETE CASCADE,
    secret_hash     BYTEA NOT NULL,
    created_at      BIGINT NOT NULL,
    revoked_at      BIGINT
);
CREATE INDEX automation_clients_owner ON automation_clients (owner_staff_id);

CREATE TABLE admin_tokens (
    token_hash  BYTEA PRIMARY KEY,
    client_id   TEXT NOT NULL REFERENCES automation_clients(client_id) ON DELETE CASCADE,
    issued_at   BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
