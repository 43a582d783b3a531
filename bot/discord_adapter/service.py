"""The Discord platform service: `pmadvice run discord` builds and runs this."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

import aiohttp
import discord
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot.core.ports import Messenger
from bot.discord_adapter.client import PmAdviceClient
from bot.discord_adapter.command_sync import CommandSync, SyncedHashes
from bot.discord_adapter.custom_ids import CommandKeys
from bot.discord_adapter.identity import ModeratorPolicy
from bot.discord_adapter.interactions import DEFER_AFTER, InteractionHandler
from bot.discord_adapter.messenger import DiscordMessenger
from bot.discord_adapter.safety import log_guard
from bot.discord_adapter.settings import DiscordSettings, load_discord_settings
from bot.runtime import StartupError

if TYPE_CHECKING:
    from bot.runtime import PlatformContext, PlatformService

log = logging.getLogger(__name__)

READY_TIMEOUT = 60.0


def point_discord_py_at(settings: DiscordSettings) -> None:
    """discord.py reads these class attributes for every request (Route.BASE, when a Route is
    built) and every new gateway connection (DEFAULT_GATEWAY, in DiscordWebSocket.from_client);
    they are process-wide, so one process talks to one Discord."""
    Route.BASE = settings.api_url
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.gateway_url)


class DiscordService:
    platform = "discord"

    def __init__(
        self,
        runtime: PlatformContext,
        settings: DiscordSettings,
        defer_after: float = DEFER_AFTER,
        ready_timeout: float = READY_TIMEOUT,
        pace: float | None = None,
    ) -> None:
        self.runtime = runtime
        self.settings = settings
        self.keys = CommandKeys()
        self.policy = ModeratorPolicy(
            role_ids=settings.moderator_roles,
            user_ids=runtime.moderator_ids,
        )
        self.handler = InteractionHandler(
            runtime.facade,
            self.keys,
            self.policy,
            {t.slug: t.title for t in runtime.facade.topics},
            defer_after=defer_after,
        )
        self.client: PmAdviceClient | None = None
        self.direct = DiscordMessenger(
            lambda: self.client,
            self.keys,
            pace=pace or settings.dm_rate,
            # The runtime's clock, so a pause in sending and the nudge engine's retry agree.
            clock=lambda: runtime.clock.now().timestamp(),
        )
        self.messenger: Messenger = self.direct
        self._ready_timeout = ready_timeout
        self._connection: asyncio.Task[None] | None = None
        self._log_guard = log_guard(settings.token.get_secret_value())
        self.sync = CommandSync(SyncedHashes(runtime.engine), settings.guilds)

    async def start(self) -> None:
        """Log in, sync the slash commands, connect to the gateway; return once READY."""
        self._log_guard.install()
        await self.runtime.facade.warm_up()
        point_discord_py_at(self.settings)
        client = PmAdviceClient(
            self.handler,
            self.runtime.facade,
            self.direct.trace(),
            shard_ids=self.settings.shards if self.settings.shard_ids else None,
            shard_count=self.settings.shard_count,
        )
        self.client = client
        try:
            await self._login(client)
            await self._sync(client)
            await self._connect(client)
        except BaseException:
            await self.stop()
            raise
        log.info("connected to Discord as %s", client.user)

    async def stop(self) -> None:
        client, task = self.client, self._connection
        self._connection = None
        await self.sync.stop()
        if client is not None:
            await client.close()
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._log_guard.remove()

    async def _login(self, client: PmAdviceClient) -> None:
        try:
            await client.login(self.settings.token.get_secret_value())
        except discord.LoginFailure:
            raise StartupError(
                "DISCORD_TOKEN was rejected by Discord. Copy the bot token again from the "
                "Developer Portal (Bot > Reset Token)."
            ) from None
        except (aiohttp.ClientError, OSError) as error:
            raise StartupError(
                f"Couldn't reach Discord at PMADVICE_DISCORD_API_URL ({self.settings.api_url}): "
                f"{type(error).__name__}."
            ) from None
        except discord.HTTPException as error:
            raise StartupError(
                f"Discord refused the login (HTTP {error.status}). Check DISCORD_TOKEN."
            ) from None

    async def _sync(self, client: PmAdviceClient) -> None:
        shards = self.settings.shards
        if shards is not None and 0 not in shards:
            log.info("slash commands are synced by the process that runs shard 0")
            return
        await self.sync.sync(client, client.tree)

    async def _connect(self, client: PmAdviceClient) -> None:
        if client.shard_count is None:
            # Ask Discord how many shards it wants, but keep connecting to the configured
            # gateway (discord.py would take the URL from this answer too).
            client.shard_count, _, _ = await client.http.get_bot_gateway()
        self._connection = asyncio.create_task(client.connect(reconnect=True))
        self._connection.add_done_callback(_connection_ended)
        ready = asyncio.create_task(client.wait_until_ready())
        done, _ = await asyncio.wait(
            {ready, self._connection},
            timeout=self._ready_timeout,
            return_when=asyncio.FIRST_COMPLETED,
        )
        if ready in done:
            return
        ready.cancel()
        reason = "timed out"
        if self._connection in done:
            error = self._connection.exception()
            reason = type(error).__name__ if error else "closed"
            if isinstance(error, discord.ConnectionClosed) and error.code == 4004:
                raise StartupError("DISCORD_TOKEN was rejected by the Discord gateway.")
        raise StartupError(
            "Couldn't connect to the Discord gateway at PMADVICE_DISCORD_GATEWAY_URL "
            f"({self.settings.gateway_url}): {reason}."
        )


def _connection_ended(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("the Discord gateway connection ended: %s", type(task.exception()).__name__)


async def build_service(runtime: PlatformContext, options: dict[str, Any]) -> PlatformService:
    """Read DISCORD_* settings and build the service; StartupError names a bad variable."""
    settings = load_discord_settings()
    return DiscordService(
        runtime,
        settings,
        defer_after=float(options.get("defer_after", DEFER_AFTER)),
        ready_timeout=float(options.get("ready_timeout", READY_TIMEOUT)),
        pace=float(options["pace"]) if "pace" in options else None,
    )
