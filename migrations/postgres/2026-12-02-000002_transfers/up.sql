-- Transfer law (docs/TRANSFERS.md): the company's exporting entities, party facts, agreements as
-- evidence, grant exemptions and PIPL prerequisites, taxonomy marks, and the volume counters.
CREATE TABLE entities (
    key TEXT PRIMARY KEY NOT NULL,
    legal_name TEXT NOT NULL,
    country TEXT NOT NULL,
    ciio BOOLEAN NOT NULL,
    active BOOLEAN NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL
);

ALTER TABLE services ADD COLUMN entities TEXT NOT NULL DEFAULT '[]';

ALTER TABLE parties ADD COLUMN principal_place_of_business TEXT;
ALTER TABLE parties ADD COLUMN ownership TEXT NOT NULL DEFAULT '[]';
ALTER TABLE parties ADD COLUMN us_dsp_covered BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE parties ADD COLUMN us_dsp_covered_by TEXT;
ALTER TABLE parties ADD COLUMN pipl_restricted BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE parties ADD COLUMN pipl_restricted_by TEXT;
ALTER TABLE parties ADD COLUMN dpf_certified_until TEXT;
UPDATE parties SET principal_place_of_business = country;

CREATE TABLE agreements (
    id TEXT PRIMARY KEY NOT NULL,
    party_id TEXT NOT NULL REFERENCES parties(id),
    exporter TEXT NOT NULL REFERENCES entities(key),
    kind TEXT NOT NULL,
    reference TEXT NOT NULL,
    signed_on TEXT,
    valid_from TEXT NOT NULL,
    valid_until TEXT,
    filing_reference TEXT,
    pipia_reference TEXT,
    tia_reference TEXT,
    document_sha256 TEXT,
    status TEXT NOT NULL,
    withdrawn_reason TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX agreements_party ON agreements(party_id);

-- A grant's transfer_mechanism label stays, read-only: it is not evidence and the engine
-- ignores it.
ALTER TABLE grants ADD COLUMN agreements TEXT NOT NULL DEFAULT '[]';
ALTER TABLE grants ADD COLUMN exemptions TEXT NOT NULL DEFAULT '[]';
ALTER TABLE grants ADD COLUMN pipia_reference TEXT;
ALTER TABLE grants ADD COLUMN separate_consent BOOLEAN NOT NULL DEFAULT FALSE;

ALTER TABLE taxonomy_categories ADD COLUMN pipl_sensitive BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE taxonomy_categories ADD COLUMN us_dsp_classes TEXT NOT NULL DEFAULT '[]';
ALTER TABLE taxonomy_purposes ADD COLUMN us_dsp_ancillary BOOLEAN NOT NULL DEFAULT FALSE;
-- Marks change with If-Match: a version per key.
ALTER TABLE taxonomy_categories ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE taxonomy_purposes ADD COLUMN version BIGINT NOT NULL DEFAULT 1;

-- Volumes sent under a regime: PIPL per exporter and calendar year (period "2027", party_id
-- ''), the DSP per exporter, party and class and UTC day (period "2026-12-02"). A cache of the
-- ledger: every increment is in the decision entry that made it.
CREATE TABLE transfer_volumes (
    regime TEXT NOT NULL,
    exporter TEXT NOT NULL,
    party_id TEXT NOT NULL,
    class TEXT NOT NULL,
    period TEXT NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (regime, exporter, party_id, class, period)
);
