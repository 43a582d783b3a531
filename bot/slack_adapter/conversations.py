"""Questions asked where people already talk: `@pmadvice <question>` in a channel (answered in
a thread) and messages typed in the app's DM (the Messages tab).

The text after the mention is read exactly like `/pmadvice <text>`: a question gets an answer,
`help` the help. In a channel, answers about the library (a question, topics, help) go into
the thread for everyone; anything about the member (progress, subscriptions, moderation) is
shown only to them, in the same thread. A command that needs a form answers with a button
that opens it, because a message (unlike a slash command) carries no trigger for a modal.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core import commands as c
from bot.core.facade import PmAdvice
from bot.core.reply import SORRY, Button, ButtonStyle, Reply
from bot.slack_adapter.delivery import TaskTracker
from bot.slack_adapter.directory import Directory
from bot.slack_adapter.render import message

log = logging.getLogger(__name__)

FOR_EVERYONE = (c.Ask, c.Menu, c.Help, c.ListTopics, c.ShowTopic, c.ShowSnippet)
"""What a mention in a channel answers in the open: the library, never a member's own data."""
_LEADING_MENTIONS = re.compile(r"^(?:\s*<@[A-Z0-9]+(?:\|[^>]*)?>[\s,:]*)+")
TEXT_MAX = 2000


def question_of(text: str) -> str:
    """The words after the bot's mention: `<@U0BOT> how do I...` -> `how do I...`."""
    return _LEADING_MENTIONS.sub("", text or "").strip()[:TEXT_MAX]


class Conversations:
    def __init__(self, facade: PmAdvice, directory: Directory, tracker: TaskTracker) -> None:
        self._facade = facade
        self._directory = directory
        self._tracker = tracker

    async def mention(self, event: dict[str, Any], context: AsyncBoltContext) -> None:
        """`@pmadvice <question>` in a channel: the answer goes into the message's thread."""
        thread = str(event.get("thread_ts") or event.get("ts") or "")
        await self._answer(event, context, thread, in_channel=True)

    async def direct_message(self, event: dict[str, Any], context: AsyncBoltContext) -> None:
        """A message typed in the app's DM: answered in the DM."""
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
            return
        thread = str(event.get("thread_ts") or "")
        await self._answer(event, context, thread, in_channel=False)

    async def _answer(
        self, event: dict[str, Any], context: AsyncBoltContext, thread: str, in_channel: bool
    ) -> None:
        user_id = str(event.get("user") or "")
        channel = str(event.get("channel") or "")
        client: AsyncWebClient | None = context.client
        if not user_id or not channel or client is None or event.get("bot_id"):
            return
        text = question_of(str(event.get("text") or ""))
        team = str(context.team_id or event.get("team") or "")
        with self._tracker.track():
            try:
                actor = await self._directory.actor(team, user_id, "", text)
                reply = await self._facade.handle(actor, text)
            except Exception:
                log.exception("answering a message failed")
                reply = SORRY
            private_to = user_id if in_channel and not _for_everyone(text) else None
            await _post(client, channel, thread, _without_form(reply), private_to)


def _without_form(reply: Reply) -> Reply:
    if reply.form is None:
        return reply
    form = reply.form
    return Reply(
        title=form.title,
        body=reply.body or "Press the button to open the form.",
        buttons=(Button(f"Open: {form.title}", form.command, ButtonStyle.PRIMARY),),
    )


def _for_everyone(text: str) -> bool:
    return isinstance(c.parse(text), FOR_EVERYONE)


async def _post(
    client: AsyncWebClient, channel: str, thread: str, reply: Reply, private_to: str | None
) -> None:
    body: dict[str, Any] = {"channel": channel, **message(reply)}
    if thread:
        body["thread_ts"] = thread
    try:
        if private_to is not None:
            await client.chat_postEphemeral(user=private_to, **body)
        else:
            await client.chat_postMessage(**body)
    except SlackApiError as error:
        data = getattr(error.response, "data", None)
        code = data.get("error") if isinstance(data, dict) else None
        log.warning("could not answer a message: %s", code or "error")


def register_conversations(app: AsyncApp, conversations: Conversations) -> None:
    async def on_mention(event: dict[str, Any], context: AsyncBoltContext) -> None:
        await conversations.mention(event, context)

    async def on_message(event: dict[str, Any], context: AsyncBoltContext) -> None:
        await conversations.direct_message(event, context)

    app.event("app_mention")(on_mention)
    app.event("message")(on_message)
