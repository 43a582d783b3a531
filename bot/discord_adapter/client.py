"""The discord.py client: slash commands through a CommandTree, everything else by custom id."""

from __future__ import annotations

import logging

import aiohttp
import discord
from discord import app_commands

from bot.core.facade import PmAdvice
from bot.discord_adapter.commands import build_tree
from bot.discord_adapter.direct_messages import DirectMessages
from bot.discord_adapter.interactions import InteractionHandler

log = logging.getLogger(__name__)

SUGGEST_MENU = "Suggest as advice"
"""The message context-menu command (right-click a message > Apps)."""


class PmAdviceClient(discord.AutoShardedClient):
    """Sharded, so that each guild's interactions reach exactly one gateway session.

    With `shard_ids`/`shard_count` several processes split the shards between them; without,
    this process runs every shard Discord recommends (`GET /gateway/bot`).
    """

    def __init__(
        self,
        handler: InteractionHandler,
        facade: PmAdvice,
        http_trace: aiohttp.TraceConfig,
        shard_ids: list[int] | None = None,
        shard_count: int | None = None,
    ) -> None:
        # This bot has no voice features; don't warn at every start that voice libs are missing.
        discord.VoiceClient.warn_nacl = False
        discord.VoiceClient.warn_dave = False
        super().__init__(
            # Interactions need no intent; guilds is discord.py's minimum for a sane state, and
            # DMs (not privileged) bring questions typed to the bot in a direct message.
            intents=discord.Intents(guilds=True, dm_messages=True),
            allowed_mentions=discord.AllowedMentions.none(),
            # A longer wait surfaces as RateLimited instead of stalling a send for minutes.
            max_ratelimit_timeout=30.0,
            # Slash commands don't need the guild cache: be ready at READY, not 2 s later.
            guild_ready_timeout=0.0,
            http_trace=http_trace,
            shard_count=shard_count,
            # None (every shard) is discord.py's own default; its stubs only admit a list.
            shard_ids=shard_ids,  # type: ignore[arg-type]
        )
        self.handler = handler
        self.tree = build_tree(self, handler, facade)
        self.direct_messages = DirectMessages(facade, handler.keys, handler.policy)
        self.tree.add_command(
            app_commands.ContextMenu(name=SUGGEST_MENU, callback=self._suggest_from_message)
        )

    async def _suggest_from_message(
        self, interaction: discord.Interaction[discord.Client], message: discord.Message
    ) -> None:
        await self.handler.suggest_from(interaction, message.content)

    async def on_message(self, message: discord.Message) -> None:
        await self.direct_messages.on_message(message)

    async def on_interaction(self, interaction: discord.Interaction[discord.Client]) -> None:
        if interaction.type in (
            discord.InteractionType.component,
            discord.InteractionType.modal_submit,
        ):
            try:
                await self.handler.route(interaction)
            except Exception:
                log.exception("a button or form interaction failed")
