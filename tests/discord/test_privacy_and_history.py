"""`mydata`, `forget`, `remind`, `history` and `revert` through the real discord.py client."""

from __future__ import annotations

import json

from bot.core.models import UserRef
from tests.discord.conftest import Chat
from tests.discord.fake_discord import FakeDiscord


async def test_mydata_is_an_ephemeral_file_and_forget_asks_first(
    chat: Chat, runtime, fake: FakeDiscord
):
    await chat.slash("subscribe", day="mon", time="09:00", timezone="Europe/Berlin")
    reminders = await chat.slash("remind", setting="off")
    assert "No more mid-week reminders" in reminders.text()
    answer = await chat.slash("mydata")
    assert answer.ephemeral
    [attachment] = answer.message["attachments"]
    assert attachment["filename"] == "pmadvice-my-data.json"
    data = json.loads(fake.files[attachment["id"]].decode())
    assert data["subscription"]["timezone"] == "Europe/Berlin"
    assert data["subscription"]["reminders"] is False

    me = UserRef("discord", "discord", str(chat.where.user_id))
    question = await chat.slash("forget")
    assert question.ephemeral
    assert await runtime.repositories.subscriptions.get(me) is not None
    done = await chat.press(question.message, "Yes, erase my data")
    assert "forgotten" in done.title
    assert await runtime.repositories.subscriptions.get(me) is None


async def test_a_moderator_reads_history_and_reverts_a_retire(moderator: Chat, runtime):
    snippet = runtime.knowledge.snippets[2]
    await moderator.slash("retire", group="pmadvice-mod", snippet=snippet.id)
    history = await moderator.slash("history", group="pmadvice-mod", snippet=snippet.id)
    assert history.title == f"History of {snippet.id} (newest first)"
    assert "**r2** retired" in history.text()
    reverted = await moderator.slash(
        "revert", group="pmadvice-mod", snippet=snippet.id, revision="r1"
    )
    assert reverted.title == "Reverted"
    assert (await runtime.facade.library.state()).index.get(snippet.id) is not None
