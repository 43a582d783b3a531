"""A question typed in a DM with the bot is answered in that DM."""

from __future__ import annotations

from typing import Any

from bot.discord_adapter.service import DiscordService
from tests.discord.conftest import embed_text
from tests.discord.fake_discord import FakeDiscord, now_iso, snowflake, user_payload

ALEX = 1_400_000_000_000_000_001


def dm_message(channel_id: int, text: str, bot: bool = False) -> dict[str, Any]:
    author = user_payload(ALEX, "alex", "Alex")
    if bot:
        author["bot"] = True
    return {
        "id": str(snowflake()),
        "channel_id": str(channel_id),
        "author": author,
        "content": text,
        "timestamp": now_iso(),
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "pinned": False,
        "type": 0,
        "flags": 0,
    }


async def test_a_question_in_a_dm_is_answered_in_the_dm(
    fake: FakeDiscord, service: DiscordService
) -> None:
    channel = snowflake()
    await fake.dispatch(
        "MESSAGE_CREATE", dm_message(channel, "how do I talk about my supply chain work")
    )
    answers = await fake.wait_for(lambda: fake.messages.get(str(channel)))
    assert len(answers) == 1
    assert answers[0]["embeds"]
    assert answers[0]["allowed_mentions"] == {"parse": []}


async def test_a_form_command_in_a_dm_offers_a_button(fake: FakeDiscord, service: DiscordService):
    channel = snowflake()
    await fake.dispatch("MESSAGE_CREATE", dm_message(channel, "suggest"))
    answers = await fake.wait_for(lambda: fake.messages.get(str(channel)))
    buttons = [b["label"] for row in answers[0]["components"] for b in row["components"]]
    assert buttons == ["Open the form"]


async def test_messages_from_bots_are_ignored(fake: FakeDiscord, service: DiscordService) -> None:
    channel = snowflake()
    await fake.dispatch("MESSAGE_CREATE", dm_message(channel, "help", bot=True))
    await fake.dispatch("MESSAGE_CREATE", dm_message(channel, "help"))
    answers = await fake.wait_for(lambda: fake.messages.get(str(channel)))
    assert len(answers) == 1
    assert "pmadvice" in embed_text(answers[0]["embeds"][0]).lower()


async def test_no_privileged_intent_is_needed(service: DiscordService) -> None:
    assert service.client is not None
    intents = service.client.intents
    assert intents.value == (1 << 0) | (1 << 12)  # GUILDS and DIRECT_MESSAGES only
    assert not intents.message_content
    assert not intents.members
    assert not intents.presences
