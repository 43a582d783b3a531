"""What the core needs from the outside world, as protocols.

Storage implements the repositories (SQLAlchemy in `bot.storage`, in-memory fakes in tests);
adapters implement messengers; the composition root supplies a clock.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Protocol, runtime_checkable

from bot.core.models import (
    AuditEntry,
    DayQuestions,
    DayVotes,
    Erasure,
    GapCount,
    MemberData,
    NewSuggestion,
    PauseSpan,
    PlatformNudges,
    Portfolio,
    ProgressEntry,
    QuestionEvent,
    SnippetRevision,
    Subscription,
    SubscriptionStatus,
    Suggestion,
    SuggestionStatus,
    TrackReach,
    UserRef,
    VoteTally,
    WebLink,
    WebSession,
)
from bot.core.reply import Reply


class ConflictError(Exception):
    """A write lost a race (e.g. two moderators edited the same snippet at once)."""


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class SubscriptionRepository(Protocol):
    async def get(self, user: UserRef) -> Subscription | None: ...

    async def save(self, subscription: Subscription) -> None:
        """Insert or replace the member's one subscription."""
        ...

    async def counts(self) -> dict[SubscriptionStatus, int]: ...

    async def add_pause(self, user: UserRef, start: datetime, end: datetime) -> None:
        """Remember a pause, so the weeks it covers count neither way for the streak."""
        ...

    async def end_pause(self, user: UserRef, at: datetime) -> None:
        """Cut short the member's pauses still running at `at` (they resumed early)."""
        ...

    async def pauses(self, user: UserRef) -> list[PauseSpan]:
        """The member's pauses, oldest first."""
        ...


class ProgressRepository(Protocol):
    async def list_for(self, user: UserRef) -> list[ProgressEntry]:
        """The member's entries, oldest first."""
        ...

    async def record(self, entry: ProgressEntry) -> bool:
        """Store an entry; False (and nothing stored) if that exercise already has one this round."""
        ...

    async def count_done_since(self, since: datetime) -> int: ...


class RevisionRepository(Protocol):
    async def latest(self) -> list[SnippetRevision]:
        """The newest revision of every snippet changed from chat, retired ones included."""
        ...

    async def history(self, snippet_id: str) -> list[SnippetRevision]:
        """Every revision of one snippet, oldest first."""
        ...

    async def add(
        self,
        revision: SnippetRevision,
        audit: AuditEntry,
        snapshot: SnippetRevision | None = None,
    ) -> None:
        """Store a revision and its audit entry together, after `snapshot` (the YAML version
        the change started from) when given.

        Raises ConflictError when that (snippet_id, revision) already exists; then nothing
        is stored.
        """
        ...


class SuggestionRepository(Protocol):
    async def add(self, suggestion: NewSuggestion) -> Suggestion: ...

    async def get(self, suggestion_id: int) -> Suggestion | None: ...

    async def pending(self, limit: int) -> list[Suggestion]:
        """Oldest first."""
        ...

    async def count_pending(self) -> int: ...

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
        """Approve or reject a pending suggestion, storing the revision it became (if any) and
        the audit entry in the same transaction. None when it is not pending (already decided
        by someone else, or unknown), and then nothing is stored.
        """
        ...


class AuditRepository(Protocol):
    async def recent(self, limit: int) -> list[AuditEntry]:
        """Newest first."""
        ...


class FeedbackRepository(Protocol):
    async def vote(self, user: UserRef, snippet_id: str, value: int, at: datetime) -> None:
        """Record +1 or -1; a member has one vote per snippet and may change it."""
        ...

    async def tallies(self) -> dict[str, VoteTally]: ...


class UnansweredRepository(Protocol):
    async def add(self, text: str, at: datetime) -> None: ...

    async def top(self, limit: int, since: datetime) -> list[GapCount]:
        """The most often unanswered questions since a time, grouped by normalised text."""
        ...

    async def count_since(self, since: datetime) -> int: ...

    async def purge(self, before: datetime) -> int:
        """Delete questions stored before a time; how many went."""
        ...


class FloodRepository(Protocol):
    async def take(self, user: UserRef, action: str, window_start: datetime) -> int:
        """Count one `action` by the member in the window starting at `window_start` and
        return the window's count including this one. Atomic, so replicas agree; earlier
        windows of that member and action are dropped."""
        ...


class MemberRepository(Protocol):
    """A member's own data, all of it: to hand it over or to erase it."""

    async def collect(self, user: UserRef) -> MemberData: ...

    async def erase(self, user: UserRef, alias: UserRef) -> Erasure:
        """Delete the member (identity, subscription, pauses, progress, deliveries, limits)
        and put `alias` in their place wherever records must survive: votes (so tallies stay),
        suggestions, revisions and audit entries."""
        ...


class QuestionLogRepository(Protocol):
    async def add(self, event: QuestionEvent) -> None:
        """Count one question: answered (and by which snippet) or declined. No text, no user."""
        ...


class ReportRepository(Protocol):
    """Read-only aggregates for the moderators' dashboard; every count is since `since`."""

    async def questions_per_day(self, since: datetime) -> list[DayQuestions]: ...

    async def votes_per_day(self, since: datetime) -> list[DayVotes]: ...

    async def subscribers_per_day(self, since: datetime) -> dict[date, int]:
        """New subscriptions by the UTC day they were created."""
        ...

    async def done_per_day(self, since: datetime) -> dict[date, int]:
        """Exercises marked done by UTC day."""
        ...

    async def nudges_by_platform(self, since: datetime) -> list[PlatformNudges]: ...

    async def snippet_uses(self, since: datetime) -> dict[str, int]:
        """How often each snippet was the answer to a question."""
        ...

    async def track_reach(self) -> TrackReach: ...


class WebAccessRepository(Protocol):
    """What the web pages keep: one-time sign-in links and browser sessions (stored by the
    hash of their token), and members' optional public portfolios."""

    async def add_link(self, link: WebLink) -> None: ...

    async def find_link(self, token_hash: str) -> WebLink | None: ...

    async def redeem_link(self, token_hash: str, now: datetime) -> WebLink | None:
        """Mark an unused, unexpired link used and return it; None (and nothing changed)
        when it is unknown, used or expired. Two redeemers of one link: exactly one wins."""
        ...

    async def add_session(self, session: WebSession) -> None: ...

    async def find_session(self, token_hash: str, now: datetime) -> WebSession | None:
        """The unexpired session with that hash."""
        ...

    async def end_session(self, token_hash: str) -> None: ...

    async def purge(self, before: datetime) -> int:
        """Delete links and sessions that expired before `before`."""
        ...

    async def portfolio(self, user: UserRef) -> Portfolio | None: ...

    async def portfolio_at(self, slug: str) -> Portfolio | None: ...

    async def save_portfolio(self, portfolio: Portfolio) -> None:
        """Insert or replace the member's one portfolio."""
        ...

    async def delete_portfolio(self, user: UserRef) -> None: ...


@dataclass(frozen=True, slots=True)
class Repositories:
    subscriptions: SubscriptionRepository
    progress: ProgressRepository
    revisions: RevisionRepository
    suggestions: SuggestionRepository
    audit: AuditRepository
    feedback: FeedbackRepository
    unanswered: UnansweredRepository
    flood: FloodRepository
    members: MemberRepository
    questions: QuestionLogRepository
    reports: ReportRepository
    web: WebAccessRepository


class SendStatus(enum.StrEnum):
    SENT = "sent"
    RATE_LIMITED = "rate_limited"
    TRANSIENT = "transient"
    PERMANENT = "permanent"


@dataclass(frozen=True, slots=True)
class SendOutcome:
    """What happened when a messenger tried to deliver a direct message."""

    status: SendStatus
    message_id: str | None = None
    retry_after: float | None = None
    """Seconds the platform asked us to wait (rate limited)."""
    reason: str = ""

    @classmethod
    def sent(cls, message_id: str) -> SendOutcome:
        return cls(SendStatus.SENT, message_id=message_id)

    @classmethod
    def rate_limited(cls, retry_after: float, reason: str = "rate limited") -> SendOutcome:
        return cls(SendStatus.RATE_LIMITED, retry_after=retry_after, reason=reason)

    @classmethod
    def transient(cls, reason: str) -> SendOutcome:
        return cls(SendStatus.TRANSIENT, reason=reason)

    @classmethod
    def permanent(cls, reason: str) -> SendOutcome:
        return cls(SendStatus.PERMANENT, reason=reason)


class Messenger(Protocol):
    """Sends a direct message to a member on one platform."""

    async def send(self, user: UserRef, reply: Reply) -> SendOutcome: ...


@runtime_checkable
class Reconciler(Protocol):
    """A messenger that can tell whether a message with `key` (`Reply.delivery_key`) reached
    the member: the message id if it did, "" if it surely did not, None if it cannot tell."""

    async def find_sent(self, user: UserRef, key: str) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Export:
    patch: str
    """A unified diff against the knowledge base the bot loaded, for `git apply`."""
    files: tuple[str, ...]
    """Files it changes, relative to the knowledge directory."""
    conflicts: tuple[str, ...] = ()
    """Snippets left out because git changed them after the chat change was made."""


class Exporter(Protocol):
    """Writes chat changes as a patch moderators commit back into the reviewed knowledge base."""

    def export(self, revisions: list[SnippetRevision]) -> Export: ...


class DeliveryStatus(enum.StrEnum):
    """Where one weekly nudge stands. `sending` is a claim with a lease; when the lease runs
    out (the process died mid-send) the row is due again."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    RETRYING = "retrying"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class DueSubscription:
    """A subscription whose next nudge instant has come (`next_due_at` <= now)."""

    id: int
    user: UserRef
    weekday: int
    local_time: time
    timezone: str
    next_due_at: datetime
    reminders: bool = True


@dataclass(frozen=True, slots=True)
class PlannedWeek:
    week: str
    """`schedule.week_key` of `due_at` in the member's zone; one delivery per member and week."""
    due_at: datetime


@dataclass(frozen=True, slots=True)
class DeliveryPlan:
    """What to store for one due subscription: at most one nudge, the missed weeks to record
    as skipped, and the subscription's following due instant."""

    subscription_id: int
    expected_due_at: datetime
    """The `next_due_at` the plan was made from; the write is guarded by it."""
    next_due_at: datetime
    deliver: PlannedWeek | None
    skipped: tuple[PlannedWeek, ...] = ()
    remind: PlannedWeek | None = None
    """The mid-week reminder for the delivered week, if the member wants reminders."""


@dataclass(frozen=True, slots=True)
class MaterialiseResult:
    examined: int = 0
    """Due subscriptions read; fewer than the limit means none is left."""
    created: int = 0
    skipped: int = 0


@dataclass(frozen=True, slots=True)
class ClaimedDelivery:
    id: int
    user: UserRef
    week: str
    due_at: datetime
    attempts: int
    """Including this claim; together with the owner it identifies the claim."""
    timezone: str
    reminders: bool = True
    interrupted: bool = False
    """An earlier claim began sending and never recorded how it ended: the member may have
    the message already, so look (`Reconciler`) before sending it again."""

    @property
    def key(self) -> str:
        """The delivery's marker on the platform, the same for every attempt."""
        return f"pmadvice-nudge-{self.id}"


@dataclass(frozen=True, slots=True)
class DeliveryOverview:
    subscriptions_due: int
    """Subscriptions whose next nudge instant has passed (not yet materialised)."""
    deliveries_due: int
    """Unsent deliveries due now and still within the grace window."""
    stale: int
    """Unsent deliveries past the grace window (the next tick records them skipped)."""
    pending: int
    retrying: int
    sending: int
    failed: int
    paused: int
    """Paused subscriptions."""
    next_due_at: datetime | None
    """The earliest instant a nudge or a retry becomes due."""


class DeliveryRepository(Protocol):
    """The nudge engine's table: who is due, who is claimed, what happened.

    Every write is guarded (by status, owner and attempt) so several processes can share it.
    """

    async def due_subscriptions(self, now: datetime, limit: int) -> list[DueSubscription]: ...

    async def materialise(
        self, now: datetime, limit: int, plan: Callable[[DueSubscription], DeliveryPlan]
    ) -> MaterialiseResult:
        """Plan up to `limit` due subscriptions and store each plan atomically: insert the
        deliveries ignoring (member, week) conflicts, advance `next_due_at`, resume a paused
        subscription whose pause is over."""
        ...

    async def skip_stale(self, due_before: datetime, now: datetime) -> int:
        """Mark unsent deliveries due before `due_before` (past the grace window) skipped."""
        ...

    async def claim(
        self,
        now: datetime,
        limit: int,
        lease_until: datetime,
        owner: str,
        platforms: Collection[str],
        blocked: Collection[tuple[str, str]] = (),
    ) -> list[ClaimedDelivery]:
        """Take up to `limit` due deliveries (pending, retrying, or with an expired lease) for
        members on `platforms`, except the (platform, workspace) pairs in `blocked`."""
        ...

    async def mark_sending(self, claim: ClaimedDelivery, owner: str, now: datetime) -> bool:
        """Record that this claim is about to ask the platform to send; False when the claim
        was lost, and then nothing must be sent."""
        ...

    async def renew(self, owner: str, lease_until: datetime, now: datetime) -> int:
        """Extend the lease of every delivery `owner` holds; how many it holds."""
        ...

    async def release(self, owner: str, now: datetime) -> int:
        """Give back every delivery `owner` still holds, due now (a process shutting down)."""
        ...

    async def record_sent(
        self,
        claim: ClaimedDelivery,
        owner: str,
        message_id: str,
        exercise_id: str | None,
        now: datetime,
    ) -> bool:
        """False when the claim was lost (its lease expired and another process took it)."""
        ...

    async def record_retry(
        self,
        claim: ClaimedDelivery,
        owner: str,
        at: datetime,
        error: str,
        now: datetime,
        count_attempt: bool = True,
    ) -> bool:
        """Due again at `at`: `retrying` after a failure, or back to `pending` with the attempt
        given back (`count_attempt=False`: rate limited, or no messenger here)."""
        ...

    async def record_failed(
        self,
        claim: ClaimedDelivery,
        owner: str,
        error: str,
        now: datetime,
        pause_with_notice: str | None = None,
    ) -> bool:
        """Failed for good; with a notice, also pause the subscription until the member
        resumes and leave them the notice."""
        ...

    async def record_skipped(
        self, claim: ClaimedDelivery, owner: str, reason: str, now: datetime
    ) -> bool:
        """Not sent because it is no longer needed (a reminder for a week already done)."""
        ...

    async def cancel_pending(self, user: UserRef, now: datetime) -> int:
        """Cancel the member's deliveries that are not yet in flight."""
        ...

    async def next_due_at(
        self, platforms: Collection[str], blocked: Collection[tuple[str, str]] = ()
    ) -> datetime | None:
        """The earliest `next_attempt_at` among unsent deliveries that `claim` could take."""
        ...

    async def count_due(
        self, now: datetime, stale_before: datetime, platforms: Collection[str]
    ) -> int:
        """Deliveries `claim` could take now for `platforms`, not counting stale ones."""
        ...

    async def overview(self, now: datetime, stale_before: datetime) -> DeliveryOverview: ...
