"""Slack DMs carry their delivery's key as message metadata; after a crash the messenger
finds it in the DM's recent history instead of sending the nudge again."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import aiohttp
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.models import UserRef
from bot.core.ports import Reconciler, SendStatus
from bot.core.reply import Reply
from bot.slack_adapter.messenger import SlackMessenger
from tests.slack.fake_slack import TEAM_ID, FakeSlack
from tests.slack.support import BOT_TOKEN

ADA = UserRef("slack", TEAM_ID, "U0MEMBER01")
NUDGE = Reply(title="This week's exercise", body="Rewrite one resume line.")


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack(bot_token=BOT_TOKEN)
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def messenger(fake: FakeSlack) -> AsyncIterator[SlackMessenger]:
    async with aiohttp.ClientSession() as session:
        client = AsyncWebClient(
            token=BOT_TOKEN, base_url=fake.api_url, session=session, retry_handlers=[]
        )
        yield SlackMessenger(client)


async def test_a_sent_nudge_is_found_by_its_key_and_no_other(messenger: SlackMessenger) -> None:
    assert isinstance(messenger, Reconciler)
    assert await messenger.find_sent(ADA, "pmadvice-nudge-7") == ""

    sent = await messenger.send(ADA, dataclasses.replace(NUDGE, delivery_key="pmadvice-nudge-7"))
    await messenger.send(ADA, NUDGE)  # a later message without a key

    assert sent.status == SendStatus.SENT
    assert await messenger.find_sent(ADA, "pmadvice-nudge-7") == sent.message_id
    assert await messenger.find_sent(ADA, "pmadvice-nudge-8") == ""


async def test_without_history_access_it_cannot_tell(
    fake: FakeSlack, messenger: SlackMessenger
) -> None:
    fake.fail("conversations.history", "missing_scope")
    assert await messenger.find_sent(ADA, "pmadvice-nudge-7") is None
