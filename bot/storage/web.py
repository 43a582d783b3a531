"""SQL for the web pages: the question log, the dashboard's aggregates, sign-in links and
sessions. The aggregates are read-only GROUP BY queries; days are UTC days."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, case, cast, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.models import (
    DayQuestions,
    DayVotes,
    PlatformNudges,
    Portfolio,
    QuestionEvent,
    TrackReach,
    UserRef,
    WebLink,
    WebRole,
    WebSession,
)
from bot.storage.tables import (
    DeliveryRow,
    FeedbackVoteRow,
    PortfolioRow,
    ProgressRow,
    QuestionLogRow,
    SubscriptionRow,
    UserRow,
    WebLinkRow,
    WebSessionRow,
)

Sessions = async_sessionmaker[AsyncSession]

ROUND_START = "round-start"


def _utc_day(session: AsyncSession, column: Any) -> Any:
    """The UTC calendar day of a timestamp column, on either database."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone("UTC", column), Date)
    # SQLite stores naive UTC text, "YYYY-MM-DD HH:MM:SS[.ffffff]": the day is its first ten
    # characters, and cutting them is several times cheaper than date() over many rows.
    return func.substr(column, 1, 10)


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


class SqlQuestionLog:
    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    async def add(self, event: QuestionEvent) -> None:
        async with self._sessions.begin() as session:
            session.add(
                QuestionLogRow(at=event.at, answered=event.answered, snippet_id=event.snippet_id)
            )


class SqlReports:
    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    async def questions_per_day(self, since: datetime) -> list[DayQuestions]:
        q = QuestionLogRow
        async with self._sessions() as session:
            day = _utc_day(session, q.at).label("day")
            answered = func.sum(case((q.answered.is_(True), 1), else_=0))
            declined = func.sum(case((q.answered.is_(True), 0), else_=1))
            rows = await session.execute(
                select(day, answered, declined).where(q.at >= since).group_by(day).order_by(day)
            )
            return [DayQuestions(_as_date(d), int(a), int(n)) for d, a, n in rows]

    async def votes_per_day(self, since: datetime) -> list[DayVotes]:
        v = FeedbackVoteRow
        async with self._sessions() as session:
            day = _utc_day(session, v.at).label("day")
            up = func.sum(case((v.value > 0, 1), else_=0))
            down = func.sum(case((v.value < 0, 1), else_=0))
            rows = await session.execute(
                select(day, up, down).where(v.at >= since).group_by(day).order_by(day)
            )
            return [DayVotes(_as_date(d), int(u), int(n)) for d, u, n in rows]

    async def _per_day(self, column: Any, *where: Any) -> dict[date, int]:
        async with self._sessions() as session:
            day = _utc_day(session, column).label("day")
            rows = await session.execute(select(day, func.count()).where(*where).group_by(day))
            return {_as_date(d): int(n) for d, n in rows}

    async def subscribers_per_day(self, since: datetime) -> dict[date, int]:
        s = SubscriptionRow
        return await self._per_day(s.created_at, s.created_at >= since)

    async def done_per_day(self, since: datetime) -> dict[date, int]:
        p = ProgressRow
        return await self._per_day(p.at, p.at >= since, p.status == "done")

    async def nudges_by_platform(self, since: datetime) -> list[PlatformNudges]:
        d = DeliveryRow
        async with self._sessions() as session:
            sent = func.sum(case((d.status == "sent", 1), else_=0))
            failed = func.sum(case((d.status == "failed", 1), else_=0))
            deliveries = await session.execute(
                select(UserRow.platform, sent, failed)
                .select_from(d)
                .join(UserRow, UserRow.id == d.user_id)
                .where(d.due_at >= since)
                .group_by(UserRow.platform)
            )
            paused = await session.execute(
                select(UserRow.platform, func.count())
                .select_from(SubscriptionRow)
                .join(UserRow, UserRow.id == SubscriptionRow.user_id)
                .where(SubscriptionRow.status == "paused")
                .group_by(UserRow.platform)
            )
            counts: dict[str, list[int]] = {}
            for platform, s, f in deliveries:
                counts.setdefault(platform, [0, 0, 0])[:2] = [int(s), int(f)]
            for platform, n in paused:
                counts.setdefault(platform, [0, 0, 0])[2] = int(n)
        return [PlatformNudges(p, *values) for p, values in sorted(counts.items())]

    async def snippet_uses(self, since: datetime) -> dict[str, int]:
        q = QuestionLogRow
        async with self._sessions() as session:
            rows = await session.execute(
                select(q.snippet_id, func.count())
                .where(q.at >= since, q.snippet_id.is_not(None))
                .group_by(q.snippet_id)
            )
            return {str(snippet_id): int(n) for snippet_id, n in rows}

    async def track_reach(self) -> TrackReach:
        p = ProgressRow
        first_round = (p.round == 1, p.exercise_id != ROUND_START)
        async with self._sessions() as session:
            per_member = (
                select(p.user_id, func.count().label("n"))
                .where(*first_round)
                .group_by(p.user_id)
                .subquery()
            )
            recorded = await session.execute(
                select(per_member.c.n, func.count()).group_by(per_member.c.n)
            )
            outcomes = await session.execute(
                select(p.exercise_id, p.status, func.count())
                .where(*first_round)
                .group_by(p.exercise_id, p.status)
            )
            reach = {int(n): int(members) for n, members in recorded}
            results: dict[str, tuple[int, int]] = {}
            for exercise_id, status, n in outcomes:
                done, skipped = results.get(exercise_id, (0, 0))
                results[exercise_id] = (
                    (done + int(n), skipped) if status == "done" else (done, skipped + int(n))
                )
        return TrackReach(recorded=reach, outcomes=results)


def _portfolio(row: PortfolioRow) -> Portfolio:
    return Portfolio(
        user=UserRef(row.platform, row.workspace, row.user_id),
        slug=row.slug,
        items=frozenset(row.items),
        updated_at=row.updated_at,
    )


class SqlPortfolios:
    """The portfolio half of `SqlWebAccess`."""

    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    async def portfolio(self, user: UserRef) -> Portfolio | None:
        async with self._sessions() as session:
            row = await session.scalar(select(PortfolioRow).where(*_owned_by(user)))
            return None if row is None else _portfolio(row)

    async def portfolio_at(self, slug: str) -> Portfolio | None:
        async with self._sessions() as session:
            row = await session.scalar(select(PortfolioRow).where(PortfolioRow.slug == slug))
            return None if row is None else _portfolio(row)

    async def save_portfolio(self, portfolio: Portfolio) -> None:
        async with self._sessions.begin() as session:
            row = await session.scalar(select(PortfolioRow).where(*_owned_by(portfolio.user)))
            if row is None:
                row = PortfolioRow(
                    slug=portfolio.slug,
                    platform=portfolio.user.platform,
                    workspace=portfolio.user.workspace,
                    user_id=portfolio.user.user_id,
                )
                session.add(row)
            row.items = sorted(portfolio.items)
            row.updated_at = portfolio.updated_at

    async def delete_portfolio(self, user: UserRef) -> None:
        async with self._sessions.begin() as session:
            await session.execute(delete(PortfolioRow).where(*_owned_by(user)))


def _owned_by(user: UserRef) -> tuple[Any, ...]:
    return (
        PortfolioRow.platform == user.platform,
        PortfolioRow.workspace == user.workspace,
        PortfolioRow.user_id == user.user_id,
    )


def _link(row: WebLinkRow) -> WebLink:
    return WebLink(
        token_hash=row.token_hash,
        user=UserRef(row.platform, row.workspace, row.user_id),
        role=WebRole(row.role),
        created_at=row.created_at,
        expires_at=row.expires_at,
        used_at=row.used_at,
    )


def _session(row: WebSessionRow) -> WebSession:
    return WebSession(
        token_hash=row.token_hash,
        user=UserRef(row.platform, row.workspace, row.user_id),
        role=WebRole(row.role),
        created_at=row.created_at,
        expires_at=row.expires_at,
    )


class SqlWebAccess(SqlPortfolios):
    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    async def add_link(self, link: WebLink) -> None:
        async with self._sessions.begin() as session:
            session.add(
                WebLinkRow(
                    token_hash=link.token_hash,
                    platform=link.user.platform,
                    workspace=link.user.workspace,
                    user_id=link.user.user_id,
                    role=link.role.value,
                    created_at=link.created_at,
                    expires_at=link.expires_at,
                    used_at=link.used_at,
                )
            )

    async def find_link(self, token_hash: str) -> WebLink | None:
        async with self._sessions() as session:
            row = await session.scalar(
                select(WebLinkRow).where(WebLinkRow.token_hash == token_hash)
            )
            return None if row is None else _link(row)

    async def redeem_link(self, token_hash: str, now: datetime) -> WebLink | None:
        # The guarded UPDATE decides a race: the second redeemer matches no row.
        claim = (
            update(WebLinkRow)
            .where(
                WebLinkRow.token_hash == token_hash,
                WebLinkRow.used_at.is_(None),
                WebLinkRow.expires_at > now,
            )
            .values(used_at=now)
            .returning(WebLinkRow)
            .execution_options(synchronize_session=False)
        )
        async with self._sessions.begin() as session:
            row = await session.scalar(claim)
            return None if row is None else _link(row)

    async def add_session(self, web_session: WebSession) -> None:
        async with self._sessions.begin() as session:
            session.add(
                WebSessionRow(
                    token_hash=web_session.token_hash,
                    platform=web_session.user.platform,
                    workspace=web_session.user.workspace,
                    user_id=web_session.user.user_id,
                    role=web_session.role.value,
                    created_at=web_session.created_at,
                    expires_at=web_session.expires_at,
                )
            )

    async def find_session(self, token_hash: str, now: datetime) -> WebSession | None:
        async with self._sessions() as session:
            row = await session.scalar(
                select(WebSessionRow).where(
                    WebSessionRow.token_hash == token_hash, WebSessionRow.expires_at > now
                )
            )
            return None if row is None else _session(row)

    async def end_session(self, token_hash: str) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                delete(WebSessionRow).where(WebSessionRow.token_hash == token_hash)
            )

    async def purge(self, before: datetime) -> int:
        async with self._sessions.begin() as session:
            links = await session.execute(delete(WebLinkRow).where(WebLinkRow.expires_at < before))
            sessions = await session.execute(
                delete(WebSessionRow).where(WebSessionRow.expires_at < before)
            )
            return int(getattr(links, "rowcount", 0) or 0) + int(
                getattr(sessions, "rowcount", 0) or 0
            )
