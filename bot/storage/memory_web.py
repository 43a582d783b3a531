"""In-memory question log, dashboard aggregates and web storage, computed from the other
in-memory repositories' rows."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime
from typing import Protocol

from bot.core.models import (
    DayQuestions,
    DayVotes,
    PlatformNudges,
    Portfolio,
    ProgressEntry,
    ProgressStatus,
    QuestionEvent,
    Subscription,
    SubscriptionStatus,
    TrackReach,
    UserRef,
    WebLink,
    WebSession,
)


class FakeQuestionLog:
    def __init__(self) -> None:
        self.rows: list[QuestionEvent] = []

    async def add(self, event: QuestionEvent) -> None:
        self.rows.append(event)


class _Subscriptions(Protocol):
    rows: dict[UserRef, Subscription]


class _Progress(Protocol):
    rows: list[ProgressEntry]


class FakeReports:
    """Aggregates computed from the fakes' rows the way the SQL computes them."""

    def __init__(
        self,
        questions: FakeQuestionLog,
        subscriptions: _Subscriptions,
        progress: _Progress,
        feedback_at: Callable[[], list[tuple[str, int, datetime]]],
    ) -> None:
        self.questions = questions
        self.subscriptions = subscriptions
        self.progress = progress
        self.feedback_at = feedback_at
        """(snippet_id, value, at) of every vote as last cast."""

    async def questions_per_day(self, since: datetime) -> list[DayQuestions]:
        days: dict[date, list[int]] = {}
        for event in self.questions.rows:
            if event.at >= since:
                counts = days.setdefault(event.at.date(), [0, 0])
                counts[0 if event.answered else 1] += 1
        return [DayQuestions(d, a, n) for d, (a, n) in sorted(days.items())]

    async def votes_per_day(self, since: datetime) -> list[DayVotes]:
        days: dict[date, list[int]] = {}
        for _, value, at in self.feedback_at():
            if at >= since:
                counts = days.setdefault(at.date(), [0, 0])
                counts[0 if value > 0 else 1] += 1
        return [DayVotes(d, u, n) for d, (u, n) in sorted(days.items())]

    async def subscribers_per_day(self, since: datetime) -> dict[date, int]:
        return dict(
            Counter(
                s.created_at.date()
                for s in self.subscriptions.rows.values()
                if s.created_at >= since
            )
        )

    async def done_per_day(self, since: datetime) -> dict[date, int]:
        return dict(
            Counter(
                e.at.date()
                for e in self.progress.rows
                if e.at >= since and e.status == ProgressStatus.DONE
            )
        )

    async def nudges_by_platform(self, since: datetime) -> list[PlatformNudges]:
        paused = Counter(
            s.user.platform
            for s in self.subscriptions.rows.values()
            if s.status == SubscriptionStatus.PAUSED
        )
        return [PlatformNudges(p, 0, 0, n) for p, n in sorted(paused.items())]

    async def snippet_uses(self, since: datetime) -> dict[str, int]:
        return dict(
            Counter(e.snippet_id for e in self.questions.rows if e.at >= since and e.snippet_id)
        )

    async def track_reach(self) -> TrackReach:
        first = [e for e in self.progress.rows if e.round == 1 and e.exercise_id != "round-start"]
        per_member = Counter(e.user for e in first)
        outcomes: dict[str, tuple[int, int]] = {}
        for e in first:
            done, skipped = outcomes.get(e.exercise_id, (0, 0))
            outcomes[e.exercise_id] = (
                (done + 1, skipped) if e.status == ProgressStatus.DONE else (done, skipped + 1)
            )
        return TrackReach(recorded=dict(Counter(per_member.values())), outcomes=outcomes)


class FakeWebAccess:
    def __init__(self) -> None:
        self.links: dict[str, WebLink] = {}
        self.sessions: dict[str, WebSession] = {}
        self.portfolios: dict[UserRef, Portfolio] = {}

    async def add_link(self, link: WebLink) -> None:
        self.links[link.token_hash] = link

    async def find_link(self, token_hash: str) -> WebLink | None:
        return self.links.get(token_hash)

    async def redeem_link(self, token_hash: str, now: datetime) -> WebLink | None:
        link = self.links.get(token_hash)
        if link is None or link.used_at is not None or now >= link.expires_at:
            return None
        used = dataclasses.replace(link, used_at=now)
        self.links[token_hash] = used
        return used

    async def add_session(self, session: WebSession) -> None:
        self.sessions[session.token_hash] = session

    async def find_session(self, token_hash: str, now: datetime) -> WebSession | None:
        session = self.sessions.get(token_hash)
        return session if session is not None and now < session.expires_at else None

    async def end_session(self, token_hash: str) -> None:
        self.sessions.pop(token_hash, None)

    async def purge(self, before: datetime) -> int:
        old = [h for h, link in self.links.items() if link.expires_at < before]
        gone = [h for h, s in self.sessions.items() if s.expires_at < before]
        for h in old:
            del self.links[h]
        for h in gone:
            del self.sessions[h]
        return len(old) + len(gone)

    async def portfolio(self, user: UserRef) -> Portfolio | None:
        return self.portfolios.get(user)

    async def portfolio_at(self, slug: str) -> Portfolio | None:
        return next((p for p in self.portfolios.values() if p.slug == slug), None)

    async def save_portfolio(self, portfolio: Portfolio) -> None:
        existing = self.portfolios.get(portfolio.user)
        slug = existing.slug if existing else portfolio.slug
        self.portfolios[portfolio.user] = dataclasses.replace(portfolio, slug=slug)

    async def delete_portfolio(self, user: UserRef) -> None:
        self.portfolios.pop(user, None)
