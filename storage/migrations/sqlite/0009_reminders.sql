-- Reminders (flows/reminders.py): a schedule of what may be said to a customer later, and the
-- customer's own say in it. A reminder waits in `due_at` rather than in a sleeping task, so it
-- survives restarts; firing it is one UPDATE from 'pending', so exactly one process fires it
-- however many share the database. Only added columns, a new table and its indexes: additive.

-- NULL: reminders on; else who turned them off ('customer' typed stop, 'marketing_opt_out').
ALTER TABLE customers ADD COLUMN reminders_stopped_by TEXT;
ALTER TABLE customers ADD COLUMN reminders_stopped_at INTEGER;

CREATE TABLE reminders (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_key TEXT NOT NULL REFERENCES customers (key),
    slot TEXT NOT NULL,  -- payment_first | payment_second | cart
    order_id TEXT,
    due_at INTEGER NOT NULL,
    -- pending → fired (its event is queued) → sent | skipped; pending → cancelled
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'fired', 'sent', 'skipped', 'cancelled')),
    note TEXT,  -- why it was skipped or cancelled, or what was sent
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    fired_at INTEGER
);
-- At most one pending reminder per customer and slot: planning again moves it.
CREATE UNIQUE INDEX reminders_one_pending ON reminders (customer_key, slot)
    WHERE status = 'pending';
CREATE INDEX reminders_due ON reminders (due_at, id) WHERE status = 'pending';
CREATE INDEX reminders_by_customer ON reminders (customer_key, id);
