-- 0007 the consent ledger's checkpoint keys once the first one is rotated:
-- every verifier key the log has used, oldest first, each with its private
-- key sealed under the ledger's wrapping key while it is the current one
-- (NULL once retired: a retired key can sign nothing more). Before any
-- rotation the table is empty and the key is the server secret
-- `ledger-checkpoint-key`. The entries that vouch for each change are in the
-- log itself (kind `checkpoint_key_rotated`).
CREATE TABLE ledger_checkpoint_keys (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    vkey        TEXT NOT NULL UNIQUE,
    sealed_key  BLOB,
    created_at  INTEGER NOT NULL,
    retired_at  INTEGER
);
