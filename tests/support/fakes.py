"""In-memory implementations of the core's ports, for unit tests and contract tests."""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import UTC, datetime, timedelta

from bot.core.models import (
    AuditEntry,
    GapCount,
    NewSuggestion,
    ProgressEntry,
    SnippetRevision,
    Subscription,
    SubscriptionStatus,
    Suggestion,
    SuggestionStatus,
    UserRef,
    VoteTally,
)
from bot.core.ports import ConflictError, Repositories
from bot.core.text import normalise_question

UNANSWERED_TEXT_LIMIT = 500


class FakeClock:
    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, **kwargs: float) -> None:
        self.current += timedelta(**kwargs)


class FakeSubscriptions:
    def __init__(self) -> None:
        self.rows: dict[UserRef, Subscription] = {}

    async def get(self, user: UserRef) -> Subscription | None:
        return self.rows.get(user)

    async def save(self, subscription: Subscription) -> None:
        self.rows[subscription.user] = subscription

    async def counts(self) -> dict[SubscriptionStatus, int]:
        return dict(Counter(s.status for s in self.rows.values()))


class FakeProgress:
    def __init__(self) -> None:
        self.rows: list[ProgressEntry] = []

    async def list_for(self, user: UserRef) -> list[ProgressEntry]:
        return sorted((e for e in self.rows if e.user == user), key=lambda e: e.at)

    async def record(self, entry: ProgressEntry) -> bool:
        if any(
            e.user == entry.user and e.exercise_id == entry.exercise_id and e.round == entry.round
            for e in self.rows
        ):
            return False
        self.rows.append(entry)
        return True

    async def count_done_since(self, since: datetime) -> int:
        return sum(1 for e in self.rows if e.status == "done" and e.at >= since)


class FakeAudit:
    def __init__(self) -> None:
        self.rows: list[AuditEntry] = []

    async def recent(self, limit: int) -> list[AuditEntry]:
        # Newest `at` first; among equal times, the last stored first (as SQL orders by id).
        return sorted(reversed(self.rows), key=lambda a: a.at, reverse=True)[:limit]


class FakeRevisions:
    def __init__(self, audit: FakeAudit) -> None:
        self.rows: list[SnippetRevision] = []
        self.audit = audit

    async def latest(self) -> list[SnippetRevision]:
        newest: dict[str, SnippetRevision] = {}
        for rev in self.rows:
            if rev.snippet_id not in newest or rev.revision > newest[rev.snippet_id].revision:
                newest[rev.snippet_id] = rev
        return sorted(newest.values(), key=lambda r: r.snippet_id)

    async def history(self, snippet_id: str) -> list[SnippetRevision]:
        return sorted(
            (r for r in self.rows if r.snippet_id == snippet_id), key=lambda r: r.revision
        )

    async def add(self, revision: SnippetRevision, audit: AuditEntry) -> None:
        if any(
            r.snippet_id == revision.snippet_id and r.revision == revision.revision
            for r in self.rows
        ):
            raise ConflictError(f"{revision.snippet_id} revision {revision.revision} exists")
        self.rows.append(revision)
        self.audit.rows.append(audit)


class FakeSuggestions:
    def __init__(self, revisions: FakeRevisions) -> None:
        self.rows: dict[int, Suggestion] = {}
        self.revisions = revisions

    async def add(self, suggestion: NewSuggestion) -> Suggestion:
        stored = Suggestion(
            id=len(self.rows) + 1,
            author=suggestion.author,
            title=suggestion.title,
            body=suggestion.body,
            topics=suggestion.topics,
            status=SuggestionStatus.PENDING,
            created_at=suggestion.created_at,
        )
        self.rows[stored.id] = stored
        return stored

    async def get(self, suggestion_id: int) -> Suggestion | None:
        return self.rows.get(suggestion_id)

    async def pending(self, limit: int) -> list[Suggestion]:
        waiting = [s for s in self.rows.values() if s.status == SuggestionStatus.PENDING]
        return sorted(waiting, key=lambda s: (s.created_at, s.id))[:limit]

    async def count_pending(self) -> int:
        return sum(1 for s in self.rows.values() if s.status == SuggestionStatus.PENDING)

    async def decide(
        self,
        suggestion_id: int,
        status: SuggestionStatus,
        by: UserRef,
        at: datetime,
        reason: str | None,
        revision: SnippetRevision | None,
        audit: AuditEntry,
    ) -> Suggestion | None:
        current = self.rows.get(suggestion_id)
        if current is None or current.status != SuggestionStatus.PENDING:
            return None
        if revision is not None:
            await self.revisions.add(revision, audit)
        else:
            self.revisions.audit.rows.append(audit)
        decided = dataclasses.replace(
            current,
            status=status,
            decided_by=by,
            decided_at=at,
            reason=reason,
            snippet_id=revision.snippet_id if revision else None,
        )
        self.rows[suggestion_id] = decided
        return decided


class FakeFeedback:
    def __init__(self) -> None:
        self.votes: dict[tuple[UserRef, str], int] = {}

    async def vote(self, user: UserRef, snippet_id: str, value: int, at: datetime) -> None:
        if value not in (1, -1):
            raise ValueError(f"a vote is +1 or -1, not {value}")
        self.votes[(user, snippet_id)] = value

    async def tallies(self) -> dict[str, VoteTally]:
        result: dict[str, VoteTally] = {}
        for (_, snippet_id), value in self.votes.items():
            tally = result.get(snippet_id, VoteTally())
            if value > 0:
                result[snippet_id] = VoteTally(tally.up + 1, tally.down)
            else:
                result[snippet_id] = VoteTally(tally.up, tally.down + 1)
        return result


class FakeUnanswered:
    def __init__(self) -> None:
        self.rows: list[tuple[str, datetime]] = []

    async def add(self, text: str, at: datetime) -> None:
        self.rows.append((text[:UNANSWERED_TEXT_LIMIT], at))

    async def top(self, limit: int, since: datetime) -> list[GapCount]:
        # As the SQL does: group by normalised text; the group's newest row (by time, then by
        # insertion) gives the display text and last_at; ties in count and time go to the
        # group whose newest row was stored last.
        groups: dict[str, list[tuple[datetime, int, str]]] = {}
        for index, (text, at) in enumerate(self.rows):
            if at >= since:
                groups.setdefault(normalise_question(text), []).append((at, index, text))
        ranked = sorted(
            ((len(rows), max(rows)) for rows in groups.values()),
            key=lambda group: (group[0], group[1][0], group[1][1]),
            reverse=True,
        )
        return [GapCount(text=text, count=count, last_at=at) for count, (at, _, text) in ranked][
            :limit
        ]

    async def count_since(self, since: datetime) -> int:
        return sum(1 for _, at in self.rows if at >= since)


def fake_repositories() -> Repositories:
    audit = FakeAudit()
    revisions = FakeRevisions(audit)
    return Repositories(
        subscriptions=FakeSubscriptions(),
        progress=FakeProgress(),
        revisions=revisions,
        suggestions=FakeSuggestions(revisions),
        audit=audit,
        feedback=FakeFeedback(),
        unanswered=FakeUnanswered(),
    )
