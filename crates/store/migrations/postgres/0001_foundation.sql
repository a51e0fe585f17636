-- 0001 foundation: the citizen register, enrolment codes, relying parties,
-- signing keys and sealed server secrets. Never edit once released; add a new
-- numbered file instead. Timestamps are Unix seconds (INTEGER) on both backends.

CREATE TABLE citizens (
    id           TEXT PRIMARY KEY,          -- random internal id; never leaves sqin
    register_id  TEXT NOT NULL UNIQUE,      -- the identity-proofed register's identifier
    given_name   TEXT NOT NULL,
    family_name  TEXT NOT NULL,
    birthdate    TEXT NOT NULL,             -- ISO 8601 calendar date
    email        TEXT,
    address      TEXT,
    locale       TEXT,
    status       TEXT NOT NULL CHECK (status IN ('registered', 'enrolled', 'closed')),
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);

CREATE TABLE enrolment_codes (
    code_hash        BYTEA PRIMARY KEY,      -- HMAC-SHA256 of the normalised code under a sealed server key
    citizen_id       TEXT NOT NULL REFERENCES citizens(id) ON DELETE CASCADE,
    purpose          TEXT NOT NULL CHECK (purpose IN ('enrolment', 'recovery')),
    issued_at        BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL,
    spent_at         BIGINT,
    revoked_at       BIGINT,
    failed_attempts  BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX enrolment_codes_citizen ON enrolment_codes (citizen_id);

CREATE TABLE clients (
    client_id                  TEXT PRIMARY KEY,
    name                       TEXT NOT NULL,
    client_type                TEXT NOT NULL CHECK (client_type IN ('confidential', 'public')),
    secret_hash                BYTEA,        -- SHA-256 of a 256-bit secret; NULL for public clients
    token_endpoint_auth_method TEXT NOT NULL,
    redirect_uris              TEXT NOT NULL,  -- JSON array of exact URIs
    post_logout_redirect_uris  TEXT NOT NULL,  -- JSON array
    scopes                     TEXT NOT NULL,  -- space-separated scopes the purpose allows
    purpose                    TEXT NOT NULL,
    sector                     TEXT NOT NULL,  -- pairwise sector identifier
    subject_type               TEXT NOT NULL CHECK (subject_type IN ('pairwise', 'public')),
    jwks                       TEXT,          -- JSON JWK set for private_key_jwt
    backchannel_logout_uri     TEXT,
    created_at                 BIGINT NOT NULL,
    updated_at                 BIGINT NOT NULL
);

CREATE TABLE signing_keys (
    kid             TEXT PRIMARY KEY,       -- RFC 7638 thumbprint
    alg             TEXT NOT NULL,
    sealed_private  BYTEA NOT NULL,          -- PKCS#8 sealed under the key-encryption key
    public_jwk      TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('next', 'current', 'previous', 'retired')),
    created_at      BIGINT NOT NULL,
    activated_at    BIGINT,
    publish_until   BIGINT                 -- a previous key stays in the JWKS until then
);

CREATE TABLE server_secrets (
    name          TEXT PRIMARY KEY,
    sealed_value  BYTEA NOT NULL,
    created_at    BIGINT NOT NULL
);

-- At most one current and one next key, so that two nodes bootstrapping a fresh
-- database at once cannot both install a key: the loser's insert fails.
CREATE UNIQUE INDEX signing_keys_one_current ON signing_keys (state) WHERE state = 'current';
CREATE UNIQUE INDEX signing_keys_one_next ON signing_keys (state) WHERE state = 'next';
