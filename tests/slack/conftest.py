"""Fixtures: a fake Slack, a runtime on a fresh SQLite file, and the real service in front."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import aiohttp
import pytest

from bot.app import Runtime
from bot.slack_adapter.service import SlackService, build_service
from tests.slack.fake_slack import FakeSlack, Profile
from tests.slack.markup import assert_no_live_markup
from tests.slack.support import (
    APP_TOKEN,
    BOT_TOKEN,
    SIGNING_SECRET,
    HttpTransport,
    Member,
    SocketTransport,
)

MODERATOR = "U0MODERAT1"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    slack = FakeSlack(bot_token=BOT_TOKEN, app_token=APP_TOKEN)
    slack.users["U0MEMBER01"] = Profile(name="ada", display_name="Ada L", tz="Europe/Berlin")
    await slack.start()
    yield slack
    await slack.stop()


@pytest.fixture
def slack_env(monkeypatch: pytest.MonkeyPatch, fake: FakeSlack) -> Iterator[None]:
    for name in ("PMADVICE_SLACK_MODERATOR_GROUP", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
    monkeypatch.setenv("PMADVICE_SLACK_API_URL", fake.api_url)
    monkeypatch.setenv("PMADVICE_SLACK_MODERATOR_IDS", MODERATOR)
    return


async def start_service(runtime: Runtime, options: dict[str, object]) -> SlackService:
    service = await build_service(runtime, {"host": "127.0.0.1", "port": 0, **options})
    runtime.facade.messengers[service.platform] = service.messenger
    await service.start()
    return service


@pytest.fixture
async def service(runtime: Runtime, slack_env: None) -> AsyncIterator[SlackService]:
    started = await start_service(runtime, {"http": True})
    yield started
    await started.stop()


@pytest.fixture
async def http(service: SlackService) -> AsyncIterator[HttpTransport]:
    async with aiohttp.ClientSession() as session:
        yield HttpTransport(f"http://127.0.0.1:{service.bound_port}/slack/events", session)


@pytest.fixture
def member(http: HttpTransport, fake: FakeSlack) -> Member:
    return Member(http, fake)


@pytest.fixture
def moderator(http: HttpTransport, fake: FakeSlack) -> Member:
    return Member(http, fake, user_id=MODERATOR, name="grace")


@pytest.fixture
async def socket_service(
    runtime: Runtime, slack_env: None, monkeypatch: pytest.MonkeyPatch, fake: FakeSlack
) -> AsyncIterator[SlackService]:
    monkeypatch.setenv("SLACK_APP_TOKEN", APP_TOKEN)
    monkeypatch.delenv("SLACK_SIGNING_SECRET")
    started = await start_service(runtime, {"http": False})
    await fake.wait_for(lambda: fake.socket_connected)
    yield started
    await started.stop()


@pytest.fixture
def socket_member(socket_service: SlackService, fake: FakeSlack) -> Member:
    return Member(SocketTransport(fake), fake)


@pytest.fixture(autouse=True)
def everything_sent_is_valid_and_safe(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every test that talks to the fake also checks that Slack would have accepted everything
    the bot sent, and that nothing it sent carries live markup (mentions, links) in mrkdwn."""
    if "fake" not in request.fixturenames:
        yield
        return
    fake: FakeSlack = request.getfixturevalue("fake")
    yield
    assert fake.invalid == [], fake.invalid
    for hook in fake.hooks:
        assert_no_live_markup(hook.body)
    for call in fake.calls:
        if call.method.startswith(("chat.", "views.")):
            assert_no_live_markup(
                {k: v for k, v in call.params.items() if k in {"text", "blocks", "view"}}
            )


async def settle() -> None:
    """Let already-scheduled callbacks run (no wall-clock waiting)."""
    for _ in range(5):
        await asyncio.sleep(0)
