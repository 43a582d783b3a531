"""DMs for nudges: sent to the user id, 429 per workspace, permanent and transient failures."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import Runtime
from bot.core.models import UserRef
from bot.core.ports import SendStatus
from bot.core.reply import Button, Reply
from bot.slack_adapter.messenger import SlackMessenger
from bot.slack_adapter.service import SlackService
from tests.slack.fake_slack import TEAM_ID, FakeSlack
from tests.slack.support import BOT_TOKEN

NUDGE = Reply(
    title="This week's exercise: Reframe one win <!here>",
    body="Rewrite one resume line & say who was better off.",
    buttons=(
        Button("Mark done", "done"),
        Button("Skip", "skip"),
        Button("Pause a week", "pause 1"),
    ),
)
ADA = UserRef("slack", TEAM_ID, "U0MEMBER01")
BOB = UserRef("slack", TEAM_ID, "U0MEMBER02")
OTHER_WORKSPACE = UserRef("slack", "T0OTHER01", "U0MEMBER03")


class Monotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def client(fake: FakeSlack) -> AsyncIterator[AsyncWebClient]:
    async with aiohttp.ClientSession() as session:
        yield AsyncWebClient(
            token=BOT_TOKEN, base_url=fake.api_url, session=session, retry_handlers=[]
        )


@pytest.fixture
def mono() -> Monotonic:
    return Monotonic()


@pytest.fixture
def messenger(client: AsyncWebClient, mono: Monotonic) -> SlackMessenger:
    return SlackMessenger(client, clock=mono)


async def test_a_dm_is_posted_to_the_user_id_without_opening_a_conversation(
    messenger: SlackMessenger, fake: FakeSlack
) -> None:
    first = await messenger.send(ADA, NUDGE)
    second = await messenger.send(ADA, NUDGE)
    assert first.status == second.status == SendStatus.SENT
    assert first.message_id is not None
    assert first.message_id.startswith("D0MEMBER01/")
    assert fake.called("conversations.open") == []
    post = fake.called("chat.postMessage")[0].params
    assert post["channel"] == "U0MEMBER01"
    assert "&lt;!here&gt;" in post["text"]
    values = [e["value"] for b in post["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert values == ["done", "skip", "pause 1"]


async def test_429_is_reported_and_honoured_for_that_workspace_only(
    messenger: SlackMessenger, fake: FakeSlack, mono: Monotonic
) -> None:
    fake.rate_limit("chat.postMessage", retry_after=42)
    limited = await messenger.send(ADA, NUDGE)
    assert limited.status == SendStatus.RATE_LIMITED
    assert limited.retry_after == 42
    posts = len(fake.called("chat.postMessage"))
    mono.now += 10
    again = await messenger.send(BOB, NUDGE)  # same workspace: not even attempted
    assert again.status == SendStatus.RATE_LIMITED
    assert again.retry_after == pytest.approx(32)
    assert len(fake.called("chat.postMessage")) == posts
    elsewhere = await messenger.send(OTHER_WORKSPACE, NUDGE)
    assert elsewhere.status == SendStatus.SENT
    mono.now += 33
    assert (await messenger.send(BOB, NUDGE)).status == SendStatus.SENT


@pytest.mark.parametrize(
    ("method", "error"),
    [
        ("chat.postMessage", "account_inactive"),
        ("chat.postMessage", "user_not_found"),
        ("chat.postMessage", "cannot_dm_bot"),
        ("chat.postMessage", "channel_not_found"),
        ("chat.postMessage", "is_archived"),
        ("chat.postMessage", "not_in_channel"),
        ("chat.postMessage", "user_disabled"),
        ("chat.postMessage", "messages_tab_disabled"),
    ],
)
async def test_permanent_failures(
    messenger: SlackMessenger, fake: FakeSlack, method: str, error: str
) -> None:
    fake.fail(method, error)
    outcome = await messenger.send(ADA, NUDGE)
    assert outcome.status == SendStatus.PERMANENT
    assert outcome.reason == error


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_server_errors_are_transient(
    messenger: SlackMessenger, fake: FakeSlack, status: int
) -> None:
    fake.server_error("chat.postMessage", status=status)
    outcome = await messenger.send(ADA, NUDGE)
    assert outcome.status == SendStatus.TRANSIENT


async def test_a_dropped_connection_is_transient_and_not_retried_silently(
    messenger: SlackMessenger, fake: FakeSlack
) -> None:
    fake.drop("chat.postMessage")
    outcome = await messenger.send(ADA, NUDGE)
    assert outcome.status == SendStatus.TRANSIENT
    assert len(fake.called("chat.postMessage")) == 1  # no hidden second post


async def test_a_timeout_is_transient(fake: FakeSlack, mono: Monotonic) -> None:
    class Hangs(AsyncWebClient):
        async def chat_postMessage(self, **kwargs: object) -> Any:
            raise TimeoutError

    outcome = await SlackMessenger(Hangs(), clock=mono).send(ADA, NUDGE)
    assert outcome.status == SendStatus.TRANSIENT


@pytest.mark.parametrize("error", ["invalid_auth", "token_revoked", "missing_scope", "fatal_error"])
async def test_our_own_setup_problems_never_blame_the_member(
    messenger: SlackMessenger, fake: FakeSlack, error: str
) -> None:
    fake.fail("chat.postMessage", error)
    assert (await messenger.send(ADA, NUDGE)).status == SendStatus.TRANSIENT


async def test_members_of_other_platforms_are_refused(messenger: SlackMessenger) -> None:
    outcome = await messenger.send(UserRef("discord", "G1", "42"), NUDGE)
    assert outcome.status == SendStatus.PERMANENT


async def test_the_service_messenger_is_what_the_core_sends_through(
    service: SlackService, runtime: Runtime, fake: FakeSlack
) -> None:
    assert runtime.facade.messengers["slack"] is service.messenger
    outcome = await runtime.facade.messengers["slack"].send(ADA, NUDGE)
    assert outcome.status == SendStatus.SENT
