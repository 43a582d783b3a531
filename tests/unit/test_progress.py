from datetime import UTC, datetime, time, timedelta

from bot.core.models import ProgressEntry, ProgressStatus, SubscriptionStatus, UserRef
from bot.core.progress import streak
from tests.support.factories import START, member


async def test_subscribe_defaults_and_updates(bot, repos):
    reply = await bot.handle(member(), "subscribe")
    assert "every Monday at 09:00 (UTC)" in reply.body
    assert "I used UTC" in reply.body
    sub = await repos.subscriptions.get(member().user)
    assert sub.status == SubscriptionStatus.ACTIVE
    assert sub.next_due_at == datetime(2026, 3, 9, 9, 0, tzinfo=UTC)

    reply = await bot.handle(member(), "subscribe thu 18:30 Europe/Berlin")
    sub = await repos.subscriptions.get(member().user)
    assert (sub.weekday, sub.local_time, sub.timezone) == (3, time(18, 30), "Europe/Berlin")
    assert sub.next_due_at == datetime(2026, 3, 5, 17, 30, tzinfo=UTC)
    assert reply.title == "Weekly challenge"

    await bot.handle(member(), "subscribe 07:00")
    sub = await repos.subscriptions.get(member().user)
    assert (sub.weekday, sub.local_time, sub.timezone) == (3, time(7, 0), "Europe/Berlin")


async def test_subscribe_uses_the_platform_time_zone(bot, repos):
    reply = await bot.handle(member(tz="Asia/Kolkata"), "subscribe")
    assert "Asia/Kolkata" in reply.body
    assert "I used UTC" not in reply.body


async def test_bad_zone_leaves_subscription_intact(bot, repos):
    await bot.handle(member(), "subscribe tue 08:00 Europe/Paris")
    before = await repos.subscriptions.get(member().user)
    reply = await bot.handle(member(), "subscribe Mars/Olympus")
    assert "Mars/Olympus" in reply.body
    assert await repos.subscriptions.get(member().user) == before


async def test_pause_resume_unsubscribe(bot, repos, clock):
    assert "not subscribed" in (await bot.handle(member(), "pause")).body
    await bot.handle(member(), "subscribe mon 09:00 UTC")
    await bot.handle(member(), "pause 2")
    sub = await repos.subscriptions.get(member().user)
    assert sub.status == SubscriptionStatus.PAUSED
    assert sub.next_due_at == datetime(2026, 3, 23, 9, 0, tzinfo=UTC)
    await bot.handle(member(), "resume")
    sub = await repos.subscriptions.get(member().user)
    assert sub.status == SubscriptionStatus.ACTIVE
    assert sub.next_due_at == datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
    reply = await bot.handle(member(), "unsubscribe")
    assert "progress is kept" in reply.body
    sub = await repos.subscriptions.get(member().user)
    assert sub.status == SubscriptionStatus.CANCELLED
    assert sub.next_due_at is None


async def test_challenge_done_skip_progress(bot, repos, clock):
    reply = await bot.handle(member(), "challenge")
    assert reply.title.endswith("Exercise 1")
    assert "0/4" in reply.context
    assert [b.command for b in reply.buttons] == ["done", "skip", "pause 1"]

    reply = await bot.handle(member(), "done https://example.com/piece reframed my best win")
    assert "done with your link" in reply.body
    assert "Up next: *Exercise 2*" in reply.body
    entries = await repos.progress.list_for(member().user)
    assert entries[0].link == "https://example.com/piece"
    assert entries[0].note == "reframed my best win"

    await bot.handle(member(), "skip")
    reply = await bot.handle(member(), "progress")
    assert reply.context == "1/4 ▓░░░ streak 1"
    assert "✅ 1. Exercise 1" in reply.body
    assert "⏭️ 2. Exercise 2" in reply.body
    assert "👉 3. Exercise 3" in reply.body


async def test_done_with_a_bad_link_keeps_nothing(bot, repos):
    reply = await bot.handle(member(), "done http://x")
    assert "link" in reply.title
    assert await repos.progress.list_for(member().user) == []


async def test_finishing_the_track_and_a_review_round(bot, repos):
    for _ in range(4):
        await bot.handle(member(), "done")
    reply = await bot.handle(member(), "done")
    assert "finished the whole track" in reply.title
    assert {b.command for b in reply.buttons} == {"restart", "unsubscribe"}
    reply = await bot.handle(member(), "restart")
    assert reply.title.startswith("Review round")
    reply = await bot.handle(member(), "challenge")
    assert reply.title.endswith("Exercise 1")
    assert "0/4" in reply.context
    await bot.handle(member(), "done")
    assert "1/4" in (await bot.handle(member(), "progress")).context


def test_streak_counts_consecutive_local_weeks():
    user = UserRef("console", "local", "U1")
    monday = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)

    def done(at):
        return ProgressEntry(user, f"x{at.isoformat()}", ProgressStatus.DONE, at)

    entries = [done(monday - timedelta(weeks=w)) for w in (1, 2, 3)] + [
        done(monday - timedelta(weeks=5))
    ]
    assert streak(entries, "UTC", monday) == 3
    assert streak([*entries, done(monday)], "UTC", monday) == 4
    assert streak(entries, "UTC", monday + timedelta(weeks=1)) == 0
    skipped = ProgressEntry(user, "y", ProgressStatus.SKIPPED, monday)
    assert streak([skipped], "UTC", monday) == 0


async def test_permanent_failure_notice_is_shown_once(bot, repos):
    import dataclasses

    await bot.handle(member(), "subscribe")
    sub = await repos.subscriptions.get(member().user)
    await repos.subscriptions.save(
        dataclasses.replace(sub, notice="I couldn't DM you, so nudges are paused.")
    )
    first = await bot.handle(member(), "topics")
    assert first.body.startswith("_I couldn't DM you")
    second = await bot.handle(member(), "topics")
    assert "couldn't DM" not in second.body


async def test_done_shows_the_exercise_self_check(bot):
    reply = await bot.handle(member(), "done reframed my best win")
    assert "Check yourself" in reply.body
    for question in ("First check 1?", "Second check 1?", "Third check 1?"):
        assert question in reply.body
    assert "Up next: *Exercise 2*" in reply.body
    skipped = await bot.handle(member(), "skip")
    assert "Check yourself" not in skipped.body


async def test_the_week_before_a_people_exercise_carries_a_heads_up(bot):
    first = await bot.handle(member(), "challenge")
    assert all(f.name != "Heads-up for next week" for f in first.fields)
    await bot.handle(member(), "done")
    second = await bot.handle(member(), "challenge")
    heads_up = {f.name: f.value for f in second.fields}["Heads-up for next week"]
    assert "*Exercise 3*" in heads_up
    assert "book two people for a chat" in heads_up


async def test_a_review_round_uses_revision_prompts(bot):
    first_round = await bot.handle(member(), "challenge")
    assert "Do the thing" in first_round.body
    for _ in range(4):
        await bot.handle(member(), "done")
    opened = await bot.handle(member(), "restart")
    assert opened.body == "Revise exercise 1: improve the page with what you learned since."
    await bot.handle(member(), "done")
    reply = await bot.handle(member(), "challenge")
    assert reply.title == "Review round 2: Exercise 2"
    assert reply.body.startswith("Revise exercise 2")


def test_the_nudge_carries_the_revision_prompt_and_heads_up():
    from bot.core.nudges import nudge_reply
    from tests.support.factories import EXERCISES

    user = member().user
    entries = [
        ProgressEntry(user, "exercise-1", ProgressStatus.DONE, datetime(2026, 3, 2, tzinfo=UTC))
    ]
    reply, exercise_id = nudge_reply(EXERCISES, entries, "UTC", datetime(2026, 3, 9, tzinfo=UTC))
    assert exercise_id == "exercise-2"
    assert "book two people" in {f.name: f.value for f in reply.fields}["Heads-up for next week"]
    entries = [
        ProgressEntry(user, x.id, ProgressStatus.DONE, datetime(2026, 3, 2, tzinfo=UTC))
        for x in EXERCISES
    ] + [ProgressEntry(user, "round-start", ProgressStatus.SKIPPED, START, round=2)]
    reply, exercise_id = nudge_reply(EXERCISES, entries, "UTC", datetime(2026, 3, 9, tzinfo=UTC))
    assert exercise_id == "exercise-1"
    assert reply.body.startswith("Revise exercise 1")
