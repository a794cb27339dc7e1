-- The merchant's dashboard at /admin. Only new tables: the previous release keeps working
-- while this one migrates.

-- Failed logins per client address, so the rate limit holds across every process on one
-- database (Postgres, several dynos). Rows older than the limit's window are deleted as new
-- ones arrive.
CREATE TABLE admin_login_failures (
    client TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX admin_login_failures_client ON admin_login_failures (client, at);
CREATE INDEX admin_login_failures_at ON admin_login_failures (at);

-- Each dashboard form carries a one-time token: a form submitted twice (a double click, a
-- reload of the POST) is acted on once, in the transaction that uses its token.
CREATE TABLE admin_form_uses (
    token TEXT PRIMARY KEY,
    used_at INTEGER NOT NULL
);
CREATE INDEX admin_form_uses_at ON admin_form_uses (used_at);
