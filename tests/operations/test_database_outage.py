"""The database going away mid-run: readiness turns red, answers keep coming from the
catalog, writes say honestly that they failed, and everything comes back by itself."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import create_async_engine

from bot.catalog import YamlExporter
from bot.core.facade import PmAdvice
from bot.observability.probe import DatabaseProbe
from bot.storage.engine import create_engine
from tests.support.factories import KNOWLEDGE, START, member
from tests.support.fakes import FakeClock, fake_repositories


class Outage:
    """Wraps a repository; while `down`, every call fails as a dead database would."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.down = False

    def __getattr__(self, name: str) -> object:
        attribute = getattr(self.inner, name)
        if not callable(attribute):
            return attribute

        async def call(*args: object, **kwargs: object) -> object:
            if self.down:
                raise ConnectionRefusedError("database unreachable")
            return await attribute(*args, **kwargs)

        return call


def outage_bot() -> tuple[PmAdvice, list[Outage], FakeClock]:
    healthy = fake_repositories()
    names = ("revisions", "feedback", "unanswered", "subscriptions", "progress")
    wrapped = {name: Outage(getattr(healthy, name)) for name in names}
    repositories = dataclasses.replace(healthy, **wrapped)  # type: ignore[arg-type]
    clock = FakeClock(START)
    return PmAdvice(KNOWLEDGE, repositories, clock, YamlExporter()), list(wrapped.values()), clock


def go_down(outages: list[Outage], down: bool = True) -> None:
    for outage in outages:
        outage.down = down


async def test_questions_are_answered_from_the_catalog_while_the_database_is_away() -> None:
    bot, outages, clock = outage_bot()
    go_down(outages)  # down from the very start: not even one load succeeded

    answer = await bot.handle(member(), "what is product ops")
    assert answer.title == "What product ops does"
    decline = await bot.handle(member(), "whats the best pizza topping")
    assert decline.title.startswith("I have nothing good on that")  # the gap log failed

    saved = await bot.handle(member(), "subscribe tue 08:30 Europe/Berlin")
    assert "couldn't save that; please try again" in saved.body
    assert "lost" not in saved.body.lower()

    go_down(outages, False)
    clock.current += timedelta(seconds=10)
    assert "Tuesday" in (await bot.handle(member(), "subscribe tue 08:30 Europe/Berlin")).body
    later = await bot.handle(member(), "whats the best pizza topping")
    assert later.title.startswith("I have nothing good on that")
    gaps = await bot.repositories.unanswered.top(10, since=START - timedelta(days=1))
    assert [g.text for g in gaps] == ["whats the best pizza topping"]


async def test_the_probe_reports_an_unreachable_database_and_its_return(tmp_path: Path) -> None:
    dead = create_async_engine("postgresql+asyncpg://u@127.0.0.1:9/none")
    probe = DatabaseProbe(dead, timeout=2)
    try:
        assert await probe.check() is False
        assert probe.healthy is False
    finally:
        await dead.dispose()

    alive = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'up.db'}")
    probe = DatabaseProbe(alive)
    try:
        assert await probe.check() is True
        assert probe.healthy is True
    finally:
        await alive.dispose()
