"""The composition root: the one place that wires settings, storage, knowledge and services."""

from __future__ import annotations

import asyncio
import functools
import importlib
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict

from sqlalchemy import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.library import SnippetLibrary
from bot.core.models import Knowledge, SnippetRevision
from bot.core.ports import Clock, Export, Messenger, SystemClock
from bot.core.ranking import RankingConfig, SearchIndex
from bot.core.semantic import TextEncoder
from bot.core.telemetry import NO_TELEMETRY, Telemetry
from bot.embedding import build_encoder
from bot.index_cache import CachedBuilder, cached_knowledge
from bot.observability.logs import configure_logging as _configure_logging
from bot.observability.probe import DatabaseProbe
from bot.runtime import (
    BackgroundService,
    PlatformFactory,
    PlatformService,
    Runtime,
    StartupError,
)
from bot.settings import Settings
from bot.storage.engine import create_engine, is_sqlite
from bot.storage.preflight import (
    DatabaseUnavailable,
    applied_revision,
    check_sqlite_writable,
    ping,
    shipped_head,
    unreachable,
)
from bot.storage.repositories import build_repositories

if TYPE_CHECKING:  # imported when a listener is made: one-shot commands never need them
    from aiohttp import web
    from prometheus_client import CollectorRegistry

    from bot.core.nudges import NudgeEngine
    from bot.http_listener import HttpListener
    from bot.scheduling import NudgeScheduler

__all__ = [
    "BackgroundService",
    "DatabaseNotReady",
    "DatabaseUnavailable",
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


async def prepare_database(engine: AsyncEngine, url: str) -> None:
    """Bring an embedded SQLite database up to date; insist that PostgreSQL already is.

    Production databases are migrated explicitly (`pmadvice db upgrade`, run by the container
    before the bot starts) so several processes never race to change the schema. A database
    already at the shipped head costs one SELECT (Alembic is imported only to migrate).
    """
    want = shipped_head()
    try:
        have = await applied_revision(engine)
    except (SQLAlchemyError, OSError, TimeoutError) as error:
        raise unreachable(url, error) from None
    if have == want:
        return
    if is_sqlite(url):
        from bot.storage.migrate import upgrade

        await asyncio.to_thread(upgrade, url)
        return
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
    telemetry: Telemetry = NO_TELEMETRY,
    knowledge: Knowledge | None = None,
    warm: bool = True,
) -> AsyncIterator[Runtime]:
    """Everything a bot process runs on; `knowledge` is loaded from the settings unless given.

    With `warm`, the search index (and the semantic model behind it) is built before this
    returns, so a bot's first question is answered as fast as any other; commands that never
    search pass False and never load the model."""
    knowledge = knowledge or load_cached_knowledge(settings)
    clock = clock or SystemClock()
    async with open_database(settings, migrate) as engine:
        from bot.core.facade import PmAdvice
        from bot.storage.deliveries import SqlDeliveryRepository

        repositories = build_repositories(engine, clock)
        deliveries = SqlDeliveryRepository(engine)
        facade = PmAdvice(
            knowledge,
            repositories,
            clock,
            YamlWriter(settings.knowledge_dir),
            messengers,
            deliveries=deliveries,
            limits=settings.flood_limits(),
            gap_retention=timedelta(days=settings.unanswered_days),
            telemetry=telemetry,
            **search_parts(settings),
        )
        # Links in chat point at the public address even from a process that serves no pages.
        facade.web_links.base = facade.web_links.public = settings.public_url
        facade.portfolios.enabled = settings.public_portfolios
        if warm:
            await facade.warm_up()
        yield Runtime(settings, knowledge, engine, repositories, facade, clock, deliveries)


@asynccontextmanager
async def open_database(settings: Settings, migrate: bool = True) -> AsyncIterator[AsyncEngine]:
    """An engine on a reachable database whose schema matches this code."""
    url = settings.database_url
    check_sqlite_writable(url)
    engine = create_engine(url)
    try:
        await ping(engine, url)
        if migrate:
            await prepare_database(engine, url)
        yield engine
    finally:
        await engine.dispose()


class SearchParts(TypedDict):
    ranking: RankingConfig
    encoder: TextEncoder | None
    index_factory: Callable[..., SearchIndex]


def search_parts(settings: Settings) -> SearchParts:
    """How the search index is configured, built and cached: the same for the bot and for
    `pmadvice search`, so both rank alike."""
    return SearchParts(
        ranking=RankingConfig(answer_threshold=settings.answer_threshold),
        encoder=build_encoder(settings.semantic_model, settings.cache_dir),
        index_factory=CachedBuilder(SearchIndex, settings.cache_dir),
    )


@asynccontextmanager
async def open_library(settings: Settings) -> AsyncIterator[SnippetLibrary]:
    """The live snippets and their search index, and nothing else: a one-shot search stays
    clear of the services, the command table and the platform libraries."""
    knowledge = load_cached_knowledge(settings)
    clock = SystemClock()
    async with open_database(settings) as engine:
        parts = search_parts(settings)
        yield SnippetLibrary(
            knowledge,
            build_repositories(engine, clock),
            clock,
            config=parts["ranking"],
            encoder=parts["encoder"],
            index_factory=parts["index_factory"],
        )


def load_cached_knowledge(settings: Settings) -> Knowledge:
    """The knowledge base: parsed from its YAML files, or read back from the cache when the
    files and the code are those it was parsed from (YAML is then never imported)."""

    def parse(root: Path) -> Knowledge:
        from bot.catalog import load_knowledge as parse_files

        return parse_files(root)

    return cached_knowledge(settings.knowledge_dir, settings.cache_dir, parse)


class YamlWriter:
    """`bot.catalog.YamlExporter`, imported on the first export, not by every command."""

    def __init__(self, root: Path) -> None:
        self._root = root

    def export(self, revisions: list[SnippetRevision]) -> Export:
        from bot.catalog import YamlExporter

        return YamlExporter(self._root).export(revisions)


def configure_logging(level: str, style: str = "text", secrets: Iterable[str] = ()) -> None:
    _configure_logging(level, style, secrets)


def known_secrets(settings: Settings) -> list[str]:
    """Every secret value this process was given, for the log redaction filter."""
    values = [
        getattr(settings, name).get_secret_value()
        for name, field in type(settings).model_fields.items()
        if field.annotation is not None
        and "SecretStr" in str(field.annotation)
        and getattr(settings, name) is not None
    ]
    password = make_url(settings.database_url).password
    if password:
        values.append(str(password))
    return values


def http_listener(
    settings: Settings,
    port: int | None = None,
    registry: CollectorRegistry | None = None,
    host: str | None = None,
) -> HttpListener | None:
    """The process's HTTP listener, if it should have one (a port set, or Slack over HTTP)."""
    chosen = port if port is not None else settings.http_port
    if chosen is None:
        return None
    from bot.http_listener import HttpListener

    if "http_host" in settings.model_fields_set or host is None:
        host = settings.http_host
    token = settings.metrics_token.get_secret_value() if settings.metrics_token else None
    return HttpListener(host, chosen, registry=registry, metrics_token=token)


def watch_readiness(
    listener: HttpListener,
    runtime: Runtime,
    probe: DatabaseProbe,
    services: list[PlatformService],
) -> None:
    listener.add_readiness_check("database", lambda: probe.healthy)
    listener.add_readiness_check("knowledge", lambda: bool(runtime.knowledge.snippets))
    for service in services:
        listener.add_readiness_check(service.platform, functools.partial(connected, service))


async def start_listener(listener: HttpListener) -> None:
    from bot.http_listener import ListenError

    try:
        await listener.start()
    except ListenError as error:
        raise StartupError(str(error)) from None


def connected(service: PlatformService) -> bool:
    """Whether a platform service is connected and taking commands."""
    ready = getattr(service, "ready", None)
    if ready is not None:
        return bool(ready() if callable(ready) else ready)
    client = getattr(service, "client", None)
    is_ready, is_closed = getattr(client, "is_ready", None), getattr(client, "is_closed", None)
    if callable(is_ready) and callable(is_closed):
        return bool(is_ready()) and not bool(is_closed())
    return True


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
    listener: HttpListener | None = None,
) -> None:
    """Start every platform and background service, run until `stop` is set, then shut down:
    the listener last in and first out, so a load balancer stops sending work at once."""
    started: list[PlatformService | BackgroundService | HttpListener] = []
    try:
        for service in services:
            runtime.facade.register_messenger(service.platform, service.messenger)
            await service.start()
            started.append(service)
            log.info("%s is ready", service.platform)
        for task in background:
            await task.start()
            started.append(task)
        if listener is not None:
            await start_listener(listener)
            started.append(listener)
        await stop.wait()
        log.info("stopping: no new work; finishing what is in flight")
    finally:
        for item in reversed(started):
            try:
                await item.stop()
            except Exception:
                log.exception("error while stopping %s", type(item).__name__)


def web_routes(runtime: Runtime) -> Callable[[web.Application], None]:
    """The web pages, to mount on the process's HTTP listener."""
    from bot.web_adapter import WebOptions, register_web

    options = WebOptions(public_url=runtime.settings.public_url)
    return lambda app: register_web(app, runtime.facade, options)


def background_services(runtime: Runtime) -> list[BackgroundService]:
    """Work that runs beside the platforms in every bot process (the weekly nudges)."""
    return [nudge_scheduler(runtime)]


def nudge_scheduler(runtime: Runtime) -> NudgeScheduler:
    from bot.scheduling import NudgeScheduler

    interval = timedelta(seconds=runtime.settings.nudge_tick_seconds)
    return NudgeScheduler(nudge_engine(runtime, runtime.facade.telemetry), interval)


def nudge_grace(settings: Settings) -> timedelta:
    return timedelta(hours=settings.nudge_grace_hours)


def nudge_engine(runtime: Runtime, telemetry: Telemetry = NO_TELEMETRY) -> NudgeEngine:
    """The engine sends through `facade.messengers`, which `serve` fills as platforms start:
    members of a platform this process does not run stay pending for a process that does."""
    from bot.core.nudges import NudgeEngine, NudgePolicy

    return NudgeEngine(
        deliveries=runtime.deliveries,
        progress=runtime.repositories.progress,
        exercises=runtime.knowledge.exercises,
        messengers=runtime.facade.messengers,
        clock=runtime.clock,
        policy=NudgePolicy(
            grace=nudge_grace(runtime.settings), reminders=runtime.settings.reminders
        ),
        telemetry=telemetry,
    )
