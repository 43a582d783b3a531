"""Getting a reply to the member: response_url first, then the Web API, then a DM."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.core.models import UserRef
from bot.core.ports import Messenger, SendStatus
from bot.core.reply import Reply, Visibility
from bot.slack_adapter.errors import describe
from bot.slack_adapter.render import message

log = logging.getLogger(__name__)

RESPONSE_URL_TIMEOUT = 10


@dataclass(frozen=True, slots=True)
class Where:
    """Where a request came from, so the answer can go back there."""

    user: UserRef
    response_url: str | None = None
    channel_id: str | None = None
    client: AsyncWebClient | None = None
    """The client bolt authorised for this request (the workspace's own token)."""
    replace_original: bool = False
    """Answer by replacing the message the button was pressed in."""


class Delivery:
    def __init__(
        self,
        client: AsyncWebClient,
        messenger: Messenger,
        library_logger: logging.Logger,
    ) -> None:
        self._client = client
        self._messenger = messenger
        self._library_logger = library_logger

    async def reply(self, where: Where, reply: Reply) -> None:
        if where.response_url and await self._via_response_url(
            where.response_url, reply, where.replace_original
        ):
            return
        client = where.client or self._client
        if where.channel_id and await self._via_api(client, where.channel_id, where.user, reply):
            return
        outcome = await self._messenger.send(where.user, reply)
        if outcome.status != SendStatus.SENT:
            log.warning("could not deliver a reply anywhere: %s", outcome.reason)

    async def _via_response_url(self, url: str, reply: Reply, replace_original: bool) -> bool:
        in_channel = reply.visibility == Visibility.CHANNEL
        webhook = AsyncWebhookClient(
            url,
            timeout=RESPONSE_URL_TIMEOUT,
            session=self._client.session,  # the service's pooled session, once started
            logger=self._library_logger,
            retry_handlers=[],
        )
        try:
            response = await webhook.send_dict(
                {
                    **message(reply),
                    "response_type": "in_channel" if in_channel else "ephemeral",
                    "replace_original": replace_original and not in_channel,
                }
            )
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            log.warning("response_url failed (%s); trying the Web API", type(error).__name__)
            return False
        if response.status_code == 200:
            return True
        log.warning("response_url refused the reply (status %s)", response.status_code)
        return False

    async def _via_api(
        self, client: AsyncWebClient, channel: str, user: UserRef, reply: Reply
    ) -> bool:
        try:
            if reply.visibility == Visibility.CHANNEL:
                await client.chat_postMessage(channel=channel, **message(reply))
            else:
                await client.chat_postEphemeral(
                    channel=channel, user=user.user_id, **message(reply)
                )
        except SlackApiError as error:
            log.warning("could not post the reply in the channel: %s", describe(error))
            return False
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            log.warning("could not post the reply in the channel: %s", type(error).__name__)
            return False
        return True


class TaskTracker:
    """The listener work still running after its ack, so stop() can let it finish."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[object]] = set()

    @contextmanager
    def track(self) -> Iterator[None]:
        task = asyncio.current_task()
        if task is None:
            yield
            return
        self._tasks.add(task)
        try:
            yield
        finally:
            self._tasks.discard(task)

    @property
    def busy(self) -> int:
        return len(self._tasks)

    async def drain(self, grace: float) -> None:
        current = asyncio.current_task()
        pending = {t for t in self._tasks if t is not current and not t.done()}
        if not pending:
            return
        _, still_running = await asyncio.wait(pending, timeout=grace)
        for task in still_running:
            task.cancel()
        if still_running:
            await asyncio.wait(still_running, timeout=1)
