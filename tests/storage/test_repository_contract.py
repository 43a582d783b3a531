"""The repository protocols' behaviour, written once and run on the fakes, SQLite and
PostgreSQL (see the `repositories` fixture)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, time, timedelta

import pytest

from bot.core.models import (
    AuditEntry,
    GapCount,
    NewSuggestion,
    ProgressEntry,
    ProgressStatus,
    SnippetRevision,
    Subscription,
    SubscriptionStatus,
    SuggestionStatus,
    UserRef,
    VoteTally,
)
from bot.core.ports import ConflictError, Repositories

T0 = datetime(2026, 3, 2, 9, 30, 15, 123456, tzinfo=UTC)
ALICE = UserRef("slack", "T01", "U01")
BOB = UserRef("discord", "1234567890", "998877665544332211")
MODERATOR = UserRef("slack", "T01", "UMOD")


def at(minutes: float = 0) -> datetime:
    return T0 + timedelta(minutes=minutes)


def is_utc(value: datetime | None) -> bool:
    return value is not None and value.utcoffset() == timedelta(0)


def subscription(user: UserRef = ALICE, **changes: object) -> Subscription:
    base = Subscription(
        user=user,
        weekday=1,
        local_time=time(9, 30),
        timezone="Europe/Berlin",
        status=SubscriptionStatus.ACTIVE,
        created_at=at(),
        next_due_at=at(60 * 24),
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def progress(
    exercise_id: str, minutes: float = 0, user: UserRef = ALICE, **changes: object
) -> ProgressEntry:
    base = ProgressEntry(
        user=user, exercise_id=exercise_id, status=ProgressStatus.DONE, at=at(minutes)
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def revision(snippet_id: str, number: int = 1, **changes: object) -> SnippetRevision:
    base = SnippetRevision(
        snippet_id=snippet_id,
        revision=number,
        title=f"{snippet_id} r{number}",
        body="Rewrite one resume line from a process metric to a user outcome.",
        topics=("resume", "storytelling"),
        questions=("how do I rewrite my resume?",),
        retired=False,
        author=MODERATOR,
        at=at(number),
        source="community call, March 2026",
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def audit(target: str, action: str = "edit", minutes: float = 0) -> AuditEntry:
    return AuditEntry(actor=MODERATOR, action=action, target=target, at=at(minutes), detail="x")


def new_suggestion(title: str = "Talk outcomes", minutes: float = 0) -> NewSuggestion:
    return NewSuggestion(
        author=BOB,
        title=title,
        body="Lead with the customer outcome.",
        topics=("interviews",),
        created_at=at(minutes),
    )


# Subscriptions


async def test_subscription_of_unknown_member_is_none(repositories: Repositories) -> None:
    assert await repositories.subscriptions.get(ALICE) is None
    assert await repositories.subscriptions.counts() == {}


async def test_subscription_round_trips_every_field(repositories: Repositories) -> None:
    saved = subscription(
        status=SubscriptionStatus.PAUSED,
        local_time=time(18, 45),
        paused_until=at(60 * 24 * 14),
        next_due_at=None,
        notice="We could not DM you last week.",
    )
    await repositories.subscriptions.save(saved)

    assert await repositories.subscriptions.get(ALICE) == saved


async def test_saving_again_replaces_the_members_one_subscription(
    repositories: Repositories,
) -> None:
    await repositories.subscriptions.save(subscription())
    replaced = subscription(weekday=4, status=SubscriptionStatus.CANCELLED, next_due_at=None)
    await repositories.subscriptions.save(replaced)

    assert await repositories.subscriptions.get(ALICE) == replaced
    assert await repositories.subscriptions.counts() == {SubscriptionStatus.CANCELLED: 1}


async def test_subscription_counts_by_status(repositories: Repositories) -> None:
    await repositories.subscriptions.save(subscription(ALICE))
    await repositories.subscriptions.save(subscription(BOB))
    await repositories.subscriptions.save(subscription(MODERATOR, status=SubscriptionStatus.PAUSED))

    assert await repositories.subscriptions.counts() == {
        SubscriptionStatus.ACTIVE: 2,
        SubscriptionStatus.PAUSED: 1,
    }


async def test_members_are_told_apart_by_platform_and_workspace(
    repositories: Repositories,
) -> None:
    same_id_elsewhere = UserRef("discord", ALICE.workspace, ALICE.user_id)
    other_workspace = UserRef(ALICE.platform, "T02", ALICE.user_id)
    await repositories.subscriptions.save(subscription(ALICE, weekday=0))
    await repositories.subscriptions.save(subscription(same_id_elsewhere, weekday=2))

    alice = await repositories.subscriptions.get(ALICE)
    elsewhere = await repositories.subscriptions.get(same_id_elsewhere)
    assert alice is not None
    assert alice.weekday == 0
    assert elsewhere is not None
    assert elsewhere.weekday == 2
    assert await repositories.subscriptions.get(other_workspace) is None


# Progress


async def test_progress_records_and_lists_oldest_first(repositories: Repositories) -> None:
    second = progress("ex-2", minutes=10, link="https://example.com/case-study")
    first = progress("ex-1", minutes=0, status=ProgressStatus.SKIPPED, note="not now")
    assert await repositories.progress.record(second) is True
    assert await repositories.progress.record(first) is True
    assert await repositories.progress.record(progress("ex-1", user=BOB)) is True

    assert await repositories.progress.list_for(ALICE) == [first, second]
    assert await repositories.progress.list_for(MODERATOR) == []


async def test_progress_duplicate_in_a_round_is_refused_and_not_stored(
    repositories: Repositories,
) -> None:
    original = progress("ex-1", note="first try")
    assert await repositories.progress.record(original) is True

    assert await repositories.progress.record(progress("ex-1", 5, note="again")) is False
    assert await repositories.progress.list_for(ALICE) == [original]

    review = progress("ex-1", 10, round=2)
    assert await repositories.progress.record(review) is True
    assert await repositories.progress.list_for(ALICE) == [original, review]


async def test_count_done_since_counts_done_entries_from_that_instant(
    repositories: Repositories,
) -> None:
    await repositories.progress.record(progress("ex-1", minutes=0))
    await repositories.progress.record(progress("ex-2", minutes=10))
    await repositories.progress.record(progress("ex-3", 20, status=ProgressStatus.SKIPPED))
    await repositories.progress.record(progress("ex-1", minutes=30, user=BOB))

    assert await repositories.progress.count_done_since(at(0)) == 3
    assert await repositories.progress.count_done_since(at(10)) == 2
    assert await repositories.progress.count_done_since(at(31)) == 0


# Revisions and audit


async def test_no_revisions_at_first(repositories: Repositories) -> None:
    assert await repositories.revisions.latest() == []
    assert await repositories.revisions.history("resume-outcomes") == []
    assert await repositories.audit.recent(10) == []


async def test_latest_is_the_newest_revision_of_each_snippet(repositories: Repositories) -> None:
    await repositories.revisions.add(revision("resume-outcomes", 1), audit("resume-outcomes"))
    await repositories.revisions.add(revision("zz-retired", 1), audit("zz-retired"))
    newest = revision("resume-outcomes", 2, title="Outcomes, not process", questions=())
    await repositories.revisions.add(newest, audit("resume-outcomes"))
    retired = revision("zz-retired", 2, retired=True, source=None)
    await repositories.revisions.add(retired, audit("zz-retired", "retire"))
    added = revision("a-new-snippet", 1, topics=())
    await repositories.revisions.add(added, audit("a-new-snippet", "add"))

    assert await repositories.revisions.latest() == [added, newest, retired]


async def test_history_is_oldest_first(repositories: Repositories) -> None:
    revisions = [revision("resume-outcomes", n) for n in (1, 2, 3)]
    for rev in (revisions[1], revisions[0], revisions[2]):
        await repositories.revisions.add(rev, audit(rev.snippet_id))
    await repositories.revisions.add(revision("other", 1), audit("other"))

    assert await repositories.revisions.history("resume-outcomes") == revisions


async def test_adding_a_revision_writes_its_audit_entry(repositories: Repositories) -> None:
    entry = audit("resume-outcomes", "add", minutes=1)
    await repositories.revisions.add(revision("resume-outcomes"), entry)

    assert await repositories.audit.recent(10) == [entry]


async def test_an_existing_revision_number_conflicts_and_stores_nothing(
    repositories: Repositories,
) -> None:
    first = revision("resume-outcomes", 1)
    await repositories.revisions.add(first, audit("resume-outcomes", "add"))

    with pytest.raises(ConflictError):
        await repositories.revisions.add(
            revision("resume-outcomes", 1, title="a rival edit"), audit("resume-outcomes")
        )

    assert await repositories.revisions.history("resume-outcomes") == [first]
    assert len(await repositories.audit.recent(10)) == 1


async def test_audit_is_newest_first_and_limited(repositories: Repositories) -> None:
    entries = [audit(f"snippet-{n}", minutes=n) for n in range(4)]
    for n in (2, 0, 3, 1):
        await repositories.revisions.add(revision(f"snippet-{n}"), entries[n])

    recent = await repositories.audit.recent(3)
    assert [e.target for e in recent] == ["snippet-3", "snippet-2", "snippet-1"]


# Suggestions


async def test_suggestion_is_added_pending(repositories: Repositories) -> None:
    stored = await repositories.suggestions.add(new_suggestion())

    assert stored.status is SuggestionStatus.PENDING
    assert (stored.author, stored.title, stored.topics) == (BOB, "Talk outcomes", ("interviews",))
    assert stored.created_at == at()
    assert stored.decided_by is None
    assert stored.decided_at is None
    assert await repositories.suggestions.get(stored.id) == stored
    assert await repositories.suggestions.get(stored.id + 1000) is None


async def test_pending_is_oldest_first_and_limited(repositories: Repositories) -> None:
    late = await repositories.suggestions.add(new_suggestion("late", minutes=20))
    early = await repositories.suggestions.add(new_suggestion("early", minutes=0))
    middle = await repositories.suggestions.add(new_suggestion("middle", minutes=10))

    assert await repositories.suggestions.pending(10) == [early, middle, late]
    assert await repositories.suggestions.pending(2) == [early, middle]
    assert await repositories.suggestions.count_pending() == 3


async def test_approving_stores_the_revision_and_audit(repositories: Repositories) -> None:
    stored = await repositories.suggestions.add(new_suggestion())
    rev = revision("talk-outcomes", 1)
    entry = audit("talk-outcomes", "approve", minutes=5)

    decided = await repositories.suggestions.decide(
        stored.id, SuggestionStatus.APPROVED, MODERATOR, at(5), None, rev, entry
    )

    assert decided == dataclasses.replace(
        stored,
        status=SuggestionStatus.APPROVED,
        decided_by=MODERATOR,
        decided_at=at(5),
        snippet_id="talk-outcomes",
    )
    assert await repositories.suggestions.get(stored.id) == decided
    assert await repositories.suggestions.pending(10) == []
    assert await repositories.suggestions.count_pending() == 0
    assert await repositories.revisions.history("talk-outcomes") == [rev]
    assert await repositories.audit.recent(10) == [entry]


async def test_rejecting_stores_the_reason_and_audit(repositories: Repositories) -> None:
    stored = await repositories.suggestions.add(new_suggestion())
    entry = audit(str(stored.id), "reject", minutes=5)

    decided = await repositories.suggestions.decide(
        stored.id, SuggestionStatus.REJECTED, MODERATOR, at(5), "generic cheering", None, entry
    )

    assert decided is not None
    assert decided.status is SuggestionStatus.REJECTED
    assert decided.reason == "generic cheering"
    assert decided.snippet_id is None
    assert await repositories.suggestions.get(stored.id) == decided
    assert await repositories.revisions.latest() == []
    assert await repositories.audit.recent(10) == [entry]


async def test_deciding_twice_returns_none_and_stores_nothing(repositories: Repositories) -> None:
    stored = await repositories.suggestions.add(new_suggestion())
    first = await repositories.suggestions.decide(
        stored.id, SuggestionStatus.REJECTED, MODERATOR, at(5), "dup", None, audit("1", "reject")
    )

    second = await repositories.suggestions.decide(
        stored.id,
        SuggestionStatus.APPROVED,
        BOB,
        at(6),
        None,
        revision("talk-outcomes"),
        audit("talk-outcomes", "approve"),
    )

    assert second is None
    assert await repositories.suggestions.get(stored.id) == first
    assert await repositories.revisions.latest() == []
    assert len(await repositories.audit.recent(10)) == 1


async def test_deciding_an_unknown_suggestion_returns_none(repositories: Repositories) -> None:
    decided = await repositories.suggestions.decide(
        404, SuggestionStatus.REJECTED, MODERATOR, at(), None, None, audit("404", "reject")
    )

    assert decided is None
    assert await repositories.audit.recent(10) == []


async def test_approval_into_an_existing_revision_conflicts_and_stays_pending(
    repositories: Repositories,
) -> None:
    taken = revision("talk-outcomes", 1)
    await repositories.revisions.add(taken, audit("talk-outcomes", "add"))
    stored = await repositories.suggestions.add(new_suggestion())

    with pytest.raises(ConflictError):
        await repositories.suggestions.decide(
            stored.id,
            SuggestionStatus.APPROVED,
            MODERATOR,
            at(5),
            None,
            revision("talk-outcomes", 1, title="the suggestion"),
            audit("talk-outcomes", "approve"),
        )

    assert await repositories.suggestions.get(stored.id) == stored
    assert await repositories.revisions.history("talk-outcomes") == [taken]
    assert len(await repositories.audit.recent(10)) == 1


# Feedback


async def test_votes_are_tallied_per_snippet(repositories: Repositories) -> None:
    assert await repositories.feedback.tallies() == {}
    await repositories.feedback.vote(ALICE, "resume-outcomes", 1, at())
    await repositories.feedback.vote(BOB, "resume-outcomes", -1, at(1))
    await repositories.feedback.vote(MODERATOR, "resume-outcomes", 1, at(2))
    await repositories.feedback.vote(ALICE, "network", -1, at(3))

    assert await repositories.feedback.tallies() == {
        "resume-outcomes": VoteTally(up=2, down=1),
        "network": VoteTally(up=0, down=1),
    }


async def test_a_member_may_change_their_one_vote(repositories: Repositories) -> None:
    await repositories.feedback.vote(ALICE, "resume-outcomes", 1, at())
    await repositories.feedback.vote(ALICE, "resume-outcomes", 1, at(1))
    assert await repositories.feedback.tallies() == {"resume-outcomes": VoteTally(1, 0)}

    await repositories.feedback.vote(ALICE, "resume-outcomes", -1, at(2))
    assert await repositories.feedback.tallies() == {"resume-outcomes": VoteTally(0, 1)}


@pytest.mark.parametrize("value", [0, 2, -5])
async def test_a_vote_is_plus_or_minus_one(repositories: Repositories, value: int) -> None:
    with pytest.raises(ValueError, match="vote"):
        await repositories.feedback.vote(ALICE, "resume-outcomes", value, at())


# Unanswered questions


async def test_unanswered_questions_group_by_normalised_text(repositories: Repositories) -> None:
    await repositories.unanswered.add("What is Product Ops?", at(0))
    await repositories.unanswered.add("how do I price a SaaS product", at(1))
    await repositories.unanswered.add("what is   product ops", at(2))
    await repositories.unanswered.add("WHAT IS PRODUCT OPS!!", at(3))
    await repositories.unanswered.add("How do I price a SaaS product?", at(4))
    await repositories.unanswered.add("what's a PRD", at(5))

    assert await repositories.unanswered.top(10, since=at(0)) == [
        GapCount("WHAT IS PRODUCT OPS!!", 3, at(3)),
        GapCount("How do I price a SaaS product?", 2, at(4)),
        GapCount("what's a PRD", 1, at(5)),
    ]
    assert await repositories.unanswered.top(1, since=at(0)) == [
        GapCount("WHAT IS PRODUCT OPS!!", 3, at(3))
    ]


async def test_unanswered_display_text_is_the_most_recent_by_time(
    repositories: Repositories,
) -> None:
    await repositories.unanswered.add("what is product ops", at(10))
    await repositories.unanswered.add("What is Product Ops?", at(0))

    assert await repositories.unanswered.top(5, since=at(0)) == [
        GapCount("what is product ops", 2, at(10))
    ]


async def test_unanswered_ties_in_count_go_to_the_most_recent(repositories: Repositories) -> None:
    await repositories.unanswered.add("what is a PRD", at(0))
    await repositories.unanswered.add("how to network", at(5))
    await repositories.unanswered.add("what is an APM", at(3))

    top = await repositories.unanswered.top(5, since=at(0))
    assert [g.text for g in top] == ["how to network", "what is an APM", "what is a PRD"]


async def test_unanswered_since_filters_by_time(repositories: Repositories) -> None:
    await repositories.unanswered.add("what is product ops", at(0))
    await repositories.unanswered.add("What is Product Ops?", at(10))
    await repositories.unanswered.add("what is a PRD", at(20))

    assert await repositories.unanswered.count_since(at(0)) == 3
    assert await repositories.unanswered.count_since(at(10)) == 2
    assert await repositories.unanswered.count_since(at(21)) == 0
    assert await repositories.unanswered.top(10, since=at(5)) == [
        GapCount("what is a PRD", 1, at(20)),
        GapCount("What is Product Ops?", 1, at(10)),
    ]


async def test_unanswered_text_is_capped(repositories: Repositories) -> None:
    await repositories.unanswered.add("why " * 400, at())

    [gap] = await repositories.unanswered.top(1, since=at())
    assert len(gap.text) == 500


# Time


async def test_aware_utc_datetimes_round_trip_exactly(repositories: Repositories) -> None:
    instant = datetime(2026, 10, 25, 0, 59, 59, 999999, tzinfo=UTC)
    await repositories.subscriptions.save(
        subscription(created_at=instant, paused_until=instant, next_due_at=instant)
    )
    await repositories.progress.record(progress("ex-1", at=instant))
    await repositories.revisions.add(
        revision("resume-outcomes", at=instant), AuditEntry(MODERATOR, "add", "x", instant)
    )
    await repositories.unanswered.add("what is product ops", instant)
    stored = await repositories.suggestions.add(
        dataclasses.replace(new_suggestion(), created_at=instant)
    )
    decided = await repositories.suggestions.decide(
        stored.id, SuggestionStatus.REJECTED, MODERATOR, instant, None, None, audit("1")
    )

    sub = await repositories.subscriptions.get(ALICE)
    assert sub is not None
    [entry] = await repositories.progress.list_for(ALICE)
    [rev] = await repositories.revisions.history("resume-outcomes")
    [gap] = await repositories.unanswered.top(1, since=instant)
    got = await repositories.suggestions.get(stored.id)
    assert got is not None
    assert decided is not None
    [newest_audit] = await repositories.audit.recent(1)
    read_back = [
        sub.created_at,
        sub.paused_until,
        sub.next_due_at,
        entry.at,
        rev.at,
        newest_audit.at,
        gap.last_at,
        got.created_at,
        got.decided_at,
        decided.decided_at,
    ]
    assert read_back == [instant] * len(read_back)
    assert all(is_utc(value) for value in read_back)
