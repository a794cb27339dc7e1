-- Initial schema. Times are integer Unix seconds, money integer paise, JSON is TEXT.
-- Queries stay portable (ON CONFLICT, RETURNING, partial indexes); only the DDL below uses
-- SQLite spellings (INTEGER PRIMARY KEY AUTOINCREMENT) that a Postgres migration will change.

CREATE TABLE customers (
    key TEXT PRIMARY KEY,
    phone TEXT,
    user_id TEXT,
    name TEXT,
    conversation TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- Every inbound event, stored before it is processed, exactly once per dedupe_key.
CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL,
    dedupe_key TEXT NOT NULL UNIQUE,
    customer_key TEXT,  -- no foreign key: a first message arrives before its customer row
    order_id TEXT,
    customer TEXT,
    event TEXT,
    raw TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    processed_at INTEGER,
    outcome TEXT
);
CREATE INDEX events_unprocessed ON events (id) WHERE processed_at IS NULL;

CREATE TABLE orders (
    id TEXT PRIMARY KEY,
    customer_key TEXT NOT NULL REFERENCES customers (key),
    lines TEXT NOT NULL,
    total INTEGER NOT NULL CHECK (total >= 0),
    currency TEXT NOT NULL,
    address TEXT,
    status TEXT NOT NULL
        CHECK (status IN ('pending_payment', 'paid', 'expired', 'cancelled', 'flagged')),
    status_reason TEXT NOT NULL DEFAULT '',
    link_id TEXT,
    link_url TEXT,
    link_expires_at INTEGER,
    payment_id TEXT,
    created_at INTEGER NOT NULL,
    paid_at INTEGER,
    updated_at INTEGER NOT NULL
);
CREATE INDEX orders_customer_status ON orders (customer_key, status, created_at);
CREATE INDEX orders_created ON orders (created_at);

CREATE TABLE order_status_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id TEXT NOT NULL REFERENCES orders (id),
    status TEXT NOT NULL,
    at INTEGER NOT NULL,
    reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX order_status_history_order ON order_status_history (order_id, at);

-- Messages to send, written in the same transaction as the step that produced them.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_key TEXT NOT NULL REFERENCES customers (key),
    event_id INTEGER REFERENCES events (id),
    recipient_phone TEXT,
    recipient_user_id TEXT,
    message TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    wamid TEXT,
    created_at INTEGER NOT NULL,
    sent_at INTEGER,
    failed_at INTEGER
);
CREATE INDEX outbox_pending ON outbox (id) WHERE status = 'pending';

-- Payment-provider calls a committed step asked for; their outcome comes back as an event.
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    customer_key TEXT NOT NULL REFERENCES customers (key),
    order_id TEXT NOT NULL REFERENCES orders (id),
    event_id INTEGER REFERENCES events (id),
    payload TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done')),
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    done_at INTEGER
);
CREATE INDEX jobs_pending ON jobs (id) WHERE status = 'pending';
