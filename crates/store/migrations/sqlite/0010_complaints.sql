-- 0010 complaints about the protection of personal information (A-2.1
-- s. 63.3; pia/governance.md section 6): filed by a citizen from their account
-- page, answered by the privacy officer. Kept while open and two years after
-- the answer (complaint.record), whatever happens to the account: the
-- citizen link is cleared when the account is deleted.
CREATE TABLE complaints (
    id           TEXT PRIMARY KEY,            -- the file number given to the complainant
    citizen_id   TEXT REFERENCES citizens(id) ON DELETE SET NULL,
    subject      TEXT NOT NULL,
    facts        TEXT NOT NULL,
    received_at  INTEGER NOT NULL,
    answer_due   INTEGER NOT NULL,                 -- 30 days from receipt (governance)
    answer       TEXT,
    answered_by  TEXT,
    closed_at    INTEGER
);
CREATE INDEX complaints_citizen ON complaints (citizen_id, received_at);
