-- What the merchant is told about each order, one row per event and channel (webhook, email,
-- telegram, whatsapp), written in the same transaction as the step that changed the order, so
-- a paid order is never missed. A delivery waits for its next attempt in `next_attempt_at`
-- rather than in a sleeping worker. Only a new table and its indexes: additive.
CREATE TABLE merchant_alerts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    channel TEXT NOT NULL,
    event_type TEXT NOT NULL,
    order_id TEXT NOT NULL REFERENCES orders (id),
    dedupe_key TEXT NOT NULL,
    webhook_id TEXT NOT NULL,  -- the same on every attempt and every "send again"
    body TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'delivered', 'failed', 'skipped')),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    next_attempt_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    delivered_at INTEGER,
    dead_letter TEXT,
    UNIQUE (channel, dedupe_key)
);
CREATE INDEX merchant_alerts_due ON merchant_alerts (channel, next_attempt_at, id)
    WHERE status = 'pending';
CREATE INDEX merchant_alerts_order ON merchant_alerts (order_id, id);
CREATE INDEX merchant_alerts_dead_letters ON merchant_alerts (id) WHERE dead_letter IS NOT NULL;

-- The owners' 24-hour WhatsApp window: when did this phone last write to the shop?
CREATE INDEX customers_phone ON customers (phone);
CREATE INDEX events_by_customer ON events (customer_key, received_at);
