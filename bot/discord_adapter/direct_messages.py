"""Questions typed in a DM with the bot, answered in the DM like `/pmadvice <text>`.

Discord delivers DM messages, content included, with the non-privileged direct-messages
intent; the bot reads no server channels. A command that needs a form answers with a button
that opens it, since a message cannot open a modal.
"""

from __future__ import annotations

import logging

import discord

from bot.core.facade import PmAdvice
from bot.core.models import Actor
from bot.core.reply import SORRY
from bot.core.validation import QUERY_MAX
from bot.discord_adapter.custom_ids import CommandKeys
from bot.discord_adapter.identity import ModeratorPolicy, user_ref
from bot.discord_adapter.interactions import form_behind_button, send_kwargs
from bot.discord_adapter.render import render

log = logging.getLogger(__name__)


class DirectMessages:
    def __init__(self, facade: PmAdvice, keys: CommandKeys, policy: ModeratorPolicy) -> None:
        self._facade = facade
        self._keys = keys
        self._policy = policy

    async def on_message(self, message: discord.Message) -> None:
        if message.guild is not None or message.author.bot or not message.content:
            return
        author = message.author
        actor = Actor(
            user=user_ref(author.id),
            is_moderator=str(author.id) in self._policy.user_ids,  # in a DM only listed ids
            display_name=author.display_name,
        )
        try:
            reply = await self._facade.handle(actor, message.content.strip()[:QUERY_MAX])
        except Exception:
            log.exception("answering a direct message failed")
            reply = SORRY
        if reply.form is not None:
            reply = form_behind_button(reply, reply.form)
        try:
            for outgoing in render(reply, self._keys):
                await message.channel.send(**send_kwargs(outgoing))
        except discord.HTTPException as error:
            log.warning("could not answer a direct message: HTTP %s", error.status)
