"""Database engine behaviour: SQLite made safe for concurrent writers, URL normalisation."""

from __future__ import annotations

import sqlite3

from flask import has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def normalise_database_url(url: str) -> str:
    """Accept the URLs hosting providers hand out and use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection, _record) -> None:
    """WAL, a busy timeout and foreign keys on every SQLite connection.

    The driver's own transaction handling is switched off so that ``_sqlite_on_begin`` can
    choose how each transaction starts.
    """
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_on_begin(conn) -> None:
    """Writers take SQLite's write lock up front (BEGIN IMMEDIATE).

    A deferred transaction that reads and then writes cannot wait for the lock: SQLite fails it
    at once with "database is locked". Taking the lock at BEGIN makes writers queue behind the
    busy timeout instead. Page reads (GET) stay deferred so they never wait on writers.
    """
    if conn.dialect.name != "sqlite":
        return
    if has_request_context() and request.method in READ_METHODS:
        conn.exec_driver_sql("BEGIN")
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
