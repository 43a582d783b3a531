"""Weekly challenges from the member's side: subscription settings and exercise progress."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from bot.core.commands import WEEKDAY_NAMES, Done, Pause, Subscribe
from bot.core.models import (
    Actor,
    Exercise,
    Knowledge,
    PauseSpan,
    ProgressEntry,
    ProgressStatus,
    Subscription,
    SubscriptionStatus,
    UserRef,
)
from bot.core.ports import Clock, DeliveryRepository, Repositories
from bot.core.presenter import (
    exercise_reply,
    finished_reply,
    local_time,
    progress_bar,
    progress_line,
    round_heading,
    self_check_text,
)
from bot.core.reply import Button, ButtonStyle, Reply, ReplyField
from bot.core.schedule import next_due
from bot.core.validation import is_link

DEFAULT_WEEKDAY = 0
DEFAULT_TIME = time(9, 0)
DEFAULT_ZONE = "UTC"
ROUND_START = "round-start"
"""A progress marker that opens a review round before any of its exercises is recorded."""


@dataclass(frozen=True, slots=True)
class TrackState:
    """Where a member stands on the exercise track."""

    round: int
    done: int
    skipped: int
    current: Exercise | None
    streak: int
    total: int
    upcoming: Exercise | None = None
    """The exercise after the current one in this round, for lead-time heads-ups."""

    @property
    def line(self) -> str:
        return progress_line(self.done, self.total, self.streak)


def track_state(
    exercises: tuple[Exercise, ...],
    entries: list[ProgressEntry],
    zone: str,
    now: datetime,
    pauses: Sequence[PauseSpan] = (),
) -> TrackState:
    current_round = max((e.round for e in entries), default=1)
    known = {x.id for x in exercises}
    this_round = {
        e.exercise_id: e for e in entries if e.round == current_round and e.exercise_id in known
    }
    done = sum(1 for e in this_round.values() if e.status == ProgressStatus.DONE)
    skipped = sum(1 for e in this_round.values() if e.status == ProgressStatus.SKIPPED)
    remaining = [x for x in exercises if x.id not in this_round]
    current = remaining[0] if remaining else None
    return TrackState(
        round=current_round,
        done=done,
        skipped=skipped,
        current=current,
        streak=streak(entries, zone, now, pauses),
        total=len(exercises),
        upcoming=remaining[1] if len(remaining) > 1 else None,
    )


def streak(
    entries: list[ProgressEntry], zone: str, now: datetime, pauses: Sequence[PauseSpan] = ()
) -> int:
    """Consecutive weeks (in the member's zone) with at least one exercise done.

    A streak is still alive during the week after the last done week. A week the member
    paused in counts neither way: done, it counts; not done, it is stepped over.
    """
    tz = ZoneInfo(zone)

    def week_start(at: datetime) -> datetime:
        local = at.astimezone(tz)
        return datetime(local.year, local.month, local.day) - timedelta(days=local.weekday())

    weeks = {week_start(e.at) for e in entries if e.status == ProgressStatus.DONE}
    paused: set[datetime] = set()
    for span in pauses:
        cursor = week_start(span.start)
        last = week_start(max(span.start, span.end - timedelta(microseconds=1)))
        while cursor <= last:
            paused.add(cursor)
            cursor += timedelta(weeks=1)
    if not weeks:
        return 0
    earliest = min(weeks)
    cursor = week_start(now)
    if cursor not in weeks:
        cursor -= timedelta(weeks=1)
    count = 0
    while cursor >= earliest:
        if cursor in weeks:
            count += 1
        elif cursor not in paused:
            break
        cursor -= timedelta(weeks=1)
    return count


class ProgressService:
    def __init__(
        self,
        knowledge: Knowledge,
        repositories: Repositories,
        clock: Clock,
        deliveries: DeliveryRepository | None = None,
    ) -> None:
        self._exercises = knowledge.exercises
        self._repos = repositories
        self._clock = clock
        self._deliveries = deliveries
        """When given, unsubscribing also cancels the member's nudges not yet in flight."""

    async def state_for(self, user: UserRef) -> tuple[Subscription | None, TrackState]:
        subscription = await self._repos.subscriptions.get(user)
        entries = await self._repos.progress.list_for(user)
        pauses = await self._repos.subscriptions.pauses(user)
        zone = subscription.timezone if subscription else DEFAULT_ZONE
        return subscription, track_state(self._exercises, entries, zone, self._clock.now(), pauses)

    async def subscribe(self, actor: Actor, command: Subscribe) -> Reply:
        now = self._clock.now()
        existing = await self._repos.subscriptions.get(actor.user)
        keep = existing if existing and existing.status != SubscriptionStatus.CANCELLED else None
        weekday = _first(command.weekday, keep.weekday if keep else None, DEFAULT_WEEKDAY)
        at = _first(command.at, keep.local_time if keep else None, DEFAULT_TIME)
        zone = command.timezone or (keep.timezone if keep else None) or actor.timezone
        zone_guessed = zone is None
        zone = zone or DEFAULT_ZONE
        subscription = Subscription(
            user=actor.user,
            weekday=weekday,
            local_time=at,
            timezone=zone,
            status=SubscriptionStatus.ACTIVE,
            created_at=existing.created_at if existing else now,
            next_due_at=next_due(weekday, at, zone, now),
            reminders=existing.reminders if existing else True,
        )
        await self._repos.subscriptions.save(subscription)
        when = f"{WEEKDAY_NAMES[weekday]} at {at:%H:%M} ({zone})"
        verb = "updated" if keep else "subscribed"
        body = f"You're {verb}: one portfolio exercise every {when}."
        if zone_guessed:
            body += (
                " I don't know your time zone, so I used UTC; set it with e.g. "
                "`subscribe Europe/London`."
            )
        _, state = await self.state_for(actor.user)
        buttons: tuple[Button, ...] = (
            Button("See this week's exercise", "challenge", ButtonStyle.PRIMARY),
        )
        return Reply(
            title="Weekly challenge" if keep else "Welcome to the weekly challenge",
            body=body + f"\nFirst nudge: {local_time(subscription.next_due_at, zone)}.",
            context=state.line + " · `pause`, `unsubscribe` any time",
            buttons=buttons,
        )

    async def pause(self, actor: Actor, command: Pause) -> Reply:
        now = self._clock.now()
        existing = await self._repos.subscriptions.get(actor.user)
        if existing is None or existing.status == SubscriptionStatus.CANCELLED:
            return _not_subscribed("pause")
        until = now + timedelta(weeks=command.weeks)
        paused = dataclasses.replace(
            existing,
            status=SubscriptionStatus.PAUSED,
            paused_until=until,
            next_due_at=next_due(existing.weekday, existing.local_time, existing.timezone, until),
        )
        await self._repos.subscriptions.save(paused)
        await self._repos.subscriptions.add_pause(actor.user, now, until)
        weeks = "a week" if command.weeks == 1 else f"{command.weeks} weeks"
        return Reply(
            title="Paused",
            body=(
                f"Taking {weeks} off. Your next nudge comes "
                f"{local_time(paused.next_due_at, existing.timezone)}; `resume` to come back sooner. "
                "Your streak waits: paused weeks don't break it."
            ),
            buttons=(Button("Resume now", "resume"),),
        )

    async def resume(self, actor: Actor) -> Reply:
        now = self._clock.now()
        existing = await self._repos.subscriptions.get(actor.user)
        if existing is None or existing.status == SubscriptionStatus.CANCELLED:
            return _not_subscribed("resume")
        resumed = dataclasses.replace(
            existing,
            status=SubscriptionStatus.ACTIVE,
            paused_until=None,
            notice=None,
            next_due_at=next_due(existing.weekday, existing.local_time, existing.timezone, now),
        )
        await self._repos.subscriptions.save(resumed)
        await self._repos.subscriptions.end_pause(actor.user, now)
        return Reply(
            title="Welcome back",
            body=f"Nudges are on again. Next one: {local_time(resumed.next_due_at, existing.timezone)}.",
        )

    async def unsubscribe(self, actor: Actor) -> Reply:
        existing = await self._repos.subscriptions.get(actor.user)
        if existing is None or existing.status == SubscriptionStatus.CANCELLED:
            return Reply(body="You're not subscribed, so there's nothing to stop.")
        await self._repos.subscriptions.save(
            dataclasses.replace(
                existing, status=SubscriptionStatus.CANCELLED, next_due_at=None, paused_until=None
            )
        )
        if self._deliveries is not None:
            await self._deliveries.cancel_pending(actor.user, self._clock.now())
        return Reply(
            title="Unsubscribed",
            body=(
                "No more weekly nudges. Your progress is kept, so `subscribe` picks up right "
                "where you left off."
            ),
        )

    async def remind(self, actor: Actor, on: bool) -> Reply:
        existing = await self._repos.subscriptions.get(actor.user)
        if existing is None or existing.status == SubscriptionStatus.CANCELLED:
            return _not_subscribed("remind you about")
        await self._repos.subscriptions.save(dataclasses.replace(existing, reminders=on))
        if on:
            return Reply(
                body=(
                    "Mid-week reminders are on: if the week's exercise is still open a few days "
                    "after the nudge, I'll check in once. `remind off` stops them."
                )
            )
        return Reply(
            body="No more mid-week reminders; the weekly nudge stays. `remind on` to undo."
        )

    async def challenge(self, actor: Actor) -> Reply:
        subscription, state = await self.state_for(actor.user)
        if state.current is None:
            return finished_reply(state.total, state.line)
        reply = exercise_reply(
            state.current,
            state.line,
            round_heading(state.round),
            round_number=state.round,
            upcoming=state.upcoming,
        )
        if subscription is None or subscription.status == SubscriptionStatus.CANCELLED:
            return dataclasses.replace(
                reply,
                context=reply.context + " · `subscribe` to get one every week",
            )
        return reply

    async def done(self, actor: Actor, command: Done) -> Reply:
        if command.link is not None and not is_link(command.link):
            return Reply(
                title="That link doesn't look right",
                body="Links start with http:// or https://, e.g. `done https://example.com/teardown`.",
            )
        return await self._record(actor, ProgressStatus.DONE, command.link, command.note)

    async def skip(self, actor: Actor) -> Reply:
        return await self._record(actor, ProgressStatus.SKIPPED, None, None)

    async def _record(
        self, actor: Actor, status: ProgressStatus, link: str | None, note: str | None
    ) -> Reply:
        _, state = await self.state_for(actor.user)
        exercise = state.current
        if exercise is None:
            return finished_reply(state.total, state.line)
        stored = await self._repos.progress.record(
            ProgressEntry(
                user=actor.user,
                exercise_id=exercise.id,
                status=status,
                at=self._clock.now(),
                link=link,
                note=note,
                round=state.round,
            )
        )
        _, after = await self.state_for(actor.user)
        if not stored:
            return Reply(body=f"*{exercise.title}* was already recorded. {after.line}")
        if status == ProgressStatus.SKIPPED:
            body = f"Skipped *{exercise.title}*. No guilt: not every exercise fits every week."
        else:
            saved = " with your link" if link else (" with your note" if note else "")
            body = f"Nice work: *{exercise.title}* is done{saved}."
            if not link and not note:
                body += " Next time, add a link or a one-line reflection: `done <link or note>`."
            check = self_check_text(exercise)
            if check:
                body += "\n\n" + check
        if after.current is not None:
            body += f"\n\nUp next: *{after.current.title}*."
        buttons = (Button("Show next exercise", "challenge"),) if after.current else ()
        return Reply(body=body, context=after.line, buttons=buttons)

    async def restart(self, actor: Actor) -> Reply:
        _, state = await self.state_for(actor.user)
        if state.current is not None:
            return Reply(
                body=(
                    f"You're still on the track ({state.line}). `restart` opens a review "
                    "round once you've finished it."
                )
            )
        if not self._exercises:
            return Reply(body="There are no exercises yet.")
        # A review round starts when its first entry is recorded; show its first exercise.
        first = self._exercises[0]
        await self._repos.progress.record(
            ProgressEntry(
                user=actor.user,
                exercise_id=ROUND_START,
                status=ProgressStatus.SKIPPED,
                at=self._clock.now(),
                round=state.round + 1,
            )
        )
        return exercise_reply(
            first,
            progress_line(0, state.total, state.streak),
            round_heading(state.round + 1),
            round_number=state.round + 1,
            upcoming=self._exercises[1] if len(self._exercises) > 1 else None,
        )

    async def progress(self, actor: Actor) -> Reply:
        subscription, state = await self.state_for(actor.user)
        entries = await self._repos.progress.list_for(actor.user)
        lines = []
        this_round = {e.exercise_id: e for e in entries if e.round == state.round}
        for exercise in self._exercises:
            entry = this_round.get(exercise.id)
            mark = (
                "✅"
                if entry and entry.status == ProgressStatus.DONE
                else (
                    "⏭️"
                    if entry
                    else ("👉" if state.current and exercise.id == state.current.id else "▫️")
                )
            )
            lines.append(f"{mark} {exercise.order}. {exercise.title}")
        fields = [
            ReplyField("Done", f"{state.done}/{state.total}"),
            ReplyField("Skipped", str(state.skipped)),
            ReplyField("Streak", f"{state.streak} week{'s' if state.streak != 1 else ''}"),
            ReplyField("Nudges", _subscription_summary(subscription)),
        ]
        if state.round > 1:
            fields.append(ReplyField("Round", str(state.round)))
        return Reply(
            title="Your progress",
            body=f"{progress_bar(state.done, state.total)}\n" + "\n".join(lines),
            fields=tuple(fields),
            context=state.line,
        )


T = TypeVar("T")


def _first(*values: T | None) -> T:
    for value in values:
        if value is not None:
            return value
    raise ValueError("no value")


def _subscription_summary(subscription: Subscription | None) -> str:
    if subscription is None or subscription.status == SubscriptionStatus.CANCELLED:
        return "off (`subscribe` to start)"
    when = (
        f"{WEEKDAY_NAMES[subscription.weekday]}s {subscription.local_time:%H:%M} "
        f"{subscription.timezone}"
    )
    if subscription.status == SubscriptionStatus.PAUSED:
        return f"paused until {local_time(subscription.paused_until, subscription.timezone)}"
    return when + ("" if subscription.reminders else " (no mid-week reminder)")


def _not_subscribed(verb: str) -> Reply:
    return Reply(
        body=f"You're not subscribed, so there's nothing to {verb}. `subscribe` to start.",
        buttons=(Button("Subscribe", "subscribe"),),
    )
