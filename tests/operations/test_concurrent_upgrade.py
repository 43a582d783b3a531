"""Replicas that each run `pmadvice db upgrade` at once on an empty PostgreSQL database."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.storage import migrate
from tests.conftest import fresh_database
from tests.operations.support import ROOT, environment

REPLICAS = 6


@pytest.mark.postgres
async def test_six_replicas_upgrading_at_once_all_succeed(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    async with fresh_database("postgres", request, tmp_path) as url:
        env = environment(tmp_path, PMADVICE_DATABASE_URL=url)
        replicas = [
            subprocess.Popen(
                [sys.executable, "-m", "bot", "db", "upgrade"],
                env=env,
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(REPLICAS)
        ]
        results = [(p.wait(timeout=120), *p.communicate()) for p in replicas]

        for code, out, err in results:
            assert code == 0, err
            assert "Traceback" not in err
            assert f"Database is at migration {migrate.head()}." in out
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                versions = await conn.execute(text("SELECT version_num FROM alembic_version"))
                assert [row[0] for row in versions] == [migrate.head()]
        finally:
            await engine.dispose()
