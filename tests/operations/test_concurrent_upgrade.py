"""Replicas that each run `pmadvice db upgrade` at once on an empty PostgreSQL database."""

from __future__ import annotations

import asyncio
import sys
from asyncio.subprocess import PIPE
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
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "db",
                "upgrade",
                env=env,
                cwd=ROOT,
                stdout=PIPE,
                stderr=PIPE,
            )
            for _ in range(REPLICAS)
        ]
        outputs = await asyncio.wait_for(asyncio.gather(*(p.communicate() for p in replicas)), 180)
        results = [
            (p.returncode, out.decode(), err.decode())
            for p, (out, err) in zip(replicas, outputs, strict=True)
        ]

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
