"""Is the database answering? Checked in the background, read by `/readyz` at no cost."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger(__name__)

INTERVAL = 5.0
TIMEOUT = 3.0
MAX_INTERVAL = 10.0


class DatabaseProbe:
    """A `BackgroundService`: `SELECT 1` every few seconds; backs off while it fails."""

    def __init__(
        self, engine: AsyncEngine, interval: float = INTERVAL, timeout: float = TIMEOUT
    ) -> None:
        self._engine = engine
        self._interval = interval
        self._timeout = timeout
        self.healthy = True
        self._task: asyncio.Task[None] | None = None

    async def check(self) -> bool:
        try:
            async with asyncio.timeout(self._timeout), self._engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception as error:
            if self.healthy:
                log.warning("database unreachable (%s); readiness is red", type(error).__name__)
            self.healthy = False
            return False
        if not self.healthy:
            log.info("database reachable again")
        self.healthy = True
        return True

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _run(self) -> None:
        wait = self._interval
        while True:
            await asyncio.sleep(wait)
            ok = await self.check()
            wait = self._interval if ok else min(wait * 2, MAX_INTERVAL)
