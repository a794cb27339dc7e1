-- Items that cannot be handled are set aside rather than retried forever or stopping a start;
-- the column says why. Only added columns, tables and indexes: the previous release keeps
-- working while this one migrates.
ALTER TABLE events ADD COLUMN dead_letter TEXT;
ALTER TABLE outbox ADD COLUMN dead_letter TEXT;
ALTER TABLE jobs ADD COLUMN dead_letter TEXT;

-- Facts about the database itself, e.g. which mode (live or sandbox) writes to it.
CREATE TABLE shop_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Pending work by key, in order: what a worker reads after claiming a customer or an order.
CREATE INDEX events_pending_by_customer ON events (customer_key, id) WHERE processed_at IS NULL;
CREATE INDEX outbox_pending_by_customer ON outbox (customer_key, id) WHERE status = 'pending';
CREATE INDEX jobs_pending_by_order ON jobs (order_id, id) WHERE status = 'pending';
CREATE INDEX events_dead_letters ON events (id) WHERE dead_letter IS NOT NULL;
CREATE INDEX outbox_dead_letters ON outbox (id) WHERE dead_letter IS NOT NULL;
CREATE INDEX jobs_dead_letters ON jobs (id) WHERE dead_letter IS NOT NULL;
