-- Disclosures outside the grants (docs/DISCLOSURES.md): legal-process requests, incidents with
-- their notification duties, and the rows an incident's exposure is computed from.
CREATE TABLE legal_requests (
    id TEXT PRIMARY KEY NOT NULL,
    status TEXT NOT NULL,
    outcome TEXT NOT NULL,
    authority_country TEXT NOT NULL,
    instrument TEXT NOT NULL,
    received_at TEXT NOT NULL,
    -- The whole request as answered (JSON); the columns above are what the lists filter on.
    body TEXT NOT NULL,
    created_by TEXT NOT NULL,
    idempotency_key TEXT,
    request_hash TEXT,
    version BIGINT NOT NULL
);
CREATE INDEX legal_requests_received ON legal_requests(received_at);
CREATE UNIQUE INDEX legal_requests_idempotency ON legal_requests(created_by, idempotency_key);

CREATE TABLE incidents (
    id TEXT PRIMARY KEY NOT NULL,
    party_id TEXT NOT NULL REFERENCES parties(id),
    status TEXT NOT NULL,
    body TEXT NOT NULL,
    created_by TEXT NOT NULL,
    idempotency_key TEXT,
    request_hash TEXT,
    version BIGINT NOT NULL
);
CREATE INDEX incidents_party ON incidents(party_id);
CREATE UNIQUE INDEX incidents_idempotency ON incidents(created_by, idempotency_key);

-- One duty per regime x exporter ('' for none) x addressee; added, never removed.
CREATE TABLE incident_duties (
    id TEXT PRIMARY KEY NOT NULL,
    incident_id TEXT NOT NULL REFERENCES incidents(id),
    regime TEXT NOT NULL,
    exporter TEXT NOT NULL,
    addressee TEXT NOT NULL,
    rule TEXT NOT NULL,
    due_at TEXT,
    status TEXT NOT NULL,
    done_at TEXT,
    reference TEXT,
    reason TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (incident_id, regime, exporter, addressee)
);
CREATE INDEX incident_duties_pending ON incident_duties(status, due_at);

-- One row per approved decision x category: what an incident's exposure reads.
CREATE TABLE decision_categories (
    decision_id TEXT NOT NULL REFERENCES sharing_requests(id),
    category TEXT NOT NULL,
    party_id TEXT NOT NULL,
    service TEXT NOT NULL,
    -- Null for decisions made before subject_country existed (they group by subject_region).
    subject_country TEXT,
    subject_region TEXT NOT NULL,
    exporter TEXT,
    -- Null with subject_country.
    subject_count BIGINT,
    decided_at TEXT NOT NULL,
    ledger_seq BIGINT NOT NULL,
    grant_id TEXT,
    agreements TEXT NOT NULL,
    PRIMARY KEY (decision_id, category)
);
CREATE INDEX decision_categories_party ON decision_categories(party_id, decided_at);

-- Back-filled from the stored answers of the approved decisions.
INSERT OR IGNORE INTO decision_categories (decision_id, category, party_id, service,
    subject_country, subject_region, exporter, subject_count, decided_at, ledger_seq, grant_id,
    agreements)
SELECT s.id, c.value, s.party_id, s.service,
    NULLIF(json_extract(s.body, '$.subject_country'), ''),
    json_extract(s.body, '$.subject_region'),
    json_extract(s.body, '$.exporter'),
    CASE WHEN NULLIF(json_extract(s.body, '$.subject_country'), '') IS NULL THEN NULL
        ELSE json_extract(s.body, '$.subject_count') END,
    s.decided_at, s.ledger_seq,
    (SELECT json_extract(g.value, '$.grant_id') FROM json_each(s.body, '$.grants') g
        WHERE json_extract(g.value, '$.category') = c.value LIMIT 1),
    COALESCE((SELECT json_group_array(DISTINCT json_extract(a.value, '$.agreement_id'))
        FROM json_each(s.body, '$.regimes') r, json_each(r.value, '$.agreements') a
        WHERE json_extract(a.value, '$.category') = c.value
            AND json_extract(a.value, '$.state') = 'in_force'), '[]')
FROM sharing_requests s, json_each(s.body, '$.categories') c
WHERE s.outcome = 'approved';
