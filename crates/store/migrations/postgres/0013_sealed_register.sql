-- 0013 the register's personal fields are sealed at rest. Each citizen's
-- names, birthdate, address, email, locale and register id are one
-- AES-256-GCM record under a data key of their own, and that key is wrapped
-- by the key-encryption key: a plain SELECT or a stolen backup shows none of
-- them, and deleting the row (closing the account) shreds the key with it.
-- The citizen is found by a keyed hash of the register id (`register_key`).
--
-- Rows written before this migration are moved to `citizens_unsealed` and
-- sealed by the server the next time it opens the database (it needs the
-- key-encryption key, which SQL does not have); the holding table is then
-- empty. Until then their `register_key` still holds the register id.
CREATE TABLE citizens_unsealed (
    id           TEXT PRIMARY KEY REFERENCES citizens(id) ON DELETE CASCADE,
    register_id  TEXT NOT NULL,
    given_name   TEXT NOT NULL,
    family_name  TEXT NOT NULL,
    birthdate    TEXT NOT NULL,
    email        TEXT,
    address      TEXT,
    locale       TEXT
);
INSERT INTO citizens_unsealed (id, register_id, given_name, family_name, birthdate, email, address, locale)
    SELECT id, register_id, given_name, family_name, birthdate, email, address, locale FROM citizens;

ALTER TABLE citizens RENAME COLUMN register_id TO register_key;
ALTER TABLE citizens DROP COLUMN given_name;
ALTER TABLE citizens DROP COLUMN family_name;
ALTER TABLE citizens DROP COLUMN birthdate;
ALTER TABLE citizens DROP COLUMN email;
ALTER TABLE citizens DROP COLUMN address;
ALTER TABLE citizens DROP COLUMN locale;
ALTER TABLE citizens ADD COLUMN sealed_record BYTEA;
ALTER TABLE citizens ADD COLUMN wrapped_key BYTEA;
-- Whether the sealed record still holds contact details (email, address,
-- language), so retention can find the records to clear without opening
-- every one. A flag, not the data.
ALTER TABLE citizens ADD COLUMN has_contact INTEGER NOT NULL DEFAULT 0;
