"""`@pmadvice <question>` in a channel is answered in the thread; the app's DM answers too."""

from __future__ import annotations

import pytest

from tests.slack.fake_slack import BOT_USER_ID, FakeSlack
from tests.slack.support import CHANNEL, Member, message_event, section_text

QUESTION = "how do I talk about my supply chain work"


async def test_a_mention_is_answered_in_the_thread_for_everyone(
    member: Member, fake: FakeSlack
) -> None:
    event = message_event(member, f"<@{BOT_USER_ID}> {QUESTION}", "app_mention", CHANNEL)
    assert (await member.transport.event(event)).status == 200
    posted = await fake.wait_call("chat.postMessage")
    assert posted.params["channel"] == CHANNEL
    assert posted.params["thread_ts"] == event["event"]["ts"]
    assert section_text(posted.params["blocks"])
    assert fake.called("chat.postEphemeral") == []


async def test_a_mention_with_a_personal_command_answers_only_the_member(
    member: Member, fake: FakeSlack
) -> None:
    event = message_event(member, f"<@{BOT_USER_ID}> progress", "app_mention", CHANNEL)
    await member.transport.event(event)
    shown = await fake.wait_call("chat.postEphemeral")
    assert shown.params["user"] == member.user_id
    assert shown.params["thread_ts"] == event["event"]["ts"]
    assert fake.called("chat.postMessage") == []


async def test_a_mention_that_needs_a_form_offers_a_button(member: Member, fake: FakeSlack) -> None:
    event = message_event(member, f"<@{BOT_USER_ID}> suggest", "app_mention", CHANNEL)
    await member.transport.event(event)
    shown = await fake.wait_call("chat.postEphemeral")
    values = [
        e["value"] for b in shown.params["blocks"] if b["type"] == "actions" for e in b["elements"]
    ]
    assert values == ["suggest"]


async def test_a_question_typed_in_the_apps_dm_is_answered_there(
    member: Member, fake: FakeSlack
) -> None:
    dm = "D" + member.user_id[1:]
    await member.transport.event(message_event(member, QUESTION, "message", dm))
    posted = await fake.wait_call("chat.postMessage")
    assert posted.params["channel"] == dm
    assert "thread_ts" not in posted.params


@pytest.mark.parametrize("change", [{"bot_id": "B0BOT0001"}, {"subtype": "message_changed"}])
async def test_the_bots_own_messages_and_edits_are_ignored(
    member: Member, fake: FakeSlack, change: dict[str, str]
) -> None:
    dm = "D" + member.user_id[1:]
    event = message_event(member, QUESTION, "message", dm)
    event["event"].update(change)
    assert (await member.transport.event(event)).status == 200
    await member.transport.event(message_event(member, "help", "message", dm))
    posted = await fake.wait_call("chat.postMessage")
    assert "How to use pmadvice" in section_text(posted.params["blocks"])
    assert len(fake.called("chat.postMessage")) == 1
