"""The composition root: the one place that wires settings, storage, knowledge and services."""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.catalog import YamlExporter, load_knowledge
from bot.core.facade import PmAdvice
from bot.core.models import Knowledge
from bot.core.nudges import NudgeEngine
from bot.core.ports import Clock, DeliveryRepository, Messenger, Repositories, SystemClock
from bot.core.progress import ProgressService
from bot.scheduling import NudgeScheduler, interval_from_environment, policy_from_environment
from bot.settings import Settings
from bot.storage.deliveries import SqlDeliveryRepository
from bot.storage.engine import create_engine, is_sqlite
from bot.storage.migrate import current, head, upgrade
from bot.storage.repositories import build_repositories

log = logging.getLogger(__name__)


class StartupError(Exception):
    """A platform cannot start: a missing or malformed setting, named in the message."""


class DatabaseNotReady(Exception):
    """The database schema is behind the code and must be migrated first."""


@dataclass
class Runtime:
    settings: Settings
    knowledge: Knowledge
    engine: AsyncEngine
    repositories: Repositories
    facade: PmAdvice
    clock: Clock
    deliveries: DeliveryRepository


def prepare_database(url: str) -> None:
    """Bring an embedded SQLite database up to date; insist that PostgreSQL already is.

    Production databases are migrated explicitly (`pmadvice db upgrade`, run by the container
    before the bot starts) so several processes never race to change the schema.
    """
    if is_sqlite(url):
        upgrade(url)
        return
    have, want = current(url), head()
    if have != want:
        raise DatabaseNotReady(
            f"The database is at migration {have or 'none'} but this version needs {want}. "
            "Run `pmadvice db upgrade` first."
        )


@asynccontextmanager
async def build_runtime(
    settings: Settings,
    clock: Clock | None = None,
    messengers: Mapping[str, Messenger] | None = None,
    migrate: bool = True,
) -> AsyncIterator[Runtime]:
    knowledge = load_knowledge(settings.knowledge_dir)
    if migrate:
        await asyncio.to_thread(prepare_database, settings.database_url)
    engine = create_engine(settings.database_url)
    clock = clock or SystemClock()
    try:
        repositories = build_repositories(engine, clock)
        facade = PmAdvice(knowledge, repositories, clock, YamlExporter(), messengers)
        deliveries = SqlDeliveryRepository(engine)
        # Unsubscribing must also cancel nudges not yet sent.
        facade.progress = ProgressService(knowledge, repositories, clock, deliveries)
        yield Runtime(settings, knowledge, engine, repositories, facade, clock, deliveries)
    finally:
        await engine.dispose()


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True
    )
    for noisy in ("aiosqlite", "asyncio", "alembic.runtime.migration", "apscheduler"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))


class PlatformService(Protocol):
    """A running connection to one chat platform, built by its adapter package."""

    platform: str
    messenger: Messenger

    async def start(self) -> None:
        """Connect or start serving; return once ready to take commands."""
        ...

    async def stop(self) -> None: ...


class BackgroundService(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...


PlatformFactory = Callable[[Runtime, dict[str, Any]], Awaitable[PlatformService]]

PLATFORM_FACTORIES: dict[str, str] = {
    "slack": "bot.slack_adapter.service:build_service",
    "discord": "bot.discord_adapter.service:build_service",
}
"""Where each platform's factory lives; imported only when that platform is run."""


def load_factory(platform: str) -> PlatformFactory:
    module_name, _, attribute = PLATFORM_FACTORIES[platform].partition(":")
    module = importlib.import_module(module_name)
    factory: PlatformFactory = getattr(module, attribute)
    return factory


async def serve(
    runtime: Runtime,
    services: list[PlatformService],
    background: list[BackgroundService],
    stop: asyncio.Event,
) -> None:
    """Start every platform and background service, run until `stop` is set, then shut down."""
    started: list[PlatformService | BackgroundService] = []
    try:
        for service in services:
            runtime.facade.messengers[service.platform] = service.messenger
            await service.start()
            started.append(service)
            log.info("%s is ready", service.platform)
        for task in background:
            await task.start()
            started.append(task)
        await stop.wait()
    finally:
        for item in reversed(started):
            try:
                await item.stop()
            except Exception:
                log.exception("error while stopping %s", type(item).__name__)


def background_services(runtime: Runtime) -> list[BackgroundService]:
    """Work that runs beside the platforms in every bot process (the weekly nudges)."""
    return [NudgeScheduler(nudge_engine(runtime), interval_from_environment())]


def nudge_engine(runtime: Runtime) -> NudgeEngine:
    """The engine sends through `facade.messengers`, which `serve` fills as platforms start:
    members of a platform this process does not run stay pending for a process that does."""
    return NudgeEngine(
        deliveries=runtime.deliveries,
        progress=runtime.repositories.progress,
        exercises=runtime.knowledge.exercises,
        messengers=runtime.facade.messengers,
        clock=runtime.clock,
        policy=policy_from_environment(),
    )
