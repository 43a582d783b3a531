"""Registering the slash commands with Discord only when their definitions changed.

The hash of what was last synced, per scope (global or a guild), is kept in the database, so a
restart, a crash loop or a second process does not PUT the same commands again. Only the
process running shard 0 (or every shard) syncs. A rate-limited sync is logged and retried
after the wait Discord asked for; the bot keeps running with the commands already registered.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime

import discord
from sqlalchemy import column, delete, insert, select, table
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.runtime import StartupError

log = logging.getLogger(__name__)

# The adapter_state table (schema and migration in the storage package).
_STATE = table("adapter_state", column("key"), column("value"), column("updated_at"))
RETRY_FLOOR = 5.0


class SyncedHashes:
    """Key-value rows in `adapter_state`: which command tree each scope last received."""

    def __init__(self, engine: AsyncEngine, now: Callable[[], datetime] | None = None) -> None:
        self._engine = engine
        self._now = now or (lambda: datetime.now(UTC))

    async def get(self, key: str) -> str | None:
        async with self._engine.connect() as connection:
            result = await connection.execute(select(_STATE.c.value).where(_STATE.c.key == key))
            value = result.scalar_one_or_none()
        return str(value) if value is not None else None

    async def put(self, key: str, value: str) -> None:
        async with self._engine.begin() as connection:
            await connection.execute(delete(_STATE).where(_STATE.c.key == key))
            await connection.execute(
                insert(_STATE).values(key=key, value=value, updated_at=self._now())
            )


def tree_hash(tree: discord.app_commands.CommandTree[discord.Client], guild: int | None) -> str:
    scope = discord.Object(id=guild) if guild is not None else None
    payload = [command.to_dict(tree) for command in tree.get_commands(guild=scope)]
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class CommandSync:
    def __init__(self, hashes: SyncedHashes, guilds: list[int]) -> None:
        self._hashes = hashes
        self._guilds = guilds
        self._retry: asyncio.Task[None] | None = None

    @property
    def retry_pending(self) -> bool:
        return self._retry is not None and not self._retry.done()

    async def sync(self, client: discord.Client, tree: discord.app_commands.CommandTree) -> None:
        """Sync every scope whose definitions changed; raise StartupError when Discord refuses."""
        scopes: list[int | None] = list(self._guilds) or [None]
        for guild in scopes:
            if guild is not None:
                tree.copy_global_to(guild=discord.Object(id=guild))
            digest = tree_hash(tree, guild)
            key = f"discord.commands.{guild if guild is not None else 'global'}"
            if await self._hashes.get(key) == digest:
                log.info("slash commands for %s unchanged; not synced again", _scope(guild))
                continue
            try:
                synced = await tree.sync(guild=discord.Object(id=guild) if guild else None)
            except discord.RateLimited as limited:
                self._retry_later(client, tree, limited.retry_after)
                return
            except discord.Forbidden as error:
                raise StartupError(
                    "Discord refused to register the slash commands in a guild from "
                    f"DISCORD_GUILD_IDS (HTTP {error.status}). Invite the bot there with the "
                    "applications.commands scope."
                ) from None
            except discord.HTTPException as error:
                if error.status == 429:
                    self._retry_later(client, tree, RETRY_FLOOR * 12)
                    return
                raise StartupError(
                    f"Discord refused the slash commands (HTTP {error.status}, code {error.code})."
                ) from None
            await self._hashes.put(key, digest)
            log.info("synced %d slash commands to %s", len(synced), _scope(guild))

    def _retry_later(
        self,
        client: discord.Client,
        tree: discord.app_commands.CommandTree,
        seconds: float,
    ) -> None:
        wait = max(seconds, RETRY_FLOOR)
        log.warning(
            "Discord rate-limited the slash command sync; the bot runs with the commands "
            "already registered and syncs again in %.0f s",
            wait,
        )
        if self.retry_pending:
            return

        async def again() -> None:
            await asyncio.sleep(wait)
            if client.is_closed():
                return
            try:
                await self.sync(client, tree)
            except StartupError as error:
                log.error("%s", error)

        self._retry = asyncio.create_task(again())

    async def stop(self) -> None:
        task, self._retry = self._retry, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def _scope(guild: int | None) -> str:
    return f"guild {guild}" if guild is not None else "every server (global)"
