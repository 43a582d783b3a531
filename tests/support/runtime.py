"""A real runtime on its own SQLite file, for adapter tests that drive the whole stack.

Registered as a plugin in tests/conftest.py, so `migrated_database`, `clock` and `runtime` are
fixtures everywhere (a package's own conftest may override them).
"""

from __future__ import annotations

import functools
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from bot.app import build_runtime
from bot.catalog import load_knowledge
from bot.core.models import Knowledge
from bot.core.ports import Clock
from bot.runtime import Runtime
from bot.settings import SHIPPED_KNOWLEDGE, load_settings
from bot.storage.migrate import upgrade
from tests.support.factories import START
from tests.support.fakes import FakeClock


def migrated_template(folder: Path) -> Path:
    """Migrate one SQLite file to copy for each test (migrating every time is slow)."""
    path = folder / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@functools.cache
def shipped_knowledge() -> Knowledge:
    """The shipped knowledge, parsed once per test run (YAML parsing dominates a runtime's
    start-up, and no test changes the files)."""
    return load_knowledge(SHIPPED_KNOWLEDGE)


@asynccontextmanager
async def runtime_on_copy(template: Path, folder: Path, clock: Clock) -> AsyncIterator[Runtime]:
    database = folder / "pmadvice.db"
    shutil.copy(template, database)
    settings = load_settings(PMADVICE_DATABASE_URL=f"sqlite+aiosqlite:///{database}")
    knowledge = shipped_knowledge() if settings.knowledge_dir == SHIPPED_KNOWLEDGE else None
    async with build_runtime(settings, clock=clock, migrate=False, knowledge=knowledge) as built:
        yield built


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return migrated_template(tmp_path_factory.mktemp("db"))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
async def runtime(
    tmp_path: Path, migrated_database: Path, clock: FakeClock
) -> AsyncIterator[Runtime]:
    async with runtime_on_copy(migrated_database, tmp_path, clock) as built:
        yield built
