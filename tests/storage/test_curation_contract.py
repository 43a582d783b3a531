"""The repository contract for revisions with bases, suggestions with questions, pauses,
flood counters and a member's data (collect and erase), on the fakes, SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses

import pytest

from bot.core.models import (
    AuditEntry,
    NewSuggestion,
    PauseSpan,
    RevisionAction,
    SuggestionStatus,
    UserRef,
    VoteTally,
)
from bot.core.ports import ConflictError, Repositories
from tests.storage.test_repository_contract import (
    ALICE,
    BOB,
    MODERATOR,
    at,
    audit,
    progress,
    revision,
    subscription,
)

ALIAS = UserRef("erased", "", "0123456789abcdef")


async def test_revisions_keep_action_base_and_note(repositories: Repositories) -> None:
    stored = revision(
        "resume-outcomes", 2, action=RevisionAction.REVERT, base_hash="abc123", note="restored r1"
    )
    shipped = revision("resume-outcomes", 1, action=RevisionAction.YAML, base_hash="abc123")
    await repositories.revisions.add(stored, audit("resume-outcomes"), snapshot=shipped)

    assert await repositories.revisions.history("resume-outcomes") == [shipped, stored]
    assert await repositories.revisions.latest() == [stored]


async def test_a_taken_snapshot_number_stores_nothing(repositories: Repositories) -> None:
    await repositories.revisions.add(revision("a-b", 1), audit("a-b"))
    with pytest.raises(ConflictError):
        await repositories.revisions.add(
            revision("a-b", 2), audit("a-b", minutes=1), snapshot=revision("a-b", 1)
        )
    assert [r.revision for r in await repositories.revisions.history("a-b")] == [1]
    assert len(await repositories.audit.recent(10)) == 1


async def test_suggestions_keep_their_questions(repositories: Repositories) -> None:
    added = await repositories.suggestions.add(
        NewSuggestion(BOB, "Talk outcomes", "Lead with it.", ("interviews",), at(), ("q1", "q2"))
    )
    assert added.questions == ("q1", "q2")
    assert (await repositories.suggestions.get(added.id)).questions == ("q1", "q2")  # type: ignore[union-attr]


async def test_reminders_switch_round_trips(repositories: Repositories) -> None:
    await repositories.subscriptions.save(subscription(reminders=False))
    assert (await repositories.subscriptions.get(ALICE)).reminders is False  # type: ignore[union-attr]


async def test_pauses_are_listed_and_cut_short(repositories: Repositories) -> None:
    await repositories.subscriptions.add_pause(ALICE, at(0), at(60 * 24 * 14))
    await repositories.subscriptions.add_pause(BOB, at(5), at(60 * 24 * 7))
    await repositories.subscriptions.end_pause(ALICE, at(60 * 24 * 3))

    assert await repositories.subscriptions.pauses(ALICE) == [PauseSpan(at(0), at(60 * 24 * 3))]
    assert await repositories.subscriptions.pauses(BOB) == [PauseSpan(at(5), at(60 * 24 * 7))]


async def test_flood_counts_per_member_action_and_window(repositories: Repositories) -> None:
    flood = repositories.flood
    assert [await flood.take(ALICE, "suggest", at(0)) for _ in range(3)] == [1, 2, 3]
    assert await flood.take(ALICE, "vote", at(0)) == 1
    assert await flood.take(BOB, "suggest", at(0)) == 1
    # A new window starts from one again.
    assert await flood.take(ALICE, "suggest", at(10)) == 1


async def test_unanswered_purge_drops_what_is_older(repositories: Repositories) -> None:
    await repositories.unanswered.add("old question", at(0))
    await repositories.unanswered.add("new question", at(10))
    assert await repositories.unanswered.purge(at(5)) == 1
    assert [g.text for g in await repositories.unanswered.top(10, at(-100))] == ["new question"]


async def _a_member_with_everything(repositories: Repositories) -> None:
    await repositories.subscriptions.save(subscription(ALICE))
    await repositories.subscriptions.add_pause(ALICE, at(1), at(2))
    await repositories.progress.record(progress("ex-1", link="https://example.org/x"))
    await repositories.feedback.vote(ALICE, "resume-outcomes", 1, at(3))
    await repositories.feedback.vote(BOB, "resume-outcomes", 1, at(3))
    await repositories.flood.take(ALICE, "vote", at(3))
    added = await repositories.suggestions.add(
        NewSuggestion(ALICE, "My idea", "Lead with it.", ("interviews",), at(4), ("q1",))
    )
    await repositories.suggestions.decide(
        added.id,
        SuggestionStatus.REJECTED,
        MODERATOR,
        at(5),
        "covered",
        None,
        AuditEntry(MODERATOR, "reject", f"suggestion #{added.id}", at(5)),
    )
    await repositories.revisions.add(
        revision("alices-snippet", 1, author=ALICE), dataclasses.replace(audit("a"), actor=ALICE)
    )


async def test_collect_returns_everything_about_the_member(repositories: Repositories) -> None:
    await _a_member_with_everything(repositories)

    data = await repositories.members.collect(ALICE)

    assert data.subscription == subscription(ALICE)
    assert data.pauses == (PauseSpan(at(1), at(2)),)
    assert [(p.exercise_id, p.link) for p in data.progress] == [("ex-1", "https://example.org/x")]
    assert [(v.snippet_id, v.value) for v in data.votes] == [("resume-outcomes", 1)]
    assert [(s.title, s.questions, s.reason) for s in data.suggestions] == [
        ("My idea", ("q1",), "covered")
    ]
    assert [r.snippet_id for r in data.revisions] == ["alices-snippet"]
    assert [a.action for a in data.audit] == ["edit"]
    assert (await repositories.members.collect(BOB)).suggestions == ()


async def test_erase_deletes_the_member_and_anonymises_what_must_survive(
    repositories: Repositories,
) -> None:
    await _a_member_with_everything(repositories)

    erased = await repositories.members.erase(ALICE, ALIAS)

    assert erased.deleted >= 4  # subscription, pause, progress, and the member
    assert erased.anonymised >= 4  # vote, suggestion, revision, audit entry
    after = await repositories.members.collect(ALICE)
    assert (after.subscription, after.pauses, after.progress, after.votes) == (None, (), (), ())
    assert (after.suggestions, after.revisions, after.audit) == ((), (), ())
    assert await repositories.subscriptions.get(ALICE) is None
    assert await repositories.progress.list_for(ALICE) == []
    # The aggregates and the curated base survive, under the alias.
    assert (await repositories.feedback.tallies())["resume-outcomes"] == VoteTally(2, 0)
    [suggestion] = [s for s in await _all_suggestions(repositories) if s.title == "My idea"]
    assert suggestion.author == ALIAS
    assert [r.author for r in await repositories.revisions.history("alices-snippet")] == [ALIAS]
    # The next limit count starts afresh, and nobody else was touched.
    assert await repositories.flood.take(ALICE, "vote", at(3)) == 1
    assert (await repositories.members.collect(BOB)).votes != ()


async def test_erasing_a_stranger_changes_nothing(repositories: Repositories) -> None:
    await _a_member_with_everything(repositories)
    erased = await repositories.members.erase(UserRef("slack", "T9", "nobody"), ALIAS)
    assert (erased.deleted, erased.anonymised) == (0, 0)
    assert (await repositories.members.collect(ALICE)).subscription is not None


async def _all_suggestions(repositories: Repositories) -> list:  # type: ignore[type-arg]
    found = []
    for number in range(1, 5):
        suggestion = await repositories.suggestions.get(number)
        if suggestion is not None:
            found.append(suggestion)
    return found
