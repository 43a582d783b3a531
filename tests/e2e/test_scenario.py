"""One member's story, written once, told on the console, on Slack and on Discord."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.runtime import Runtime
from bot.testing import ConsoleConversation, Conversation
from tests.discord import conftest as discord_side
from tests.discord.fake_discord import GUILD_ID, FakeDiscord
from tests.slack import conftest as slack_side
from tests.slack.fake_slack import FakeSlack, Profile
from tests.slack.support import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET, HttpTransport, Member
from tests.support.conversations import DiscordConversation, SlackConversation


@pytest.fixture(params=["console", "slack", "discord"])
async def conversation(
    request: pytest.FixtureRequest, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Conversation]:
    if request.param == "console":
        yield ConsoleConversation(runtime.facade)
    elif request.param == "slack":
        fake = FakeSlack(bot_token=BOT_TOKEN, app_token=APP_TOKEN)
        fake.users["U0MEMBER01"] = Profile(name="ada", display_name="Ada L", tz="Europe/Berlin")
        await fake.start()
        monkeypatch.delenv("SLACK_APP_TOKEN", raising=False)
        monkeypatch.delenv("PMADVICE_SLACK_MODERATOR_GROUP", raising=False)
        monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
        monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
        monkeypatch.setenv("PMADVICE_SLACK_API_URL", fake.api_url)
        service = await slack_side.start_service(runtime, {"http": True})
        try:
            async with aiohttp.ClientSession() as session:
                url = f"http://127.0.0.1:{service.bound_port}/slack/events"
                yield SlackConversation(Member(HttpTransport(url, session), fake))
        finally:
            await service.stop()
            await fake.stop()
    else:
        async with FakeDiscord() as fake:
            monkeypatch.setenv("DISCORD_TOKEN", discord_side.TOKEN)
            monkeypatch.setenv("DISCORD_GUILD_IDS", str(GUILD_ID))
            monkeypatch.setenv("PMADVICE_DISCORD_API_URL", fake.api_url)
            monkeypatch.setenv("PMADVICE_DISCORD_GATEWAY_URL", fake.gateway_url)
            service = await discord_side.started(runtime)
            try:
                yield DiscordConversation(discord_side.Chat(fake))
            finally:
                await service.stop()
            assert not fake.invalid


async def test_a_member_asks_votes_subscribes_and_marks_done(conversation: Conversation):
    first = await conversation.say("how do I talk about my supply chain work")
    assert "Another answer" in first.buttons

    another = await conversation.press("Another answer")
    assert another.title != first.title

    thanks = await conversation.press("👍 Helpful")
    assert "Thanks" in thanks.text

    subscribed = await conversation.say("subscribe tue 08:30 Europe/Berlin")
    assert "Tuesday" in subscribed.text

    done = await conversation.say("done https://example.com/teardown")
    assert "done" in done.text

    progress = await conversation.say("progress")
    assert "✅" in progress.text
