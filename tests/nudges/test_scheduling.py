"""APScheduler only triggers ticks: one job, run at once on start-up, never twice at a time."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import cast

import pytest

from bot.app import nudge_grace
from bot.core.models import UserRef
from bot.core.nudges import NudgeEngine, TickReport
from bot.core.ports import DeliveryStatus
from bot.scheduling import JOB_ID, NudgeScheduler
from bot.settings import SettingsError, load_settings
from tests.nudges.conftest import ScriptedMessenger, World, at

HOUR = timedelta(hours=1)


class StubEngine:
    owner = "stub"

    def __init__(self, fail_first: bool = False) -> None:
        self.ticked = asyncio.Event()
        self.release = asyncio.Event()
        self.release.set()
        self.stopped = False
        self.ticks = 0
        self.fail_first = fail_first

    async def tick(self) -> TickReport:
        self.ticks += 1
        self.ticked.set()
        await self.release.wait()
        if self.fail_first and self.ticks == 1:
            raise RuntimeError("database went away")
        return TickReport()

    def stop(self) -> None:
        self.stopped = True
        self.release.set()


def scheduler_for(engine: StubEngine, interval: timedelta = HOUR) -> NudgeScheduler:
    return NudgeScheduler(cast(NudgeEngine, engine), interval)


async def test_one_coalescing_utc_interval_job_that_runs_at_start_up() -> None:
    engine = StubEngine()
    nudges = scheduler_for(engine)

    await nudges.start()
    try:
        await asyncio.wait_for(engine.ticked.wait(), timeout=5)  # not an hour later
        assert nudges._scheduler is not None
        [job] = nudges._scheduler.get_jobs()
        assert job.id == JOB_ID
        assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (True, 1, None)
        assert job.trigger.interval == HOUR
        assert str(job.trigger.timezone) == "UTC"
    finally:
        await nudges.stop()
    assert engine.stopped


async def test_stop_lets_a_running_tick_finish_its_claimed_work() -> None:
    engine = StubEngine()
    engine.release.clear()  # the tick is mid fan-out until the engine is told to stop
    nudges = scheduler_for(engine)
    await nudges.start()
    await asyncio.wait_for(engine.ticked.wait(), timeout=5)

    await asyncio.wait_for(nudges.stop(), timeout=5)

    assert engine.stopped
    assert nudges.ticks == 1


class StuckEngine(StubEngine):
    """A send the platform never answers: telling the engine to stop does not end its tick."""

    def __init__(self) -> None:
        super().__init__()
        self.release.clear()
        self.handed_back = False

    def stop(self) -> None:
        self.stopped = True

    async def release_claims(self) -> int:
        self.handed_back = True
        return 1


async def test_a_tick_cut_short_by_stop_is_no_error(caplog: pytest.LogCaptureFixture) -> None:
    """`stop` cancels a stuck tick after its timeout and hands back its claims; that expected
    end is neither an error nor a traceback in the log (APScheduler's logger included)."""
    engine = StuckEngine()
    nudges = NudgeScheduler(cast(NudgeEngine, engine), HOUR, stop_timeout=0.1)
    await nudges.start()
    await asyncio.wait_for(engine.ticked.wait(), timeout=5)

    with caplog.at_level(logging.DEBUG):
        await asyncio.wait_for(nudges.stop(), timeout=5)

    assert engine.stopped
    assert engine.handed_back
    assert nudges.ticks == 1
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert not any(r.exc_info for r in caplog.records)
    assert "cancelling" in caplog.text


async def test_a_failing_tick_is_logged_and_the_next_one_runs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    engine = StubEngine(fail_first=True)
    nudges = scheduler_for(engine)

    with caplog.at_level(logging.ERROR, logger="bot.scheduling"):
        await nudges._tick()
        await nudges._tick()

    assert engine.ticks == 2
    assert "tick failed" in caplog.text


async def test_starting_up_delivers_what_came_due_while_no_process_ran(
    world: World, messenger: ScriptedMessenger
) -> None:
    await world.subscribe("ana")
    world.clock.current = at(10, 7)  # down since before Monday 09:00; back 22 hours later
    delivered = asyncio.Event()

    def done(user: UserRef) -> None:
        delivered.set()

    messenger.on_delivered = done
    nudges = NudgeScheduler(world.engine({"console": messenger}), HOUR)

    await nudges.start()
    try:
        await asyncio.wait_for(delivered.wait(), timeout=5)
    finally:
        await nudges.stop()

    assert messenger.count("ana") == 1


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = load_settings()
    assert nudge_grace(defaults) == timedelta(hours=48)
    assert defaults.nudge_tick_seconds == 30
    monkeypatch.setenv("PMADVICE_NUDGE_GRACE_HOURS", "6")
    monkeypatch.setenv("PMADVICE_NUDGE_TICK_SECONDS", "5")
    tuned = load_settings()
    assert nudge_grace(tuned) == timedelta(hours=6)
    assert tuned.nudge_tick_seconds == 5
    monkeypatch.setenv("PMADVICE_NUDGE_GRACE_HOURS", "two days")
    monkeypatch.setenv("PMADVICE_NUDGE_TICK_SECONDS", "0")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert "PMADVICE_NUDGE_GRACE_HOURS" in str(caught.value)
    assert "PMADVICE_NUDGE_TICK_SECONDS" in str(caught.value)


async def test_stopping_mid_send_hands_back_what_is_still_claimed(
    world: World, messenger: ScriptedMessenger
) -> None:
    """SIGTERM while a platform hangs: the process stops in time and leaves nothing claimed."""
    for name in ("ana", "ben", "cy"):
        await world.subscribe(name)
    world.clock.current = at(9, 9)
    hanging = asyncio.Event()

    async def hang(user: UserRef) -> None:
        hanging.set()
        await asyncio.Event().wait()  # the platform never answers

    messenger.before_send = hang
    engine = world.engine({"console": messenger}, owner="leaving")
    nudges = NudgeScheduler(engine, HOUR, stop_timeout=0.2)
    await nudges.start()
    await asyncio.wait_for(hanging.wait(), timeout=5)

    await asyncio.wait_for(nudges.stop(), timeout=5)

    rows = await world.rows()
    assert len(rows) == 3
    assert DeliveryStatus.SENDING not in {r.status for r in rows}
    assert messenger.delivered == []
