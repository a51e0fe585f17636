-- 0008 witness cosignatures of the consent ledger's checkpoints (C2SP
-- tlog-witness): each witness (an independent party, by its verifier key)
-- that cosigned a checkpoint, with its signature line, and the size each
-- witness last cosigned (the "old size" of the next request).
CREATE TABLE ledger_cosignatures (
    checkpoint_id  INTEGER NOT NULL,  -- ledger_checkpoints.id (no foreign key: that table refuses TRUNCATE with its own message)
    witness        TEXT NOT NULL,
    line           TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    PRIMARY KEY (checkpoint_id, witness)
);

CREATE TABLE ledger_witnesses (
    witness     TEXT PRIMARY KEY,
    size        INTEGER NOT NULL CHECK (size >= 0),
    updated_at  INTEGER NOT NULL
);
