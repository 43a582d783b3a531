"""What the moderators' dashboard shows, computed from read-only repository queries.

Every figure here is read from the database; nothing is sampled or estimated. Days are UTC
days; weeks start on Monday.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.core.library import SnippetLibrary
from bot.core.models import (
    Exercise,
    GapCount,
    PlatformNudges,
    ProgressEntry,
    Subscription,
    Suggestion,
    UserRef,
)
from bot.core.ports import Clock, Repositories
from bot.core.progress import ProgressService, TrackState
from bot.core.ranking import Analyzer

OVERVIEW_DAYS = 30
OVERVIEW_WEEKS = 12
GAP_DAYS = 30
GAP_QUESTIONS = 300
"""How many distinct unanswered questions are grouped (the most asked first)."""
SIMILARITY = 0.5
"""Share of meaningful words two questions must have in common to be grouped."""


@dataclass(frozen=True, slots=True)
class DayPoint:
    day: date
    answered: int
    declined: int
    up: int
    down: int

    @property
    def asked(self) -> int:
        return self.answered + self.declined

    @property
    def decline_rate(self) -> float | None:
        """Declined share of the day's questions; None on a day with none."""
        return self.declined / self.asked if self.asked else None


@dataclass(frozen=True, slots=True)
class WeekPoint:
    week: date
    """The Monday the week starts on."""
    subscribers: int
    done: int


@dataclass(frozen=True, slots=True)
class Activity:
    days: tuple[DayPoint, ...]
    weeks: tuple[WeekPoint, ...]
    nudges: tuple[PlatformNudges, ...]

    @property
    def asked(self) -> int:
        return sum(d.asked for d in self.days)

    @property
    def declined(self) -> int:
        return sum(d.declined for d in self.days)

    @property
    def decline_rate(self) -> float | None:
        return self.declined / self.asked if self.asked else None


@dataclass(frozen=True, slots=True)
class GapGroup:
    label: str
    """The most asked question of the group."""
    total: int
    questions: tuple[GapCount, ...]


@dataclass(frozen=True, slots=True)
class SnippetStanding:
    snippet_id: str
    title: str
    uses: int
    up: int
    down: int

    @property
    def helpfulness(self) -> float | None:
        votes = self.up + self.down
        return self.up / votes if votes else None


@dataclass(frozen=True, slots=True)
class FunnelStep:
    order: int
    exercise_id: str
    title: str
    reached: int
    """Members who recorded this exercise (done or skipped) in their first round."""
    done: int
    skipped: int
    stopped: int
    """Members whose last recorded exercise is this one."""


@dataclass(frozen=True, slots=True)
class TrackRow:
    exercise: Exercise
    entry: ProgressEntry | None
    current: bool


@dataclass(frozen=True, slots=True)
class MemberPage:
    """A member's own view: their track this round, what they handed in, their settings."""

    subscription: Subscription | None
    track: TrackState
    rows: tuple[TrackRow, ...]
    handed_in: tuple[ProgressEntry, ...]
    """Every entry with a link or a note, all rounds, newest first."""


@dataclass(frozen=True, slots=True)
class ReviewQueue:
    waiting: int
    suggestions: tuple[Suggestion, ...]


def day_range(end: date, days: int) -> list[date]:
    return [end - timedelta(days=offset) for offset in range(days - 1, -1, -1)]


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def by_week(counts: dict[date, int], weeks: Iterable[date]) -> dict[date, int]:
    totals = dict.fromkeys(weeks, 0)
    for day, count in counts.items():
        start = week_start(day)
        if start in totals:
            totals[start] += count
    return totals


def group_gaps(gaps: Iterable[GapCount], analyzer: Analyzer) -> list[GapGroup]:
    """Greedy grouping: each question joins the first group (most asked first) whose leading
    question shares at least `SIMILARITY` of its meaningful words (Jaccard), else starts one."""
    groups: list[tuple[frozenset[str], list[GapCount]]] = []
    for gap in sorted(gaps, key=lambda g: (-g.count, g.text)):
        terms = frozenset(analyzer.terms(gap.text))
        for lead, members in groups:
            union = lead | terms
            if union and len(lead & terms) / len(union) >= SIMILARITY:
                members.append(gap)
                break
        else:
            groups.append((terms, [gap]))
    result = [
        GapGroup(members[0].text, sum(m.count for m in members), tuple(members))
        for _, members in groups
    ]
    result.sort(key=lambda g: (-g.total, g.label))
    return result


class DashboardService:
    def __init__(self, library: SnippetLibrary, repositories: Repositories, clock: Clock) -> None:
        self._library = library
        self._repos = repositories
        self._clock = clock
        self._analyzer = Analyzer()

    async def overview(self, days: int = OVERVIEW_DAYS, weeks: int = OVERVIEW_WEEKS) -> Activity:
        now = self._clock.now()
        today = now.date()
        day_since = _midnight(today - timedelta(days=days - 1), now)
        first_week = week_start(today) - timedelta(weeks=weeks - 1)
        week_since = _midnight(first_week, now)
        reports = self._repos.reports
        # Independent reads: run them side by side (each on its own connection).
        asked, voted, subscribed, finished, nudges = await asyncio.gather(
            reports.questions_per_day(day_since),
            reports.votes_per_day(day_since),
            reports.subscribers_per_day(week_since),
            reports.done_per_day(week_since),
            reports.nudges_by_platform(week_since),
        )
        questions = {q.day: q for q in asked}
        votes = {v.day: v for v in voted}
        points = []
        for day in day_range(today, days):
            q, v = questions.get(day), votes.get(day)
            points.append(
                DayPoint(
                    day,
                    q.answered if q else 0,
                    q.declined if q else 0,
                    v.up if v else 0,
                    v.down if v else 0,
                )
            )
        mondays = [first_week + timedelta(weeks=n) for n in range(weeks)]
        subscribers = by_week(subscribed, mondays)
        done = by_week(finished, mondays)
        week_points = tuple(WeekPoint(m, subscribers[m], done[m]) for m in mondays)
        return Activity(tuple(points), week_points, tuple(nudges))

    async def gap_groups(self, days: int = GAP_DAYS) -> list[GapGroup]:
        since = self._clock.now() - timedelta(days=days)
        gaps = await self._repos.unanswered.top(limit=GAP_QUESTIONS, since=since)
        return group_gaps(gaps, self._analyzer)

    async def snippet_standings(self, days: int = OVERVIEW_DAYS) -> list[SnippetStanding]:
        """Every live snippet with its uses and votes, most used (then most helpful) first."""
        since = self._clock.now() - timedelta(days=days)
        uses = await self._repos.reports.snippet_uses(since)
        tallies = await self._repos.feedback.tallies()
        state = await self._library.state()
        standings = []
        for snippet in state.snippets:
            tally = tallies.get(snippet.id)
            standings.append(
                SnippetStanding(
                    snippet.id,
                    snippet.title,
                    uses.get(snippet.id, 0),
                    tally.up if tally else 0,
                    tally.down if tally else 0,
                )
            )
        standings.sort(key=lambda s: (-s.uses, -(s.up - s.down), s.snippet_id))
        return standings

    async def funnel(self) -> list[FunnelStep]:
        reach = await self._repos.reports.track_reach()
        steps = []
        for position, exercise in enumerate(self._library.knowledge.exercises, start=1):
            done, skipped = reach.outcomes.get(exercise.id, (0, 0))
            steps.append(
                FunnelStep(
                    order=position,
                    exercise_id=exercise.id,
                    title=exercise.title,
                    reached=sum(n for count, n in reach.recorded.items() if count >= position),
                    done=done,
                    skipped=skipped,
                    stopped=reach.recorded.get(position, 0),
                )
            )
        return steps

    async def member(self, user: UserRef, progress: ProgressService) -> MemberPage:
        subscription, track = await progress.state_for(user)
        entries = await self._repos.progress.list_for(user)
        this_round = {e.exercise_id: e for e in entries if e.round == track.round}
        current = track.current.id if track.current else None
        rows = tuple(
            TrackRow(x, this_round.get(x.id), x.id == current)
            for x in self._library.knowledge.exercises
        )
        handed_in = tuple(reversed([e for e in entries if e.link or e.note]))
        return MemberPage(subscription, track, rows, handed_in)

    async def suggestion(self, number: int) -> Suggestion | None:
        return await self._repos.suggestions.get(number)

    async def review_queue(self, limit: int = 50) -> ReviewQueue:
        waiting = await self._repos.suggestions.count_pending()
        pending = await self._repos.suggestions.pending(limit=limit) if limit else []
        return ReviewQueue(waiting, tuple(pending))


def _midnight(day: date, like: datetime) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=like.tzinfo)
