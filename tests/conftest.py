"""Database fixtures shared by every test that touches storage.

- `empty_database_url`: a fresh, never-migrated database, once on SQLite (a file under
  tmp_path) and once on PostgreSQL (a scratch database created for the test and dropped after).
- `database_url`: the same, migrated to head.
- `engine`: an application engine on `database_url`, disposed afterwards.
- `repositories`: the repository set on the in-memory fakes, SQLite and PostgreSQL.

PostgreSQL runs when PMADVICE_TEST_POSTGRES_URL is set (e.g.
`postgresql+asyncpg://postgres@127.0.0.1:5432/test`); its user needs CREATEDB. Unset, those
cases are skipped; set but unreachable, they fail.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import make_url, pool, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.core.ports import Repositories
from bot.storage.engine import create_engine
from bot.storage.migrate import upgrade
from bot.storage.repositories import build_repositories
from tests.support.fakes import fake_repositories

# The runtime-on-a-copied-database fixtures the adapter tests use.
pytest_plugins = ["tests.support.runtime"]

POSTGRES_ENV = "PMADVICE_TEST_POSTGRES_URL"
POSTGRES_CONNECT_TIMEOUT = 5

SQL_BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


@dataclass
class PostgresServer:
    url: str
    unreachable: str | None = None
    """Why the first connection failed, so later tests fail at once instead of waiting."""


@pytest.fixture(scope="session")
def postgres_server() -> PostgresServer:
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        pytest.skip(f"{POSTGRES_ENV} is not set")
    return PostgresServer(url)


@asynccontextmanager
async def _scratch_postgres_database(server: PostgresServer) -> AsyncIterator[str]:
    """A new, empty database on the server for one test; dropped afterwards."""
    if server.unreachable:
        pytest.fail(server.unreachable, pytrace=False)
    admin = create_async_engine(
        server.url,
        isolation_level="AUTOCOMMIT",
        poolclass=pool.NullPool,
        connect_args={"timeout": POSTGRES_CONNECT_TIMEOUT},
    )
    name = f"pmadvice_test_{uuid.uuid4().hex[:12]}"
    try:
        connection = await admin.connect()
    except (OSError, TimeoutError, DBAPIError) as exc:
        await admin.dispose()
        shown = make_url(server.url).render_as_string(hide_password=True)
        server.unreachable = (
            f"{POSTGRES_ENV} is set but PostgreSQL at {shown} is unreachable: {exc!r}"
        )
        pytest.fail(server.unreachable, pytrace=False)
    try:
        await connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE template0'))
    finally:
        await connection.close()
    try:
        yield make_url(server.url).set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


@asynccontextmanager
async def fresh_database(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[str]:
    """The URL of an empty database on `backend` ("sqlite" or "postgres")."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'db' / 'pmadvice.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    async with _scratch_postgres_database(server) as url:
        yield url


async def migrate(url: str) -> None:
    # Alembic's env.py runs its own event loop, so it needs a thread of its own.
    await asyncio.to_thread(upgrade, url)


@pytest.fixture(params=SQL_BACKENDS)
async def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    async with fresh_database(request.param, request, tmp_path) as url:
        yield url


@pytest.fixture
async def database_url(empty_database_url: str) -> str:
    await migrate(empty_database_url)
    return empty_database_url


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture(params=[pytest.param("fake", id="fake"), *SQL_BACKENDS])
async def repositories(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Repositories]:
    if request.param == "fake":
        yield fake_repositories()
        return
    async with fresh_database(request.param, request, tmp_path) as url:
        await migrate(url)
        engine = create_engine(url)
        try:
            yield build_repositories(engine)
        finally:
            await engine.dispose()
