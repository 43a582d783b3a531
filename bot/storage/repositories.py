"""SQL implementations of the repository protocols in `bot.core.ports`.

Each method is one transaction. Writes that can collide use the database to decide: an
insert that ignores or merges on a unique key, or an update guarded by the expected status,
and RETURNING to learn whether this call was the one that changed the row.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, and_, case, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.core.models import (
    AuditEntry,
    DeliveryRecord,
    Erasure,
    GapCount,
    MemberData,
    NewSuggestion,
    PauseSpan,
    ProgressEntry,
    ProgressStatus,
    RevisionAction,
    SnippetRevision,
    Subscription,
    SubscriptionStatus,
    Suggestion,
    SuggestionStatus,
    UserRef,
    VoteRecord,
    VoteTally,
)
from bot.core.ports import Clock, ConflictError, Repositories, SystemClock
from bot.core.text import normalise_question
from bot.storage.tables import (
    UNANSWERED_TEXT_LIMIT,
    AuditRow,
    Base,
    DeliveryRow,
    FeedbackVoteRow,
    FloodCounterRow,
    PauseRow,
    PortfolioRow,
    ProgressRow,
    SnippetRevisionRow,
    SubscriptionRow,
    SuggestionRow,
    UnansweredQueryRow,
    UserRow,
    WebLinkRow,
    WebSessionRow,
)
from bot.storage.web import SqlQuestionLog, SqlReports, SqlWebAccess

if TYPE_CHECKING:
    from sqlalchemy.dialects import postgresql, sqlite

Sessions = async_sessionmaker[AsyncSession]


def _insert(session: AsyncSession, model: type[Base]) -> postgresql.Insert | sqlite.Insert:
    """An INSERT that understands ON CONFLICT on the session's database (each dialect's
    module imported only when that database is used)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(model)
    if dialect == "sqlite":
        from sqlalchemy.dialects import sqlite

        return sqlite.insert(model)
    raise NotImplementedError(f"no upsert support for {dialect}")


def _is_user(user: UserRef) -> ColumnElement[bool]:
    return and_(
        UserRow.platform == user.platform,
        UserRow.workspace == user.workspace,
        UserRow.user_id == user.user_id,
    )


async def _user_pk(session: AsyncSession, user: UserRef, seen_at: datetime) -> int:
    """The member's row id, creating the row on first sight (safe against a racing insert)."""
    lookup = select(UserRow.id).where(_is_user(user))
    found = await session.scalar(lookup)
    if found is not None:
        return found
    await session.execute(
        _insert(session, UserRow)
        .values(
            platform=user.platform,
            workspace=user.workspace,
            user_id=user.user_id,
            created_at=seen_at,
        )
        .on_conflict_do_nothing(index_elements=["platform", "workspace", "user_id"])
    )
    return (await session.execute(lookup)).scalar_one()


def _user_ref(row: UserRow) -> UserRef:
    return UserRef(platform=row.platform, workspace=row.workspace, user_id=row.user_id)


class SqlSubscriptionRepository:
    def __init__(self, sessions: Sessions, clock: Clock | None = None) -> None:
        self._sessions = sessions
        self._clock = clock or SystemClock()

    async def get(self, user: UserRef) -> Subscription | None:
        async with self._sessions() as session:
            row = await session.scalar(select(SubscriptionRow).join(UserRow).where(_is_user(user)))
            return None if row is None else _subscription(row, user)

    async def save(self, subscription: Subscription) -> None:
        now = self._clock.now()
        async with self._sessions.begin() as session:
            user_pk = await _user_pk(session, subscription.user, now)
            values: dict[str, Any] = {
                "weekday": subscription.weekday,
                "local_time": subscription.local_time,
                "timezone": subscription.timezone,
                "status": subscription.status.value,
                "paused_until": subscription.paused_until,
                "next_due_at": subscription.next_due_at,
                "notice": subscription.notice,
                "reminders": subscription.reminders,
                "created_at": subscription.created_at,
                "updated_at": now,
            }
            insert = _insert(session, SubscriptionRow).values(user_id=user_pk, **values)
            await session.execute(
                insert.on_conflict_do_update(
                    index_elements=["user_id"],
                    set_={name: insert.excluded[name] for name in values},
                )
            )

    async def counts(self) -> dict[SubscriptionStatus, int]:
        async with self._sessions() as session:
            rows = await session.execute(
                select(SubscriptionRow.status, func.count()).group_by(SubscriptionRow.status)
            )
            return {SubscriptionStatus(status): count for status, count in rows}

    async def add_pause(self, user: UserRef, start: datetime, end: datetime) -> None:
        async with self._sessions.begin() as session:
            user_pk = await _user_pk(session, user, start)
            session.add(PauseRow(user_id=user_pk, start_at=start, end_at=end))

    async def end_pause(self, user: UserRef, at: datetime) -> None:
        mine = select(UserRow.id).where(_is_user(user)).scalar_subquery()
        async with self._sessions.begin() as session:
            await session.execute(
                update(PauseRow)
                .where(PauseRow.user_id == mine, PauseRow.end_at > at, PauseRow.start_at <= at)
                .values(end_at=at)
            )

    async def pauses(self, user: UserRef) -> list[PauseSpan]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(PauseRow)
                .join(UserRow)
                .where(_is_user(user))
                .order_by(PauseRow.start_at, PauseRow.id)
            )
            return [PauseSpan(row.start_at, row.end_at) for row in rows]


def _subscription(row: SubscriptionRow, user: UserRef) -> Subscription:
    return Subscription(
        user=user,
        weekday=row.weekday,
        local_time=row.local_time,
        timezone=row.timezone,
        status=SubscriptionStatus(row.status),
        created_at=row.created_at,
        paused_until=row.paused_until,
        next_due_at=row.next_due_at,
        notice=row.notice,
        reminders=row.reminders,
    )


class SqlProgressRepository:
    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    async def list_for(self, user: UserRef) -> list[ProgressEntry]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(ProgressRow)
                .join(UserRow)
                .where(_is_user(user))
                .order_by(ProgressRow.at, ProgressRow.id)
            )
            return [_progress(row, user) for row in rows]

    async def record(self, entry: ProgressEntry) -> bool:
        async with self._sessions.begin() as session:
            user_pk = await _user_pk(session, entry.user, entry.at)
            inserted = await session.scalar(
                _insert(session, ProgressRow)
                .values(
                    user_id=user_pk,
                    exercise_id=entry.exercise_id,
                    status=entry.status.value,
                    link=entry.link,
                    note=entry.note,
                    round=entry.round,
                    at=entry.at,
                )
                .on_conflict_do_nothing(index_elements=["user_id", "exercise_id", "round"])
                .returning(ProgressRow.id)
            )
            return inserted is not None

    async def count_done_since(self, since: datetime) -> int:
        async with self._sessions() as session:
            count = await session.scalar(
                select(func.count())
                .select_from(ProgressRow)
                .where(ProgressRow.status == ProgressStatus.DONE.value, ProgressRow.at >= since)
            )
            return count or 0


def _progress(row: ProgressRow, user: UserRef) -> ProgressEntry:
    return ProgressEntry(
        user=user,
        exercise_id=row.exercise_id,
        status=ProgressStatus(row.status),
        at=row.at,
        link=row.link,
        note=row.note,
        round=row.round,
    )


async def _add_revision(session: AsyncSession, revision: SnippetRevision) -> None:
    inserted = await session.scalar(
        _insert(session, SnippetRevisionRow)
        .values(
            snippet_id=revision.snippet_id,
            revision=revision.revision,
            title=revision.title,
            body=revision.body,
            topics=list(revision.topics),
            questions=list(revision.questions),
            source=revision.source,
            retired=revision.retired,
            author_platform=revision.author.platform,
            author_workspace=revision.author.workspace,
            author_user_id=revision.author.user_id,
            at=revision.at,
            action=revision.action.value,
            base_hash=revision.base_hash,
            note=revision.note,
        )
        .on_conflict_do_nothing(index_elements=["snippet_id", "revision"])
        .returning(SnippetRevisionRow.id)
    )
    if inserted is None:
        raise ConflictError(f"{revision.snippet_id} revision {revision.revision} exists")


def _add_audit(session: AsyncSession, entry: AuditEntry) -> None:
    session.add(
        AuditRow(
            actor_platform=entry.actor.platform,
            actor_workspace=entry.actor.workspace,
            actor_user_id=entry.actor.user_id,
            action=entry.action,
            target=entry.target,
            detail=entry.detail,
            at=entry.at,
        )
    )


def _revision(row: SnippetRevisionRow) -> SnippetRevision:
    return SnippetRevision(
        snippet_id=row.snippet_id,
        revision=row.revision,
        title=row.title,
        body=row.body,
        topics=tuple(row.topics),
        questions=tuple(row.questions),
        retired=row.retired,
        author=UserRef(row.author_platform, row.author_workspace, row.author_user_id),
        at=row.at,
        source=row.source,
        action=RevisionAction(row.action),
        base_hash=row.base_hash,
        note=row.note,
    )


class SqlRevisionRepository:
    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    async def latest(self) -> list[SnippetRevision]:
        newest = (
            select(
                SnippetRevisionRow.snippet_id,
                func.max(SnippetRevisionRow.revision).label("revision"),
            )
            .group_by(SnippetRevisionRow.snippet_id)
            .subquery()
        )
        async with self._sessions() as session:
            rows = await session.scalars(
                select(SnippetRevisionRow).join(
                    newest,
                    and_(
                        SnippetRevisionRow.snippet_id == newest.c.snippet_id,
                        SnippetRevisionRow.revision == newest.c.revision,
                    ),
                )
            )
            # Sorted here, not in SQL, so the order does not depend on the database collation.
            return sorted((_revision(row) for row in rows), key=lambda r: r.snippet_id)

    async def history(self, snippet_id: str) -> list[SnippetRevision]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(SnippetRevisionRow)
                .where(SnippetRevisionRow.snippet_id == snippet_id)
                .order_by(SnippetRevisionRow.revision)
            )
            return [_revision(row) for row in rows]

    async def add(
        self,
        revision: SnippetRevision,
        audit: AuditEntry,
        snapshot: SnippetRevision | None = None,
    ) -> None:
        async with self._sessions.begin() as session:
            if snapshot is not None:
                await _add_revision(session, snapshot)
            await _add_revision(session, revision)
            _add_audit(session, audit)


class SqlSuggestionRepository:
    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    async def add(self, suggestion: NewSuggestion) -> Suggestion:
        row = SuggestionRow(
            author_platform=suggestion.author.platform,
            author_workspace=suggestion.author.workspace,
            author_user_id=suggestion.author.user_id,
            title=suggestion.title,
            body=suggestion.body,
            topics=list(suggestion.topics),
            questions=list(suggestion.questions),
            status=SuggestionStatus.PENDING.value,
            created_at=suggestion.created_at,
        )
        async with self._sessions.begin() as session:
            session.add(row)
            await session.flush()
            return _suggestion(row)

    async def get(self, suggestion_id: int) -> Suggestion | None:
        async with self._sessions() as session:
            row = await session.get(SuggestionRow, suggestion_id)
            return None if row is None else _suggestion(row)

    async def pending(self, limit: int) -> list[Suggestion]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(SuggestionRow)
                .where(SuggestionRow.status == SuggestionStatus.PENDING.value)
                .order_by(SuggestionRow.created_at, SuggestionRow.id)
                .limit(limit)
            )
            return [_suggestion(row) for row in rows]

    async def count_pending(self) -> int:
        async with self._sessions() as session:
            count = await session.scalar(
                select(func.count())
                .select_from(SuggestionRow)
                .where(SuggestionRow.status == SuggestionStatus.PENDING.value)
            )
            return count or 0

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
        # The guarded UPDATE is the race's referee: a second moderator's UPDATE waits for
        # the first transaction, then matches no row, and that call stores nothing.
        claim = (
            update(SuggestionRow)
            .where(
                SuggestionRow.id == suggestion_id,
                SuggestionRow.status == SuggestionStatus.PENDING.value,
            )
            .values(
                status=status.value,
                decided_by_platform=by.platform,
                decided_by_workspace=by.workspace,
                decided_by_user_id=by.user_id,
                decided_at=at,
                reason=reason,
                snippet_id=revision.snippet_id if revision else None,
            )
            .returning(SuggestionRow)
            .execution_options(synchronize_session=False)
        )
        async with self._sessions.begin() as session:
            row = await session.scalar(claim)
            if row is None:
                return None
            if revision is not None:
                await _add_revision(session, revision)
            _add_audit(session, audit)
            return _suggestion(row)


def _suggestion(row: SuggestionRow) -> Suggestion:
    decided_by = None
    if row.decided_by_platform is not None:
        decided_by = UserRef(
            row.decided_by_platform, row.decided_by_workspace or "", row.decided_by_user_id or ""
        )
    return Suggestion(
        id=row.id,
        author=UserRef(row.author_platform, row.author_workspace, row.author_user_id),
        title=row.title,
        body=row.body,
        topics=tuple(row.topics),
        questions=tuple(row.questions or ()),
        status=SuggestionStatus(row.status),
        created_at=row.created_at,
        decided_by=decided_by,
        decided_at=row.decided_at,
        reason=row.reason,
        snippet_id=row.snippet_id,
    )


class SqlAuditRepository:
    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    async def recent(self, limit: int) -> list[AuditEntry]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(AuditRow).order_by(AuditRow.at.desc(), AuditRow.id.desc()).limit(limit)
            )
            return [
                AuditEntry(
                    actor=UserRef(row.actor_platform, row.actor_workspace, row.actor_user_id),
                    action=row.action,
                    target=row.target,
                    at=row.at,
                    detail=row.detail,
                )
                for row in rows
            ]


class SqlFeedbackRepository:
    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    async def vote(self, user: UserRef, snippet_id: str, value: int, at: datetime) -> None:
        if value not in (1, -1):
            raise ValueError(f"a vote is +1 or -1, not {value}")
        async with self._sessions.begin() as session:
            user_pk = await _user_pk(session, user, at)
            insert = _insert(session, FeedbackVoteRow).values(
                user_id=user_pk, snippet_id=snippet_id, value=value, at=at
            )
            await session.execute(
                insert.on_conflict_do_update(
                    index_elements=["user_id", "snippet_id"],
                    set_={"value": insert.excluded.value, "at": insert.excluded.at},
                )
            )

    async def tallies(self) -> dict[str, VoteTally]:
        up = func.sum(case((FeedbackVoteRow.value > 0, 1), else_=0))
        down = func.sum(case((FeedbackVoteRow.value < 0, 1), else_=0))
        async with self._sessions() as session:
            rows = await session.execute(
                select(FeedbackVoteRow.snippet_id, up, down).group_by(FeedbackVoteRow.snippet_id)
            )
            return {snippet_id: VoteTally(int(u), int(d)) for snippet_id, u, d in rows}


class SqlUnansweredRepository:
    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    async def add(self, text: str, at: datetime) -> None:
        async with self._sessions.begin() as session:
            session.add(
                UnansweredQueryRow(
                    text=text[:UNANSWERED_TEXT_LIMIT], normalised=normalise_question(text), at=at
                )
            )

    async def top(self, limit: int, since: datetime) -> list[GapCount]:
        q = UnansweredQueryRow
        group = q.normalised
        # Rank each group's rows newest first: the newest row gives the display text and
        # last_at, the window count gives the group size.
        ranked = (
            select(
                q.id,
                q.text,
                q.at,
                func.row_number()
                .over(partition_by=group, order_by=(q.at.desc(), q.id.desc()))
                .label("rank"),
                func.count().over(partition_by=group).label("n"),
            )
            .where(q.at >= since)
            .subquery()
        )
        async with self._sessions() as session:
            rows = await session.execute(
                select(ranked.c.text, ranked.c.n, ranked.c.at)
                .where(ranked.c.rank == 1)
                .order_by(ranked.c.n.desc(), ranked.c.at.desc(), ranked.c.id.desc())
                .limit(limit)
            )
            return [GapCount(text=text, count=n, last_at=at) for text, n, at in rows]

    async def count_since(self, since: datetime) -> int:
        async with self._sessions() as session:
            count = await session.scalar(
                select(func.count())
                .select_from(UnansweredQueryRow)
                .where(UnansweredQueryRow.at >= since)
            )
            return count or 0

    async def purge(self, before: datetime) -> int:
        async with self._sessions.begin() as session:
            result = await session.execute(
                delete(UnansweredQueryRow).where(UnansweredQueryRow.at < before)
            )
            return int(result.rowcount)  # type: ignore[attr-defined]


class SqlFloodRepository:
    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    async def take(self, user: UserRef, action: str, window_start: datetime) -> int:
        async with self._sessions.begin() as session:
            user_pk = await _user_pk(session, user, window_start)
            await session.execute(
                delete(FloodCounterRow).where(
                    FloodCounterRow.user_id == user_pk,
                    FloodCounterRow.action == action,
                    FloodCounterRow.window_start < window_start,
                )
            )
            # One atomic upsert decides, so two replicas never both take the last slot.
            insert = _insert(session, FloodCounterRow).values(
                user_id=user_pk, action=action, window_start=window_start, count=1
            )
            count = await session.scalar(
                insert.on_conflict_do_update(
                    index_elements=["user_id", "action", "window_start"],
                    set_={"count": FloodCounterRow.count + 1},
                ).returning(FloodCounterRow.count)
            )
            return int(count or 0)


class SqlMemberRepository:
    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    async def collect(self, user: UserRef) -> MemberData:
        async with self._sessions() as session:
            row = await session.scalar(select(UserRow).where(_is_user(user)))
            pk = row.id if row is not None else -1
            subscription = await session.scalar(
                select(SubscriptionRow).where(SubscriptionRow.user_id == pk)
            )
            pauses = await session.scalars(
                select(PauseRow).where(PauseRow.user_id == pk).order_by(PauseRow.start_at)
            )
            progress = await session.scalars(
                select(ProgressRow).where(ProgressRow.user_id == pk).order_by(ProgressRow.at)
            )
            deliveries = await session.scalars(
                select(DeliveryRow).where(DeliveryRow.user_id == pk).order_by(DeliveryRow.due_at)
            )
            votes = await session.scalars(
                select(FeedbackVoteRow)
                .where(FeedbackVoteRow.user_id == pk)
                .order_by(FeedbackVoteRow.at)
            )
            suggestions = await session.scalars(
                select(SuggestionRow)
                .where(*_authored(SuggestionRow, user))
                .order_by(SuggestionRow.created_at, SuggestionRow.id)
            )
            revisions = await session.scalars(
                select(SnippetRevisionRow)
                .where(*_authored(SnippetRevisionRow, user))
                .order_by(SnippetRevisionRow.at, SnippetRevisionRow.id)
            )
            audit = await session.scalars(
                select(AuditRow)
                .where(
                    AuditRow.actor_platform == user.platform,
                    AuditRow.actor_workspace == user.workspace,
                    AuditRow.actor_user_id == user.user_id,
                )
                .order_by(AuditRow.at, AuditRow.id)
            )
            return MemberData(
                user=user,
                first_seen=row.created_at if row is not None else None,
                subscription=None if subscription is None else _subscription(subscription, user),
                pauses=tuple(PauseSpan(p.start_at, p.end_at) for p in pauses),
                progress=tuple(_progress(p, user) for p in progress),
                deliveries=tuple(
                    DeliveryRecord(d.week, d.status, d.due_at, d.sent_at, d.exercise_id)
                    for d in deliveries
                ),
                votes=tuple(VoteRecord(v.snippet_id, v.value, v.at) for v in votes),
                suggestions=tuple(_suggestion(s) for s in suggestions),
                revisions=tuple(_revision(r) for r in revisions),
                audit=tuple(AuditEntry(user, a.action, a.target, a.at, a.detail) for a in audit),
            )

    async def erase(self, user: UserRef, alias: UserRef) -> Erasure:
        async with self._sessions.begin() as session:
            row = await session.scalar(select(UserRow).where(_is_user(user)))
            anonymised = 0
            deleted = 0
            if row is not None:
                # Votes move to a row of their own that names nobody, so tallies survive.
                stand_in = await _user_pk(session, alias, row.created_at)
                moved = await session.execute(
                    update(FeedbackVoteRow)
                    .where(FeedbackVoteRow.user_id == row.id)
                    .values(user_id=stand_in)
                )
                anonymised += int(moved.rowcount)  # type: ignore[attr-defined]
                owned: tuple[Any, ...] = (
                    SubscriptionRow,
                    PauseRow,
                    ProgressRow,
                    DeliveryRow,
                    FloodCounterRow,
                )
                for table in owned:
                    gone = await session.execute(delete(table).where(table.user_id == row.id))
                    deleted += int(gone.rowcount)  # type: ignore[attr-defined]
                await session.execute(delete(UserRow).where(UserRow.id == row.id))
                deleted += 1
            # The web pages' rows name the member directly rather than through `users`.
            web_tables: tuple[Any, ...] = (WebLinkRow, WebSessionRow, PortfolioRow)
            for web_table in web_tables:
                gone = await session.execute(
                    delete(web_table).where(
                        web_table.platform == user.platform,
                        web_table.workspace == user.workspace,
                        web_table.user_id == user.user_id,
                    )
                )
                deleted += int(gone.rowcount)  # type: ignore[attr-defined]
            for model, prefix in (
                (SuggestionRow, "author"),
                (SuggestionRow, "decided_by"),
                (SnippetRevisionRow, "author"),
                (AuditRow, "actor"),
            ):
                columns = {
                    f"{prefix}_platform": alias.platform,
                    f"{prefix}_workspace": alias.workspace,
                    f"{prefix}_user_id": alias.user_id,
                }
                changed = await session.execute(
                    update(model).where(*_authored(model, user, prefix)).values(**columns)
                )
                anonymised += int(changed.rowcount)  # type: ignore[attr-defined]
            return Erasure(deleted=deleted, anonymised=anonymised)


def _authored(model: Any, user: UserRef, prefix: str = "author") -> list[ColumnElement[bool]]:
    return [
        getattr(model, f"{prefix}_platform") == user.platform,
        getattr(model, f"{prefix}_workspace") == user.workspace,
        getattr(model, f"{prefix}_user_id") == user.user_id,
    ]


def build_repositories(engine: AsyncEngine, clock: Clock | None = None) -> Repositories:
    """Every repository over one engine. The caller owns the engine and disposes of it."""
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    return Repositories(
        subscriptions=SqlSubscriptionRepository(sessions, clock),
        progress=SqlProgressRepository(sessions),
        revisions=SqlRevisionRepository(sessions),
        suggestions=SqlSuggestionRepository(sessions),
        audit=SqlAuditRepository(sessions),
        feedback=SqlFeedbackRepository(sessions),
        unanswered=SqlUnansweredRepository(sessions),
        flood=SqlFloodRepository(sessions),
        members=SqlMemberRepository(sessions),
        questions=SqlQuestionLog(sessions),
        reports=SqlReports(sessions),
        web=SqlWebAccess(sessions),
    )
