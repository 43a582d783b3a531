"""Start-up checks on the database, each failure one line naming the setting and the fix.

Also the cheap "is the schema current?" test: the applied revision is one SELECT and the
shipped head is read from the migration files' headers, so a one-shot command on an
up-to-date database never imports Alembic.
"""

from __future__ import annotations

import asyncio
import errno
import os
import re
from pathlib import Path
from typing import IO

from sqlalchemy import make_url, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.resources import MIGRATIONS
from bot.storage.engine import CONNECT_TIMEOUT, sqlite_file

SETTING = "PMADVICE_DATABASE_URL"
_HEADER = re.compile(r"^(revision|down_revision)\s*(?::[^=]*)?=\s*['\"]?([\w-]+|None)['\"]?", re.M)


class DatabaseUnavailable(Exception):
    """The database cannot be used; the message is one line for the operator."""


def shipped_head(versions: Path = MIGRATIONS / "versions") -> str | None:
    """The newest revision of the shipped migrations, from their `revision` and
    `down_revision` lines (the chain is linear; a test holds Alembic to the same answer)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in versions.glob("*.py"):
        found = dict(_HEADER.findall(script.read_text(encoding="utf-8")))
        if "revision" in found:
            revisions.add(found["revision"])
            parents.add(found.get("down_revision", "None"))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


async def applied_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        try:
            found = await conn.scalar(text("SELECT version_num FROM alembic_version"))
        except DBAPIError:
            return None  # no version table: never migrated
    return None if found is None else str(found)


def describe(url: str) -> str:
    """Where the database is, without the password."""
    parsed = make_url(url)
    path = sqlite_file(parsed)
    if path is not None:
        return str(path)
    return parsed.render_as_string(hide_password=True)


def unreachable(url: str, error: BaseException) -> DatabaseUnavailable:
    reason = _reason(error)
    path = sqlite_file(url)
    if path is not None:
        return DatabaseUnavailable(
            f"{SETTING}: cannot open the SQLite database {path} ({reason}); make its folder "
            f"writable by this user (uid {os.getuid()}) or point {SETTING} elsewhere."
        )
    return DatabaseUnavailable(
        f"{SETTING}: cannot reach the database at {describe(url)} ({reason}); check that it "
        "is running and that the host, port, database, user and password are right."
    )


def _reason(error: BaseException) -> str:
    original = getattr(error, "orig", None) or error
    cause = original.__cause__ or original
    if isinstance(cause, OSError) and cause.strerror:
        return cause.strerror
    if isinstance(error, TimeoutError | asyncio.TimeoutError):
        return f"no answer within {CONNECT_TIMEOUT:g} s"
    message = str(cause).strip().splitlines()[0] if str(cause).strip() else ""
    return message[:200] or type(cause).__name__


def check_sqlite_writable(url: str) -> None:
    """A read-only file or folder is found now, not at the first write a member makes."""
    path = sqlite_file(url)
    if path is None:
        return
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DatabaseUnavailable(
            f"{SETTING}: cannot create the folder {folder} for the SQLite database "
            f"({error.strerror}); create it writable by uid {os.getuid()} or point {SETTING} "
            "elsewhere."
        ) from None
    # WAL mode writes -wal and -shm files beside the database: the folder must be writable.
    for target in (folder, path) if path.exists() else (folder,):
        if not os.access(target, os.W_OK):
            raise DatabaseUnavailable(
                f"{SETTING}: {target} is read-only for this user (uid {os.getuid()}); SQLite "
                f"needs to write the database and its folder. Fix the permissions or point "
                f"{SETTING} elsewhere."
            )


def lock_sqlite(url: str) -> IO[bytes] | None:
    """Hold an exclusive lock beside a SQLite database for as long as this bot runs.

    SQLite is for one bot process: a second one on the same file is refused with a clear
    line (use PostgreSQL to run several). Returns the open lock file (keep it), or None
    where there is nothing to lock.
    """
    path = sqlite_file(url)
    if path is None:
        return None
    import fcntl

    check_sqlite_writable(url)
    handle = open(f"{path}.lock", "a+b")  # noqa: SIM115 (held for the life of the process)
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as error:
        handle.close()
        if error.errno in (errno.EAGAIN, errno.EACCES):
            raise DatabaseUnavailable(
                f"{SETTING}: another pmadvice bot is already running on {path}; SQLite serves "
                "one bot process, so stop the other one or use PostgreSQL to run several."
            ) from None
        raise
    return handle


async def ping(engine: AsyncEngine, url: str, within: float = CONNECT_TIMEOUT * 2) -> None:
    """Connect once, so an unreachable database is one clear line at start-up."""
    try:
        async with asyncio.timeout(within), engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError, TimeoutError) as error:
        raise unreachable(url, error) from None
