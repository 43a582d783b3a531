"""The engine's pure policy: planning missed weeks, backoff, judging outcomes, the nudge."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.core.models import Exercise, ProgressEntry, ProgressStatus, UserRef
from bot.core.nudges import (
    NudgePolicy,
    backoff,
    judge,
    nudge_reply,
    permanent_notice,
    plan_delivery,
)
from bot.core.ports import ClaimedDelivery, DeliveryStatus, DueSubscription, SendOutcome
from bot.core.schedule import next_due, week_key
from bot.core.throttle import Throttle

ANA = UserRef("slack", "T1", "U1")
POLICY = NudgePolicy()
MONDAY = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
ZONES = ["UTC", "America/New_York", "Europe/Berlin", "Australia/Sydney", "Asia/Kolkata"]


def due(next_due_at: datetime, zone: str = "UTC", at: time = time(9, 0), weekday: int = 0):
    return DueSubscription(1, ANA, weekday, at, zone, next_due_at)


def claim(attempts: int = 1, due_at: datetime = MONDAY) -> ClaimedDelivery:
    return ClaimedDelivery(7, ANA, week_key(due_at, "UTC"), due_at, attempts, "UTC")


def test_a_week_due_within_the_grace_window_is_delivered() -> None:
    plan = plan_delivery(due(MONDAY), MONDAY + timedelta(hours=47), POLICY)

    assert plan.deliver is not None
    assert (plan.deliver.week, plan.deliver.due_at) == ("2026-W11", MONDAY)
    assert plan.skipped == ()
    assert plan.next_due_at == MONDAY + timedelta(weeks=1)
    assert plan.expected_due_at == MONDAY


def test_only_the_latest_missed_week_can_be_delivered() -> None:
    plan = plan_delivery(due(MONDAY), MONDAY + timedelta(weeks=2, hours=1), POLICY)

    assert plan.deliver is not None
    assert plan.deliver.week == "2026-W13"
    assert [w.week for w in plan.skipped] == ["2026-W11", "2026-W12"]


def test_past_the_grace_window_every_missed_week_is_skipped() -> None:
    plan = plan_delivery(due(MONDAY), MONDAY + timedelta(days=3), POLICY)

    assert plan.deliver is None
    assert [w.week for w in plan.skipped] == ["2026-W11"]
    assert plan.next_due_at == MONDAY + timedelta(weeks=1)


@given(
    zone=st.sampled_from(ZONES),
    weekday=st.integers(0, 6),
    hour=st.integers(0, 23),
    minute=st.sampled_from([0, 30, 59]),
    start=st.datetimes(datetime(2025, 1, 1), datetime(2028, 1, 1), timezones=st.just(UTC)),
    outage=st.timedeltas(timedelta(0), timedelta(weeks=80)),
)
def test_plans_never_burst_and_always_move_forward(
    zone: str, weekday: int, hour: int, minute: int, start: datetime, outage: timedelta
) -> None:
    at = time(hour, minute)
    first = next_due(weekday, at, zone, start)
    now = first + outage
    plan = plan_delivery(due(first, zone, at, weekday), now, POLICY)

    assert plan.next_due_at > now
    assert plan.next_due_at == next_due(weekday, at, zone, now)
    weeks = [w.week for w in plan.skipped] + ([plan.deliver.week] if plan.deliver else [])
    assert len(weeks) == len(set(weeks))
    assert len(plan.skipped) <= POLICY.max_skipped_weeks
    if plan.deliver is not None:
        assert now - plan.deliver.due_at <= POLICY.grace
        assert all(w.due_at < plan.deliver.due_at for w in plan.skipped)


@given(attempt=st.integers(1, 30), jitter=st.floats(0, 1))
def test_backoff_grows_exponentially_within_its_jitter_and_cap(attempt: int, jitter: float) -> None:
    delay = backoff(attempt, POLICY, jitter)
    full = min(POLICY.backoff_base * 2 ** (attempt - 1), POLICY.backoff_cap)

    assert full / 2 <= delay <= full


def test_judging_outcomes() -> None:
    now = MONDAY + timedelta(minutes=1)

    sent = judge(SendOutcome.sent("m1"), claim(), now, POLICY, 0.5)
    limited = judge(SendOutcome.rate_limited(12.5), claim(), now, POLICY, 0.5)
    unsaid = judge(SendOutcome.rate_limited(0), claim(), now, POLICY, 0.5)
    flaky = judge(SendOutcome.transient("503"), claim(2), now, POLICY, 1.0)
    last = judge(SendOutcome.transient("503"), claim(POLICY.max_attempts), now, POLICY, 0.5)
    blocked = judge(SendOutcome.permanent("cannot_dm_bot"), claim(), now, POLICY, 0.5)

    assert sent.status == DeliveryStatus.SENT
    assert (limited.status, limited.at) == (DeliveryStatus.PENDING, now + timedelta(seconds=12.5))
    assert unsaid.at == now + POLICY.default_retry_after
    assert (flaky.status, flaky.at) == (DeliveryStatus.RETRYING, now + timedelta(minutes=2))
    assert last.status == DeliveryStatus.FAILED
    assert "gave up" in last.error
    assert (blocked.status, blocked.error) == (DeliveryStatus.FAILED, "cannot_dm_bot")
    assert blocked.notice == permanent_notice("cannot_dm_bot")


def test_a_retry_that_would_land_past_the_grace_window_fails_instead() -> None:
    late = MONDAY + POLICY.grace - timedelta(seconds=10)

    verdict = judge(SendOutcome.transient("503"), claim(1), late, POLICY, 0.5)

    assert verdict.status == DeliveryStatus.FAILED
    assert "grace" in verdict.error


def test_the_notice_says_what_happened_and_how_to_undo_it() -> None:
    notice = permanent_notice("you have DMs from apps turned off")

    assert "you have DMs from apps turned off" in notice
    assert "paused" in notice
    assert "`resume`" in notice


def test_a_429_closes_only_that_workspace_and_closing_only_ever_extends() -> None:
    throttle = Throttle()
    throttle.close(("slack", "T1"), MONDAY + timedelta(seconds=10))
    throttle.close(("slack", "T1"), MONDAY + timedelta(seconds=5))

    assert throttle.closed_until(("slack", "T1"), MONDAY) == MONDAY + timedelta(seconds=10)
    assert throttle.closed_until(("slack", "T2"), MONDAY) is None
    assert throttle.closed_until(("discord", "T1"), MONDAY) is None
    assert throttle.busy(MONDAY) == {("slack", "T1"): MONDAY + timedelta(seconds=10)}
    assert throttle.busy(MONDAY + timedelta(seconds=10)) == {}


def test_once_limited_a_workspace_is_paced_just_under_the_rate_it_accepted() -> None:
    t1, ms = ("slack", "T1"), timedelta(milliseconds=1)
    throttle = Throttle(margin=0.8, probe=1.0)
    assert throttle.reserve(t1, MONDAY) == MONDAY  # unpaced until the first 429
    for n in range(5):
        throttle.accepted(t1, MONDAY + n * 100 * ms)
    reopen = MONDAY + 600 * ms

    throttle.limited(t1, MONDAY + 500 * ms, reopen)

    # Five accepted in the last second, paced at 80%: one send every 250 ms from the reopening.
    slots = [throttle.reserve(t1, MONDAY + 500 * ms) for _ in range(6)]
    assert slots == [reopen + n * 250 * ms for n in range(6)]
    # Booked more than a second ahead: claims skip T1 until its bookings come closer.
    assert throttle.busy(MONDAY + 700 * ms)[t1] == reopen + 1500 * ms - timedelta(seconds=1)
    assert throttle.reserve(("slack", "T2"), MONDAY) == MONDAY
    # Pacing lapses a minute after the last 429.
    assert throttle.reserve(t1, MONDAY + timedelta(minutes=2)) == MONDAY + timedelta(minutes=2)


def test_too_few_sends_to_learn_from_leave_a_workspace_unpaced() -> None:
    t1 = ("slack", "T1")
    throttle = Throttle()
    throttle.accepted(t1, MONDAY)

    throttle.limited(t1, MONDAY, MONDAY + timedelta(seconds=2))

    assert throttle.closed_until(t1, MONDAY) == MONDAY + timedelta(seconds=2)
    later = MONDAY + timedelta(seconds=3)
    assert throttle.reserve(t1, later) == throttle.reserve(t1, later) == later


def test_accepted_sends_speed_the_pace_up_and_a_429_at_most_halves_it() -> None:
    t1, second = ("slack", "T1"), timedelta(seconds=1)
    throttle = Throttle(margin=1.0, probe=2.0)
    for n in range(5):
        throttle.accepted(t1, MONDAY + n * second / 5)
    throttle.limited(t1, MONDAY + second / 2, MONDAY + second)  # 5 a second
    throttle.accepted(t1, MONDAY + second)  # probing: now 10 a second

    first, then = throttle.reserve(t1, MONDAY + second), throttle.reserve(t1, MONDAY + second)
    assert then - first == second / 10

    # Another 429 with next to nothing accepted (another process took the window): 5 a second.
    throttle.limited(t1, MONDAY + 5 * second, MONDAY + 5 * second)
    first, then = (throttle.reserve(t1, MONDAY + 5 * second) for _ in range(2))
    assert then - first == second / 5


EXERCISES = tuple(
    Exercise(f"x{n}", n, f"Exercise {n}", f"Prompt {n}.", f"Deliverable {n}", 90, ("p",), "done")
    for n in range(1, 13)
)


def test_the_nudge_carries_the_next_exercise_progress_line_and_actions() -> None:
    # Three done: one in each of the two weeks before this nudge, one long before: streak 2.
    entries = [
        ProgressEntry(ANA, "x1", ProgressStatus.DONE, MONDAY - timedelta(weeks=5)),
        ProgressEntry(ANA, "x2", ProgressStatus.DONE, MONDAY - timedelta(days=8)),
        ProgressEntry(ANA, "x3", ProgressStatus.DONE, MONDAY - timedelta(days=1)),
    ]

    reply, exercise_id = nudge_reply(EXERCISES, entries, "UTC", MONDAY)

    assert exercise_id == "x4"
    assert reply.title == "This week's exercise: Exercise 4"
    assert reply.body == "Prompt 4."
    assert {f.name: f.value for f in reply.fields}["Deliverable"] == "Deliverable 4"
    assert {f.name: f.value for f in reply.fields}["Time"] == "about 1 h 30 min"
    assert reply.context == "3/12 ▓▓▓░░░░░░░░░ streak 2"
    assert [(b.label, b.command) for b in reply.buttons] == [
        ("Mark done", "done"),
        ("Skip", "skip"),
        ("Pause a week", "pause 1"),
    ]


def test_skipped_exercises_are_passed_over() -> None:
    entries = [ProgressEntry(ANA, "x1", ProgressStatus.SKIPPED, MONDAY - timedelta(days=2))]

    _, exercise_id = nudge_reply(EXERCISES, entries, "UTC", MONDAY)

    assert exercise_id == "x2"


def test_a_finished_track_offers_a_review_round_or_to_stop() -> None:
    entries = [
        ProgressEntry(ANA, x.id, ProgressStatus.DONE, MONDAY - timedelta(days=1)) for x in EXERCISES
    ]

    reply, exercise_id = nudge_reply(EXERCISES, entries, "UTC", MONDAY)

    assert exercise_id is None
    assert "finished" in reply.title
    assert "12 exercises" in reply.body
    assert [b.command for b in reply.buttons] == ["restart", "unsubscribe"]


def test_a_review_round_is_labelled_as_such() -> None:
    entries = [ProgressEntry(ANA, "round-start", ProgressStatus.SKIPPED, MONDAY, round=2)]

    reply, exercise_id = nudge_reply(EXERCISES, entries, "UTC", MONDAY)

    assert exercise_id == "x1"
    assert reply.title.startswith("Review round 2: Exercise 1")
