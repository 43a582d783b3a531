"""APScheduler drives the nudge engine: one short interval tick per process, nothing more.

The database decides what is due, so APScheduler keeps no jobs of its own worth persisting:
an in-memory store, one job, `coalesce` and `max_instances=1` (a slow tick is never run twice
at once, and missed runs collapse into one). The first run is scheduled for "now" when the
scheduler starts; APScheduler's misfire handling never decides whether a nudge is dropped,
because nudges are rows and a later tick picks up anything an earlier one did not reach.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.core.nudges import NudgeEngine

log = logging.getLogger(__name__)

DEFAULT_TICK = timedelta(seconds=30)
JOB_ID = "nudge-tick"
STOP_TIMEOUT = 6.0
"""Seconds `stop` waits for a running tick to record what it has in flight; a process must be
gone within 10 s of SIGTERM, so anything still held after this is handed back instead."""


class NudgeScheduler:
    """A `BackgroundService` that ticks the nudge engine on an interval, starting at once."""

    def __init__(
        self,
        engine: NudgeEngine,
        interval: timedelta = DEFAULT_TICK,
        stop_timeout: float = STOP_TIMEOUT,
    ) -> None:
        self.engine = engine
        self.interval = interval
        self.stop_timeout = stop_timeout
        self._scheduler: AsyncIOScheduler | None = None
        self._running: asyncio.Task[object] | None = None
        self.ticks = 0
        self.first_tick_done = asyncio.Event()

    async def start(self) -> None:
        scheduler = AsyncIOScheduler(timezone=UTC)
        scheduler.add_job(
            self._tick,
            IntervalTrigger(seconds=self.interval.total_seconds(), timezone=UTC),
            id=JOB_ID,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
            # Run once right away: whatever came due while no process ran goes out now.
            next_run_time=datetime.now(UTC),
        )
        scheduler.start()
        self._scheduler = scheduler
        log.debug(
            "nudges: ticking every %ss as %s", self.interval.total_seconds(), self.engine.owner
        )

    async def stop(self) -> None:
        scheduler, self._scheduler = self._scheduler, None
        if scheduler is None:
            return
        scheduler.pause()
        self.engine.stop()
        running = self._running
        if running is not None and not running.done():
            # Let claimed nudges finish and be recorded rather than cancel them mid-send.
            done, _ = await asyncio.wait({running}, timeout=self.stop_timeout)
            if not done:
                log.warning(
                    "nudges: a tick was still running after %ss; cancelling", self.stop_timeout
                )
                running.cancel()
                await asyncio.gather(running, return_exceptions=True)
        scheduler.shutdown(wait=False)
        try:
            released = await asyncio.wait_for(
                self.engine.release_claims(), max(self.stop_timeout / 2, 2.0)
            )
        except Exception as error:
            log.warning("nudges: could not hand back claimed nudges (%r)", error)
            return
        if released:
            log.info("nudges: handed back %s claimed nudges", released)

    async def _tick(self) -> None:
        self._running = current = asyncio.current_task()
        try:
            report = await self.engine.tick()
        except asyncio.CancelledError:
            if self._scheduler is not None or current is None:
                raise  # not cut short by `stop`: let whoever cancelled it see that
            # `stop` gave up waiting and hands back what the tick still held. Ending quietly
            # keeps APScheduler from logging an expected shutdown as a failed job.
            current.uncancel()
            return
        except Exception:
            log.exception("nudges: tick failed; the next one retries")
            return
        finally:
            self.ticks += 1
            self.first_tick_done.set()
        if report.due or report.skipped:
            log.info("nudges: %s", report.as_dict())
