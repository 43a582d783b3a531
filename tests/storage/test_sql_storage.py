"""What only real databases show: time zones on the wire, atomic transactions, races between
two connections, SQLite pragmas, and the deliveries table the nudge engine will use."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from datetime import UTC, datetime, time, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import exc, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.core.models import (
    AuditEntry,
    NewSuggestion,
    ProgressEntry,
    ProgressStatus,
    SnippetRevision,
    Subscription,
    SubscriptionStatus,
    Suggestion,
    SuggestionStatus,
    UserRef,
)
from bot.core.ports import ConflictError, Repositories
from bot.storage.engine import create_engine
from bot.storage.repositories import build_repositories
from bot.storage.tables import DeliveryRow, SubscriptionRow, SuggestionRow, UserRow

T0 = datetime(2026, 3, 2, 9, 0, 0, 250000, tzinfo=UTC)
ALICE = UserRef("slack", "T01", "U01")
MODERATORS = (UserRef("slack", "T01", "UMOD1"), UserRef("discord", "G1", "UMOD2"))


@pytest.fixture
async def repos(engine: AsyncEngine) -> Repositories:
    return build_repositories(engine)


@pytest.fixture
async def rival(database_url: str) -> AsyncIterator[Repositories]:
    """Repositories on a second engine: separate connections to the same database."""
    engine = create_engine(database_url)
    yield build_repositories(engine)
    await engine.dispose()


def revision(snippet_id: str, number: int = 1, author: UserRef = MODERATORS[0]) -> SnippetRevision:
    return SnippetRevision(
        snippet_id=snippet_id,
        revision=number,
        title="Outcomes, not process",
        body="Lead with the outcome.",
        topics=("resume",),
        questions=(),
        retired=False,
        author=author,
        at=T0,
    )


def audit(target: str, actor: UserRef = MODERATORS[0], action: str = "approve") -> AuditEntry:
    return AuditEntry(actor=actor, action=action, target=target, at=T0)


def subscription(**times: datetime | None) -> Subscription:
    return Subscription(
        user=ALICE,
        weekday=0,
        local_time=time(8, 0),
        timezone="America/New_York",
        status=SubscriptionStatus.ACTIVE,
        created_at=times.get("created_at", T0) or T0,
        next_due_at=times.get("next_due_at"),
    )


async def test_other_zones_are_stored_as_the_same_instant_in_utc(repos: Repositories) -> None:
    new_york = datetime(2026, 3, 9, 8, 0, 0, 1, tzinfo=timezone(timedelta(hours=-4)))
    await repos.subscriptions.save(subscription(next_due_at=new_york))

    stored = await repos.subscriptions.get(ALICE)

    assert stored is not None
    assert stored.next_due_at == new_york
    assert stored.next_due_at.tzinfo is UTC
    assert stored.next_due_at.hour == 12


async def test_naive_datetimes_are_refused(repos: Repositories) -> None:
    with pytest.raises(exc.StatementError, match="naive datetime"):
        await repos.subscriptions.save(subscription(next_due_at=datetime(2026, 3, 9, 8, 0)))


async def test_utc_comparisons_hold_across_zones(repos: Repositories) -> None:
    berlin = timezone(timedelta(hours=1))
    entry = ProgressEntry(
        ALICE, "ex-1", ProgressStatus.DONE, datetime(2026, 3, 2, 10, tzinfo=berlin)
    )
    await repos.progress.record(entry)

    assert await repos.progress.count_done_since(datetime(2026, 3, 2, 9, tzinfo=UTC)) == 1
    assert await repos.progress.count_done_since(datetime(2026, 3, 2, 9, 0, 1, tzinfo=UTC)) == 0


async def _break_audit_log(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(text("DROP TABLE audit_log"))


async def test_a_failed_audit_insert_leaves_no_revision(
    engine: AsyncEngine, repos: Repositories
) -> None:
    await _break_audit_log(engine)

    with pytest.raises(exc.DBAPIError):
        await repos.revisions.add(
            revision("resume-outcomes"), audit("resume-outcomes", action="add")
        )

    assert await repos.revisions.history("resume-outcomes") == []


async def test_a_failed_audit_insert_leaves_the_suggestion_pending(
    engine: AsyncEngine, repos: Repositories
) -> None:
    stored = await repos.suggestions.add(NewSuggestion(ALICE, "t", "b", (), T0))
    await _break_audit_log(engine)

    with pytest.raises(exc.DBAPIError):
        await repos.suggestions.decide(
            stored.id,
            SuggestionStatus.APPROVED,
            MODERATORS[0],
            T0,
            None,
            revision("t"),
            audit("t"),
        )

    assert await repos.suggestions.get(stored.id) == stored
    assert await repos.revisions.history("t") == []


@pytest.mark.parametrize("hold_row", [False, True], ids=["gather", "released-together"])
async def test_two_moderators_approving_at_once_exactly_one_wins(
    engine: AsyncEngine, repos: Repositories, rival: Repositories, hold_row: bool
) -> None:
    stored = await repos.suggestions.add(NewSuggestion(ALICE, "t", "b", (), T0))

    def approve(side: Repositories, moderator: UserRef) -> Awaitable[Suggestion | None]:
        return side.suggestions.decide(
            stored.id,
            SuggestionStatus.APPROVED,
            moderator,
            T0,
            None,
            revision(f"from-{moderator.user_id}", author=moderator),
            audit(f"from-{moderator.user_id}", actor=moderator),
        )

    async with engine.connect() as blocker:
        if hold_row:
            # A third connection writes the row first (a row lock on PostgreSQL, the write
            # lock on SQLite), so both decisions are waiting when it lets go.
            await blocker.execute(
                update(SuggestionRow)
                .where(SuggestionRow.id == stored.id)
                .values(title=SuggestionRow.title)
            )
        racing = asyncio.gather(approve(repos, MODERATORS[0]), approve(rival, MODERATORS[1]))
        if hold_row:
            await asyncio.sleep(0.1)
            await blocker.commit()
        results = await racing

    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    [winner] = winners
    assert await repos.suggestions.get(stored.id) == winner
    assert [r.snippet_id for r in await repos.revisions.latest()] == [winner.snippet_id]
    [entry] = await repos.audit.recent(10)
    assert entry.actor == winner.decided_by


async def test_two_editors_saving_the_same_revision_exactly_one_wins(
    repos: Repositories, rival: Repositories
) -> None:
    results = await asyncio.gather(
        *(
            side.revisions.add(revision("resume-outcomes", 2, author=m), audit("r", actor=m))
            for side, m in zip((repos, rival), MODERATORS, strict=True)
        ),
        return_exceptions=True,
    )

    assert sorted(type(r).__name__ for r in results) == ["ConflictError", "NoneType"]
    [stored] = await repos.revisions.history("resume-outcomes")
    [entry] = await repos.audit.recent(10)
    assert entry.actor == stored.author


async def test_a_new_member_acting_twice_at_once_gets_one_user_row(
    engine: AsyncEngine, repos: Repositories, rival: Repositories
) -> None:
    entry = ProgressEntry(ALICE, "ex-1", ProgressStatus.DONE, T0)

    recorded = await asyncio.gather(
        repos.progress.record(entry),
        rival.progress.record(entry),
        repos.feedback.vote(ALICE, "resume-outcomes", 1, T0),
        rival.feedback.vote(ALICE, "network", -1, T0),
    )

    assert sorted(recorded[:2]) == [False, True]
    assert len(await repos.progress.list_for(ALICE)) == 1
    assert len(await repos.feedback.tallies()) == 2
    async with engine.connect() as connection:
        users = (await connection.execute(select(UserRow.user_id))).scalars().all()
    assert users == [ALICE.user_id]


async def test_deliveries_are_unique_per_member_and_week(engine: AsyncEngine) -> None:
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    async with sessions.begin() as session:
        user = UserRow(platform="slack", workspace="T01", user_id="U01", created_at=T0)
        session.add(user)
        await session.flush()
        sub = SubscriptionRow(
            user_id=user.id,
            weekday=0,
            local_time=time(9),
            timezone="UTC",
            status="active",
            created_at=T0,
            updated_at=T0,
        )
        session.add(sub)
        await session.flush()
        ids = {"subscription_id": sub.id, "user_id": user.id}

    def delivery() -> DeliveryRow:
        return DeliveryRow(
            **ids,
            week="2026-W10",
            due_at=T0,
            status="pending",
            next_attempt_at=T0,
            created_at=T0,
            updated_at=T0,
        )

    async with sessions.begin() as session:
        first = delivery()
        session.add(first)
    assert first.attempts == 0

    with pytest.raises(exc.IntegrityError):
        async with sessions.begin() as session:
            session.add(delivery())


async def test_foreign_keys_are_enforced(engine: AsyncEngine) -> None:
    sessions = async_sessionmaker(engine)
    with pytest.raises(exc.IntegrityError):
        async with sessions.begin() as session:
            session.add(
                SubscriptionRow(
                    user_id=4242,
                    weekday=0,
                    local_time=time(9),
                    timezone="UTC",
                    status="active",
                    created_at=T0,
                    updated_at=T0,
                )
            )


async def test_sqlite_engine_settings(tmp_path: Path) -> None:
    path = tmp_path / "not" / "yet" / "there.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with engine.connect() as connection:
            settings = [
                (await connection.execute(text(f"PRAGMA {name}"))).scalar()
                for name in ("foreign_keys", "journal_mode", "busy_timeout")
            ]
    finally:
        await engine.dispose()

    assert settings == [1, "wal", 5000]
    assert path.exists()


async def test_a_failed_write_raises_conflict_only_for_the_duplicate(repos: Repositories) -> None:
    await repos.revisions.add(revision("a"), audit("a"))

    with pytest.raises(ConflictError, match="a revision 1"):
        await repos.revisions.add(revision("a"), audit("a"))
    await repos.revisions.add(revision("a", 2), audit("a"))
