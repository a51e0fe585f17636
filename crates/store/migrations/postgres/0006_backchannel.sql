-- 0006 back-channel logout deliveries (OpenID Back-Channel Logout 1.0): each
-- logout notice owed to a relying party (the token is signed at each attempt,
-- so a retry never sends an expired one), kept until delivered or given up,
-- so a delivery survives a restart and every attempt is on record.

CREATE TABLE backchannel_deliveries (
    id               TEXT PRIMARY KEY,
    client_id        TEXT NOT NULL,
    uri              TEXT NOT NULL,
    sub              TEXT NOT NULL,      -- the relying party's own pairwise subject
    sid              TEXT,               -- the session ended, when a session ended
    created_at       BIGINT NOT NULL,
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL,
    delivered_at     BIGINT,
    gave_up_at       BIGINT,
    last_error       TEXT
);
CREATE INDEX backchannel_pending ON backchannel_deliveries (next_attempt_at);
