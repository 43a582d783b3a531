"""What the core needs from the outside world, as protocols.

Storage implements the repositories (SQLAlchemy in `bot.storage`, in-memory fakes in tests);
adapters implement messengers; the composition root supplies a clock.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

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

    async def add(self, revision: SnippetRevision, audit: AuditEntry) -> None:
        """Store a revision and its audit entry together.

        Raises ConflictError when that (snippet_id, revision) already exists.
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


@dataclass(frozen=True, slots=True)
class Repositories:
    subscriptions: SubscriptionRepository
    progress: ProgressRepository
    revisions: RevisionRepository
    suggestions: SuggestionRepository
    audit: AuditRepository
    feedback: FeedbackRepository
    unanswered: UnansweredRepository


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


class Exporter(Protocol):
    """Serialises snippets for moderators to commit back into the reviewed knowledge base."""

    def dump(self, snippets: list[SnippetRevision]) -> str: ...
