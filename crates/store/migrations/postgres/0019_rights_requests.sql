-- 0019 two of the rights that remained (issue 15). Never edit once
-- released; add a new numbered file instead.
--
-- Complaints from people without an account: no citizen, a contact (email
-- or postal address, to answer them) and the SHA-256 of the status code
-- given once at filing, with which the complainant reads the answer by the
-- complaint's number. Both are part of the complaint file
-- (complaint.record): kept while open and two years after the answer.
ALTER TABLE complaints ADD COLUMN contact TEXT;
ALTER TABLE complaints ADD COLUMN status_code_hash BYTEA;

-- Correction requests a signed-in citizen makes from their account page
-- (correction.record, A-2.1 s. 89 and s. 98): the element of their file
-- concerned (a PIA id, never its value), what they say is wrong, the staff
-- role it is routed to, when a member of that role first opened the file
-- for it, and the answer (corrected, or refused with reasons). Deleted with
-- the account (the file it concerns is gone), otherwise two years after the
-- answer.
CREATE TABLE correction_requests (
    id           TEXT PRIMARY KEY,                -- the reference given to the citizen
    citizen_id   TEXT NOT NULL REFERENCES citizens(id) ON DELETE CASCADE,
    element      TEXT NOT NULL,                   -- PIA element id (citizen.family_name, ...)
    details      TEXT NOT NULL,                   -- what the citizen says is wrong
    routed_to    TEXT NOT NULL,                   -- the PIA role that answers it
    received_at  BIGINT NOT NULL,
    answer_due   BIGINT NOT NULL,                   -- 20 days from receipt (A-2.1 s. 98)
    opened_at    BIGINT,                            -- first opening of the file for it
    opened_by    TEXT,                            -- badge
    decision     TEXT,                            -- corrected | refused
    answer       TEXT,                            -- the registrar's words to the citizen
    answered_by  TEXT,                            -- badge
    closed_at    BIGINT
);
CREATE INDEX correction_requests_citizen ON correction_requests (citizen_id, received_at);
CREATE INDEX correction_requests_open ON correction_requests (closed_at, received_at);
