-- No missed payment and cash on delivery.
--
-- The reconciliation sweep's own record: when each order awaiting payment was last asked about
-- at the payment provider, what the answer was, and when to ask next (NULL: asked for the last
-- time). Only new tables and columns: the previous release keeps working while this migrates.
CREATE TABLE payment_checks (
    order_id TEXT PRIMARY KEY REFERENCES orders (id),
    checks INTEGER NOT NULL DEFAULT 0 CHECK (checks >= 0),
    last_checked_at INTEGER,
    last_state TEXT,
    next_check_at INTEGER
);
CREATE INDEX payment_checks_due ON payment_checks (next_check_at) WHERE next_check_at IS NOT NULL;

-- Cash on delivery: how the customer pays. A 'cod' order is confirmed at once and stays
-- 'pending_payment' (payment due) until the merchant marks it paid; the old release reads
-- every existing order as 'link', the default.
ALTER TABLE orders ADD COLUMN payment_method TEXT NOT NULL DEFAULT 'link'
    CHECK (payment_method IN ('link', 'cod'));
