"""The nudge engine's SQL: materialise, claim, record, cancel, and counts for operators.

Claims differ by database. PostgreSQL: `SELECT ... FOR UPDATE OF deliveries SKIP LOCKED`, so
processes sharing the database take disjoint batches without waiting for each other. SQLite
has no row locks (SQLAlchemy silently drops FOR UPDATE there): a plain read, then an UPDATE
guarded by the status and due time the read saw, and RETURNING tells which rows this call
really took. SQLite is for one process; PostgreSQL for several.

A claim sets `status='sending'` and `next_attempt_at` to the end of its lease, so a claim
whose process died simply becomes due again: one index, (status, next_attempt_at), serves
new, retried and expired rows alike. Every record is guarded by (owner, attempts), the claim's
identity, so a process that lost its lease cannot overwrite the row. Leases are short and
renewed while the owner lives. `sending_since` is set just before the platform is asked to
send; a claim that finds it set on an expired row knows the message may be out already.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Collection, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeAlias

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    and_,
    bindparam,
    func,
    not_,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import NullType

from bot.core.models import UserRef
from bot.core.ports import (
    ClaimedDelivery,
    DeliveryOverview,
    DeliveryPlan,
    DeliveryStatus,
    DueSubscription,
    MaterialiseResult,
)
from bot.core.schedule import is_reminder_week
from bot.storage.tables import DeliveryRow, SubscriptionRow, UserRow

if TYPE_CHECKING:
    from sqlalchemy.dialects import postgresql, sqlite

ACTIVE = "active"
PAUSED = "paused"
CANCELLED = "cancelled"
UNSENT = (DeliveryStatus.PENDING.value, DeliveryStatus.RETRYING.value)
OPEN = (*UNSENT, DeliveryStatus.SENDING.value)
"""Statuses a claim can take: waiting, or claimed with a lease that may have run out."""
SCHEDULED = (ACTIVE, PAUSED)

Query: TypeAlias = Select[*tuple[Any, ...]]


class rarely(FunctionElement[Any]):
    """A condition few rows meet. SQLite is told so: after ANALYZE its statistics know only
    how many distinct statuses there are, so it takes `status IN ('pending', ...)` to match a
    third of a table that is nearly all `sent`, and scans the table instead of the index."""

    type = NullType()  # not Boolean: SQLite would compare the result with 1, hiding the IN
    inherit_cache = True
    name = "rarely"


@compiles(rarely)
def _as_is(element: rarely, compiler: SQLCompiler, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))


@compiles(rarely, "sqlite")
def _on_sqlite(element: rarely, compiler: SQLCompiler, **kw: Any) -> str:
    return f"likelihood({compiler.process(element.clauses, **kw)}, 0.001)"


def _due_subscriptions(now: datetime, limit: int) -> Query:
    return (
        select(
            SubscriptionRow.id,
            SubscriptionRow.user_id,
            SubscriptionRow.weekday,
            SubscriptionRow.local_time,
            SubscriptionRow.timezone,
            SubscriptionRow.next_due_at,
            SubscriptionRow.reminders,
            UserRow.platform,
            UserRow.workspace,
            UserRow.user_id.label("platform_user_id"),
        )
        .join(UserRow, UserRow.id == SubscriptionRow.user_id)
        .where(SubscriptionRow.status.in_(SCHEDULED), SubscriptionRow.next_due_at <= now)
        .order_by(SubscriptionRow.next_due_at, SubscriptionRow.id)
        .limit(limit)
    )


def _due(row: Row[Any]) -> DueSubscription:
    return DueSubscription(
        id=row.id,
        user=UserRef(row.platform, row.workspace, row.platform_user_id),
        weekday=row.weekday,
        local_time=row.local_time,
        timezone=row.timezone,
        next_due_at=row.next_due_at,
        reminders=row.reminders,
    )


def _claimable(platforms: Collection[str], blocked: Collection[tuple[str, str]]) -> list[Any]:
    """Who a claim may take; `claim` and `next_due_at` must agree on it exactly."""
    conditions: list[Any] = [
        rarely(DeliveryRow.status.in_(OPEN)),
        # `|| ''` keeps these two off their indexes: left to itself, SQLite's planner starts
        # from every member of the platform (or every active subscription) and reads all
        # their deliveries, instead of starting from the few unsent ones.
        (UserRow.platform + "").in_(list(platforms)),
        SubscriptionRow.status + "" == ACTIVE,
    ]
    conditions.extend(
        not_(and_(UserRow.platform == platform, UserRow.workspace == workspace))
        for platform, workspace in blocked
    )
    return conditions


def _with_member(query: Query) -> Query:
    return (
        query.select_from(DeliveryRow)
        .join(UserRow, UserRow.id == DeliveryRow.user_id)
        .join(SubscriptionRow, SubscriptionRow.id == DeliveryRow.subscription_id)
    )


def _unsent_at(now: datetime) -> ColumnElement[bool]:
    """Not sent yet: waiting, or claimed by a process whose lease has run out. (Written as
    one IN on status so the (status, next_attempt_at) index serves it on SQLite too.)"""
    return and_(
        rarely(DeliveryRow.status.in_(OPEN)),
        or_(
            DeliveryRow.status != DeliveryStatus.SENDING.value,
            DeliveryRow.next_attempt_at <= now,
        ),
    )


def _claim_is(claim: ClaimedDelivery, owner: str) -> ColumnElement[bool]:
    return and_(
        DeliveryRow.id == claim.id,
        DeliveryRow.status == DeliveryStatus.SENDING.value,
        DeliveryRow.claimed_by == owner,
        DeliveryRow.attempts == claim.attempts,
    )


class SqlDeliveryRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._postgres = engine.dialect.name == "postgresql"
        self._writer = asyncio.Lock()

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction. On SQLite, this process's writers take turns here: SQLite
        has one writer at a time and its busy handler polls with growing sleeps, so queueing
        in-process keeps a fan-out's records from stalling each other."""
        if self._postgres:
            async with self._engine.begin() as conn:
                yield conn
            return
        async with self._writer, self._engine.begin() as conn:
            yield conn

    def _insert(self) -> postgresql.Insert | sqlite.Insert:
        # Each dialect's module is imported only when that database is used.
        if self._postgres:
            from sqlalchemy.dialects import postgresql

            return postgresql.insert(DeliveryRow)
        from sqlalchemy.dialects import sqlite

        return sqlite.insert(DeliveryRow)

    async def due_subscriptions(self, now: datetime, limit: int) -> list[DueSubscription]:
        if limit <= 0:
            return []
        async with self._engine.connect() as conn:
            return [_due(row) for row in await conn.execute(_due_subscriptions(now, limit))]

    async def materialise(
        self, now: datetime, limit: int, plan: Callable[[DueSubscription], DeliveryPlan]
    ) -> MaterialiseResult:
        query = _due_subscriptions(now, limit)
        if self._postgres:
            # Lock what we plan, skipping what another process is planning right now.
            async with self._write() as conn:
                rows = list(
                    await conn.execute(query.with_for_update(of=SubscriptionRow, skip_locked=True))
                )
                return await self._store_plans(conn, rows, plan, now)
        # SQLite: read first, then write in a transaction of its own; the writes are guarded
        # by what was read, so a change made in between only makes them no-ops.
        async with self._engine.connect() as conn:
            rows = list(await conn.execute(query))
        if not rows:
            return MaterialiseResult()
        async with self._write() as conn:
            return await self._store_plans(conn, rows, plan, now)

    async def _store_plans(
        self,
        conn: AsyncConnection,
        rows: Sequence[Row[Any]],
        plan: Callable[[DueSubscription], DeliveryPlan],
        now: datetime,
    ) -> MaterialiseResult:
        if not rows:
            return MaterialiseResult()
        plans = {row.id: (row, plan(_due(row))) for row in rows}
        # Every guarded UPDATE in one batch, then read back which rows took their plan: the
        # transaction has written, so nothing else can change these rows in between (SQLite
        # holds its write lock; PostgreSQL holds the row locks taken FOR UPDATE).
        await conn.execute(
            update(SubscriptionRow)
            .where(
                SubscriptionRow.id == bindparam("p_id"),
                SubscriptionRow.status != CANCELLED,  # (no IN: it cannot be sent as a batch)
                SubscriptionRow.next_due_at == bindparam("p_expected"),
            )
            .values(
                status=ACTIVE, paused_until=None, next_due_at=bindparam("p_next"), updated_at=now
            ),
            [
                {
                    "p_id": p.subscription_id,
                    "p_expected": p.expected_due_at,
                    "p_next": p.next_due_at,
                }
                for _, p in plans.values()
            ],
        )
        after = await conn.execute(
            select(SubscriptionRow.id, SubscriptionRow.status, SubscriptionRow.next_due_at).where(
                SubscriptionRow.id.in_(list(plans))
            )
        )
        advanced = [
            plans[r.id]
            for r in after
            if r.status == ACTIVE and r.next_due_at == plans[r.id][1].next_due_at
        ]
        values: list[dict[str, Any]] = []
        for row, planned in advanced:
            base = {"subscription_id": row.id, "user_id": row.user_id, "created_at": now}
            for week in planned.skipped:
                values.append(
                    base
                    | {
                        "week": week.week,
                        "due_at": week.due_at,
                        "status": DeliveryStatus.SKIPPED.value,
                        "next_attempt_at": week.due_at,
                        "last_error": "missed while no process was running",
                        "updated_at": now,
                    }
                )
            for sending in (planned.deliver, planned.remind):
                if sending is not None:
                    values.append(
                        base
                        | {
                            "week": sending.week,
                            "due_at": sending.due_at,
                            "status": DeliveryStatus.PENDING.value,
                            "next_attempt_at": sending.due_at,
                            "last_error": None,
                            "updated_at": now,
                        }
                    )
        statuses: list[str] = []
        if values:
            inserted = await conn.execute(
                self._insert()
                .on_conflict_do_nothing(index_elements=["user_id", "week"])
                .returning(DeliveryRow.status, DeliveryRow.week),
                values,
            )
            # Mid-week reminders ride along; the counts are about weekly nudges.
            statuses = [r.status for r in inserted if not is_reminder_week(r.week)]
        return MaterialiseResult(
            examined=len(rows),
            created=statuses.count(DeliveryStatus.PENDING.value),
            skipped=statuses.count(DeliveryStatus.SKIPPED.value),
        )

    async def skip_stale(self, due_before: datetime, now: datetime) -> int:
        async with self._write() as conn:
            result = await conn.execute(
                update(DeliveryRow)
                .where(_unsent_at(now), DeliveryRow.due_at < due_before)
                .values(
                    status=DeliveryStatus.SKIPPED.value,
                    lease_until=None,
                    last_error="past the grace window",
                    updated_at=now,
                )
            )
            return int(result.rowcount)

    async def claim(
        self,
        now: datetime,
        limit: int,
        lease_until: datetime,
        owner: str,
        platforms: Collection[str],
        blocked: Collection[tuple[str, str]] = (),
    ) -> list[ClaimedDelivery]:
        if limit <= 0 or not platforms:
            return []
        query = (
            _with_member(
                select(
                    DeliveryRow.id,
                    DeliveryRow.week,
                    DeliveryRow.due_at,
                    DeliveryRow.attempts,
                    UserRow.platform,
                    UserRow.workspace,
                    UserRow.user_id,
                    SubscriptionRow.timezone,
                    SubscriptionRow.reminders,
                    DeliveryRow.sending_since,
                )
            )
            .where(*_claimable(platforms, blocked), DeliveryRow.next_attempt_at <= now)
            .order_by(DeliveryRow.next_attempt_at, DeliveryRow.id)
            .limit(limit)
        )
        take = update(DeliveryRow).values(
            status=DeliveryStatus.SENDING.value,
            attempts=DeliveryRow.attempts + 1,
            lease_until=lease_until,
            next_attempt_at=lease_until,
            claimed_by=owner,
            sending_since=None,
            updated_at=now,
        )
        if self._postgres:
            async with self._write() as conn:
                rows = list(
                    await conn.execute(query.with_for_update(of=DeliveryRow, skip_locked=True))
                )
                if rows:
                    await conn.execute(take.where(DeliveryRow.id.in_([r.id for r in rows])))
                return [_claimed(row, row.attempts + 1) for row in rows]
        async with self._engine.connect() as conn:
            rows = list(await conn.execute(query))
        if not rows:
            return []
        async with self._write() as conn:
            taken = await conn.execute(
                take.where(
                    DeliveryRow.id.in_([r.id for r in rows]),
                    DeliveryRow.status.in_(OPEN),
                    DeliveryRow.next_attempt_at <= now,
                ).returning(DeliveryRow.id, DeliveryRow.attempts)
            )
            attempts = {row.id: row.attempts for row in taken}
        return [_claimed(row, attempts[row.id]) for row in rows if row.id in attempts]

    async def mark_sending(self, claim: ClaimedDelivery, owner: str, now: datetime) -> bool:
        async with self._write() as conn:
            result = await conn.execute(
                update(DeliveryRow)
                .where(_claim_is(claim, owner))
                .values(sending_since=now, updated_at=now)
            )
            return bool(result.rowcount == 1)

    async def renew(self, owner: str, lease_until: datetime, now: datetime) -> int:
        async with self._write() as conn:
            result = await conn.execute(
                update(DeliveryRow)
                .where(
                    DeliveryRow.status == DeliveryStatus.SENDING.value,
                    DeliveryRow.claimed_by == owner,
                )
                .values(lease_until=lease_until, next_attempt_at=lease_until, updated_at=now)
            )
            return int(result.rowcount)

    async def release(self, owner: str, now: datetime) -> int:
        held = and_(
            DeliveryRow.status == DeliveryStatus.SENDING.value, DeliveryRow.claimed_by == owner
        )
        back = {
            "status": DeliveryStatus.PENDING.value,
            "lease_until": None,
            "next_attempt_at": now,
            "updated_at": now,
        }
        async with self._write() as conn:
            # Never asked the platform: the attempt does not count. A send that was cut off
            # keeps `sending_since`, so whoever claims it next looks before sending again.
            unsent = await conn.execute(
                update(DeliveryRow)
                .where(held, DeliveryRow.sending_since.is_(None))
                .values(attempts=DeliveryRow.attempts - 1, **back)
            )
            cut_off = await conn.execute(update(DeliveryRow).where(held).values(**back))
            return int(unsent.rowcount) + int(cut_off.rowcount)

    async def record_sent(
        self,
        claim: ClaimedDelivery,
        owner: str,
        message_id: str,
        exercise_id: str | None,
        now: datetime,
    ) -> bool:
        return await self._finish(
            claim,
            owner,
            status=DeliveryStatus.SENT.value,
            platform_message_id=message_id,
            exercise_id=exercise_id,
            sent_at=now,
            last_error=None,
            updated_at=now,
        )

    async def record_retry(
        self,
        claim: ClaimedDelivery,
        owner: str,
        at: datetime,
        error: str,
        now: datetime,
        count_attempt: bool = True,
    ) -> bool:
        status = DeliveryStatus.RETRYING if count_attempt else DeliveryStatus.PENDING
        return await self._finish(
            claim,
            owner,
            status=status.value,
            attempts=claim.attempts if count_attempt else claim.attempts - 1,
            next_attempt_at=at,
            last_error=error,
            updated_at=now,
        )

    async def record_failed(
        self,
        claim: ClaimedDelivery,
        owner: str,
        error: str,
        now: datetime,
        pause_with_notice: str | None = None,
    ) -> bool:
        async with self._write() as conn:
            subscription_id = await conn.scalar(
                update(DeliveryRow)
                .where(_claim_is(claim, owner))
                .values(
                    status=DeliveryStatus.FAILED.value,
                    lease_until=None,
                    last_error=error,
                    updated_at=now,
                )
                .returning(DeliveryRow.subscription_id)
            )
            if subscription_id is None:
                return False
            if pause_with_notice is not None:
                await conn.execute(
                    update(SubscriptionRow)
                    .where(
                        SubscriptionRow.id == subscription_id,
                        SubscriptionRow.status.in_(SCHEDULED),
                    )
                    .values(
                        status=PAUSED,
                        paused_until=None,
                        next_due_at=None,
                        notice=pause_with_notice,
                        updated_at=now,
                    )
                )
            return True

    async def _finish(self, claim: ClaimedDelivery, owner: str, **values: Any) -> bool:
        async with self._write() as conn:
            result = await conn.execute(
                update(DeliveryRow)
                .where(_claim_is(claim, owner))
                .values(lease_until=None, **values)
            )
            return bool(result.rowcount == 1)

    async def record_skipped(
        self, claim: ClaimedDelivery, owner: str, reason: str, now: datetime
    ) -> bool:
        return await self._finish(
            claim, owner, status=DeliveryStatus.SKIPPED.value, last_error=reason, updated_at=now
        )

    async def cancel_pending(self, user: UserRef, now: datetime) -> int:
        member = select(UserRow.id).where(
            UserRow.platform == user.platform,
            UserRow.workspace == user.workspace,
            UserRow.user_id == user.user_id,
        )
        async with self._write() as conn:
            result = await conn.execute(
                update(DeliveryRow)
                .where(
                    DeliveryRow.user_id.in_(member.scalar_subquery()),
                    DeliveryRow.status.in_(UNSENT),
                )
                .values(status=DeliveryStatus.CANCELLED.value, lease_until=None, updated_at=now)
            )
            return int(result.rowcount)

    async def next_due_at(
        self, platforms: Collection[str], blocked: Collection[tuple[str, str]] = ()
    ) -> datetime | None:
        if not platforms:
            return None
        query = _with_member(select(func.min(DeliveryRow.next_attempt_at))).where(
            *_claimable(platforms, blocked)
        )
        async with self._engine.connect() as conn:
            found: datetime | None = await conn.scalar(query)
            return found

    async def count_due(
        self, now: datetime, stale_before: datetime, platforms: Collection[str]
    ) -> int:
        if not platforms:
            return 0
        query = _with_member(select(func.count())).where(
            *_claimable(platforms, ()),
            DeliveryRow.next_attempt_at <= now,
            DeliveryRow.due_at >= stale_before,
        )
        async with self._engine.connect() as conn:
            return int(await conn.scalar(query) or 0)

    async def overview(self, now: datetime, stale_before: datetime) -> DeliveryOverview:
        unsent = _unsent_at(now)
        counted = func.count()
        async with self._engine.connect() as conn:
            by_status = await _count_by_status(
                conn,
                select(DeliveryRow.status, counted)
                .where(DeliveryRow.status.in_((*OPEN, DeliveryStatus.FAILED.value)))
                .group_by(DeliveryRow.status),
            )
            due_deliveries = await conn.scalar(
                select(counted).where(
                    unsent, DeliveryRow.next_attempt_at <= now, DeliveryRow.due_at >= stale_before
                )
            )
            stale = await conn.scalar(
                select(counted).where(unsent, DeliveryRow.due_at < stale_before)
            )
            subscriptions = await _count_by_status(
                conn,
                select(SubscriptionRow.status, counted)
                .where(SubscriptionRow.status.in_(SCHEDULED))
                .group_by(SubscriptionRow.status),
            )
            due_subscriptions = await conn.scalar(
                select(counted).where(
                    SubscriptionRow.status.in_(SCHEDULED), SubscriptionRow.next_due_at <= now
                )
            )
            next_nudge = await conn.scalar(
                select(func.min(SubscriptionRow.next_due_at)).where(
                    SubscriptionRow.status.in_(SCHEDULED)
                )
            )
            next_retry = await conn.scalar(
                select(func.min(DeliveryRow.next_attempt_at)).where(DeliveryRow.status.in_(OPEN))
            )
        upcoming = [at for at in (next_nudge, next_retry) if at is not None]
        return DeliveryOverview(
            subscriptions_due=due_subscriptions or 0,
            deliveries_due=due_deliveries or 0,
            stale=stale or 0,
            pending=by_status.get(DeliveryStatus.PENDING.value, 0),
            retrying=by_status.get(DeliveryStatus.RETRYING.value, 0),
            sending=by_status.get(DeliveryStatus.SENDING.value, 0),
            failed=by_status.get(DeliveryStatus.FAILED.value, 0),
            paused=subscriptions.get(PAUSED, 0),
            next_due_at=min(upcoming, default=None),
        )


async def _count_by_status(conn: AsyncConnection, query: Query) -> dict[str, int]:
    return {row[0]: row[1] for row in await conn.execute(query)}


def _claimed(row: Row[Any], attempts: int) -> ClaimedDelivery:
    return ClaimedDelivery(
        id=row.id,
        user=UserRef(row.platform, row.workspace, row.user_id),
        week=row.week,
        due_at=row.due_at,
        attempts=attempts,
        timezone=row.timezone,
        reminders=row.reminders,
        interrupted=row.sending_since is not None,
    )
