"""The migrations build exactly the schema bot/storage/tables.py describes, and undo it."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect

from bot.storage import migrate
from bot.storage.engine import create_engine
from bot.storage.tables import metadata

ROOT = Path(__file__).resolve().parents[2]


async def schema_differences(url: str) -> list[Any]:
    def compare(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))

    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(compare)
    finally:
        await engine.dispose()


async def table_names(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return set(await connection.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await engine.dispose()


async def test_upgrade_builds_the_schema_of_the_models(
    empty_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # migrate.py must not depend on the working directory
    assert await asyncio.to_thread(migrate.current, empty_database_url) is None

    await asyncio.to_thread(migrate.upgrade, empty_database_url)

    assert await asyncio.to_thread(migrate.current, empty_database_url) == migrate.head()
    assert await schema_differences(empty_database_url) == []


async def test_downgrade_to_base_then_upgrade_again(empty_database_url: str) -> None:
    await asyncio.to_thread(migrate.upgrade, empty_database_url)

    await asyncio.to_thread(migrate.downgrade, empty_database_url, "base")
    assert await table_names(empty_database_url) == {"alembic_version"}
    assert await asyncio.to_thread(migrate.current, empty_database_url) is None

    await asyncio.to_thread(migrate.upgrade, empty_database_url)
    assert await schema_differences(empty_database_url) == []


def test_the_migration_history_is_one_line() -> None:
    scripts = ScriptDirectory.from_config(migrate.alembic_config(""))
    assert len(scripts.get_heads()) == 1
    chain = [script.revision for script in scripts.walk_revisions()]
    assert chain[-1] == "0001"
    assert chain[0] == migrate.head()


def test_the_alembic_command_works_with_the_ini_file(tmp_path: Path) -> None:
    database = tmp_path / "cli" / "pmadvice.db"
    env = {**os.environ, "PMADVICE_DATABASE_URL": f"sqlite+aiosqlite:///{database}"}
    command = [sys.executable, "-m", "alembic", "-c", str(ROOT / "alembic.ini")]

    subprocess.run([*command, "upgrade", "head"], cwd=tmp_path, env=env, check=True)
    current = subprocess.run(
        [*command, "current"], cwd=tmp_path, env=env, check=True, capture_output=True, text=True
    )

    assert f"{migrate.head()} (head)" in current.stdout
