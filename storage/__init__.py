"""Persistence behind a small async interface (`storage.repository.Store`).

SQLite through aiosqlite is the embedded default; the SQL is kept portable so a Postgres
backend can implement the same interface.
"""
