"""Right-click a message > Apps > "Suggest as advice": the suggestion form, filled with it."""

from __future__ import annotations

from typing import Any

from bot.app import Runtime
from bot.discord_adapter.client import SUGGEST_MENU
from tests.discord.conftest import Chat
from tests.discord.fake_discord import (
    CHANNEL_ID,
    FakeDiscord,
    interaction_payload,
    now_iso,
    shown_values,
    snowflake,
    user_payload,
)

ADVICE = (
    "When you interview, bring one page on a process you fixed: who felt the problem, what you "
    "tried, what changed for them and the number that moved. It shows product judgment."
)


def message_menu_data(fake: FakeDiscord, text: str) -> dict[str, Any]:
    command = fake.command(SUGGEST_MENU)
    message_id = str(snowflake())
    message = {
        "id": message_id,
        "channel_id": str(CHANNEL_ID),
        "author": user_payload(1_400_000_000_000_000_077, "sam", "Sam"),
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
        "components": [],
    }
    return {
        "id": command["id"],
        "name": SUGGEST_MENU,
        "type": 3,
        "target_id": message_id,
        "resolved": {"messages": {message_id: message}},
    }


def test_the_menu_command_is_registered_as_a_message_command(fake: FakeDiscord, service) -> None:
    command = fake.command(SUGGEST_MENU)
    assert command["type"] == 3


async def test_suggest_as_advice_opens_the_form_with_the_message(
    chat: Chat, fake: FakeDiscord, runtime: Runtime
) -> None:
    payload = interaction_payload(2, message_menu_data(fake, ADVICE), chat.where)
    opened = await chat._answer(payload)
    form = opened.modal
    assert shown_values(form)["body"] == ADVICE
    slug = runtime.knowledge.topics[0].slug
    sent = await chat.submit(
        form, {"title": "Bring a one-page story", "body": ADVICE, "topics": slug, "questions": ""}
    )
    assert sent.title == "Thanks, suggestion received"
    assert await runtime.repositories.suggestions.count_pending() == 1
