"""Alembic environment: async engine, URL from the caller or PMADVICE_DATABASE_URL."""

from __future__ import annotations

import asyncio
import os
from logging.config import fileConfig
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection, pool
from sqlalchemy.ext.asyncio import create_async_engine

from bot.storage.engine import ensure_sqlite_directory
from bot.storage.migrate import URL_ATTRIBUTE
from bot.storage.tables import UTCDateTime, metadata

config = context.config

# Only the `alembic` command has an ini file; the application keeps its own logging setup.
if config.config_file_name is not None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def database_url() -> str:
    url = (
        config.attributes.get(URL_ATTRIBUTE)
        or os.environ.get("PMADVICE_DATABASE_URL")
        or config.get_main_option("sqlalchemy.url")
    )
    if not url:
        raise RuntimeError("no database URL: set PMADVICE_DATABASE_URL")
    return str(url)


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    # Migrations must not import the application's types: render the stored type instead.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def configure(**options: Any) -> None:
    context.configure(
        target_metadata=metadata,
        compare_type=True,
        render_item=render_item,
        **options,
    )


def run_migrations_offline() -> None:
    url = database_url()
    configure(
        url=url,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=url.startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


MIGRATION_LOCK = 0x706D_6164_7669_6365  # "pmadvice": one key for every process and version
"""PostgreSQL advisory lock held while migrating, so replicas upgrading at once take turns;
the next one then finds the schema current and has nothing to do."""


def do_run_migrations(connection: Connection) -> None:
    # SQLite cannot ALTER most things: batch mode rebuilds the table instead.
    configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Released at commit; taken before Alembic reads the version table.
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
        context.run_migrations()


async def run_async_migrations() -> None:
    url = database_url()
    ensure_sqlite_directory(url)
    # A bare engine, not bot.storage.engine.create_engine: SQLite batch migrations copy and
    # drop tables, which must not trip (or cascade through) enforced foreign keys.
    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            if connection.dialect.name == "sqlite":
                # Switch to WAL here, on one connection, before the application's
                # connections open the file (see bot.storage.engine).
                await connection.exec_driver_sql("PRAGMA journal_mode=WAL")
                await connection.commit()
            await connection.run_sync(do_run_migrations)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(run_async_migrations())
