"""The composition root: the one place that wires settings, storage, knowledge and services."""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.catalog import YamlExporter, load_knowledge
from bot.core.facade import PmAdvice
from bot.core.models import Knowledge
from bot.core.nudges import NudgeEngine, NudgePolicy
from bot.core.ports import Clock, Messenger, SystemClock
from bot.core.ranking import RankingConfig
from bot.embedding import build_encoder
from bot.runtime import (
    BackgroundService,
    PlatformFactory,
    PlatformService,
    Runtime,
    StartupError,
)
from bot.scheduling import NudgeScheduler
from bot.settings import Settings
from bot.storage.deliveries import SqlDeliveryRepository
from bot.storage.engine import create_engine, is_sqlite
from bot.storage.migrate import current, head, upgrade
from bot.storage.repositories import build_repositories

if TYPE_CHECKING:
    from bot.web_adapter.server import WebServer

__all__ = [
    "BackgroundService",
    "DatabaseNotReady",
    "PlatformFactory",
    "PlatformService",
    "Runtime",
    "StartupError",
    "build_runtime",
    "serve",
]

log = logging.getLogger(__name__)


class DatabaseNotReady(Exception):
    """The database schema is behind the code and must be migrated first."""


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
    knowledge: Knowledge | None = None,
    warm: bool = True,
) -> AsyncIterator[Runtime]:
    """Everything a bot process runs on; `knowledge` is loaded from the settings unless given.

    With `warm`, the search index (and the semantic model behind it) is built before this
    returns, so a bot's first question is answered as fast as any other; commands that never
    search pass False and never load the model."""
    knowledge = knowledge or load_knowledge(settings.knowledge_dir)
    if migrate:
        await asyncio.to_thread(prepare_database, settings.database_url)
    engine = create_engine(settings.database_url)
    clock = clock or SystemClock()
    try:
        repositories = build_repositories(engine, clock)
        deliveries = SqlDeliveryRepository(engine)
        facade = PmAdvice(
            knowledge,
            repositories,
            clock,
            YamlExporter(),
            messengers,
            deliveries=deliveries,
            ranking=RankingConfig(answer_threshold=settings.answer_threshold),
            encoder=build_encoder(settings.semantic_model, settings.cache_dir),
        )
        # Links in chat point at the public address even from a process that serves no pages.
        facade.web_links.base = facade.web_links.public = settings.public_url
        facade.portfolios.enabled = settings.public_portfolios
        if warm:
            await facade.warm_up()
        yield Runtime(settings, knowledge, engine, repositories, facade, clock, deliveries)
    finally:
        await engine.dispose()


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True
    )
    for noisy in ("aiosqlite", "asyncio", "alembic.runtime.migration", "apscheduler"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))


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
            runtime.facade.register_messenger(service.platform, service.messenger)
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


def web_server(runtime: Runtime, host: str, port: int) -> WebServer:
    """The web pages on their own site; links in chat point at PMADVICE_PUBLIC_URL if set."""
    from bot.web_adapter import WebOptions
    from bot.web_adapter.server import WebServer

    options = WebOptions(public_url=runtime.settings.public_url)
    return WebServer(runtime.facade, host, port, options)


def background_services(runtime: Runtime) -> list[BackgroundService]:
    """Work that runs beside the platforms in every bot process (the weekly nudges)."""
    return [nudge_scheduler(runtime)]


def nudge_scheduler(runtime: Runtime) -> NudgeScheduler:
    interval = timedelta(seconds=runtime.settings.nudge_tick_seconds)
    return NudgeScheduler(nudge_engine(runtime), interval)


def nudge_grace(settings: Settings) -> timedelta:
    return timedelta(hours=settings.nudge_grace_hours)


def nudge_engine(runtime: Runtime) -> NudgeEngine:
    """The engine sends through `facade.messengers`, which `serve` fills as platforms start:
    members of a platform this process does not run stay pending for a process that does."""
    return NudgeEngine(
        deliveries=runtime.deliveries,
        progress=runtime.repositories.progress,
        exercises=runtime.knowledge.exercises,
        messengers=runtime.facade.messengers,
        clock=runtime.clock,
        policy=NudgePolicy(grace=nudge_grace(runtime.settings)),
    )
