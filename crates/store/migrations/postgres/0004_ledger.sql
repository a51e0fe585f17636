-- 0004 consent ledger: an append-only RFC 9162 Merkle log of consents,
-- disclosures, security events and staff accesses (see docs/ledger.md).
--
-- ledger_entries, ledger_nodes and ledger_checkpoints are the evidence: the
-- triggers at the end refuse every UPDATE, DELETE and TRUNCATE on them, so no
-- code path (and no careless operator) can rewrite history in place. Personal
-- details in an entry are sealed under a data key kept in ledger_data_keys,
-- the one table the ledger deletes from: destroying a key crypto-shreds what
-- it sealed while every hash, proof and checkpoint stays valid. Appenders are
-- serialised by a transaction-scoped advisory lock (see sqin-store's ledger
-- module), not by a table.

-- The log's identity: the origin line of its checkpoints, fixed at creation.
CREATE TABLE ledger_log (
    id          BIGINT PRIMARY KEY CHECK (id = 1),
    origin      TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

-- One row per leaf, dense from 0. `entry` is exactly what the leaf hash
-- commits to; kind, created_at, subject and data_key_id repeat fields of the
-- entry for indexing only (verification reads `entry`, never these copies).
CREATE TABLE ledger_entries (
    seq          BIGINT PRIMARY KEY CHECK (seq >= 0),
    uid          TEXT NOT NULL UNIQUE,       -- the entry's random id (binds its sealed part)
    entry        BYTEA NOT NULL,
    leaf_hash    BYTEA NOT NULL,             -- SHA-256(0x00 || entry)
    kind         TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    subject      TEXT,                       -- the citizen's pseudonym (keyed hash), if any
    data_key_id  TEXT                        -- the key that sealed the personal part, if any
);
CREATE INDEX ledger_entries_subject ON ledger_entries (subject, seq);
CREATE INDEX ledger_entries_leaf_hash ON ledger_entries (leaf_hash);

-- Entries written by callers in their own transactions, waiting for the
-- sequencer to give them their place in the tree (usually within
-- milliseconds). A queued row can be neither changed nor deleted until its
-- entry exists (triggers below): the sequencer deletes it in the transaction
-- that writes the entry.
CREATE TABLE ledger_queue (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    uid          TEXT NOT NULL UNIQUE,
    kind         TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    subject      TEXT NOT NULL,
    data_key_id  TEXT NOT NULL,
    sealed       BYTEA NOT NULL
);

-- The hash of every complete subtree, written as it fills: node (level, idx)
-- covers leaves [idx * 2^level, (idx + 1) * 2^level). Roots and proofs of any
-- size read O(log n) of these rows.
CREATE TABLE ledger_nodes (
    level  BIGINT NOT NULL CHECK (level BETWEEN 0 AND 63),
    idx    BIGINT NOT NULL CHECK (idx >= 0),
    hash   BYTEA NOT NULL,
    PRIMARY KEY (level, idx)
);

-- Every signed checkpoint ever published (C2SP tlog-checkpoint notes).
CREATE TABLE ledger_checkpoints (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tree_size   BIGINT NOT NULL CHECK (tree_size >= 0),
    root_hash   BYTEA NOT NULL,
    note        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX ledger_checkpoints_size ON ledger_checkpoints (tree_size, id);

-- Per-citizen data keys, one per (pseudonym, entry kind, period), wrapped
-- under the ledger's key-wrapping key (itself sealed by the KEK). Deleted when
-- their entries pass retention, or when the account is deleted.
CREATE TABLE ledger_data_keys (
    id            TEXT PRIMARY KEY,
    subject       TEXT NOT NULL,
    kind          TEXT NOT NULL,
    period_start  BIGINT NOT NULL,
    period_end    BIGINT NOT NULL,
    wrapped_key   BYTEA NOT NULL,
    created_at    BIGINT NOT NULL,
    UNIQUE (subject, kind, period_start)
);
CREATE INDEX ledger_data_keys_expiry ON ledger_data_keys (kind, period_end);

-- Append-only, enforced by the storage.
CREATE FUNCTION ledger_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the consent ledger is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END
$$;

CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON ledger_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_nodes_append_only BEFORE UPDATE OR DELETE ON ledger_nodes
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_nodes_no_truncate BEFORE TRUNCATE ON ledger_nodes
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_checkpoints_append_only BEFORE UPDATE OR DELETE ON ledger_checkpoints
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_checkpoints_no_truncate BEFORE TRUNCATE ON ledger_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_log_append_only BEFORE UPDATE OR DELETE ON ledger_log
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_log_no_truncate BEFORE TRUNCATE ON ledger_log
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();

-- A queued entry may only leave the queue once it is in the log.
CREATE FUNCTION ledger_queue_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION 'the consent ledger is append-only: UPDATE on ledger_queue refused'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.uid = OLD.uid) THEN
        RAISE EXCEPTION 'the consent ledger is append-only: DELETE of a queued entry that is not in the log refused'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN OLD;
END
$$;
CREATE TRIGGER ledger_queue_guard BEFORE UPDATE OR DELETE ON ledger_queue
    FOR EACH ROW EXECUTE FUNCTION ledger_queue_guard();
CREATE TRIGGER ledger_queue_no_truncate BEFORE TRUNCATE ON ledger_queue
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
