"""Domain types shared by every layer."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime, time


class Platform(enum.StrEnum):
    SLACK = "slack"
    DISCORD = "discord"
    CONSOLE = "console"


@dataclass(frozen=True, slots=True)
class UserRef:
    """A member as their platform knows them: the platform, the workspace or guild, the id."""

    platform: str
    workspace: str
    user_id: str

    def __str__(self) -> str:
        return f"{self.platform}:{self.workspace}:{self.user_id}"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is asking, as the adapter saw them on this request."""

    user: UserRef
    is_moderator: bool = False
    display_name: str = ""
    timezone: str | None = None
    """The member's zone when the platform knows it (Slack does, Discord does not)."""


@dataclass(frozen=True, slots=True)
class Resource:
    """A well-known public book, newsletter or community, named by title and author."""

    title: str
    author: str
    kind: str = "book"


@dataclass(frozen=True, slots=True)
class Topic:
    slug: str
    title: str
    description: str = ""
    go_deeper: tuple[Resource, ...] = ()


class SnippetOrigin(enum.StrEnum):
    CATALOG = "catalog"
    COMMUNITY = "community"


@dataclass(frozen=True, slots=True)
class Snippet:
    id: str
    title: str
    body: str
    topics: tuple[str, ...]
    questions: tuple[str, ...] = ()
    audience: tuple[str, ...] = ()
    source: str | None = None
    origin: SnippetOrigin = SnippetOrigin.CATALOG
    replaces: tuple[str, ...] = ()
    """Ids of retired snippets this one absorbed; links, votes and buttons to them land here."""


@dataclass(frozen=True, slots=True)
class Exercise:
    id: str
    order: int
    title: str
    prompt: str
    deliverable: str
    minutes: int
    topics: tuple[str, ...]
    done_when: str
    self_check: tuple[str, ...] = ()
    """Three questions a member asks themselves after finishing the exercise."""
    revision: str = ""
    """The prompt for a review round: improve the piece rather than redo it."""
    book_ahead: str = ""
    """What to arrange a week early when the exercise needs other people (empty if nothing)."""

    def prompt_for(self, round_number: int) -> str:
        return self.revision if round_number > 1 and self.revision else self.prompt


@dataclass(frozen=True, slots=True)
class Knowledge:
    """The curated base as shipped: topics, snippets and the exercise track."""

    topics: tuple[Topic, ...]
    snippets: tuple[Snippet, ...]
    exercises: tuple[Exercise, ...]

    def topic(self, slug: str) -> Topic | None:
        return next((t for t in self.topics if t.slug == slug), None)

    @property
    def aliases(self) -> dict[str, str]:
        """Retired snippet id -> the id of the snippet that absorbed it."""
        return {old: s.id for s in self.snippets for old in s.replaces}


class SubscriptionStatus(enum.StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class Subscription:
    user: UserRef
    weekday: int
    """0 is Monday, as in `datetime.weekday()`."""
    local_time: time
    timezone: str
    status: SubscriptionStatus
    created_at: datetime
    paused_until: datetime | None = None
    next_due_at: datetime | None = None
    """The next nudge instant in UTC; kept by the nudge service."""
    notice: str | None = None
    """Something to tell the member next time they use the bot (e.g. DMs failed)."""
    reminders: bool = True
    """A mid-week reminder when the week's exercise is not done yet."""


class ProgressStatus(enum.StrEnum):
    DONE = "done"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class ProgressEntry:
    user: UserRef
    exercise_id: str
    status: ProgressStatus
    at: datetime
    link: str | None = None
    note: str | None = None
    round: int = 1
    """1 for the first pass through the track, 2 for a review round, and so on."""


class RevisionAction(enum.StrEnum):
    """Why a revision exists. `yaml` records the shipped (git) version a chat change started
    from, or that git now carries the chat change: either way it overrides nothing."""

    YAML = "yaml"
    ADD = "add"
    EDIT = "edit"
    RETIRE = "retire"
    APPROVE = "approve"
    REVERT = "revert"


@dataclass(frozen=True, slots=True)
class SnippetRevision:
    """A change made from chat, layered over the shipped YAML by snippet id."""

    snippet_id: str
    revision: int
    title: str
    body: str
    topics: tuple[str, ...]
    questions: tuple[str, ...]
    retired: bool
    author: UserRef
    at: datetime
    source: str | None = None
    action: RevisionAction = RevisionAction.EDIT
    base_hash: str | None = None
    """`content_hash` of the YAML version this revision was made over (None: not in YAML)."""
    note: str = ""
    """E.g. which revision a revert restored, or the suggestion an approval published."""

    @property
    def overrides(self) -> bool:
        """Whether this revision, as the newest, replaces what the YAML says."""
        return self.action != RevisionAction.YAML

    def as_snippet(self) -> Snippet:
        return Snippet(
            id=self.snippet_id,
            title=self.title,
            body=self.body,
            topics=self.topics,
            questions=self.questions,
            source=self.source,
            origin=SnippetOrigin.COMMUNITY,
        )


class SuggestionStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class Suggestion:
    id: int
    author: UserRef
    title: str
    body: str
    topics: tuple[str, ...]
    status: SuggestionStatus
    created_at: datetime
    questions: tuple[str, ...] = ()
    decided_by: UserRef | None = None
    decided_at: datetime | None = None
    reason: str | None = None
    snippet_id: str | None = None
    """The snippet an approved suggestion became."""


@dataclass(frozen=True, slots=True)
class NewSuggestion:
    author: UserRef
    title: str
    body: str
    topics: tuple[str, ...]
    created_at: datetime
    questions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AuditEntry:
    actor: UserRef
    action: str
    """One of add, edit, retire, approve, reject."""
    target: str
    at: datetime
    detail: str = ""


@dataclass(frozen=True, slots=True)
class VoteRecord:
    snippet_id: str
    value: int
    at: datetime


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    """One weekly nudge or reminder as a member's data export shows it."""

    week: str
    status: str
    due_at: datetime
    sent_at: datetime | None
    exercise_id: str | None


@dataclass(frozen=True, slots=True)
class PauseSpan:
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class MemberData:
    """Everything stored about one member, for `mydata`."""

    user: UserRef
    first_seen: datetime | None
    subscription: Subscription | None
    pauses: tuple[PauseSpan, ...]
    progress: tuple[ProgressEntry, ...]
    deliveries: tuple[DeliveryRecord, ...]
    votes: tuple[VoteRecord, ...]
    suggestions: tuple[Suggestion, ...]
    revisions: tuple[SnippetRevision, ...]
    audit: tuple[AuditEntry, ...]


@dataclass(frozen=True, slots=True)
class Erasure:
    """What `forget` did: rows deleted with the member, and rows kept without them."""

    deleted: int
    anonymised: int


@dataclass(frozen=True, slots=True)
class VoteTally:
    up: int = 0
    down: int = 0


@dataclass(frozen=True, slots=True)
class UnansweredQuery:
    text: str
    at: datetime


@dataclass(frozen=True, slots=True)
class GapCount:
    text: str
    count: int
    last_at: datetime


@dataclass(frozen=True, slots=True)
class ScoredSnippet:
    snippet: Snippet
    score: float


@dataclass(frozen=True, slots=True)
class Correction:
    """A query word read as a nearby word of the knowledge base (a typo fixed)."""

    typed: str
    meant: str


@dataclass(frozen=True, slots=True)
class SearchResult:
    query: str
    hits: tuple[ScoredSnippet, ...] = field(default_factory=tuple)
    corrections: tuple[Correction, ...] = ()
    answerability: float = 0.0
    """Estimated chance, from 0 to 1, that the best hit answers the question."""

    @property
    def declined(self) -> bool:
        return not self.hits


# -- read models for the web library and the moderators' dashboard ----------------------------


@dataclass(frozen=True, slots=True)
class QuestionEvent:
    """One question asked in chat, counted without its text or its author."""

    at: datetime
    answered: bool
    snippet_id: str | None = None
    """The snippet given as the answer; None when declined."""


@dataclass(frozen=True, slots=True)
class DayQuestions:
    day: date
    answered: int
    declined: int


@dataclass(frozen=True, slots=True)
class DayVotes:
    day: date
    up: int
    down: int


@dataclass(frozen=True, slots=True)
class PlatformNudges:
    platform: str
    sent: int
    failed: int
    paused: int
    """Subscriptions paused now (by the member, or after their DMs failed)."""


@dataclass(frozen=True, slots=True)
class TrackReach:
    """How far members got through the first round of the exercise track."""

    recorded: dict[int, int]
    """Number of exercises a member recorded (done or skipped) -> how many members."""
    outcomes: dict[str, tuple[int, int]]
    """Exercise id -> (done, skipped) among first-round entries."""


class WebRole(enum.StrEnum):
    MODERATOR = "moderator"
    """The dashboard."""
    MEMBER = "member"
    """The member's own page."""


@dataclass(frozen=True, slots=True)
class WebLink:
    """A one-time sign-in link, stored by the hash of its token."""

    token_hash: str
    user: UserRef
    role: WebRole
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class WebSession:
    token_hash: str
    user: UserRef
    role: WebRole
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Portfolio:
    """The handed-in exercises a member chose to show on a public page."""

    user: UserRef
    slug: str
    """The page's unguessable address."""
    items: frozenset[str]
    """`<round>:<exercise id>` of each entry shown."""
    updated_at: datetime
