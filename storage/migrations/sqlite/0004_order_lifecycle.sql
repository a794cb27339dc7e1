-- The order's life after payment: fulfilment (shipped, delivered, cancelled) as its own status
-- beside the payment status, refunds, who did what, and when the customer last wrote (the
-- WhatsApp 24-hour window). Only added columns, tables and indexes: the previous release keeps
-- working while this one migrates.
ALTER TABLE orders ADD COLUMN fulfilment_status TEXT NOT NULL DEFAULT 'unfulfilled'
    CHECK (fulfilment_status IN ('unfulfilled', 'shipped', 'delivered', 'cancelled'));
ALTER TABLE orders ADD COLUMN courier TEXT;
ALTER TABLE orders ADD COLUMN tracking_number TEXT;
ALTER TABLE orders ADD COLUMN tracking_url TEXT;
ALTER TABLE orders ADD COLUMN shipped_at INTEGER;
ALTER TABLE orders ADD COLUMN delivered_at INTEGER;
ALTER TABLE orders ADD COLUMN refunded_total INTEGER NOT NULL DEFAULT 0
    CHECK (refunded_total >= 0 AND refunded_total <= total);
-- Every refund asked for and not failed: the guard that the money refunded never exceeds
-- what was paid, checked by the database in the transaction that asks for a refund.
ALTER TABLE orders ADD COLUMN refunds_requested_total INTEGER NOT NULL DEFAULT 0
    CHECK (refunds_requested_total >= 0 AND refunds_requested_total <= total);
CREATE INDEX orders_fulfilment ON orders (status, fulfilment_status, created_at);

-- Who moved the order ("customer", "razorpay", "cli:<user>", "admin:<user>").
ALTER TABLE order_status_history ADD COLUMN actor TEXT;

ALTER TABLE customers ADD COLUMN last_inbound_at INTEGER;

CREATE TABLE refunds (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id TEXT NOT NULL REFERENCES orders (id),
    amount INTEGER NOT NULL CHECK (amount > 0),
    reason TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'processed', 'failed')),
    -- Sent as X-Refund-Idempotency on every attempt: a retry never refunds twice.
    idempotency_key TEXT NOT NULL UNIQUE,
    provider_refund_id TEXT,
    provider_answer TEXT,
    requested_by TEXT NOT NULL,
    requested_at INTEGER NOT NULL,
    settled_at INTEGER,
    failure TEXT
);
CREATE INDEX refunds_order ON refunds (order_id, id);
CREATE UNIQUE INDEX refunds_provider_refund ON refunds (provider_refund_id)
    WHERE provider_refund_id IS NOT NULL;
