"""A world for the nudge engine on each backend: in-memory fakes, SQLite and PostgreSQL.

The clock is a `FakeClock` and the engine's sleeps move it forward, so nothing here waits for
real time. Messengers are scripted: they record every DM and answer what the test says.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.catalog import YamlExporter
from bot.core.facade import PmAdvice
from bot.core.models import Actor, UserRef
from bot.core.nudges import NudgeEngine, NudgePolicy
from bot.core.ports import DeliveryRepository, DeliveryStatus, Messenger, Repositories, SendOutcome
from bot.core.progress import ProgressService
from bot.core.reply import Reply
from bot.storage.deliveries import SqlDeliveryRepository
from bot.storage.engine import create_engine
from bot.storage.repositories import build_repositories
from bot.storage.tables import DeliveryRow, UserRow
from tests.conftest import SQL_BACKENDS, fresh_database, migrate
from tests.support.factories import KNOWLEDGE, START
from tests.support.fakes import FakeClock, FakeDeliveries, FakeSubscriptions, fake_repositories

BACKENDS = [pytest.param("fake", id="fake"), *SQL_BACKENDS]


@dataclass(frozen=True)
class Seen:
    """One delivery row as a test reads it."""

    user_id: str
    week: str
    status: DeliveryStatus
    attempts: int
    owner: str | None
    message_id: str | None
    next_attempt_at: datetime
    due_at: datetime


class ScriptedMessenger:
    """Accepts every DM unless the script for that member says otherwise."""

    def __init__(self) -> None:
        self.delivered: list[tuple[UserRef, Reply]] = []
        self.calls: list[tuple[UserRef, datetime | None]] = []
        self.script: dict[str, list[SendOutcome]] = {}
        self.before_send: Callable[[UserRef], Any] | None = None
        self.on_delivered: Callable[[UserRef], None] | None = None
        self.clock: FakeClock | None = None

    def then(self, user_id: str, *outcomes: SendOutcome) -> None:
        self.script.setdefault(user_id, []).extend(outcomes)

    async def send(self, user: UserRef, reply: Reply) -> SendOutcome:
        self.calls.append((user, self.clock.now() if self.clock else None))
        if self.before_send is not None:
            result = self.before_send(user)
            if asyncio.iscoroutine(result):
                await result
        await asyncio.sleep(0)  # let other tasks in, as a network call would
        queued = self.script.get(user.user_id)
        if queued:
            return queued.pop(0)
        self.delivered.append((user, reply))
        if self.on_delivered is not None:
            self.on_delivered(user)
        return SendOutcome.sent(f"m-{len(self.delivered)}")

    def count(self, user_id: str) -> int:
        return sum(1 for user, _ in self.delivered if user.user_id == user_id)


@dataclass
class World:
    backend: str
    clock: FakeClock
    repositories: Repositories
    deliveries: DeliveryRepository
    url: str | None = None
    engines: list[AsyncEngine] = field(default_factory=list)

    async def sleep_until(self, when: datetime) -> None:
        if when > self.clock.current:
            self.clock.current = when
        await asyncio.sleep(0)

    def facade(self, messengers: dict[str, Messenger] | None = None) -> PmAdvice:
        bot = PmAdvice(KNOWLEDGE, self.repositories, self.clock, YamlExporter(), messengers)
        bot.progress = ProgressService(KNOWLEDGE, self.repositories, self.clock, self.deliveries)
        return bot

    def engine(
        self,
        messengers: dict[str, Messenger],
        deliveries: DeliveryRepository | None = None,
        owner: str | None = None,
        sleep_until: Callable[[datetime], Any] | None = None,
        **policy: Any,
    ) -> NudgeEngine:
        return NudgeEngine(
            deliveries=deliveries or self.deliveries,
            progress=self.repositories.progress,
            exercises=KNOWLEDGE.exercises,
            messengers=messengers,
            clock=self.clock,
            policy=NudgePolicy(**policy),
            sleep_until=sleep_until or self.sleep_until,
            jitter=lambda: 0.5,
            owner=owner,
        )

    async def another_connection(self) -> DeliveryRepository:
        """The same table through a second engine (its own connections); the fake is shared."""
        if self.url is None:
            return self.deliveries
        engine = create_engine(self.url)
        self.engines.append(engine)
        return SqlDeliveryRepository(engine)

    async def subscribe(
        self, user_id: str, slot: str = "mon 09:00 UTC", platform: str = "console",
        workspace: str = "local",
    ) -> UserRef:  # fmt: skip
        user = UserRef(platform, workspace, user_id)
        await self.facade().handle(Actor(user), f"subscribe {slot}")
        return user

    async def rows(self) -> list[Seen]:
        if isinstance(self.deliveries, FakeDeliveries):
            return sorted(
                (
                    Seen(r.user.user_id, r.week, r.status, r.attempts, r.claimed_by,
                         r.message_id, r.next_attempt_at, r.due_at)
                    for r in self.deliveries.rows.values()
                ),
                key=lambda s: (s.user_id, s.week),
            )  # fmt: skip
        assert self.engines
        async with self.engines[0].connect() as conn:
            result = await conn.execute(
                select(
                    UserRow.user_id, DeliveryRow.week, DeliveryRow.status, DeliveryRow.attempts,
                    DeliveryRow.claimed_by, DeliveryRow.platform_message_id,
                    DeliveryRow.next_attempt_at, DeliveryRow.due_at,
                )
                .join(UserRow, UserRow.id == DeliveryRow.user_id)
                .order_by(UserRow.user_id, DeliveryRow.week)
            )  # fmt: skip
            return [Seen(r[0], r[1], DeliveryStatus(r[2]), *r[3:]) for r in result]

    async def statuses(self) -> dict[tuple[str, str], DeliveryStatus]:
        return {(r.user_id, r.week): r.status for r in await self.rows()}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture(params=BACKENDS)
async def world(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock
) -> AsyncIterator[World]:
    if request.param == "fake":
        repositories = fake_repositories()
        assert isinstance(repositories.subscriptions, FakeSubscriptions)
        yield World("fake", clock, repositories, FakeDeliveries(repositories.subscriptions))
        return
    async with fresh_database(request.param, request, tmp_path) as url:
        await migrate(url)
        engine = create_engine(url)
        world = World(
            request.param,
            clock,
            build_repositories(engine, clock),
            SqlDeliveryRepository(engine),
            url=url,
            engines=[engine],
        )
        try:
            yield world
        finally:
            for each in world.engines:
                await each.dispose()


@pytest.fixture
def messenger(clock: FakeClock) -> ScriptedMessenger:
    scripted = ScriptedMessenger()
    scripted.clock = clock
    return scripted


def at(day: int, hour: int = 0, minute: int = 0, month: int = 3) -> datetime:
    """A UTC instant in 2026 (START is Monday 2 March, 09:00)."""
    return START.replace(month=month, day=day, hour=hour, minute=minute)


HOUR = timedelta(hours=1)
