-- The reconciliation sweep's own record: when each order awaiting payment was last asked about
-- at the payment provider, what the answer was, and when to ask next (NULL: asked for the last
-- time). Only a new table: the previous release keeps working while this one migrates.
CREATE TABLE payment_checks (
    order_id TEXT PRIMARY KEY REFERENCES orders (id),
    checks INTEGER NOT NULL DEFAULT 0 CHECK (checks >= 0),
    last_checked_at BIGINT,
    last_state TEXT,
    next_check_at BIGINT
);
CREATE INDEX payment_checks_due ON payment_checks (next_check_at) WHERE next_check_at IS NOT NULL;
