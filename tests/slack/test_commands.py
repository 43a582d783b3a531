"""/pmadvice, every subcommand, over signed HTTP: ack first, answer through the response_url."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from bot.app import Runtime
from bot.core.models import Actor, UserRef
from bot.core.reply import Reply
from tests.slack.conftest import start_service
from tests.slack.fake_slack import TEAM_ID, FakeSlack
from tests.slack.support import CHANNEL, Answer, HttpTransport, Member, section_text
from tests.support.fakes import FakeClock

QUESTION = "how do I talk about my supply chain work"


def shown(answer: Answer) -> str:
    return section_text(answer.blocks)


async def test_ack_comes_before_the_core_runs(
    member: Member, runtime: Runtime, fake: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = asyncio.Event()
    real_handle = runtime.facade.handle

    async def slow_handle(actor: Actor, text: str) -> Reply:
        await release.wait()
        return await real_handle(actor, text)

    monkeypatch.setattr(runtime.facade, "handle", slow_handle)
    ack, url = await member.send("help")
    assert ack.status == 200
    assert ack.body == ""
    assert fake.hooks == []  # the answer is still being worked on
    release.set()
    message = await fake.wait_hook(url)
    assert message["response_type"] == "ephemeral"


async def test_menu_for_an_empty_command(member: Member) -> None:
    answer = await member.ask("")
    assert "Hi! I'm pmadvice" in shown(answer)
    assert set(answer.buttons()) == {"Browse topics", "This week's exercise", "My progress", "Help"}
    assert answer.message["text"]  # the plain fallback for notifications


async def test_help_shows_moderator_commands_only_to_moderators(
    member: Member, moderator: Member
) -> None:
    assert "Moderators" not in shown(await member.ask("help"))
    assert "Moderators" in shown(await moderator.ask("help"))


async def test_a_question_gets_a_snippet_with_related_feedback_and_share(member: Member) -> None:
    answer = await member.ask(QUESTION)
    buttons = answer.buttons()
    assert {"👍 Helpful", "👎 Not helpful", "Share to channel", "Another answer"} <= set(buttons)
    assert len(buttons) >= 5  # plus related snippets
    assert buttons["Another answer"]["value"] == f"more 1 {QUESTION}"
    assert "id: " in shown(answer)
    assert answer.blocks[0]["type"] == "header"


async def test_an_unanswerable_question_is_declined_and_recorded(
    member: Member, runtime: Runtime, clock: FakeClock
) -> None:
    answer = await member.ask("quantum chromodynamics lattice gauge")
    assert "I have nothing good on that yet" in shown(answer)
    gaps = await runtime.repositories.unanswered.top(5, clock.now().replace(year=2020))
    assert [g.text for g in gaps] == ["quantum chromodynamics lattice gauge"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("topics", "Topics"),
        ("topic portfolio", "Portfolio and artifacts"),
        ("topic nonsense-topic", "No such topic"),
        ("show product-teardown-structure", "id: product-teardown-structure"),
        ("show no-such-snippet", "No such snippet"),
        (f"more 1 {QUESTION}", "id: "),
        ("ask", "Not quite"),
        ("pause 99", "I can pause for 1 to 12 weeks"),
        ("subscribe someday", "I didn't understand"),
        ("challenge", "This week's exercise"),
        ("progress", "Your progress"),
        ("unsubscribe", "You're not subscribed"),
        ("resume", "You're not subscribed"),
        ("restart", "You're still on the track"),
    ],
)
async def test_subcommands(member: Member, text: str, expected: str) -> None:
    assert expected in shown(await member.ask(text))


async def test_votes_are_one_per_member_and_changeable(member: Member, runtime: Runtime) -> None:
    assert "Thanks! Glad it helped" in shown(await member.ask("vote product-teardown-structure up"))
    await member.ask("vote product-teardown-structure down")
    tallies = await runtime.repositories.feedback.tallies()
    assert (
        tallies["product-teardown-structure"].up,
        tallies["product-teardown-structure"].down,
    ) == (0, 1)


async def test_share_posts_in_channel_attributed_to_the_member(
    member: Member, fake: FakeSlack
) -> None:
    answer = await member.ask("share product-teardown-structure")
    assert answer.message["response_type"] == "in_channel"
    assert "Shared by Ada L" in shown(answer)  # display name from users.info
    assert "buttons" not in answer.text
    assert not answer.buttons()


async def test_subscribe_without_a_zone_uses_the_slack_time_zone(
    member: Member, runtime: Runtime, fake: FakeSlack
) -> None:
    answer = await member.ask("subscribe tue 08:30")
    assert "08:30 (Europe/Berlin)" in shown(answer)
    assert fake.called("users.info")[-1].params["user"] == member.user_id
    subscription = await runtime.repositories.subscriptions.get(
        UserRef("slack", TEAM_ID, member.user_id)
    )
    assert subscription is not None
    assert subscription.timezone == "Europe/Berlin"


async def test_subscribe_with_a_zone_does_not_ask_slack(member: Member, fake: FakeSlack) -> None:
    answer = await member.ask("subscribe fri 18:00 Asia/Kolkata")
    assert "18:00 (Asia/Kolkata)" in shown(answer)
    assert fake.called("users.info") == []


async def test_subscribe_falls_back_to_utc_when_slack_has_no_zone(
    member: Member, fake: FakeSlack
) -> None:
    fake.users[member.user_id].tz = None
    assert "(UTC)" in shown(await member.ask("subscribe"))


async def test_the_weekly_challenge_lifecycle(member: Member, runtime: Runtime) -> None:
    await member.ask("subscribe mon 09:00 Europe/London")
    assert "Paused" in shown(await member.ask("pause 2"))
    assert "Welcome back" in shown(await member.ask("resume"))
    done = await member.ask("done https://example.com/teardown reframed a KPI")
    assert "is done with your link" in shown(done)
    assert "Skipped" in shown(await member.ask("skip"))
    progress = shown(await member.ask("progress"))
    assert "✅" in progress
    assert "⏭️" in progress
    assert "Unsubscribed" in shown(await member.ask("unsubscribe"))
    entries = await runtime.repositories.progress.list_for(
        UserRef("slack", TEAM_ID, member.user_id)
    )
    assert [e.link for e in entries] == ["https://example.com/teardown", None]


async def test_finishing_the_track_offers_a_review_round(member: Member, runtime: Runtime) -> None:
    for _ in runtime.knowledge.exercises:
        await member.ask("skip")
    finished = await member.ask("challenge")
    assert "finished the whole track" in shown(finished)
    assert "Review round" in shown(await member.ask("restart"))


@pytest.mark.parametrize("text", ["add", "edit product-teardown-structure", "retire product-teardown-structure",
                                  "review", "approve 1", "reject 1 no", "gaps", "stats", "export"])  # fmt: skip
async def test_moderator_commands_are_refused_to_members(member: Member, text: str) -> None:
    answer = await member.ask(text)
    assert "That's for moderators" in shown(answer)
    assert "Suggest a snippet" in answer.buttons()


async def test_moderators_run_their_commands(moderator: Member, member: Member) -> None:
    await member.ask("quantum chromodynamics lattice gauge")
    assert "quantum chromodynamics" in shown(await moderator.ask("gaps"))
    assert "Snippets live" in shown(await moderator.ask("stats"))
    assert "Nothing waiting" in shown(await moderator.ask("review"))
    assert "Nothing to export" in shown(await moderator.ask("export"))
    assert "Snippet retired" in shown(await moderator.ask("retire product-teardown-structure"))
    assert "retired" in shown(await member.ask("show product-teardown-structure"))
    export = await moderator.ask("export")
    assert "```" in shown(export)
    assert "product-teardown-structure" in shown(export)


async def test_moderator_status_is_checked_on_every_request(
    fake: FakeSlack, runtime: Runtime, slack_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Group membership is read from Slack and re-read when Slack says the group changed."""
    monkeypatch.setenv("PMADVICE_SLACK_MODERATOR_GROUP", "S0MODS001")
    monkeypatch.setenv("PMADVICE_SLACK_MODERATOR_IDS", "")
    fake.groups["S0MODS001"] = ["U0MEMBER01"]
    service = await start_service(runtime, {"http": True})
    try:
        async with aiohttp.ClientSession() as session:
            transport = HttpTransport(
                f"http://127.0.0.1:{service.bound_port}/slack/events", session
            )
            member = Member(transport, fake)
            assert "Review queue" in shown(await member.ask("review"))
            assert fake.called("usergroups.users.list")[-1].params["usergroup"] == "S0MODS001"
            fake.groups["S0MODS001"] = []
            sent = await transport.event(group_changed_event("S0MODS001", removed=[member.user_id]))
            assert sent.status == 200
            await fake.wait_for(lambda: service.directory.group_cache_empty)
            assert "That's for moderators" in shown(await member.ask("review"))
    finally:
        await service.stop()


def group_changed_event(group: str, removed: list[str]) -> dict[str, Any]:
    return {
        "token": "t", "team_id": TEAM_ID, "api_app_id": "A0APP0001", "type": "event_callback",
        "event_id": "Ev0GROUP1", "event_time": 1772442000,
        "event": {"type": "subteam_members_changed", "subteam_id": group, "team_id": TEAM_ID,
                  "added_users": [], "added_users_count": "0", "removed_users": removed,
                  "removed_users_count": str(len(removed)), "event_ts": "1772442000.000100"},
    }  # fmt: skip


async def test_a_failed_response_url_falls_back_to_an_ephemeral_message(
    member: Member, fake: FakeSlack
) -> None:
    fake.fail_hooks(status=404, body="expired_url")
    ack, _ = await member.send("help")
    assert ack.status == 200
    call = await fake.wait_call("chat.postEphemeral")
    assert call.params["channel"] == CHANNEL
    assert call.params["user"] == member.user_id
    assert "How to use pmadvice" in call.params["text"]


async def test_when_the_channel_refuses_too_the_answer_comes_by_dm(
    member: Member, fake: FakeSlack
) -> None:
    fake.fail_hooks(status=404, body="used_url")
    fake.fail("chat.postEphemeral", "not_in_channel")
    await member.send("help")
    call = await fake.wait_call("chat.postMessage")
    assert call.params["channel"] == member.user_id


async def test_a_core_crash_becomes_a_kind_message_without_a_trace(
    member: Member, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(actor: Actor, text: str) -> Reply:
        raise RuntimeError("database exploded at line 42")

    monkeypatch.setattr(runtime.facade, "handle", broken)
    answer = await member.ask("help")
    assert "Something went wrong on my side" in shown(answer)
    assert "exploded" not in answer.text
    assert "Traceback" not in answer.text
