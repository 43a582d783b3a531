"""Weekly nudges: the delivery engine's policy and its per-tick loop, over ports only.

One tick: skip what is past the grace window, materialise due weeks (the database keeps one
delivery per member and week), then claim, send and record until nothing is due. The database
decides who is due; this module decides what to do about it.

Exactly-once: a claim is a short lease, renewed while the process lives, and every record is
guarded by (owner, attempt). Claims are small, and each row is marked as being sent just
before its own send. A process that dies after the platform accepted a message and before it
recorded that leaves its marked rows behind; when their lease runs out, the next claimant asks
the platform whether the message (carrying the delivery's key) is there before sending again.
Where a platform cannot tell, that one row is sent again; nothing else is.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.core.context import current_delivery
from bot.core.models import Exercise, ProgressEntry
from bot.core.ports import (
    ClaimedDelivery,
    Clock,
    DeliveryPlan,
    DeliveryRepository,
    DeliveryStatus,
    DueSubscription,
    Messenger,
    PlannedWeek,
    ProgressRepository,
    Reconciler,
    SendOutcome,
    SendStatus,
)
from bot.core.presenter import exercise_reply, finished_reply, reminder_reply, round_heading
from bot.core.progress import track_state
from bot.core.reply import Reply
from bot.core.schedule import is_reminder_week, next_due, reminder_week, week_key
from bot.core.telemetry import NO_TELEMETRY, NudgeOutcome, Telemetry
from bot.core.throttle import Throttle, Workspace

log = logging.getLogger(__name__)

_STILL_DUE = (DeliveryStatus.RETRYING, DeliveryStatus.PENDING)
MAX_NAPS = 3
NAP = timedelta(milliseconds=50)

SleepUntil = Callable[[datetime], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class NudgePolicy:
    grace: timedelta = timedelta(hours=48)
    """A week missed while no process ran is still sent this long after its due time."""
    max_attempts: int = 5
    backoff_base: timedelta = timedelta(minutes=1)
    backoff_cap: timedelta = timedelta(hours=1)
    lease: timedelta = timedelta(seconds=60)
    """Renewed every third of itself while the process lives: a crashed process's nudges are
    due again within a minute."""
    default_retry_after: timedelta = timedelta(seconds=5)
    """When a platform says "rate limited" without saying for how long."""
    max_hold: timedelta = timedelta(seconds=30)
    """A claimed nudge waits in-process for its workspace's rate limit at most this long,
    then goes back to the table for later."""
    idle_horizon: timedelta = timedelta(seconds=30)
    """A tick waits this long at most for a workspace's rate limit to lift before it ends."""
    send_timeout: timedelta = timedelta(seconds=60)
    concurrency: int = 32
    """Sends in flight at once, across workspaces."""
    max_in_flight: int = 64
    """Claimed nudges being composed, sent or recorded at once by this process; those
    waiting for their workspace's rate limit do not count, so other workspaces go on."""
    claim_batch: int = 8
    materialise_batch: int = 500
    max_skipped_weeks: int = 52
    """After a long outage, record at most this many skipped weeks per member."""
    reminders: bool = False
    """Whether to plan mid-week reminders at all (the bot turns them on; members opt out)."""
    reminder_after: timedelta = timedelta(days=3)
    """The mid-week reminder comes this long after the weekly nudge, if the exercise of
    the week is still not done (or skipped) by then."""


@dataclass(frozen=True, slots=True)
class TickReport:
    """This tick's deliveries by where they ended; `due` is every nudge it handled."""

    due: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "due": self.due,
            "sent": self.sent,
            "retrying": self.retrying,
            "failed": self.failed,
            "skipped": self.skipped,
        }


# --- Policy ---------------------------------------------------------------------------------


def plan_delivery(due: DueSubscription, now: datetime, policy: NudgePolicy) -> DeliveryPlan:
    """The latest due week is sent if it is within the grace window; every earlier missed week
    (and that one too, if it is older) is recorded skipped, so an outage never ends in a burst
    of late nudges."""
    zone, weekday, at = due.timezone, due.weekday, due.local_time
    instant = due.next_due_at
    horizon = timedelta(weeks=policy.max_skipped_weeks + 1)
    if now - instant > horizon:
        instant = next_due(weekday, at, zone, now - horizon)
    missed: list[datetime] = []
    following = next_due(weekday, at, zone, instant)
    while following <= now:
        missed.append(instant)
        instant, following = following, next_due(weekday, at, zone, following)
    deliver: PlannedWeek | None = PlannedWeek(week_key(instant, zone), instant)
    if now - instant > policy.grace:
        missed.append(instant)
        deliver = None
    skipped = tuple(PlannedWeek(week_key(d, zone), d) for d in missed[-policy.max_skipped_weeks :])
    remind = None
    if deliver is not None and due.reminders and policy.reminders:
        remind = PlannedWeek(reminder_week(deliver.week), deliver.due_at + policy.reminder_after)
    return DeliveryPlan(
        subscription_id=due.id,
        expected_due_at=due.next_due_at,
        next_due_at=following,
        deliver=deliver,
        skipped=skipped,
        remind=remind,
    )


def backoff(attempt: int, policy: NudgePolicy, jitter: float) -> timedelta:
    """Exponential backoff after the `attempt`-th failure, with "equal jitter": between half
    and all of the exponential delay, so retries from one outage spread out."""
    exponential: timedelta = policy.backoff_base * 2 ** max(attempt - 1, 0)
    delay = min(exponential, policy.backoff_cap)
    return delay * (0.5 + 0.5 * jitter)


@dataclass(frozen=True, slots=True)
class Verdict:
    """What to record for one send outcome."""

    status: DeliveryStatus
    at: datetime | None = None
    error: str = ""
    notice: str | None = None


def judge(
    outcome: SendOutcome,
    claim: ClaimedDelivery,
    now: datetime,
    policy: NudgePolicy,
    jitter: float,
) -> Verdict:
    match outcome.status:
        case SendStatus.SENT:
            return Verdict(DeliveryStatus.SENT)
        case SendStatus.RATE_LIMITED:
            wait = _seconds(outcome.retry_after) or policy.default_retry_after
            return Verdict(DeliveryStatus.PENDING, now + wait, outcome.reason or "rate limited")
        case SendStatus.PERMANENT:
            return Verdict(
                DeliveryStatus.FAILED,
                error=outcome.reason or "permanent failure",
                notice=permanent_notice(outcome.reason),
            )
    reason = outcome.reason or "temporary failure"
    if claim.attempts >= policy.max_attempts:
        return Verdict(DeliveryStatus.FAILED, error=f"gave up after {claim.attempts}: {reason}")
    retry_at = now + backoff(claim.attempts, policy, jitter)
    if retry_at > claim.due_at + policy.grace:
        return Verdict(DeliveryStatus.FAILED, error=f"past the grace window: {reason}")
    return Verdict(DeliveryStatus.RETRYING, retry_at, reason)


def permanent_notice(reason: str) -> str:
    why = f" ({reason})" if reason else ""
    return (
        f"I couldn't send you this week's exercise as a direct message{why}, so I've paused "
        "your weekly nudges. Once I can message you again, `resume` turns them back on."
    )


def _seconds(value: float | None) -> timedelta | None:
    return timedelta(seconds=value) if value is not None and value > 0 else None


# --- The nudge --------------------------------------------------------------------------------


def nudge_reply(
    exercises: tuple[Exercise, ...], entries: list[ProgressEntry], zone: str, now: datetime
) -> tuple[Reply, str | None]:
    """The weekly DM and the id of the exercise it carries (None once the track is done)."""
    state = track_state(exercises, entries, zone, now)
    if state.current is None:
        return finished_reply(state.total, state.line), None
    reply = exercise_reply(
        state.current,
        state.line,
        round_heading(state.round),
        round_number=state.round,
        upcoming=state.upcoming,
    )
    return reply, state.current.id


def reminder_needed(
    claim: ClaimedDelivery,
    exercises: tuple[Exercise, ...],
    entries: list[ProgressEntry],
    now: datetime,
    policy: NudgePolicy,
) -> tuple[Reply | None, str]:
    """The mid-week reminder, or None and why it is not needed any more."""
    if not claim.reminders:
        return None, "reminders turned off"
    week_started = claim.due_at - policy.reminder_after
    if any(e.at >= week_started for e in entries):
        return None, "this week's exercise is done"
    state = track_state(exercises, entries, claim.timezone, now)
    if state.current is None:
        return None, "the track is finished"
    return reminder_reply(state.current, state.line), ""


# --- The engine -------------------------------------------------------------------------------


@dataclass
class _Fanout:
    """One drain's shared state: the send slots, where each nudge ended, who is waiting."""

    sending: asyncio.Semaphore
    ends: dict[int, DeliveryStatus] = field(default_factory=dict)
    waiting: int = 0
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    @asynccontextmanager
    async def waiting_for_rate_limit(self) -> AsyncIterator[None]:
        self.waiting += 1
        self.changed.set()
        try:
            yield
        finally:
            self.waiting -= 1
            self.changed.set()


class NudgeEngine:
    """Runs ticks. One engine per process; several processes may share one PostgreSQL."""

    def __init__(
        self,
        *,
        deliveries: DeliveryRepository,
        progress: ProgressRepository,
        exercises: tuple[Exercise, ...],
        messengers: Mapping[str, Messenger],
        clock: Clock,
        policy: NudgePolicy | None = None,
        sleep_until: SleepUntil | None = None,
        jitter: Callable[[], float] = random.random,
        owner: str | None = None,
        telemetry: Telemetry = NO_TELEMETRY,
    ) -> None:
        self._deliveries = deliveries
        self._progress = progress
        self._exercises = exercises
        self._messengers = messengers
        """Read at every claim: platforms that start later are picked up."""
        self._clock = clock
        self.policy = policy or NudgePolicy()
        self._sleep_until = sleep_until or self._real_sleep_until
        self._jitter = jitter
        self.owner = owner or f"engine-{uuid.uuid4().hex[:12]}"
        self._throttle = Throttle()
        self._stopping = False
        self._telemetry = telemetry

    def stop(self) -> None:
        """Claim nothing more. Nudges already claimed are sent and recorded, or, if they
        would have to wait for a rate limit, put back for the next process to send."""
        self._stopping = True

    async def tick(self) -> TickReport:
        now = self._clock.now()
        skipped = await self._deliveries.skip_stale(now - self.policy.grace, now)
        while not self._stopping:
            result = await self._deliveries.materialise(
                now, self.policy.materialise_batch, lambda due: plan_delivery(due, now, self.policy)
            )
            skipped += result.skipped
            if result.examined < self.policy.materialise_batch:
                break
        renewing = asyncio.create_task(self._keep_leases())
        try:
            ends = await self._drain()
        finally:
            renewing.cancel()
        return TickReport(
            due=len(ends),
            sent=sum(1 for s in ends.values() if s == DeliveryStatus.SENT),
            retrying=sum(1 for s in ends.values() if s in _STILL_DUE),
            failed=sum(1 for s in ends.values() if s == DeliveryStatus.FAILED),
            skipped=skipped,
        )

    async def preview(self) -> TickReport:
        """What a tick would do now, without writing or sending anything: `due` counts the
        nudges this process could send (members of platforms it has a messenger for)."""
        now = self._clock.now()
        stale_before = now - self.policy.grace
        platforms = tuple(self._messengers)
        overview = await self._deliveries.overview(now, stale_before)
        due = await self._deliveries.due_subscriptions(now, overview.subscriptions_due)
        plans = [(d.user.platform, plan_delivery(d, now, self.policy)) for d in due]
        return TickReport(
            due=await self._deliveries.count_due(now, stale_before, platforms)
            + sum(1 for platform, p in plans if p.deliver is not None and platform in platforms),
            skipped=overview.stale + sum(len(p.skipped) + (p.deliver is None) for _, p in plans),
        )

    async def _drain(self) -> dict[int, DeliveryStatus]:
        """Claim, send and record until nothing is claimable and no rate limit is about to
        lift. Nudges waiting for their workspace's limit do not count against
        `max_in_flight`, so other workspaces keep being claimed and sent meanwhile."""
        fanout = _Fanout(asyncio.Semaphore(self.policy.concurrency))
        running: set[asyncio.Task[None]] = set()
        batch = min(self.policy.claim_batch, self.policy.max_in_flight)
        exhausted = False
        naps = 0
        skipped: set[Workspace] = set()
        try:
            while True:
                active = len(running) - fanout.waiting
                room = self.policy.max_in_flight - active
                # Claim in batches rather than one row per finished send.
                if not self._stopping and not exhausted and room >= (batch if active else 1):
                    want = min(room, batch)
                    skipped = set(self._throttle.busy(self._clock.now()))
                    claims = await self._claim(want, skipped)
                    exhausted = len(claims) < want
                    naps = 0 if claims else naps
                    running.update(
                        asyncio.create_task(self._deliver(claim, fanout)) for claim in claims
                    )
                if running:
                    changed = asyncio.create_task(fanout.changed.wait())
                    done, _ = await asyncio.wait(
                        {*running, changed}, return_when=asyncio.FIRST_COMPLETED
                    )
                    if changed in done:
                        # A nudge started or stopped waiting for a rate limit: if a workspace
                        # the last claim skipped is free again, its rows are claimable.
                        fanout.changed.clear()
                        if skipped - set(self._throttle.busy(self._clock.now())):
                            exhausted = False
                    else:
                        changed.cancel()
                    for task in done - {changed}:
                        running.discard(task)
                        task.result()
                    continue
                # Rows another process is claiming right now look due but cannot be taken:
                # nap a little longer each time nothing could be claimed, then give up.
                if self._stopping or naps > MAX_NAPS:
                    return fanout.ends
                if not await self._wait_for_more(NAP * naps):
                    return fanout.ends
                naps += 1
                exhausted = False
        finally:
            for task in running:
                task.cancel()

    async def _claim(self, limit: int, skipped: set[Workspace]) -> list[ClaimedDelivery]:
        now = self._clock.now()
        claims = await self._deliveries.claim(
            now,
            limit,
            lease_until=now + self.policy.lease,
            owner=self.owner,
            platforms=tuple(self._messengers),
            blocked=tuple(skipped),
        )
        for claim in claims:
            if claim.attempts == 1:
                self._telemetry.claim_lag((now - claim.due_at).total_seconds())
        return claims

    async def _keep_leases(self) -> None:
        """Renew this process's leases on wall-clock time while a tick runs."""
        every = self.policy.lease.total_seconds() / 3
        while True:
            await asyncio.sleep(every)
            now = self._clock.now()
            try:
                await self._deliveries.renew(self.owner, now + self.policy.lease, now)
            except Exception as error:
                log.warning("nudges: could not renew leases (%s)", type(error).__name__)

    async def release_claims(self) -> int:
        """Give back whatever this process still holds (after a tick was cut short)."""
        return await self._deliveries.release(self.owner, self._clock.now())

    async def _wait_for_more(self, at_least: timedelta) -> bool:
        """Carry on if something is claimable now, or once a workspace's rate limit lifts
        within the idle horizon. Retries scheduled for later are left to later ticks."""
        now = self._clock.now()
        closed = self._throttle.busy(now)
        ready = await self._deliveries.next_due_at(tuple(self._messengers), tuple(closed))
        if ready is not None and ready <= now:
            wake = now
        elif closed and min(closed.values()) - now <= self.policy.idle_horizon:
            wake = min(closed.values())
        else:
            return False
        await self._sleep_until(max(wake, now + at_least))
        return True

    async def _deliver(self, claim: ClaimedDelivery, fanout: _Fanout) -> None:
        current_delivery.set(str(claim.id))  # this task's log lines name the delivery
        fanout.ends[claim.id] = await self._deliver_one(claim, fanout)

    async def _deliver_one(self, claim: ClaimedDelivery, fanout: _Fanout) -> DeliveryStatus:
        key = (claim.user.platform, claim.user.workspace)
        held_since = self._clock.now()
        if claim.attempts > self.policy.max_attempts:
            # Claimed again and again by processes that died before recording: give up.
            error = f"gave up after {claim.attempts - 1} interrupted attempts"
            await self._deliveries.record_failed(claim, self.owner, error, held_since)
            return DeliveryStatus.FAILED
        entries = await self._progress.list_for(claim.user)
        reply, exercise_id = nudge_reply(self._exercises, entries, claim.timezone, held_since)
        if is_reminder_week(claim.week):
            reminder, why = reminder_needed(
                claim, self._exercises, entries, held_since, self.policy
            )
            if reminder is None:
                await self._deliveries.record_skipped(claim, self.owner, why, held_since)
                return DeliveryStatus.SKIPPED
            reply = reminder
        reply = dataclasses.replace(reply, delivery_key=claim.key)
        while True:
            messenger = self._messengers.get(claim.user.platform)
            if messenger is None:
                now = self._clock.now()
                return await self._put_back(claim, now, "no messenger for this platform here")
            later = await self._wait_turn(key, held_since, fanout)
            if later is not None:
                return await self._put_back(claim, later, "rate limited")
            async with fanout.sending:
                if self._stopping:
                    return await self._put_back(claim, self._clock.now(), "shutting down")
                if self._throttle.closed_until(key, self._clock.now()) is not None:
                    continue
                if claim.interrupted:
                    found = await self._already_sent(messenger, claim)
                    if found:
                        self._telemetry.nudge(claim.user.platform, NudgeOutcome.RECONCILED)
                        verdict = Verdict(DeliveryStatus.SENT)
                        return await self._record(
                            claim, verdict, SendOutcome.sent(found), exercise_id, self._clock.now()
                        )
                if not await self._deliveries.mark_sending(claim, self.owner, self._clock.now()):
                    log.warning("delivery %s: claim lost before sending; not sent", claim.id)
                    return DeliveryStatus.PENDING
                outcome = await self._send(messenger, claim, reply)
            now = self._clock.now()
            verdict = judge(outcome, claim, now, self.policy, self._jitter())
            if outcome.status == SendStatus.RATE_LIMITED and verdict.at is not None:
                self._throttle.limited(key, now, verdict.at)
                continue
            if outcome.status == SendStatus.SENT:
                self._throttle.accepted(key, now)
            return await self._record(claim, verdict, outcome, exercise_id, now)

    async def _wait_turn(
        self, key: Workspace, held_since: datetime, fanout: _Fanout
    ) -> datetime | None:
        """Wait until this workspace may be sent to: its Retry-After over, its paced slot
        come. Returns when to try again instead if that is too far off (or we are stopping)."""
        while True:
            now = self._clock.now()
            closed = self._throttle.closed_until(key, now)
            booked_after = self._throttle.limits(key)
            turn = closed or self._throttle.reserve(key, now)
            if turn <= now:
                return None
            if self._stopping or turn - held_since > self.policy.max_hold:
                return turn
            async with fanout.waiting_for_rate_limit():
                await self._sleep_until(turn)
            # After a Retry-After, look again; a slot booked before a newer 429 is void.
            if closed is None and self._throttle.limits(key) == booked_after:
                return None

    async def _already_sent(self, messenger: Messenger, claim: ClaimedDelivery) -> str:
        """The message id if an interrupted earlier attempt reached the member; "" if it did
        not or the platform cannot tell (then this one row is sent again)."""
        if not isinstance(messenger, Reconciler):
            return ""
        try:
            found = await asyncio.wait_for(
                messenger.find_sent(claim.user, claim.key), self.policy.send_timeout.total_seconds()
            )
        except Exception as error:
            log.warning("delivery %s: could not check for an earlier send (%r)", claim.id, error)
            return ""
        return found or ""

    async def _send(
        self, messenger: Messenger, claim: ClaimedDelivery, reply: Reply
    ) -> SendOutcome:
        try:
            return await asyncio.wait_for(
                messenger.send(claim.user, reply), self.policy.send_timeout.total_seconds()
            )
        except TimeoutError:
            # The platform may or may not have the message: retried, like any transient error.
            return SendOutcome.transient("timed out")
        except Exception as error:
            log.exception("messenger for %s failed", claim.user.platform)
            return SendOutcome.transient(f"messenger error: {type(error).__name__}")

    async def _record(
        self,
        claim: ClaimedDelivery,
        verdict: Verdict,
        outcome: SendOutcome,
        exercise_id: str | None,
        now: datetime,
    ) -> DeliveryStatus:
        if verdict.status == DeliveryStatus.SENT:
            kept = await self._deliveries.record_sent(
                claim, self.owner, outcome.message_id or "", exercise_id, now
            )
        elif verdict.status == DeliveryStatus.RETRYING and verdict.at is not None:
            kept = await self._deliveries.record_retry(
                claim, self.owner, verdict.at, verdict.error, now
            )
        else:
            kept = await self._deliveries.record_failed(
                claim, self.owner, verdict.error, now, pause_with_notice=verdict.notice
            )
        outcome_name = {
            DeliveryStatus.SENT: NudgeOutcome.SENT,
            DeliveryStatus.RETRYING: NudgeOutcome.RETRIED,
            DeliveryStatus.FAILED: NudgeOutcome.FAILED,
        }.get(verdict.status)
        if kept and outcome_name is not None:
            self._telemetry.nudge(claim.user.platform, outcome_name)
        if not kept:
            log.warning(
                "delivery %s was taken over by another process while %s held it (%s)",
                claim.id,
                self.owner,
                verdict.status,
            )
        return verdict.status

    async def _put_back(self, claim: ClaimedDelivery, at: datetime, why: str) -> DeliveryStatus:
        now = self._clock.now()
        await self._deliveries.record_retry(claim, self.owner, at, why, now, count_attempt=False)
        return DeliveryStatus.PENDING

    async def _real_sleep_until(self, when: datetime) -> None:
        await asyncio.sleep(max((when - self._clock.now()).total_seconds(), 0.0))
