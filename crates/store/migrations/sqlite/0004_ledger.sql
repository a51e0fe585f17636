-- 0004 consent ledger: an append-only RFC 9162 Merkle log of consents,
-- disclosures, security events and staff accesses (see docs/ledger.md).
--
-- ledger_entries, ledger_nodes and ledger_checkpoints are the evidence: the
-- triggers at the end refuse every UPDATE and DELETE on them, so no code path
-- (and no careless operator) can rewrite history in place. Personal details in
-- an entry are sealed under a data key kept in ledger_data_keys, the one table
-- the ledger deletes from: destroying a key crypto-shreds what it sealed while
-- every hash, proof and checkpoint stays valid.

-- The log's identity: the origin line of its checkpoints, fixed at creation.
CREATE TABLE ledger_log (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    origin      TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

-- One row per leaf, dense from 0. `entry` is exactly what the leaf hash
-- commits to; kind, created_at, subject and data_key_id repeat fields of the
-- entry for indexing only (verification reads `entry`, never these copies).
CREATE TABLE ledger_entries (
    seq          INTEGER PRIMARY KEY CHECK (seq >= 0),
    uid          TEXT NOT NULL UNIQUE,       -- the entry's random id (binds its sealed part)
    entry        BLOB NOT NULL,
    leaf_hash    BLOB NOT NULL,              -- SHA-256(0x00 || entry)
    kind         TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
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
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    uid          TEXT NOT NULL UNIQUE,
    kind         TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    subject      TEXT NOT NULL,
    data_key_id  TEXT NOT NULL,
    sealed       BLOB NOT NULL
);

-- The hash of every complete subtree, written as it fills: node (level, idx)
-- covers leaves [idx * 2^level, (idx + 1) * 2^level). Roots and proofs of any
-- size read O(log n) of these rows.
CREATE TABLE ledger_nodes (
    level  INTEGER NOT NULL CHECK (level BETWEEN 0 AND 63),
    idx    INTEGER NOT NULL CHECK (idx >= 0),
    hash   BLOB NOT NULL,
    PRIMARY KEY (level, idx)
) WITHOUT ROWID;

-- Every signed checkpoint ever published (C2SP tlog-checkpoint notes).
CREATE TABLE ledger_checkpoints (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    tree_size   INTEGER NOT NULL CHECK (tree_size >= 0),
    root_hash   BLOB NOT NULL,
    note        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX ledger_checkpoints_size ON ledger_checkpoints (tree_size, id);

-- Per-citizen data keys, one per (pseudonym, entry kind, period), wrapped
-- under the ledger's key-wrapping key (itself sealed by the KEK). Deleted when
-- their entries pass retention, or when the account is deleted.
CREATE TABLE ledger_data_keys (
    id            TEXT PRIMARY KEY,
    subject       TEXT NOT NULL,
    kind          TEXT NOT NULL,
    period_start  INTEGER NOT NULL,
    period_end    INTEGER NOT NULL,
    wrapped_key   BLOB NOT NULL,
    created_at    INTEGER NOT NULL,
    UNIQUE (subject, kind, period_start)
);
CREATE INDEX ledger_data_keys_expiry ON ledger_data_keys (kind, period_end);

-- SQLite only: appenders write this row first, which takes the database's
-- write lock before they read the tree's head (PostgreSQL uses an advisory
-- lock instead). Its counter means nothing.
CREATE TABLE ledger_lock (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    appends  INTEGER NOT NULL
);
INSERT INTO ledger_lock (id, appends) VALUES (1, 0);

-- Append-only, enforced by the storage.
CREATE TRIGGER ledger_entries_no_update BEFORE UPDATE ON ledger_entries
BEGIN SELECT RAISE(ABORT, 'the consent ledger is append-only: UPDATE on ledger_entries refused'); END;
CREATE TRIGGER ledger_entries_no_delete BEFORE DELETE ON ledger_entries
BEGIN SELECT RAISE(ABORT, 'the consent ledger is append-only: DELETE on ledger_entries refused'); END;
CREATE TRIGGER ledger_nodes_no_update BEFORE UPDATE ON ledger_nodes
BEGIN SELECT RAISE(ABORT, 'the consent ledger is append-only: UPDATE on ledger_nodes refused'); END;
CREATE TRIGGER ledger_nodes_no_delete BEFORE DELETE ON ledger_nodes
BEGIN SELECT RAISE(ABORT, 'the consent ledger is append-only: DELETE on ledger_nodes refused'); END;
CREATE TRIGGER ledger_checkpoints_no_update BEFORE UPDATE ON ledger_checkpoints
BEGIN SELECT RAISE(ABORT, 'the consent ledger is append-only: UPDATE on ledger_checkpoints refused'); END;
CREATE TRIGGER ledger_checkpoints_no_delete BEFORE DELETE ON ledger_checkpoints
BEGIN SELECT RAISE(ABORT, 'the consent ledger is append-only: DELETE on ledger_checkpoints refused'); END;
CREATE TRIGGER ledger_log_no_update BEFORE UPDATE ON ledger_log
BEGIN SELECT RAISE(ABORT, 'the consent ledger is append-only: UPDATE on ledger_log refused'); END;
CREATE TRIGGER ledger_log_no_delete BEFORE DELETE ON ledger_log
BEGIN SELECT RAISE(ABORT, 'the consent ledger is append-only: DELETE on ledger_log refused'); END;
CREATE TRIGGER ledger_queue_no_update BEFORE UPDATE ON ledger_queue
BEGIN SELECT RAISE(ABORT, 'the consent ledger is append-only: UPDATE on ledger_queue refused'); END;
CREATE TRIGGER ledger_queue_no_unsequenced_delete BEFORE DELETE ON ledger_queue
WHEN NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.uid = OLD.uid)
BEGIN SELECT RAISE(ABORT, 'the consent ledger is append-only: DELETE of a queued entry that is not in the log refused'); END;
