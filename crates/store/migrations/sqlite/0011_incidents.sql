-- 0011 the register of confidentiality incidents (A-2.1 s. 63.11; the
-- fields of r. 3.1 s. 7; pia/incidents.md section 5). An entry is written
-- once; what follows (notices sent, measures, corrections, closure) is added
-- as dated lines, never by rewriting. Kept five years from the date the body
-- became aware of the incident (incident.record).
CREATE TABLE incidents (
    id             TEXT PRIMARY KEY,       -- the incident number
    recorded_at    INTEGER NOT NULL,
    recorded_by    TEXT NOT NULL,
    information    TEXT NOT NULL,          -- 1: the personal information concerned
    elements       TEXT NOT NULL,          -- its inventory element ids (JSON list)
    circumstances  TEXT NOT NULL,          -- 2
    occurred       TEXT NOT NULL,          -- 3: date or period
    aware_at       INTEGER NOT NULL,            -- 4: when the body became aware
    persons        TEXT NOT NULL,          -- 5: number (or approximate number) of persons
    sensitivity    INTEGER NOT NULL CHECK (sensitivity BETWEEN 1 AND 3),   -- 6: the grid
    consequences   INTEGER NOT NULL CHECK (consequences BETWEEN 1 AND 3),
    likelihood     INTEGER NOT NULL CHECK (likelihood BETWEEN 1 AND 3),
    serious        INTEGER NOT NULL CHECK (serious IN (0, 1)),
    reasoning      TEXT NOT NULL,
    measures       TEXT NOT NULL           -- 8
);

CREATE TABLE incident_lines (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id  TEXT NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    at           INTEGER NOT NULL,
    by_staff     TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('notice_commission', 'notice_persons', 'public_notice', 'measure', 'correction', 'closed')),
    text         TEXT NOT NULL
);
CREATE INDEX incident_lines_incident ON incident_lines (incident_id, id);
