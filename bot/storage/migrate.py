"""Run the Alembic migrations from code, from any working directory.

The migration scripts live in the top-level `migrations/` directory of a checkout and inside
the package once installed from a wheel (`bot.resources` finds either). The Alembic configuration is built here, so `alembic.ini` is
only needed by people running the `alembic` command themselves.

These functions block and run their own event loop: from async code, call them through
`asyncio.to_thread`.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, pool
from sqlalchemy.ext.asyncio import create_async_engine

from bot.resources import MIGRATIONS
from bot.storage.engine import sqlite_file_missing

URL_ATTRIBUTE = "url"
"""The `Config.attributes` key migrations/env.py reads the database URL from."""


def migrations_directory() -> Path:
    directory = MIGRATIONS
    if not (directory / "env.py").is_file():
        raise RuntimeError(
            f"Alembic migrations not found at {directory}: ship the top-level migrations/ "
            "directory with the bot package (see setup.py)"
        )
    return directory


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_directory()))
    # Passed as an attribute, not the sqlalchemy.url option, which would treat a
    # percent-encoded password as ConfigParser interpolation.
    config.attributes[URL_ATTRIBUTE] = url
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


def head() -> str | None:
    """The newest revision the shipped migrations know."""
    return ScriptDirectory.from_config(alembic_config("")).get_current_head()


def current(url: str) -> str | None:
    """The revision the database is at; None for a database never migrated."""
    if sqlite_file_missing(url):
        return None  # rather than create an empty file just to look inside
    return asyncio.run(_current(url))


async def _current(url: str) -> str | None:
    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_current_revision)
    finally:
        await engine.dispose()


def _current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()
