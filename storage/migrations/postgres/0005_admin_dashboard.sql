-- The merchant's dashboard at /admin. Only new tables: the previous release keeps working
-- while this one migrates.

-- Login attempts not (yet) known to have succeeded, per client address, so the rate limit holds
-- across every process on one database (Postgres, several dynos). An attempt is written before
-- its password is checked, so parallel guesses count too; a success deletes its client's rows,
-- and rows older than the limit's window are deleted as new ones arrive.
CREATE TABLE admin_login_attempts (
    attempt TEXT PRIMARY KEY,
    client TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX admin_login_attempts_client ON admin_login_attempts (client, at);
CREATE INDEX admin_login_attempts_at ON admin_login_attempts (at);

-- Each dashboard form carries a one-time token: a form submitted twice (a double click, a
-- reload of the POST) is acted on once, in the transaction that uses its token.
CREATE TABLE admin_form_uses (
    token TEXT PRIMARY KEY,
    used_at BIGINT NOT NULL
);
CREATE INDEX admin_form_uses_at ON admin_form_uses (used_at);
