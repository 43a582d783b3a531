"""Nothing the bot sends can ping, whoever wrote the text; no token ever reaches a log line."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from bot.app import StartupError
from bot.core.models import UserRef
from bot.core.reply import Reply
from bot.discord_adapter.safety import PING
from tests.discord.conftest import MENTION_VECTORS, MOD_ROLE, Chat, started
from tests.discord.fake_discord import TOKEN, FakeDiscord


def strings(node: Any) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for value in node.values() for s in strings(value)]
    if isinstance(node, list):
        return [s for value in node for s in strings(value)]
    return []


def assert_nothing_pings(fake: FakeDiscord) -> int:
    """Every message the bot sent or edited: no live mention, and mentions switched off."""
    outgoing = fake.all_outgoing()
    for where, payload in outgoing:
        assert payload.get("allowed_mentions") == {"parse": []}, where
        for text in strings({k: v for k, v in payload.items() if k != "allowed_mentions"}):
            assert not PING.search(text), (where, text)
    return len(outgoing)


@pytest.mark.parametrize("vector", MENTION_VECTORS)
async def test_a_members_question_is_echoed_without_pinging(chat: Chat, fake: FakeDiscord, vector):
    answer = await chat.slash("ask", question=f"zebra {vector} lasagne")
    assert "You asked" in answer.embeds[0]["footer"]["text"]
    assert assert_nothing_pings(fake) == 1


@pytest.mark.parametrize(
    "name", ["@everyone", "@here", "<@&123456789012345678>", "@every\u200bone"]
)
async def test_a_display_name_cannot_ping_when_sharing_to_the_channel(chat: Chat, fake, name):
    sharer = chat.as_(global_name=name)
    answer = await sharer.slash("ask", question="how do I talk about my supply chain work")
    shared = await sharer.press(answer.message, "Share to channel")
    assert not shared.ephemeral
    assert shared.embeds[0]["author"]["name"].startswith("Shared by")
    assert_nothing_pings(fake)


async def test_moderator_text_reaches_the_member_by_dm_without_pinging(
    chat: Chat, moderator: Chat, fake: FakeDiscord, runtime
):
    opened = await chat.slash("suggest")
    body = (
        "Write one page on a process you fixed: the problem, who felt it, what you tried, "
        "what changed for them and the number that moved, e.g. rerouting late deliveries."
    )
    slug = runtime.knowledge.topics[0].slug
    await chat.submit(opened.modal, {"title": "The one-page story", "body": body, "topics": slug})
    reason = " ".join(MENTION_VECTORS)
    rejected = await moderator.slash("reject", group="pmadvice-mod", number=1, reason=reason)
    assert rejected.title == "Rejected"
    channel = await fake.wait_for(lambda: fake.dm_channels.get(str(chat.where.user_id)))
    await fake.wait_for(lambda: fake.messages.get(channel))
    assert_nothing_pings(fake)


async def test_unanswered_questions_are_listed_to_moderators_without_pinging(
    chat: Chat, moderator: Chat, fake: FakeDiscord
):
    for vector in MENTION_VECTORS[:6]:
        await chat.slash("ask", question=f"quantum {vector} lasagne")
    gaps = await moderator.slash("gaps", group="pmadvice-mod")
    assert "lasagne" in gaps.text()
    assert_nothing_pings(fake)


async def test_direct_messages_and_deferred_edits_never_ping(
    fake: FakeDiscord, discord_env, runtime
):
    service = await started(runtime, defer_after=0.0)
    try:
        chat = Chat(fake)
        answer = await chat.slash("ask", question="zebra @everyone <@&123456789012345678> x")
        assert answer.type == 5  # deferred, then the placeholder is edited
        text = " ".join(MENTION_VECTORS)
        user = UserRef("discord", "discord", "1700000000000000001")
        await service.messenger.send(user, Reply(title=text, body=text, context=text))
        assert assert_nothing_pings(fake) == 2
        edits = [r for r in fake.requests if r.method == "PATCH"]
        assert edits
        assert all(r.body["allowed_mentions"] == {"parse": []} for r in edits)
    finally:
        await service.stop()


async def test_the_client_itself_defaults_to_no_mentions(service):
    assert service.client is not None
    mentions = service.client.allowed_mentions
    assert mentions is not None
    assert mentions.to_dict() == {"parse": []}


async def test_no_token_in_any_log_line(
    caplog: pytest.LogCaptureFixture, fake: FakeDiscord, discord_env, runtime
):
    caplog.set_level(logging.DEBUG)
    service = await started(runtime)
    try:
        chat = Chat(fake)
        moderator = chat.as_(user_id=9, roles=(MOD_ROLE,))
        answer = await chat.slash("ask", question="how do I talk about my supply chain work")
        await chat.press(answer.message, "👍 Helpful")
        await chat.slash("suggest")
        await moderator.slash("stats", group="pmadvice-mod")
        await service.messenger.send(UserRef("discord", "discord", "5"), Reply(body="hi"))
        fake.blocked_dm_users.add("6")
        await service.messenger.send(UserRef("discord", "discord", "6"), Reply(body="hi"))
        fake.rate_limit("POST", r"^/channels/\d+/messages$", retry_after=0.01)
        await service.messenger.send(UserRef("discord", "discord", "5"), Reply(body="again"))
    finally:
        await service.stop()
    interaction_token = answer.interaction.token
    assert len(caplog.records) > 20  # discord.py really did log at DEBUG
    for record in caplog.records:
        message = record.getMessage()
        assert TOKEN not in message, record.name
        assert interaction_token not in message, record.name
    assert TOKEN not in caplog.text
    assert interaction_token not in caplog.text


async def test_a_rejected_token_fails_start_up_without_showing_it(
    caplog: pytest.LogCaptureFixture, fake: FakeDiscord, discord_env, runtime, monkeypatch
):
    caplog.set_level(logging.DEBUG)
    wrong = "MTAwMDAwMDAwMDAwMDAwMDAx.WRONG0.the-wrong-token-entirely-000000"
    monkeypatch.setenv("DISCORD_TOKEN", wrong)
    with pytest.raises(StartupError, match="DISCORD_TOKEN") as raised:
        await started(runtime)
    assert wrong not in str(raised.value)
    assert wrong not in caplog.text


async def test_a_masked_link_in_a_suggestion_shows_its_real_target_to_moderators(
    chat: Chat, moderator: Chat, fake: FakeDiscord, runtime
):
    form = (await chat.slash("suggest")).modal
    body = (
        "Keep a one-page record of each process you fixed, who felt the problem, what you "
        "tried and what moved for them: the template I use is at "
        "[docs.google.com](http://evil.example/phish) and it takes about ten minutes a week."
    )
    slug = runtime.knowledge.topics[0].slug
    sent = await chat.submit(
        form, {"title": "Keep a wins record", "body": body, "topics": slug, "questions": ""}
    )
    assert sent.title == "Thanks, suggestion received"
    queue = await moderator.slash("review", group="pmadvice-mod")
    shown = queue.text()
    assert "docs.google.com (http://evil.example/phish)" in shown
    assert "](" not in shown
