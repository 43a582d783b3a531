"""Async engines for SQLite (aiosqlite) and PostgreSQL (asyncpg)."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import URL, event, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

SQLITE_BUSY_TIMEOUT_MS = 5000
CONNECT_TIMEOUT = 5.0
"""Seconds to open a PostgreSQL connection before giving up (asyncpg waits 60 by default)."""
STATEMENT_TIMEOUT = 10.0
"""Seconds one statement may take, on the server and, for a connection gone silent, here."""
POOL_TIMEOUT = 5.0
"""Seconds to wait for a free pooled connection."""

log = logging.getLogger(__name__)


def is_sqlite(url: str | URL) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def sqlite_file(url: str | URL) -> Path | None:
    """The file of a SQLite database; None for other databases, memory and URI filenames."""
    parsed = make_url(url)
    database = parsed.database
    if not is_sqlite(parsed) or not database or database == ":memory:":
        return None
    if database.startswith("file:"):  # a URI filename (uri=true); leave it to SQLite
        return None
    return Path(database).expanduser()


def sqlite_file_missing(url: str | URL) -> bool:
    path = sqlite_file(url)
    return path is not None and not path.exists()


def ensure_sqlite_directory(url: str | URL) -> None:
    """Create the directory of a SQLite database file, so a fresh install just works."""
    path = sqlite_file(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        _use_wal(cursor)
    finally:
        cursor.close()


def _journal_mode(cursor: Any, change: str = "") -> str:
    cursor.execute(f"PRAGMA journal_mode{change}")
    return str(cursor.fetchone()[0]).lower()


def _use_wal(cursor: Any) -> None:
    """Switch the file to WAL (readers carry on while one writer commits); it persists.

    Migrations switch a new database already, so this is normally just a query. Switching
    needs the file to itself and SQLite does not wait for that: if another connection is
    busy, carry on in the current mode and let a later connection switch.
    """
    if _journal_mode(cursor) in ("wal", "memory"):
        return
    try:
        _journal_mode(cursor, "=WAL")
    except sqlite3.OperationalError as exc:
        log.warning("SQLite WAL not enabled yet (%s); a later connection will retry", exc)


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """An engine for the application: foreign keys enforced and WAL on SQLite, stale
    connections detected on PostgreSQL."""
    if is_sqlite(url):
        ensure_sqlite_directory(url)
        engine = create_async_engine(url, echo=echo)
        event.listen(engine.sync_engine, "connect", _configure_sqlite_connection)
        return engine
    return create_async_engine(
        url,
        echo=echo,
        pool_pre_ping=True,
        pool_timeout=POOL_TIMEOUT,
        connect_args={
            "timeout": CONNECT_TIMEOUT,
            # Client side: a frozen connection fails the statement instead of hanging.
            "command_timeout": STATEMENT_TIMEOUT,
            "server_settings": {"statement_timeout": str(int(STATEMENT_TIMEOUT * 1000))},
        },
    )
