"""The database schema as SQLAlchemy declarative models.

Members are rows in `users`, referenced by foreign key from their own data (subscription,
pauses, progress, votes, deliveries, flood counters), so erasing a member is deleting one row.
Moderation records (revisions, suggestions, audit) keep the author's platform identity inline
instead: they are a history that must survive the member, so erasure rewrites those columns
to an anonymous alias rather than deleting the rows.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    Time,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ID = 64
"""Length of platform ids, workspace ids, snippet and exercise slugs."""
UNANSWERED_TEXT_LIMIT = 500
NORMALISED_TEXT_LIMIT = 300


class UTCDateTime(TypeDecorator[datetime]):
    """An aware datetime, stored as UTC, read back as aware UTC on every backend.

    SQLite has no time zone type: values are stored there as naive UTC text and the zone is
    put back on read. Naive datetimes are refused so a local time never slips in unnoticed.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: store aware UTC datetimes only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _one_of(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


SUBSCRIPTION_STATUSES = ("active", "paused", "cancelled")
PROGRESS_STATUSES = ("done", "skipped")
SUGGESTION_STATUSES = ("pending", "approved", "rejected")
DELIVERY_STATUSES = (
    "pending",
    "sending",
    "sent",
    "retrying",
    "failed",
    "skipped",
    "cancelled",
)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), time: Time()}


metadata = Base.metadata


class UserRow(Base):
    """A member as their platform knows them. `user_id` is the platform's id, not ours."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("platform", "workspace", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    workspace: Mapped[str] = mapped_column(String(ID))
    user_id: Mapped[str] = mapped_column(String(ID))
    timezone: Mapped[str | None] = mapped_column(String(ID))
    created_at: Mapped[datetime]


def _user_fk() -> Mapped[int]:
    return mapped_column(ForeignKey("users.id", ondelete="CASCADE"))


class SubscriptionRow(Base):
    __tablename__ = "subscriptions"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        CheckConstraint(_one_of("status", SUBSCRIPTION_STATUSES), name="status"),
        # The scheduler's hot query: status = 'active' AND next_due_at <= now.
        Index(None, "status", "next_due_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    weekday: Mapped[int] = mapped_column(SmallInteger)
    local_time: Mapped[time]
    timezone: Mapped[str] = mapped_column(String(ID))
    status: Mapped[str] = mapped_column(String(16))
    paused_until: Mapped[datetime | None]
    next_due_at: Mapped[datetime | None]
    notice: Mapped[str | None] = mapped_column(Text)
    reminders: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class PauseRow(Base):
    """A pause the member took: the weeks it covers count neither way for the streak."""

    __tablename__ = "pauses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    start_at: Mapped[datetime]
    end_at: Mapped[datetime]


class ProgressRow(Base):
    __tablename__ = "progress"
    __table_args__ = (
        UniqueConstraint("user_id", "exercise_id", "round"),
        CheckConstraint(_one_of("status", PROGRESS_STATUSES), name="status"),
        Index(None, "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = _user_fk()
    exercise_id: Mapped[str] = mapped_column(String(ID))
    status: Mapped[str] = mapped_column(String(16))
    link: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    round: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime]


class DeliveryRow(Base):
    """One weekly nudge for one member; the unique (user, week) key makes creating it
    idempotent, and the status/lease columns let several processes share the work."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("user_id", "week"),
        CheckConstraint(_one_of("status", DELIVERY_STATUSES), name="status"),
        Index(None, "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = _user_fk()
    week: Mapped[str] = mapped_column(String(16))
    exercise_id: Mapped[str | None] = mapped_column(String(ID))
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    next_attempt_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    sending_since: Mapped[datetime | None]
    """Set just before the platform is asked to send: if the claim then expires, the message
    may have gone out, and the next claimant looks before sending again."""
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    platform_message_id: Mapped[str | None] = mapped_column(String(128))
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class SnippetRevisionRow(Base):
    __tablename__ = "snippet_revisions"
    __table_args__ = (UniqueConstraint("snippet_id", "revision"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    snippet_id: Mapped[str] = mapped_column(String(ID))
    revision: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    topics: Mapped[list[str]] = mapped_column(JSON)
    questions: Mapped[list[str]] = mapped_column(JSON)
    source: Mapped[str | None] = mapped_column(Text)
    retired: Mapped[bool] = mapped_column(Boolean)
    author_platform: Mapped[str] = mapped_column(String(16))
    author_workspace: Mapped[str] = mapped_column(String(ID))
    author_user_id: Mapped[str] = mapped_column(String(ID))
    at: Mapped[datetime]
    action: Mapped[str] = mapped_column(String(16), server_default=text("'edit'"))
    base_hash: Mapped[str | None] = mapped_column(String(ID))
    """The content hash of the YAML version the revision was made over."""
    note: Mapped[str] = mapped_column(Text, server_default=text("''"))


class SuggestionRow(Base):
    __tablename__ = "suggestions"
    __table_args__ = (
        CheckConstraint(_one_of("status", SUGGESTION_STATUSES), name="status"),
        Index(None, "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    author_platform: Mapped[str] = mapped_column(String(16))
    author_workspace: Mapped[str] = mapped_column(String(ID))
    author_user_id: Mapped[str] = mapped_column(String(ID))
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    topics: Mapped[list[str]] = mapped_column(JSON)
    questions: Mapped[list[str]] = mapped_column(JSON, server_default=text("'[]'"))
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    decided_by_platform: Mapped[str | None] = mapped_column(String(16))
    decided_by_workspace: Mapped[str | None] = mapped_column(String(ID))
    decided_by_user_id: Mapped[str | None] = mapped_column(String(ID))
    decided_at: Mapped[datetime | None]
    reason: Mapped[str | None] = mapped_column(Text)
    snippet_id: Mapped[str | None] = mapped_column(String(ID))


class FeedbackVoteRow(Base):
    __tablename__ = "feedback_votes"
    __table_args__ = (
        UniqueConstraint("user_id", "snippet_id"),
        CheckConstraint("value IN (-1, 1)", name="value"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = _user_fk()
    snippet_id: Mapped[str] = mapped_column(String(ID))
    value: Mapped[int] = mapped_column(SmallInteger)
    at: Mapped[datetime]


class FloodCounterRow(Base):
    """How often a member did one limited thing (suggest, vote, share) in one time window."""

    __tablename__ = "flood_counters"
    __table_args__ = (UniqueConstraint("user_id", "action", "window_start"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = _user_fk()
    action: Mapped[str] = mapped_column(String(16))
    window_start: Mapped[datetime]
    count: Mapped[int] = mapped_column(Integer)


class AuditRow(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index(None, "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor_platform: Mapped[str] = mapped_column(String(16))
    actor_workspace: Mapped[str] = mapped_column(String(ID))
    actor_user_id: Mapped[str] = mapped_column(String(ID))
    action: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(128))
    detail: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime]


class UnansweredQueryRow(Base):
    """A question the bot had no answer for. Deliberately no user: gaps are anonymous, and the
    text is masked (tokens, e-mail addresses, phone numbers) before it is stored."""

    __tablename__ = "unanswered_queries"
    __table_args__ = (Index(None, "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(String(UNANSWERED_TEXT_LIMIT))
    normalised: Mapped[str] = mapped_column(String(NORMALISED_TEXT_LIMIT), index=True)
    at: Mapped[datetime]


class QuestionLogRow(Base):
    """One question asked in chat: answered (by which snippet) or declined. No text, no
    member: the dashboard counts questions, it does not watch people."""

    __tablename__ = "question_log"
    __table_args__ = (Index(None, "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime]
    answered: Mapped[bool] = mapped_column(Boolean)
    snippet_id: Mapped[str | None] = mapped_column(String(ID))


WEB_ROLES = ("moderator", "member")


class WebLinkRow(Base):
    """A one-time sign-in link; only the SHA-256 of its token is stored."""

    __tablename__ = "web_links"
    __table_args__ = (
        CheckConstraint(_one_of("role", WEB_ROLES), name="role"),
        Index(None, "expires_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    platform: Mapped[str] = mapped_column(String(16))
    workspace: Mapped[str] = mapped_column(String(ID))
    user_id: Mapped[str] = mapped_column(String(ID))
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class WebSessionRow(Base):
    """A signed-in browser; only the SHA-256 of its cookie's token is stored."""

    __tablename__ = "web_sessions"
    __table_args__ = (
        CheckConstraint(_one_of("role", WEB_ROLES), name="role"),
        Index(None, "expires_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    platform: Mapped[str] = mapped_column(String(16))
    workspace: Mapped[str] = mapped_column(String(ID))
    user_id: Mapped[str] = mapped_column(String(ID))
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class PortfolioRow(Base):
    """A member's public portfolio page (only when the admin turns the feature on): the
    unguessable address and which handed-in exercises it shows."""

    __tablename__ = "portfolios"
    __table_args__ = (UniqueConstraint("platform", "workspace", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(32), unique=True)
    platform: Mapped[str] = mapped_column(String(16))
    workspace: Mapped[str] = mapped_column(String(ID))
    user_id: Mapped[str] = mapped_column(String(ID))
    items: Mapped[list[str]] = mapped_column(JSON)
    """`<round>:<exercise id>` of each entry shown."""
    updated_at: Mapped[datetime]


from bot.storage import platform_tables as _platform_tables  # noqa: E402,F401  (registers them)
