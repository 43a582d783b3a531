"""slack-bolt listeners: the /pmadvice command, every button, the modals and App Home.

Each listener acks first (Slack's 3-second deadline) and then does the core call; only modal
submissions wait for the core, because inline validation errors must travel in the ack.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import re
from collections.abc import Mapping
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core import commands as c
from bot.core.facade import PmAdvice
from bot.core.in_place import after_vote, replaces_message, snippet_command
from bot.core.models import Actor, Platform, UserRef
from bot.core.ports import Messenger
from bot.core.reply import SORRY, Button, Form, Reply
from bot.slack_adapter.delivery import Delivery, TaskTracker, Where
from bot.slack_adapter.directory import Directory
from bot.slack_adapter.errors import describe
from bot.slack_adapter.home import home_view
from bot.slack_adapter.render import (
    ACTION_PREFIX,
    FORM_CALLBACK,
    block_errors,
    form_values,
    form_view,
    reply_view,
)

log = logging.getLogger(__name__)

COMMAND = "/pmadvice"
SUGGEST_SHORTCUT = "pmadvice_suggest"
"""callback_id of the "Suggest as advice" message shortcut (slack-manifest.yaml)."""
SUGGEST = "suggest"
BODY_FIELD = "body"
SUBMIT_BUDGET = 2.3
"""Seconds a modal submission may take before we ack without the result (Slack allows 3)."""

LEGACY_REJECT = "pmadvice:reject"
"""Action id of the "Reject #n…" buttons earlier versions added to review messages, whose value
is only the number. Still understood, so one pressed after an upgrade rejects, not searches."""

JsonDict = dict[str, Any]


def team_of(body: Mapping[str, Any], context: Mapping[str, Any]) -> str:
    team = body.get("team")
    user = body.get("user")
    return str(
        context.get("team_id")
        or body.get("team_id")
        or (team.get("id") if isinstance(team, dict) else None)
        or (user.get("team_id") if isinstance(user, dict) else None)
        or context.get("enterprise_id")
        or ""
    )


class Handlers:
    def __init__(
        self,
        facade: PmAdvice,
        client: AsyncWebClient,
        directory: Directory,
        delivery: Delivery,
        messenger: Messenger,
        tracker: TaskTracker,
    ) -> None:
        self.facade = facade
        self.client = client
        self.directory = directory
        self.delivery = delivery
        self.messenger = messenger
        self.tracker = tracker

    # -- /pmadvice -----------------------------------------------------------------------------

    async def command(self, body: JsonDict, context: AsyncBoltContext) -> None:
        text = str(body.get("text") or "")
        user_id = str(body.get("user_id") or context.user_id or "")
        team = team_of(body, context)
        where = Where(
            UserRef(Platform.SLACK.value, team, user_id),
            response_url=body.get("response_url"),
            channel_id=body.get("channel_id"),
            client=context.client,
        )
        with self.tracker.track():
            try:
                actor = await self.directory.actor(
                    team, user_id, str(body.get("user_name") or ""), text
                )
                reply = await self.facade.handle(actor, text)
                await self._present(actor, reply, where, body.get("trigger_id"), None)
                await self._refresh_home_after(actor, where, text)
            except Exception:
                log.exception("the /pmadvice command failed")
                await self._apologise(where)

    # -- buttons and selects -------------------------------------------------------------------

    async def action(self, body: JsonDict, context: AsyncBoltContext) -> None:
        actions = body.get("actions") or [{}]
        action: JsonDict = actions[0]
        user = body.get("user") or {}
        user_id = str(user.get("id") or context.user_id or "")
        team = team_of(body, context)
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
            "channel_id"
        )
        where = Where(
            UserRef(Platform.SLACK.value, team, user_id),
            response_url=body.get("response_url"),
            channel_id=channel,
            client=context.client,
        )
        view: JsonDict | None = body.get("view")
        trigger = body.get("trigger_id")
        with self.tracker.track():
            try:
                name = str(user.get("name") or user.get("username") or "")
                command = command_of(action)
                actor = await self.directory.actor(team, user_id, name, command)
                reply = await self.facade.handle(actor, command)
                if view is None and where.response_url and reply.form is None:
                    reply, where = await self._in_place(actor, command, reply, where)
                await self._present(actor, reply, where, trigger, view)
                await self._refresh_home_after(actor, where, command, force=_is_home(view))
            except Exception:
                log.exception("a pmadvice button failed")
                await self._apologise(where, view)

    async def _in_place(
        self, actor: Actor, command: str, reply: Reply, where: Where
    ) -> tuple[Reply, Where]:
        """ "Another answer" and votes replace the message the button sits in."""
        parsed = c.parse(command)
        if not replaces_message(parsed) or reply.is_error:
            return reply, where
        redraw = snippet_command(parsed)
        if redraw is not None:
            reply = after_vote(await self.facade.handle(actor, redraw), reply)
        return reply, dataclasses.replace(where, replace_original=True)

    # -- message shortcut ----------------------------------------------------------------------

    async def suggest_from_message(self, body: JsonDict, context: AsyncBoltContext) -> None:
        """ "Suggest as advice" on a message: the suggestion form, its text filled in."""
        user = body.get("user") or {}
        user_id = str(user.get("id") or context.user_id or "")
        team = team_of(body, context)
        text = str((body.get("message") or {}).get("text") or "")
        where = Where(
            UserRef(Platform.SLACK.value, team, user_id),
            response_url=body.get("response_url"),
            channel_id=(body.get("channel") or {}).get("id"),
            client=context.client,
        )
        with self.tracker.track():
            try:
                actor = await self.directory.actor(team, user_id, str(user.get("name") or ""))
                reply = await self.facade.handle(actor, SUGGEST)
                if reply.form is not None:
                    reply = dataclasses.replace(reply, form=prefilled(reply.form, text))
                await self._present(actor, reply, where, body.get("trigger_id"), None)
            except Exception:
                log.exception("the suggest shortcut failed")
                await self._apologise(where)

    # -- modals --------------------------------------------------------------------------------

    async def form_submission(
        self, ack: AsyncAck, body: JsonDict, context: AsyncBoltContext
    ) -> None:
        """Any form the core asked for (suggest, add, edit, reject with a reason): the values go
        back to the core, and its field errors travel in the ack as inline modal errors."""
        view: JsonDict = body.get("view") or {}
        command = _metadata(view).get("command", "")
        values = form_values(((view.get("state") or {}).get("values")) or {})
        user = body.get("user") or {}
        user_id = str(user.get("id") or context.user_id or "")
        team = team_of(body, context)
        name = str(user.get("name") or user.get("username") or "")

        async def run() -> tuple[Actor, Reply]:
            actor = await self.directory.actor(team, user_id, name)
            return actor, await self.facade.submit_form(actor, command, values)

        with self.tracker.track():
            work = asyncio.ensure_future(run())
            try:
                actor, reply = await asyncio.wait_for(asyncio.shield(work), SUBMIT_BUDGET)
            except TimeoutError:
                await ack(response_action="update", view=reply_view(Reply(
                    title="Still working on it",
                    body="This is taking longer than usual. I'll send you a message when it's done.",
                )))  # fmt: skip
                user_ref = UserRef(Platform.SLACK.value, team, user_id)
                await self._finish_late(work, user_ref, context.client)
                return
            except Exception:
                log.exception("a pmadvice form submission failed")
                await ack(response_action="update", view=reply_view(SORRY))
                return
            if reply.errors:
                ids = [
                    b.get("block_id", "")
                    for b in view.get("blocks", [])
                    if b.get("type") == "input"
                ]
                await ack(response_action="errors", errors=block_errors(reply.errors, ids))
                return
            await ack(response_action="update", view=reply_view(reply))
            await self._publish_home(actor, context.client)

    async def _finish_late(
        self,
        work: asyncio.Future[tuple[Actor, Reply]],
        user: UserRef,
        client: AsyncWebClient | None,
    ) -> None:
        try:
            actor, reply = await work
        except Exception:
            log.exception("a slow pmadvice form submission failed")
            await self.messenger.send(user, SORRY)
            return
        await self.messenger.send(user, reply)
        await self._publish_home(actor, client)

    # -- App Home ------------------------------------------------------------------------------

    async def home_opened(self, body: JsonDict, event: JsonDict, context: AsyncBoltContext) -> None:
        if event.get("tab", "home") != "home":
            return
        with self.tracker.track():
            try:
                actor = await self.directory.actor(
                    team_of(body, context), str(event.get("user", ""))
                )
                await self._publish_home(actor, context.client)
            except Exception:
                log.exception("could not publish App Home")

    def group_changed(self, event: JsonDict) -> None:
        self.directory.forget_group(str(event.get("subteam_id", "")))

    async def _publish_home(self, actor: Actor, client: AsyncWebClient | None) -> None:
        client = client or self.client
        try:
            view = await home_view(self.facade, actor)
            await client.views_publish(user_id=actor.user.user_id, view=view)
        except SlackApiError as error:
            log.warning("views.publish failed: %s", describe(error))

    async def _refresh_home_after(
        self, actor: Actor, where: Where, command: str, force: bool = False
    ) -> None:
        spec = c.spec_of(c.parse(command))
        if force or (spec is not None and spec.changes_home):
            await self._publish_home(actor, where.client)

    # -- output --------------------------------------------------------------------------------

    async def _present(
        self, actor: Actor, reply: Reply, where: Where, trigger: str | None, view: JsonDict | None
    ) -> None:
        """Show a reply where the member is: a modal for forms, else the message or view."""
        if reply.form is not None:
            await self._open_form(reply, reply.form, where, trigger, view)
            return
        if view is not None and view.get("type") == "modal":
            await self._update_view(view, reply, where)
            return
        if (
            view is not None
            and trigger
            and await self._open_view(where, reply_view(reply), trigger, None)
        ):
            return
        await self.delivery.reply(where, reply)

    async def _open_form(
        self, reply: Reply, form: Form, where: Where, trigger: str | None, view: JsonDict | None
    ) -> None:
        modal = form_view(form, self.facade.topics, reply.body,
                          {"command": form.command, "channel": where.channel_id or ""})  # fmt: skip
        if await self._open_view(where, modal, trigger, view):
            return
        await self.delivery.reply(where, Reply(
            title=form.title,
            body="Slack closed the window for opening the form. Press the button to open it.",
            buttons=(Button(f"Open: {form.title}", form.command),),
        ))  # fmt: skip

    async def _open_view(
        self, where: Where, modal: JsonDict, trigger: str | None, view: JsonDict | None
    ) -> bool:
        """Open `modal`, pushed on top when the member is already in a modal."""
        if not trigger:
            return False
        client = where.client or self.client
        try:
            if view is not None and view.get("type") == "modal":
                await client.views_push(trigger_id=trigger, view=modal)
            else:
                await client.views_open(trigger_id=trigger, view=modal)
        except SlackApiError as error:
            log.warning("could not open a modal: %s", describe(error))
            return False
        return True

    async def _update_view(self, view: JsonDict, reply: Reply, where: Where) -> None:
        try:
            await (where.client or self.client).views_update(
                view_id=view.get("id"), view=reply_view(reply)
            )
        except SlackApiError as error:
            log.warning("views.update failed: %s", describe(error))
            await self.delivery.reply(where, reply)

    async def _apologise(self, where: Where, view: JsonDict | None = None) -> None:
        try:
            if view is not None and view.get("type") == "modal":
                await self._update_view(view, SORRY, where)
            else:
                await self.delivery.reply(where, SORRY)
        except Exception:
            log.exception("could not even apologise")


def prefilled(form: Form, text: str) -> Form:
    """`form` with the shared message's text as its body, cut to fit the field."""
    fields = tuple(
        dataclasses.replace(f, initial=text[: f.max_length]) if f.name == BODY_FIELD else f
        for f in form.fields
    )
    return dataclasses.replace(form, fields=fields)


def command_of(action: JsonDict) -> str:
    """The core command a button or select runs: its value."""
    value = str(action.get("value") or (action.get("selected_option") or {}).get("value") or "")
    if str(action.get("action_id", "")).startswith(LEGACY_REJECT) and value.isdigit():
        return f"reject {value}"
    return value


def _is_home(view: JsonDict | None) -> bool:
    return view is not None and view.get("type") == "home"


def _metadata(view: JsonDict) -> dict[str, str]:
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def register(app: AsyncApp, handlers: Handlers) -> None:
    """Wire the listeners into bolt. Bolt injects arguments by parameter name."""

    async def on_command(ack: AsyncAck, body: JsonDict, context: AsyncBoltContext) -> None:
        await ack()
        await handlers.command(body, context)

    async def on_action(ack: AsyncAck, body: JsonDict, context: AsyncBoltContext) -> None:
        await ack()
        await handlers.action(body, context)

    async def on_form(ack: AsyncAck, body: JsonDict, context: AsyncBoltContext) -> None:
        await handlers.form_submission(ack, body, context)

    async def on_home(body: JsonDict, event: JsonDict, context: AsyncBoltContext) -> None:
        await handlers.home_opened(body, event, context)

    async def on_suggest_shortcut(ack: AsyncAck, body: JsonDict, context: AsyncBoltContext) -> None:
        await ack()
        await handlers.suggest_from_message(body, context)

    async def on_group_changed(event: JsonDict) -> None:
        handlers.group_changed(event)

    async def on_error(error: Exception) -> None:
        log.error("slack-bolt listener error: %s", type(error).__name__)

    app.command(COMMAND)(on_command)
    app.action(re.compile("^" + re.escape(ACTION_PREFIX)))(on_action)
    app.view(FORM_CALLBACK)(on_form)
    app.shortcut(SUGGEST_SHORTCUT)(on_suggest_shortcut)
    app.event("app_home_opened")(on_home)
    app.event("subteam_members_changed")(on_group_changed)
    app.error(on_error)
