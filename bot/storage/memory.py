"""In-memory implementations of the core's ports: they pass the same contract suite as
SQLite and PostgreSQL, so tests, demos and scenario scripts can run the whole bot without a
database."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Collection
from datetime import datetime

from bot.core.models import (
    AuditEntry,
    DeliveryRecord,
    Erasure,
    GapCount,
    MemberData,
    NewSuggestion,
    PauseSpan,
    ProgressEntry,
    SnippetRevision,
    Subscription,
    SubscriptionStatus,
    Suggestion,
    SuggestionStatus,
    UserRef,
    VoteRecord,
    VoteTally,
)
from bot.core.ports import (
    ClaimedDelivery,
    ConflictError,
    DeliveryOverview,
    DeliveryPlan,
    DeliveryStatus,
    DueSubscription,
    MaterialiseResult,
    Repositories,
)
from bot.core.schedule import is_reminder_week
from bot.core.text import normalise_question
from bot.storage.memory_web import FakeQuestionLog, FakeReports, FakeWebAccess

UNANSWERED_TEXT_LIMIT = 500


class FakeSubscriptions:
    def __init__(self) -> None:
        self.rows: dict[UserRef, Subscription] = {}
        self.pause_rows: list[tuple[UserRef, PauseSpan]] = []

    async def add_pause(self, user: UserRef, start: datetime, end: datetime) -> None:
        self.pause_rows.append((user, PauseSpan(start, end)))

    async def end_pause(self, user: UserRef, at: datetime) -> None:
        self.pause_rows = [
            (u, PauseSpan(p.start, at) if u == user and p.start <= at < p.end else p)
            for u, p in self.pause_rows
        ]

    async def pauses(self, user: UserRef) -> list[PauseSpan]:
        return sorted((p for u, p in self.pause_rows if u == user), key=lambda p: p.start)

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
        ordered = sorted(enumerate(self.rows), key=lambda row: (row[1].at, row[0]), reverse=True)
        return [entry for _, entry in ordered[:limit]]


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

    async def add(
        self,
        revision: SnippetRevision,
        audit: AuditEntry,
        snapshot: SnippetRevision | None = None,
    ) -> None:
        new = [r for r in (snapshot, revision) if r is not None]
        for candidate in new:
            if any(
                r.snippet_id == candidate.snippet_id and r.revision == candidate.revision
                for r in self.rows
            ):
                raise ConflictError(f"{candidate.snippet_id} revision {candidate.revision} exists")
        self.rows.extend(new)
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
            questions=suggestion.questions,
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
        self.votes_at: dict[tuple[UserRef, str], tuple[int, datetime]] = {}
        self.cast_at: dict[tuple[UserRef, str], datetime] = {}

    async def vote(self, user: UserRef, snippet_id: str, value: int, at: datetime) -> None:
        if value not in (1, -1):
            raise ValueError(f"a vote is +1 or -1, not {value}")
        self.votes[(user, snippet_id)] = value
        self.votes_at[(user, snippet_id)] = (value, at)
        self.cast_at[(user, snippet_id)] = at

    def cast(self) -> list[tuple[str, int, datetime]]:
        """(snippet id, value, when) of every vote as last cast."""
        return [(sid, value, self.cast_at[(u, sid)]) for (u, sid), value in self.votes.items()]

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

    async def purge(self, before: datetime) -> int:
        kept = [(text, at) for text, at in self.rows if at >= before]
        gone = len(self.rows) - len(kept)
        self.rows = kept
        return gone


class FakeFlood:
    def __init__(self) -> None:
        self.counts: dict[tuple[UserRef, str], tuple[datetime, int]] = {}

    async def take(self, user: UserRef, action: str, window_start: datetime) -> int:
        start, count = self.counts.get((user, action), (window_start, 0))
        if start != window_start:
            count = 0
        self.counts[(user, action)] = (window_start, count + 1)
        return count + 1


class FakeMembers:
    """Reads and erases across the other fakes, as the SQL does across tables."""

    def __init__(
        self,
        subscriptions: FakeSubscriptions,
        progress: FakeProgress,
        revisions: FakeRevisions,
        suggestions: FakeSuggestions,
        feedback: FakeFeedback,
        flood: FakeFlood,
    ) -> None:
        self.subscriptions = subscriptions
        self.progress = progress
        self.revisions = revisions
        self.suggestions = suggestions
        self.feedback = feedback
        self.flood = flood
        self.deliveries: FakeDeliveries | None = None

    async def collect(self, user: UserRef) -> MemberData:
        deliveries = [] if self.deliveries is None else [
            DeliveryRecord(r.week, r.status.value, r.due_at, r.sent_at, r.exercise_id)
            for r in sorted(self.deliveries.rows.values(), key=lambda r: r.due_at)
            if r.user == user
        ]  # fmt: skip
        return MemberData(
            user=user,
            first_seen=None,
            subscription=self.subscriptions.rows.get(user),
            pauses=tuple(await self.subscriptions.pauses(user)),
            progress=tuple(await self.progress.list_for(user)),
            deliveries=tuple(deliveries),
            votes=tuple(
                VoteRecord(snippet_id, value, at)
                for (voter, snippet_id), (value, at) in self.feedback.votes_at.items()
                if voter == user
            ),
            suggestions=tuple(s for s in self.suggestions.rows.values() if s.author == user),
            revisions=tuple(r for r in self.revisions.rows if r.author == user),
            audit=tuple(a for a in self.revisions.audit.rows if a.actor == user),
        )

    async def erase(self, user: UserRef, alias: UserRef) -> Erasure:
        deleted = anonymised = 0
        if self.subscriptions.rows.pop(user, None) is not None:
            deleted += 1
        before = len(self.subscriptions.pause_rows)
        self.subscriptions.pause_rows = [
            (u, p) for u, p in self.subscriptions.pause_rows if u != user
        ]
        deleted += before - len(self.subscriptions.pause_rows)
        before = len(self.progress.rows)
        self.progress.rows = [e for e in self.progress.rows if e.user != user]
        deleted += before - len(self.progress.rows)
        if self.deliveries is not None:
            mine = [key for key, row in self.deliveries.rows.items() if row.user == user]
            for key in mine:
                del self.deliveries.rows[key]
            deleted += len(mine)
        known = bool(deleted) or any(k[0] == user for k in self.flood.counts)
        known = known or any(k[0] == user for k in self.feedback.votes)
        self.flood.counts = {k: v for k, v in self.flood.counts.items() if k[0] != user}
        for voter, snippet_id in [k for k in self.feedback.votes if k[0] == user]:
            self.feedback.votes[(alias, snippet_id)] = self.feedback.votes.pop((voter, snippet_id))
            self.feedback.votes_at[(alias, snippet_id)] = self.feedback.votes_at.pop(
                (voter, snippet_id)
            )
            anonymised += 1
        for number, suggestion in list(self.suggestions.rows.items()):
            changes: dict[str, object] = {}
            if suggestion.author == user:
                changes["author"] = alias
            if suggestion.decided_by == user:
                changes["decided_by"] = alias
            if changes:
                self.suggestions.rows[number] = dataclasses.replace(suggestion, **changes)  # type: ignore[arg-type]
                anonymised += len(changes)
        for index, revision in enumerate(self.revisions.rows):
            if revision.author == user:
                self.revisions.rows[index] = dataclasses.replace(revision, author=alias)
                anonymised += 1
        for index, entry in enumerate(self.revisions.audit.rows):
            if entry.actor == user:
                self.revisions.audit.rows[index] = dataclasses.replace(entry, actor=alias)
                anonymised += 1
        if known:
            deleted += 1  # the member's own row, as the SQL has it
        return Erasure(deleted=deleted, anonymised=anonymised)


def fake_repositories() -> Repositories:
    audit = FakeAudit()
    revisions = FakeRevisions(audit)
    subscriptions = FakeSubscriptions()
    progress = FakeProgress()
    suggestions = FakeSuggestions(revisions)
    feedback = FakeFeedback()
    flood = FakeFlood()
    subscriptions, progress, feedback = FakeSubscriptions(), FakeProgress(), FakeFeedback()
    questions = FakeQuestionLog()
    return Repositories(
        subscriptions=subscriptions,
        progress=progress,
        revisions=revisions,
        suggestions=suggestions,
        audit=audit,
        feedback=feedback,
        unanswered=FakeUnanswered(),
        flood=flood,
        members=FakeMembers(subscriptions, progress, revisions, suggestions, feedback, flood),
        questions=questions,
        reports=FakeReports(questions, subscriptions, progress, feedback.cast),
        web=FakeWebAccess(),
    )


@dataclasses.dataclass
class FakeDelivery:
    id: int
    subscription_id: int
    user: UserRef
    week: str
    due_at: datetime
    status: DeliveryStatus
    next_attempt_at: datetime
    attempts: int = 0
    lease_until: datetime | None = None
    claimed_by: str | None = None
    message_id: str | None = None
    exercise_id: str | None = None
    last_error: str | None = None
    sent_at: datetime | None = None
    sending_since: datetime | None = None


_SCHEDULED = (SubscriptionStatus.ACTIVE, SubscriptionStatus.PAUSED)
_UNSENT = (DeliveryStatus.PENDING, DeliveryStatus.RETRYING)
_OPEN = (*_UNSENT, DeliveryStatus.SENDING)


class FakeDeliveries:
    """The delivery table in memory, over the fake subscriptions (as SQL joins them)."""

    def __init__(self, subscriptions: FakeSubscriptions) -> None:
        self.subscriptions = subscriptions
        self.rows: dict[int, FakeDelivery] = {}
        self._subscription_ids: dict[UserRef, int] = {}

    def subscription_id(self, user: UserRef) -> int:
        return self._subscription_ids.setdefault(user, len(self._subscription_ids) + 1)

    def _subscription(self, row: FakeDelivery) -> Subscription:
        return self.subscriptions.rows[row.user]

    async def due_subscriptions(self, now: datetime, limit: int) -> list[DueSubscription]:
        due = [
            s
            for s in self.subscriptions.rows.values()
            if s.status in _SCHEDULED and s.next_due_at is not None and s.next_due_at <= now
        ]
        due.sort(key=lambda s: (s.next_due_at, self.subscription_id(s.user)))
        return [
            DueSubscription(
                self.subscription_id(s.user),
                s.user,
                s.weekday,
                s.local_time,
                s.timezone,
                s.next_due_at,
                s.reminders,
            )
            for s in due[:limit]
            if s.next_due_at is not None
        ]

    async def materialise(
        self, now: datetime, limit: int, plan: Callable[[DueSubscription], DeliveryPlan]
    ) -> MaterialiseResult:
        due = await self.due_subscriptions(now, limit)
        created = skipped = 0
        for item in due:
            planned = plan(item)
            current = self.subscriptions.rows[item.user]
            if current.status not in _SCHEDULED or current.next_due_at != planned.expected_due_at:
                continue
            self.subscriptions.rows[item.user] = dataclasses.replace(
                current,
                status=SubscriptionStatus.ACTIVE,
                paused_until=None,
                next_due_at=planned.next_due_at,
            )
            weeks = [(w, DeliveryStatus.SKIPPED) for w in planned.skipped]
            if planned.deliver is not None:
                weeks.append((planned.deliver, DeliveryStatus.PENDING))
            if planned.remind is not None:
                weeks.append((planned.remind, DeliveryStatus.PENDING))
            for week, status in weeks:
                if any(r.user == item.user and r.week == week.week for r in self.rows.values()):
                    continue
                row_id = max(self.rows, default=0) + 1
                self.rows[row_id] = FakeDelivery(
                    row_id, item.id, item.user, week.week, week.due_at, status, week.due_at
                )
                if is_reminder_week(week.week):
                    continue
                created += status == DeliveryStatus.PENDING
                skipped += status == DeliveryStatus.SKIPPED
        return MaterialiseResult(len(due), created, skipped)

    def _unsent(self, row: FakeDelivery, now: datetime) -> bool:
        return row.status in _UNSENT or (
            row.status == DeliveryStatus.SENDING and row.next_attempt_at <= now
        )

    async def skip_stale(self, due_before: datetime, now: datetime) -> int:
        stale = [r for r in self.rows.values() if self._unsent(r, now) and r.due_at < due_before]
        for row in stale:
            row.status, row.lease_until = DeliveryStatus.SKIPPED, None
            row.last_error = "past the grace window"
        return len(stale)

    def _claimable(
        self, row: FakeDelivery, platforms: Collection[str], blocked: Collection[tuple[str, str]]
    ) -> bool:
        return (
            row.status in _OPEN
            and row.user.platform in platforms
            and (row.user.platform, row.user.workspace) not in blocked
            and self._subscription(row).status == SubscriptionStatus.ACTIVE
        )

    async def claim(
        self,
        now: datetime,
        limit: int,
        lease_until: datetime,
        owner: str,
        platforms: Collection[str],
        blocked: Collection[tuple[str, str]] = (),
    ) -> list[ClaimedDelivery]:
        due = sorted(
            (
                r
                for r in self.rows.values()
                if self._claimable(r, platforms, blocked) and r.next_attempt_at <= now
            ),
            key=lambda r: (r.next_attempt_at, r.id),
        )[: max(limit, 0)]
        claims = []
        for row in due:
            row.status, row.attempts, row.claimed_by = (
                DeliveryStatus.SENDING,
                row.attempts + 1,
                owner,
            )
            row.lease_until = row.next_attempt_at = lease_until
            interrupted, row.sending_since = row.sending_since is not None, None
            claims.append(
                ClaimedDelivery(
                    row.id,
                    row.user,
                    row.week,
                    row.due_at,
                    row.attempts,
                    self._subscription(row).timezone,
                    self._subscription(row).reminders,
                    interrupted=interrupted,
                )
            )
        return claims

    async def mark_sending(self, claim: ClaimedDelivery, owner: str, now: datetime) -> bool:
        row = self.rows.get(claim.id)
        if row is None or self._held(claim, owner) is None:
            return False
        row.lease_until = row.next_attempt_at  # (_held clears it; the claim still holds)
        row.sending_since = now
        return True

    def _held_by(self, owner: str) -> list[FakeDelivery]:
        return [
            r
            for r in self.rows.values()
            if r.status == DeliveryStatus.SENDING and r.claimed_by == owner
        ]

    async def renew(self, owner: str, lease_until: datetime, now: datetime) -> int:
        held = self._held_by(owner)
        for row in held:
            row.lease_until = row.next_attempt_at = lease_until
        return len(held)

    async def release(self, owner: str, now: datetime) -> int:
        held = self._held_by(owner)
        for row in held:
            if row.sending_since is None:
                row.attempts -= 1
            row.status, row.lease_until, row.next_attempt_at = DeliveryStatus.PENDING, None, now
        return len(held)

    def _held(self, claim: ClaimedDelivery, owner: str) -> FakeDelivery | None:
        row = self.rows.get(claim.id)
        if (
            row is None
            or row.status != DeliveryStatus.SENDING
            or row.claimed_by != owner
            or row.attempts != claim.attempts
        ):
            return None
        row.lease_until = None
        return row

    async def record_sent(
        self,
        claim: ClaimedDelivery,
        owner: str,
        message_id: str,
        exercise_id: str | None,
        now: datetime,
    ) -> bool:
        row = self._held(claim, owner)
        if row is None:
            return False
        row.status, row.message_id, row.exercise_id = DeliveryStatus.SENT, message_id, exercise_id
        row.sent_at, row.last_error = now, None
        return True

    async def record_retry(
        self,
        claim: ClaimedDelivery,
        owner: str,
        at: datetime,
        error: str,
        now: datetime,
        count_attempt: bool = True,
    ) -> bool:
        row = self._held(claim, owner)
        if row is None:
            return False
        row.status = DeliveryStatus.RETRYING if count_attempt else DeliveryStatus.PENDING
        row.attempts = claim.attempts if count_attempt else claim.attempts - 1
        row.next_attempt_at, row.last_error = at, error
        return True

    async def record_failed(
        self,
        claim: ClaimedDelivery,
        owner: str,
        error: str,
        now: datetime,
        pause_with_notice: str | None = None,
    ) -> bool:
        row = self._held(claim, owner)
        if row is None:
            return False
        row.status, row.last_error = DeliveryStatus.FAILED, error
        current = self._subscription(row)
        if pause_with_notice is not None and current.status in _SCHEDULED:
            self.subscriptions.rows[row.user] = dataclasses.replace(
                current,
                status=SubscriptionStatus.PAUSED,
                paused_until=None,
                next_due_at=None,
                notice=pause_with_notice,
            )
        return True

    async def record_skipped(
        self, claim: ClaimedDelivery, owner: str, reason: str, now: datetime
    ) -> bool:
        row = self._held(claim, owner)
        if row is None:
            return False
        row.status, row.last_error = DeliveryStatus.SKIPPED, reason
        return True

    async def cancel_pending(self, user: UserRef, now: datetime) -> int:
        pending = [r for r in self.rows.values() if r.user == user and r.status in _UNSENT]
        for row in pending:
            row.status = DeliveryStatus.CANCELLED
        return len(pending)

    async def next_due_at(
        self, platforms: Collection[str], blocked: Collection[tuple[str, str]] = ()
    ) -> datetime | None:
        return min(
            (
                r.next_attempt_at
                for r in self.rows.values()
                if self._claimable(r, platforms, blocked)
            ),
            default=None,
        )

    async def count_due(
        self, now: datetime, stale_before: datetime, platforms: Collection[str]
    ) -> int:
        return sum(
            1
            for r in self.rows.values()
            if self._claimable(r, platforms, ())
            and r.next_attempt_at <= now
            and r.due_at >= stale_before
        )

    async def overview(self, now: datetime, stale_before: datetime) -> DeliveryOverview:
        rows = self.rows.values()
        unsent = [r for r in rows if self._unsent(r, now)]
        by_status = Counter(r.status for r in rows)
        subscriptions = [s for s in self.subscriptions.rows.values() if s.status in _SCHEDULED]
        nudges = [s.next_due_at for s in subscriptions if s.next_due_at is not None]
        upcoming = nudges + [r.next_attempt_at for r in rows if r.status in _OPEN]
        return DeliveryOverview(
            subscriptions_due=sum(1 for at in nudges if at <= now),
            deliveries_due=sum(
                1 for r in unsent if r.next_attempt_at <= now and r.due_at >= stale_before
            ),
            stale=sum(1 for r in unsent if r.due_at < stale_before),
            pending=by_status[DeliveryStatus.PENDING],
            retrying=by_status[DeliveryStatus.RETRYING],
            sending=by_status[DeliveryStatus.SENDING],
            failed=by_status[DeliveryStatus.FAILED],
            paused=sum(1 for s in subscriptions if s.status == SubscriptionStatus.PAUSED),
            next_due_at=min(upcoming, default=None),
        )
