"""Direct messages for weekly nudges and review outcomes, with Slack's failures classified."""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.models import Platform, UserRef
from bot.core.ports import SendOutcome
from bot.core.reply import Reply
from bot.slack_adapter.errors import error_code
from bot.slack_adapter.errors import retry_after as retry_after_of
from bot.slack_adapter.errors import status as error_status
from bot.slack_adapter.render import message
from bot.slack_adapter.workspaces import SingleWorkspace, WorkspaceClients

log = logging.getLogger(__name__)

MARKER_EVENT = "pmadvice_nudge"
MARKER_FIELD = "delivery"
HISTORY_WINDOW = 20
"""Latest DM messages searched for an interrupted nudge (the bot writes little else there)."""

DM_CACHE_SIZE = 10_000

PERMANENT_ERRORS = frozenset(
    {
        "account_inactive",
        "user_not_found",
        "users_not_found",
        "user_disabled",
        "cannot_dm_bot",
        "user_is_bot",
        "channel_not_found",
        "is_archived",
        "not_in_channel",
        "messages_tab_disabled",
        "restricted_action",
        "user_is_restricted",
        "is_inactive",
        "team_access_not_granted",
    }
)
"""The member can't receive DMs from us (left, deactivated, a bot, blocked): retrying won't help."""

SETUP_ERRORS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "token_expired",
        "missing_scope",
        "no_permission",
    }
)
"""Our own credentials or scopes are wrong. Not the member's fault, so never permanent for them."""


class SlackMessenger:
    """Implements `bot.core.ports.Messenger` with chat.postMessage to the member's user id.

    Slack delivers a message posted to a user id into the app's DM with that member (the
    Messages tab), so no `conversations.open` (Tier 3, about 50 a minute) is needed: after a
    restart, a cohort due at once goes out at chat.postMessage's pace instead of trickling
    through conversations.open's. The DM channel id Slack answers with is remembered per
    member, for reading the DM's history when a nudge interrupted by a crash is reconciled.
    """

    def __init__(
        self,
        clients: WorkspaceClients | AsyncWebClient,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clients = SingleWorkspace(clients) if isinstance(clients, AsyncWebClient) else clients
        self._clock = clock
        self._blocked_until: dict[str, float] = {}
        self._channels: OrderedDict[UserRef, str] = OrderedDict()

    async def send(self, user: UserRef, reply: Reply) -> SendOutcome:
        if user.platform != Platform.SLACK.value:
            return SendOutcome.permanent("not a Slack member")
        wait = self._blocked_until.get(user.workspace, 0.0) - self._clock()
        if wait > 0:
            return SendOutcome.rate_limited(wait, "Slack asked us to slow down")
        client = await self._clients.for_team(user.workspace)
        if client is None:
            return SendOutcome.permanent("the app is no longer installed in this workspace")
        try:
            response = await client.chat_postMessage(
                channel=user.user_id, **message(reply), **_marker(reply)
            )
        except SlackApiError as error:
            return self._classify(user, error)
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            return SendOutcome.transient(f"network: {type(error).__name__}")
        channel = str(response.get("channel") or user.user_id)
        self._remember(user, channel)
        return SendOutcome.sent(f"{channel}/{response.get('ts', '')}")

    async def find_sent(self, user: UserRef, key: str) -> str | None:
        """After a crash mid-send: is the DM carrying `key` (message metadata) among the
        conversation's latest messages? None when Slack cannot tell us (e.g. no im:history)."""
        client = await self._clients.for_team(user.workspace)
        if client is None:
            return None
        try:
            channel = await self._dm_channel(client, user)
            if channel is None:
                return None
            response = await client.conversations_history(
                channel=channel, limit=HISTORY_WINDOW, include_all_metadata=True
            )
        except SlackApiError as error:
            log.warning("could not read a DM's history to reconcile a nudge: %s", error_code(error))
            return None
        except (aiohttp.ClientError, TimeoutError, OSError):
            return None
        for posted in response.get("messages") or []:
            payload = (posted.get("metadata") or {}).get("event_payload") or {}
            if payload.get(MARKER_FIELD) == key:
                return f"{channel}/{posted.get('ts', '')}"
        return ""

    async def _dm_channel(self, client: AsyncWebClient, user: UserRef) -> str | None:
        """The DM's channel id, for reading its history: remembered from the last message
        posted to the member, else (rarely: only to reconcile after a crash) opened."""
        channel = self._channels.get(user)
        if channel is not None:
            return channel
        response = await client.conversations_open(users=user.user_id)
        channel = str((response.get("channel") or {}).get("id", ""))
        if not channel:
            return None
        self._remember(user, channel)
        return channel

    def _remember(self, user: UserRef, channel: str) -> None:
        self._channels[user] = channel
        self._channels.move_to_end(user)
        if len(self._channels) > DM_CACHE_SIZE:
            self._channels.popitem(last=False)

    def _classify(self, user: UserRef, error: SlackApiError) -> SendOutcome:
        status = error_status(error)
        code = error_code(error)
        if status == 429 or code in {"ratelimited", "rate_limited"}:
            retry_after = retry_after_of(error)
            self._blocked_until[user.workspace] = self._clock() + retry_after
            return SendOutcome.rate_limited(retry_after, "Slack rate limit")
        if status >= 500:
            return SendOutcome.transient(f"Slack answered {status}")
        if code in PERMANENT_ERRORS:
            return SendOutcome.permanent(code)
        if code in SETUP_ERRORS:
            log.error("Slack refused a DM because of our credentials or scopes: %s", code)
            return SendOutcome.transient(code)
        log.warning("unexpected Slack error sending a DM: %s (status %s)", code or "?", status)
        return SendOutcome.transient(code or f"status {status}")


def _marker(reply: Reply) -> dict[str, Any]:
    """A weekly nudge carries its delivery's key as message metadata, so a re-send after a
    crash can first look for it (`find_sent`)."""
    if not reply.delivery_key:
        return {}
    return {
        "metadata": {
            "event_type": MARKER_EVENT,
            "event_payload": {MARKER_FIELD: reply.delivery_key},
        }
    }
