-- Outbound webhooks (README "Webhooks"). The ledger is the outbox of register changes: each
-- change's entry is written in the change's own transaction, and `webhook_cursor` marks how far
-- the ledger has been turned into events. Reminders become events once each (`source` unique).
CREATE TABLE webhooks (
    id TEXT PRIMARY KEY NOT NULL,
    url TEXT NOT NULL,
    event_types TEXT NOT NULL,
    secret TEXT NOT NULL,
    owner TEXT NOT NULL,
    owner_role TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL
);
CREATE TABLE webhook_events (
    id TEXT PRIMARY KEY NOT NULL,
    source TEXT NOT NULL UNIQUE,
    event_type TEXT NOT NULL,
    service TEXT,
    occurred_at TEXT NOT NULL,
    payload TEXT NOT NULL
);
CREATE TABLE webhook_deliveries (
    event_id TEXT NOT NULL,
    webhook_id TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at TEXT,
    delivered_at TEXT,
    failed_at TEXT,
    last_status BIGINT,
    last_error TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (event_id, webhook_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_attempt_at);
CREATE INDEX webhook_deliveries_of_webhook ON webhook_deliveries(webhook_id, event_id);
CREATE TABLE webhook_cursor (
    name TEXT PRIMARY KEY NOT NULL,
    seq BIGINT NOT NULL
);
