"""Build and run the Slack platform service (the factory `bot.app` loads for `run slack`)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import aiohttp
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.models import Platform
from bot.http_listener import HttpListener, ListenError
from bot.logsafety import LogGuard
from bot.runtime import PlatformContext, StartupError
from bot.slack_adapter.conversations import Conversations, register_conversations
from bot.slack_adapter.delivery import Delivery, TaskTracker
from bot.slack_adapter.directory import Directory
from bot.slack_adapter.errors import describe
from bot.slack_adapter.installs import BOT_SCOPES, register_installation_events
from bot.slack_adapter.listeners import Handlers, register
from bot.slack_adapter.logs import log_guard
from bot.slack_adapter.messenger import SlackMessenger
from bot.slack_adapter.replay import EVENT_WINDOW, SeenOnce, retried_event_filter
from bot.slack_adapter.server import INSTALL_PATH, REDIRECT_PATH, register_events
from bot.slack_adapter.settings import SlackSettings, load_slack_settings
from bot.slack_adapter.verification import RequestVerifier
from bot.slack_adapter.workspaces import (
    InstalledWorkspaces,
    SingleWorkspace,
    WorkspaceClients,
    installation_store,
    state_store,
)

log = logging.getLogger(__name__)

API_TIMEOUT = 10
CONNECT_TIMEOUT = 30
DRAIN_TIMEOUT = 10
LIBRARY_LOGGER = "bot.slack_adapter.sdk"
BAD_TOKEN_ERRORS = {
    "invalid_auth",
    "not_authed",
    "account_inactive",
    "token_revoked",
    "token_expired",
}


class SlackService:
    """The Slack connection (HTTP endpoint or Socket Mode) and the DM messenger, for one
    workspace (SLACK_BOT_TOKEN) or every workspace that installed the app (OAuth)."""

    platform = Platform.SLACK.value

    def __init__(
        self,
        settings: SlackSettings,
        http: bool,
        host: str,
        port: int,
        client: AsyncWebClient,
        bolt: AsyncApp,
        messenger: SlackMessenger,
        tracker: TaskTracker,
        directory: Directory,
        sdk_logger: logging.Logger,
        log_guard: LogGuard,
        listener: HttpListener | None = None,
    ) -> None:
        self.settings = settings
        self.http = http
        self.host = host
        self.port = port
        self.client = client
        self.bolt = bolt
        self.messenger = messenger
        self.tracker = tracker
        self.directory = directory
        self._sdk_logger = sdk_logger
        self._log_guard = log_guard
        self._ready = False
        self._socket: AsyncSocketModeHandler | None = None
        self._own_listener: HttpListener | None = None
        self.listener = listener
        if http:
            secret = settings.signing_secret
            assert secret is not None  # checked by SlackSettings.require
            verifier = RequestVerifier(secret.get_secret_value())
            if self.listener is None:
                # Run on its own (tests, embedding): a listener of our own, health included.
                self.listener = self._own_listener = HttpListener(host, port)
            self.listener.mount(lambda app: register_events(app, bolt, verifier))

    @property
    def ready(self) -> bool:
        return self._ready

    @property
    def bound_port(self) -> int | None:
        """The HTTP port actually listened on (useful with port 0)."""
        return None if self.listener is None else self.listener.bound_port

    async def start(self) -> None:
        # One pooled HTTP session from start to stop; before start each call opens its own.
        self.client.session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=API_TIMEOUT)
        )
        try:
            if self.http:
                await self._start_http()
            else:
                await self._start_socket_mode()
        except BaseException:
            await self.stop()
            raise
        self._ready = True

    async def _start_http(self) -> None:
        listener = self._own_listener
        if listener is not None:
            try:
                await listener.start()
            except ListenError as error:
                raise StartupError(
                    f"Could not listen on {self.host}:{self.port} for Slack ({error}). "
                    "Pick another --port or set PMADVICE_SLACK_HOST."
                ) from None
        log.info("Slack events endpoint mounted at %s", "/slack/events")

    async def _start_socket_mode(self) -> None:
        app_token = self.settings.app_token
        assert app_token is not None  # checked by SlackSettings.require
        token = app_token.get_secret_value()
        handler = AsyncSocketModeHandler(
            self.bolt, token, logger=self._sdk_logger, web_client=self.client
        )
        self._socket = handler
        try:
            opened = await self.client.apps_connections_open(app_token=token)
        except SlackApiError as error:
            await self._close_socket()
            code = describe(error)
            if code in BAD_TOKEN_ERRORS or code == "missing_scope":
                raise StartupError(
                    f"SLACK_APP_TOKEN: Slack refused it ({code}). Create an app-level token with "
                    "the connections:write scope and turn Socket Mode on."
                ) from None
            raise StartupError(f"Could not open a Socket Mode connection: {code}") from None
        # Hand the URL we just got to the client so a bad token fails here, not in its retry loop.
        handler.client.wss_uri = opened["url"]
        try:
            await asyncio.wait_for(handler.connect_async(), CONNECT_TIMEOUT)  # type: ignore[no-untyped-call]
        except TimeoutError:
            await self._close_socket()
            raise StartupError("Socket Mode did not connect within 30 seconds.") from None
        log.info("Slack Socket Mode connected")

    async def stop(self) -> None:
        self._ready = False
        try:
            if self._own_listener is not None:
                await self._own_listener.stop()
            await self._close_socket()
            await self.tracker.drain(DRAIN_TIMEOUT)
        finally:
            session, self.client.session = self.client.session, None
            if session is not None:
                await session.close()
            self._log_guard.remove()

    async def _close_socket(self) -> None:
        if self._socket is not None:
            socket, self._socket = self._socket, None
            await socket.close_async()  # type: ignore[no-untyped-call]


async def build_service(runtime: PlatformContext, options: dict[str, Any]) -> SlackService:
    """The `PlatformService` for Slack; options: `http` (bool) and `port` (int)."""
    settings = load_slack_settings()
    http = bool(options.get("http", False))
    settings.require(http)
    secrets = [
        s.get_secret_value()
        for s in (
            settings.bot_token,
            settings.signing_secret,
            settings.app_token,
            settings.client_secret,
            settings.state_secret,
        )
        if s is not None
    ]
    sdk_logger = logging.getLogger(LIBRARY_LOGGER)
    guard = log_guard(secrets)
    guard.install()  # before bolt copies the filters of the logger it is given
    client = AsyncWebClient(
        token=settings.bot_token.get_secret_value() if settings.bot_token else None,
        base_url=settings.api_url,
        timeout=API_TIMEOUT,
        logger=sdk_logger,
        retry_handlers=[],  # a 429 must reach the messenger, not be slept through
    )
    signing_secret = settings.signing_secret.get_secret_value() if settings.signing_secret else ""
    clients: WorkspaceClients
    if settings.distributed:
        installed = InstalledWorkspaces(
            installation_store(str(settings.client_id), runtime.engine), client
        )
        clients = installed
        bolt = AsyncApp(
            name="pmadvice",
            logger=sdk_logger,
            client=client,
            signing_secret=signing_secret,
            request_verification_enabled=http,
            oauth_settings=oauth_settings(settings, installed, runtime),
        )
    else:
        await _check_token(client, settings)
        clients = SingleWorkspace(client)
        # Bolt reads SLACK_BOT_TOKEN from the environment itself and then warns that the
        # client's token wins; both are the same token here, so that warning is noise.
        with _without(sdk_logger, "`token` will be unused"):
            bolt = AsyncApp(
                name="pmadvice",
                logger=sdk_logger,
                client=client,
                signing_secret=signing_secret,
                request_verification_enabled=http,
            )
    # The runtime's clock, so the messenger and the nudge engine agree on when Retry-After ends.
    guard.install()  # and again for the loggers bolt has just made
    bolt.middleware(retried_event_filter(SeenOnce(EVENT_WINDOW)))
    messenger = SlackMessenger(clients, clock=lambda: runtime.clock.now().timestamp())
    tracker = TaskTracker()
    directory = Directory(
        clients,
        frozenset(settings.moderator_ids),
        settings.moderator_group,
        workspace_moderators=settings.workspace_moderators,
    )
    delivery = Delivery(client, messenger, sdk_logger)
    register(bolt, Handlers(runtime.facade, client, directory, delivery, messenger, tracker))
    register_installation_events(bolt, clients)
    register_conversations(bolt, Conversations(runtime.facade, directory, tracker))
    return SlackService(
        settings=settings,
        http=http,
        host=str(options.get("host") or settings.host),
        port=int(3000 if options.get("port") is None else options["port"]),
        client=client,
        bolt=bolt,
        messenger=messenger,
        tracker=tracker,
        directory=directory,
        sdk_logger=sdk_logger,
        log_guard=guard,
        listener=options.get("listener"),
    )


def oauth_settings(
    settings: SlackSettings, installed: InstalledWorkspaces, runtime: PlatformContext
) -> AsyncOAuthSettings:
    assert settings.client_id is not None
    assert settings.client_secret is not None
    assert settings.state_secret is not None
    return AsyncOAuthSettings(
        client_id=settings.client_id,
        client_secret=settings.client_secret.get_secret_value(),
        scopes=list(BOT_SCOPES),
        installation_store=installed.store,
        state_store=state_store(settings.state_secret.get_secret_value(), runtime.engine),
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        install_page_rendering_enabled=False,
    )


async def _check_token(client: AsyncWebClient, settings: SlackSettings) -> None:
    try:
        await client.auth_test()
    except SlackApiError as error:
        code = describe(error)
        if code in BAD_TOKEN_ERRORS:
            raise StartupError(
                f"SLACK_BOT_TOKEN: Slack rejected the bot token ({code}). Reinstall the app "
                "and copy the Bot User OAuth Token again."
            ) from None
        raise StartupError(
            f"PMADVICE_SLACK_API_URL: Slack at {settings.api_url} answered auth.test with {code}."
        ) from None
    except (aiohttp.ClientError, TimeoutError, OSError) as error:
        raise StartupError(
            f"PMADVICE_SLACK_API_URL: could not reach Slack at {settings.api_url} "
            f"({type(error).__name__})."
        ) from None


@contextmanager
def _without(logger: logging.Logger, fragment: str) -> Iterator[None]:
    def keep(record: logging.LogRecord) -> bool:
        return fragment not in record.getMessage()

    logger.addFilter(keep)
    try:
        yield
    finally:
        logger.removeFilter(keep)
