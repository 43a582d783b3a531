"""The web ports (question log, dashboard aggregates, sign-in links and sessions), written once
and run on the fakes, SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, date, datetime, time, timedelta

from bot.core.models import (
    DayQuestions,
    DayVotes,
    Portfolio,
    ProgressEntry,
    ProgressStatus,
    QuestionEvent,
    Subscription,
    SubscriptionStatus,
    WebLink,
    WebRole,
    WebSession,
)
from bot.core.ports import Repositories
from tests.storage.test_repository_contract import ALICE, BOB

T0 = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)
"""Late in a UTC day, so a day boundary falls between the test's events."""


def at(hours: float = 0) -> datetime:
    return T0 + timedelta(hours=hours)


async def test_questions_are_counted_per_utc_day(repositories: Repositories):
    for event in (
        QuestionEvent(at(0), True, "whether-not-how"),
        QuestionEvent(at(0.2), False),
        QuestionEvent(at(1), True, "whether-not-how"),  # 00:30 the next day
        QuestionEvent(at(-48), True, "teardown-basics"),  # before `since`
    ):
        await repositories.questions.add(event)

    days = await repositories.reports.questions_per_day(at(-24))
    uses = await repositories.reports.snippet_uses(at(-24))

    assert days == [DayQuestions(date(2026, 3, 2), 1, 1), DayQuestions(date(2026, 3, 3), 1, 0)]
    assert uses == {"whether-not-how": 2}


async def test_votes_subscribers_and_done_exercises_per_day(repositories: Repositories):
    await repositories.feedback.vote(ALICE, "whether-not-how", 1, at(0))
    await repositories.feedback.vote(BOB, "whether-not-how", -1, at(1))
    base = Subscription(ALICE, 0, time(9), "UTC", SubscriptionStatus.ACTIVE, created_at=at(0))
    await repositories.subscriptions.save(base)
    await repositories.subscriptions.save(
        dataclasses.replace(base, user=BOB, created_at=at(1), status=SubscriptionStatus.PAUSED)
    )
    await repositories.progress.record(ProgressEntry(ALICE, "ex-1", ProgressStatus.DONE, at(0)))
    await repositories.progress.record(ProgressEntry(ALICE, "ex-2", ProgressStatus.SKIPPED, at(1)))
    await repositories.progress.record(ProgressEntry(BOB, "ex-1", ProgressStatus.DONE, at(1)))

    reports = repositories.reports
    assert await reports.votes_per_day(at(-1)) == [
        DayVotes(date(2026, 3, 2), 1, 0),
        DayVotes(date(2026, 3, 3), 0, 1),
    ]
    assert await reports.subscribers_per_day(at(-1)) == {date(2026, 3, 2): 1, date(2026, 3, 3): 1}
    assert await reports.done_per_day(at(-1)) == {date(2026, 3, 2): 1, date(2026, 3, 3): 1}
    nudges = await reports.nudges_by_platform(at(-1))
    assert [(n.platform, n.paused) for n in nudges] == [("discord", 1)]
    reach = await reports.track_reach()
    assert reach.recorded == {2: 1, 1: 1}
    assert reach.outcomes == {"ex-1": (2, 0), "ex-2": (0, 1)}


def link(token_hash: str = "a" * 64, minutes: int = 15) -> WebLink:
    return WebLink(token_hash, ALICE, WebRole.MODERATOR, at(0), at(0) + timedelta(minutes=minutes))


async def test_a_link_is_redeemed_once(repositories: Repositories):
    web = repositories.web
    await web.add_link(link())

    first = await web.redeem_link("a" * 64, at(0.1))
    second = await web.redeem_link("a" * 64, at(0.1))

    assert first is not None
    assert (first.user, first.role, first.used_at) == (ALICE, WebRole.MODERATOR, at(0.1))
    assert second is None
    stored = await web.find_link("a" * 64)
    assert stored is not None
    assert stored.used_at == at(0.1)
    assert await web.redeem_link("b" * 64, at(0.1)) is None


async def test_an_expired_link_is_not_redeemed(repositories: Repositories):
    await repositories.web.add_link(link(minutes=15))

    assert await repositories.web.redeem_link("a" * 64, at(0.25)) is None
    stored = await repositories.web.find_link("a" * 64)
    assert stored is not None
    assert stored.used_at is None


async def test_two_redeemers_at_once_one_wins(repositories: Repositories):
    await repositories.web.add_link(link())

    results = await asyncio.gather(
        *(repositories.web.redeem_link("a" * 64, at(0.1)) for _ in range(4))
    )

    assert sum(result is not None for result in results) == 1


async def test_sessions_are_found_until_they_expire_or_end(repositories: Repositories):
    web = repositories.web
    session = WebSession("c" * 64, BOB, WebRole.MEMBER, at(0), at(8))
    await web.add_session(session)

    assert await web.find_session("c" * 64, at(1)) == session
    assert await web.find_session("c" * 64, at(8)) is None
    await web.end_session("c" * 64)
    assert await web.find_session("c" * 64, at(1)) is None


async def test_purge_removes_only_what_expired_before(repositories: Repositories):
    web = repositories.web
    await web.add_link(link("d" * 64, minutes=15))
    await web.add_session(WebSession("e" * 64, BOB, WebRole.MEMBER, at(0), at(8)))

    assert await web.purge(at(1)) == 1
    assert await web.find_link("d" * 64) is None
    assert await web.find_session("e" * 64, at(1)) is not None


async def test_a_portfolio_is_saved_found_by_its_address_and_deleted(repositories: Repositories):
    web = repositories.web
    await web.save_portfolio(Portfolio(ALICE, "slug-1", frozenset({"1:ex-1"}), at(0)))
    await web.save_portfolio(Portfolio(ALICE, "slug-2", frozenset({"1:ex-2", "2:ex-1"}), at(1)))

    mine = await web.portfolio(ALICE)
    assert mine is not None
    assert (mine.slug, mine.items) == ("slug-1", frozenset({"1:ex-2", "2:ex-1"}))
    assert await web.portfolio_at("slug-1") == mine
    assert await web.portfolio_at("slug-2") is None
    assert await web.portfolio(BOB) is None
    await web.delete_portfolio(ALICE)
    assert await web.portfolio(ALICE) is None
