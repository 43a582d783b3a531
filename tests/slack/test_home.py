"""App Home: the exercise, progress, streak and nudge settings; the moderators' queue."""

from __future__ import annotations

from bot.app import Runtime
from bot.core.models import UserRef
from tests.slack.fake_slack import TEAM_ID, FakeSlack
from tests.slack.support import Member, buttons_in, section_text
from tests.support.fakes import FakeClock


async def test_home_shows_exercise_progress_and_nudges(member: Member) -> None:
    home = await member.open_home()
    assert home["type"] == "home"
    text = section_text(home["blocks"])
    assert "This week's exercise" in text
    assert "░" in text
    assert "0/14 done" in text
    assert "streak 0 weeks" in text
    assert "Weekly nudges:* off" in text
    assert {"Mark done", "Skip", "Details", "My progress", "Subscribe"} <= set(
        buttons_in(home["blocks"])
    )
    assert "Moderation" not in text


async def test_subscribing_from_home_shows_the_reply_and_refreshes_home(
    member: Member, fake: FakeSlack
) -> None:
    home = await member.open_home()
    await member.press(home, "Subscribe")
    opened = await fake.wait_call("views.open")
    assert "Europe/Berlin" in section_text(opened.params["view"]["blocks"])
    await fake.wait_call("views.publish", count=2)
    refreshed = fake.published[member.user_id]
    text = section_text(refreshed["blocks"])
    assert "Mondays at 09:00 (Europe/Berlin)" in text
    assert {"Pause a week", "Unsubscribe"} <= set(buttons_in(refreshed["blocks"]))


async def test_changing_the_day_from_home(
    member: Member, fake: FakeSlack, runtime: Runtime
) -> None:
    await member.ask("subscribe mon 09:00 Europe/Berlin")
    home = await member.open_home()
    await member.press(home, "Day", option="subscribe thu")
    await fake.wait_call("views.publish", count=3)
    subscription = await runtime.repositories.subscriptions.get(
        UserRef("slack", TEAM_ID, member.user_id)
    )
    assert subscription is not None
    assert (subscription.weekday, f"{subscription.local_time:%H:%M}") == (3, "09:00")
    assert "Thursdays at 09:00" in section_text(fake.published[member.user_id]["blocks"])
    await member.press(fake.published[member.user_id], "Time", option="subscribe 07:00")
    await fake.wait_call("views.publish", count=4)
    assert "Thursdays at 07:00" in section_text(fake.published[member.user_id]["blocks"])


async def test_pause_and_resume_from_home(member: Member, fake: FakeSlack) -> None:
    await member.ask("subscribe")
    home = await member.open_home()
    await member.press(home, "Pause a week")
    await fake.wait_call("views.publish", count=3)
    paused = fake.published[member.user_id]
    assert "paused until" in section_text(paused["blocks"])
    await member.press(paused, "Resume")
    await fake.wait_call("views.publish", count=4)
    assert "Next:" in section_text(fake.published[member.user_id]["blocks"])


async def test_home_is_refreshed_after_a_command_changes_progress(
    member: Member, fake: FakeSlack, clock: FakeClock
) -> None:
    await member.ask("done")
    publish = await fake.wait_call("views.publish")
    assert publish.params["user_id"] == member.user_id
    assert "1/14 done" in section_text(fake.published[member.user_id]["blocks"])
    assert "streak 1 week" in section_text(fake.published[member.user_id]["blocks"])
    clock.advance(days=7)
    await member.ask("done")
    await fake.wait_call("views.publish", count=2)
    assert "streak 2 weeks" in section_text(fake.published[member.user_id]["blocks"])


async def test_a_plain_question_does_not_republish_home(member: Member, fake: FakeSlack) -> None:
    await member.ask("topics")
    assert fake.called("views.publish") == []


async def test_moderators_see_the_queue_and_top_unanswered(
    moderator: Member, member: Member, fake: FakeSlack, clock: FakeClock
) -> None:
    await member.ask("what about <!channel> quantum gauge")
    await member.ask("what about <!channel> quantum gauge")
    await member.ask("old unanswered lattice")
    clock.advance(days=1)
    home = await moderator.open_home()
    text = section_text(home["blocks"])
    assert "Review queue:* 0 waiting" in text
    assert "2× what about &lt;!channel&gt; quantum gauge" in text
    assert {"Open review queue", "All gaps", "Stats"} <= set(buttons_in(home["blocks"]))
    await moderator.press(home, "Open review queue")
    opened = await fake.wait_call("views.open")
    assert "Review queue" in section_text(opened.params["view"]["blocks"])


async def test_the_messages_tab_does_not_publish(member: Member, fake: FakeSlack) -> None:
    event = member.home_event()
    event["event"]["tab"] = "messages"
    sent = await member.transport.event(event)
    assert sent.status == 200
    assert fake.called("views.publish") == []


async def test_a_finished_track_offers_a_review_round(
    member: Member, runtime: Runtime, fake: FakeSlack
) -> None:
    for _ in runtime.knowledge.exercises:
        await member.ask("skip")
    home = await member.open_home()
    assert "finished the whole track" in section_text(home["blocks"])
    assert "Start a review round" in buttons_in(home["blocks"])


async def test_rejecting_from_the_review_queue_opened_in_home_pushes_the_reason_form(
    moderator: Member, member: Member, fake: FakeSlack, runtime: Runtime
) -> None:
    view = await member.open_form("suggest")
    body = ("Write the outcome first: who was better off and by how much, then the one decision "
            "you made that got there. A recruiter reads the first six words, so lead with the user, "
            "not the process, and keep the how for the interview.")  # fmt: skip
    await member.submit(view, {"title": "Lead with the outcome", "body": body,
                               "topics": ["reframe-experience"]})  # fmt: skip
    home = await moderator.open_home()
    assert "Review queue:* 1 waiting" in section_text(home["blocks"])
    await moderator.press(home, "Open review queue")
    await fake.wait_call("views.open", count=2)
    queue = next(v for v in reversed(fake.views.values()) if v["callback_id"] == "pmadvice:result")
    await moderator.press(queue, "Reject #1")
    pushed = await fake.wait_call("views.push")
    form = pushed.params["view"]
    assert form["callback_id"] == "pmadvice:form"
    empty = await moderator.submit(form, {"reason": "  "})
    assert empty.json()["response_action"] == "errors"
    assert set(empty.json()["errors"]) == {"reason"}
    done = await moderator.submit(form, {"reason": "Already covered."})
    assert "declined" in section_text(done.json()["view"]["blocks"])
    assert await runtime.repositories.suggestions.count_pending() == 0


async def test_home_warns_a_week_ahead_and_shows_revision_prompts(
    member: Member, runtime: Runtime
) -> None:
    track = runtime.knowledge.exercises
    before_people = next(i for i, x in enumerate(track[1:]) if x.book_ahead)
    for _ in range(before_people):
        await member.ask("skip")
    text = section_text((await member.open_home())["blocks"])
    assert "Heads-up for next week" in text
    assert track[before_people + 1].book_ahead[:40] in text
    for _ in range(len(track) - before_people):
        await member.ask("skip")
    await member.ask("restart")
    text = section_text((await member.open_home())["blocks"])
    assert "Review round 2" in text
    assert track[0].revision[:40] in text
    assert track[0].prompt[:40] not in text
