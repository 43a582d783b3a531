"""Run a core command for an interaction and answer it within Discord's deadlines.

Discord wants a first answer within 3 seconds. The core call starts at once; if it has not
finished after `defer_after` seconds the interaction is deferred ("thinking...") and the answer
replaces that placeholder when it comes. A form (modal) can only be the first answer, so a form
that arrives after a deferral is offered behind an "Open the form" button instead.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import discord

from bot.core import commands as c
from bot.core.commands import parse, spec_of
from bot.core.facade import PmAdvice
from bot.core.in_place import after_vote, replaces_message, snippet_command
from bot.core.models import Actor
from bot.core.reply import SORRY, Button, ButtonStyle, Form, Reply, Visibility
from bot.discord_adapter.custom_ids import BUTTON_PREFIX, FORM_PREFIX, CommandKeys, decode
from bot.discord_adapter.identity import ModeratorPolicy, actor_for
from bot.discord_adapter.render import Outgoing, notice, render
from bot.discord_adapter.views import modal, static_view, submitted_values

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()
SUGGEST = "suggest"
BODY_FIELD = "body"
DEFER_AFTER = 1.5
EXPIRED_BUTTON = (
    "That button is from a conversation I no longer remember. "
    "Please run the command again and I'll pick it up from there."
)

Interaction = discord.Interaction[discord.Client]


class DraftMemory:
    """What a member typed into a form that came back with errors, to refill it on retry."""

    def __init__(self, capacity: int = 1000) -> None:
        self._capacity = capacity
        self._values: OrderedDict[tuple[int, str], dict[str, str]] = OrderedDict()

    def remember(self, user_id: int, command: str, values: dict[str, str]) -> None:
        self._values[(user_id, command)] = values
        self._values.move_to_end((user_id, command))
        while len(self._values) > self._capacity:
            self._values.popitem(last=False)

    def recall(self, user_id: int, command: str) -> dict[str, str] | None:
        return self._values.get((user_id, command))

    def forget(self, user_id: int, command: str) -> None:
        self._values.pop((user_id, command), None)


class InteractionHandler:
    def __init__(
        self,
        facade: PmAdvice,
        keys: CommandKeys,
        policy: ModeratorPolicy,
        topic_slugs: Sequence[str] | Mapping[str, str],
        defer_after: float = DEFER_AFTER,
    ) -> None:
        self.facade = facade
        self.keys = keys
        self.policy = policy
        self.topic_slugs = (
            dict(topic_slugs) if isinstance(topic_slugs, Mapping) else tuple(topic_slugs)
        )
        self.defer_after = defer_after
        self.drafts = DraftMemory()

    # -- entry points ---------------------------------------------------------------------------

    async def command(self, interaction: Interaction, text: str | Awaitable[str]) -> None:
        """A slash command translated into the text grammar of `bot.core.commands` (or work
        that will translate it, which then runs inside the deadline like the command)."""
        actor = actor_for(interaction, self.policy)

        async def work() -> Reply:
            command = text if isinstance(text, str) else await text
            return await self.facade.handle(actor, command)

        public = isinstance(text, str) and _public(text)
        await self._run(interaction, work(), public)

    async def suggest_from(self, interaction: Interaction, text: str) -> None:
        """ "Suggest as advice" on a message: the suggestion form, its body filled in."""
        actor = actor_for(interaction, self.policy)
        try:
            reply = await self.facade.handle(actor, SUGGEST)
        except Exception:
            log.exception("the suggest menu failed")
            reply = SORRY
        if reply.form is None:
            await self._deliver(interaction, reply, deferred=False)
            return
        built = modal(reply.form, self.keys, self.topic_slugs, {BODY_FIELD: text})
        try:
            await interaction.response.send_modal(built)
        except discord.HTTPException as error:
            log.warning("could not open the suggestion form (HTTP %s)", error.status)

    async def reply(self, interaction: Interaction, reply: Reply) -> None:
        """Answer with a reply the adapter made itself (e.g. a bad option value)."""
        await self._deliver(interaction, reply, deferred=False)

    async def route(self, interaction: Interaction) -> None:
        """Buttons and modal submits: everything that is not a slash command."""
        data: dict[str, Any] = dict(interaction.data or {})
        custom_id = data.get("custom_id")
        if not isinstance(custom_id, str):
            return
        decoded = decode(custom_id, self.keys)
        if decoded is None:
            return
        if interaction.type == discord.InteractionType.component and decoded.kind == BUTTON_PREFIX:
            await self._press(interaction, decoded.command)
        elif (
            interaction.type == discord.InteractionType.modal_submit and decoded.kind == FORM_PREFIX
        ):
            await self._submit(interaction, decoded.command, data)

    # -- buttons and forms ----------------------------------------------------------------------

    async def _press(self, interaction: Interaction, command: str | None) -> None:
        if command is None:
            await self._deliver(interaction, Reply(body=EXPIRED_BUTTON), deferred=False)
            return
        actor = actor_for(interaction, self.policy)
        parsed = c.parse(command)
        if replaces_message(parsed) and interaction.message is not None:
            await self._run_in_place(interaction, actor, command, parsed)
            return
        await self._run(interaction, self.facade.handle(actor, command), _public(command))

    async def _run_in_place(
        self, interaction: Interaction, actor: Actor, command: str, parsed: c.Command
    ) -> None:
        """ "Another answer" and votes edit the message the button is on (when the answer is
        ready before the deadline; a slow one arrives as a new message, as usual)."""

        async def work() -> Reply:
            reply = await self.facade.handle(actor, command)
            redraw = snippet_command(parsed)
            if redraw is not None and not reply.is_error:
                reply = after_vote(await self.facade.handle(actor, redraw), reply)
            return reply

        task = asyncio.ensure_future(work())
        done, _ = await asyncio.wait({task}, timeout=self.defer_after)
        if not done or task.exception() is not None:
            await self._run(interaction, task, public=False)
            return
        reply = task.result()
        if reply.form is not None or reply.is_error:
            await self._deliver(interaction, reply, deferred=False)
            return
        try:
            first, *rest = render(reply, self.keys)
            await interaction.response.edit_message(**_edit_kwargs(first))
            for message in rest:
                await interaction.followup.send(**send_kwargs(message), ephemeral=True)
        except discord.HTTPException as error:
            log.warning("could not update a message in place (HTTP %s)", error.status)

    async def _submit(
        self,
        interaction: Interaction,
        command: str | None,
        data: dict[str, Any],
    ) -> None:
        if command is None:
            await self._deliver(interaction, Reply(body=EXPIRED_BUTTON), deferred=False)
            return
        values = submitted_values(data)
        actor = actor_for(interaction, self.policy)

        async def submit() -> Reply:
            reply = await self.facade.submit_form(actor, command, values)
            if reply.is_error:
                self.drafts.remember(interaction.user.id, command, values)
                again = Button("Edit and send again", command, ButtonStyle.PRIMARY)
                return _with_button(reply, again)
            self.drafts.forget(interaction.user.id, command)
            return reply

        await self._run(interaction, submit(), public=False)

    # -- answering ------------------------------------------------------------------------------

    async def _run(self, interaction: Interaction, work: Awaitable[Reply], public: bool) -> None:
        task = asyncio.ensure_future(work)
        deferred = False
        try:
            done, _ = await asyncio.wait({task}, timeout=self.defer_after)
            if not done:
                await interaction.response.defer(ephemeral=not public, thinking=True)
                deferred = True
            reply = await task
        except discord.HTTPException as error:
            log.warning("could not defer an interaction (HTTP %s)", error.status)
            await asyncio.gather(task, return_exceptions=True)
            return
        except Exception:
            log.exception("an interaction failed")
            reply = SORRY
        await self._deliver(interaction, reply, deferred)

    async def _deliver(self, interaction: Interaction, reply: Reply, deferred: bool) -> None:
        try:
            if reply.form is not None:
                if not deferred and interaction.type != discord.InteractionType.modal_submit:
                    await interaction.response.send_modal(self._modal(interaction, reply.form))
                    return
                reply = form_behind_button(reply, reply.form)
            messages = render(reply, self.keys)
            await self._send(
                interaction, messages, reply.visibility == Visibility.PRIVATE, deferred
            )
        except discord.HTTPException as error:
            log.warning(
                "could not answer an interaction (HTTP %s, code %s)", error.status, error.code
            )
        except Exception:
            log.exception("could not render or send a reply")
            await self._last_resort(interaction, deferred)

    def _modal(self, interaction: Interaction, form: Form) -> discord.ui.Modal:
        remembered = self.drafts.recall(interaction.user.id, form.command)
        return modal(form, self.keys, self.topic_slugs, remembered)

    async def _send(
        self, interaction: Interaction, messages: list[Outgoing], ephemeral: bool, deferred: bool
    ) -> None:
        first, rest = messages[0], messages[1:]
        if deferred:
            await interaction.edit_original_response(**_edit_kwargs(first))
        else:
            await interaction.response.send_message(**send_kwargs(first), ephemeral=ephemeral)
        for message in rest:
            await interaction.followup.send(**send_kwargs(message), ephemeral=ephemeral)

    async def _last_resort(self, interaction: Interaction, deferred: bool) -> None:
        try:
            messages = [notice(SORRY.body, (), self.keys)]
            if interaction.response.is_done() and not deferred:
                await interaction.followup.send(**send_kwargs(messages[0]), ephemeral=True)
            else:
                await self._send(interaction, messages, True, deferred)
        except Exception:
            log.warning("could not even apologise for a failed interaction", exc_info=True)


def _public(command: str) -> bool:
    """Whether the reply will be posted for the channel (so a deferral must not be private)."""
    spec = spec_of(parse(command))
    return spec is not None and spec.public


def _with_button(reply: Reply, button: Button) -> Reply:
    return replace(reply, buttons=(button, *reply.buttons))


def form_behind_button(reply: Reply, form: Form) -> Reply:
    """A form offered behind a button, where a modal cannot be opened directly."""
    return Reply(
        title=reply.title or form.title,
        body="Your form is ready. Press the button to open it.",
        buttons=(Button("Open the form", form.command, ButtonStyle.PRIMARY),),
    )


def attachment_file(message: Outgoing) -> discord.File | None:
    if message.attachment is None:
        return None
    data = io.BytesIO(message.attachment.content.encode("utf-8"))
    return discord.File(data, filename=message.attachment.filename or "pmadvice.txt")


def send_kwargs(message: Outgoing) -> dict[str, Any]:
    """Keyword arguments for any discord.py send; never pings, whatever the text."""
    kwargs: dict[str, Any] = {"embeds": message.embeds, "allowed_mentions": NO_MENTIONS}
    if message.content:
        kwargs["content"] = message.content
    view = static_view(message.buttons)
    if view is not None:
        kwargs["view"] = view
    file = attachment_file(message)
    if file is not None:
        kwargs["file"] = file
    return kwargs


def _edit_kwargs(message: Outgoing) -> dict[str, Any]:
    kwargs = send_kwargs(message)
    file = kwargs.pop("file", None)
    if file is not None:
        kwargs["attachments"] = [file]
    kwargs.setdefault("content", None)
    return kwargs
