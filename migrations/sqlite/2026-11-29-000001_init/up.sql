-- Timestamps are stored as fixed-width RFC 3339 UTC text with microseconds
-- ("2026-11-29T01:02:03.456789Z"): they sort correctly as text, round-trip exactly on both
-- backends, and are the very strings the ledger hashes.
CREATE TABLE taxonomy_categories (
    key TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    parent TEXT REFERENCES taxonomy_categories(key),
    pii BOOLEAN NOT NULL,
    linkable BOOLEAN NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE taxonomy_purposes (
    key TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    parent TEXT REFERENCES taxonomy_purposes(key),
    prohibited BOOLEAN NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE services (
    key TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    purposes TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL
);

CREATE TABLE parties (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    legal_name TEXT NOT NULL,
    country TEXT,
    region TEXT,
    data_locations TEXT NOT NULL,
    privacy_policy_url TEXT NOT NULL,
    contact_email TEXT NOT NULL,
    contract_reference TEXT,
    risk_tier TEXT NOT NULL,
    next_review_due TEXT,
    status TEXT NOT NULL,
    status_reason TEXT,
    external_ref TEXT UNIQUE,
    declared_purposes TEXT NOT NULL,
    declared_categories TEXT NOT NULL,
    deleted_upstream BOOLEAN NOT NULL DEFAULT FALSE,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX parties_status ON parties(status);
CREATE INDEX parties_review ON parties(next_review_due);

CREATE TABLE grants (
    id TEXT PRIMARY KEY NOT NULL,
    party_id TEXT NOT NULL REFERENCES parties(id),
    service TEXT NOT NULL REFERENCES services(key),
    categories TEXT NOT NULL,
    allowed_regions TEXT NOT NULL,
    transfer_mechanism TEXT NOT NULL,
    legal_basis TEXT,
    valid_from TEXT NOT NULL,
    valid_until TEXT,
    status TEXT NOT NULL,
    revoked_reason TEXT,
    revoked_at TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX grants_party ON grants(party_id);

CREATE TABLE sharing_requests (
    id TEXT PRIMARY KEY NOT NULL,
    service TEXT NOT NULL,
    party_id TEXT NOT NULL,
    outcome TEXT NOT NULL,
    decided_at TEXT NOT NULL,
    ledger_seq BIGINT NOT NULL,
    body TEXT NOT NULL,
    idempotency_key TEXT,
    request_hash TEXT,
    UNIQUE (service, idempotency_key)
);
CREATE INDEX sharing_requests_service ON sharing_requests(service);
CREATE INDEX sharing_requests_party ON sharing_requests(party_id);

CREATE TABLE ledger (
    seq BIGINT PRIMARY KEY NOT NULL,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    change TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    -- RFC 9162 leaf hash of the entry, kept to build proofs without re-reading whole entries.
    leaf_hash TEXT NOT NULL
);
CREATE INDEX ledger_subject ON ledger(subject);
CREATE INDEX ledger_action ON ledger(action);

-- Signed tree heads. Every one issued is kept; verification checks the log against each.
CREATE TABLE checkpoints (
    size BIGINT PRIMARY KEY NOT NULL,
    root_hash TEXT NOT NULL,
    signed_at TEXT NOT NULL,
    key_id TEXT NOT NULL,
    signature TEXT NOT NULL
);

-- The head of the chain: one row, locked by every append so that seq has no gaps and the chain
-- never forks. register_revision is the seq of the last change to the register.
CREATE TABLE ledger_head (
    id INTEGER PRIMARY KEY NOT NULL,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL,
    register_revision BIGINT NOT NULL
);
INSERT INTO ledger_head (id, seq, hash, register_revision)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000', 0);

CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
BEGIN SELECT RAISE(ABORT, 'ledger is append-only'); END;
CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
BEGIN SELECT RAISE(ABORT, 'ledger is append-only'); END;
CREATE TRIGGER checkpoints_no_update BEFORE UPDATE ON checkpoints
BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;
CREATE TRIGGER checkpoints_no_delete BEFORE DELETE ON checkpoints
BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;
