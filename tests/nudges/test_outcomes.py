"""What the engine does with each send outcome: sent, rate limited, transient, permanent."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Awaitable
from datetime import datetime, timedelta
from typing import TypeVar

import pytest

from bot.core.models import Actor, SubscriptionStatus, UserRef
from bot.core.ports import DeliveryStatus, SendOutcome
from bot.core.reply import Reply
from tests.nudges.conftest import ScriptedMessenger, World, at

SECOND = timedelta(seconds=1)
T = TypeVar("T")


async def subscribe_two_workspaces(world: World) -> None:
    for user_id, workspace in (("a1", "T1"), ("a2", "T1"), ("b1", "T2"), ("b2", "T2")):
        await world.subscribe(user_id, platform="slack", workspace=workspace)


async def test_a_rate_limited_workspace_waits_while_other_workspaces_keep_sending(
    world: World, messenger: ScriptedMessenger
) -> None:
    await subscribe_two_workspaces(world)
    messenger.then("a1", SendOutcome.rate_limited(10))
    messenger.then("a2", SendOutcome.rate_limited(10))
    t2_done = asyncio.Event()

    def delivered(user: UserRef) -> None:
        if messenger.count("b1") + messenger.count("b2") == 2:
            t2_done.set()

    async def t2_first_then_time_moves(when: datetime) -> None:
        # Time moves on only once workspace T2 has had its nudges: had T1's limit held T2
        # up, this would never happen and the tick would time out.
        await asyncio.wait_for(t2_done.wait(), timeout=5)
        await world.sleep_until(when)

    messenger.on_delivered = delivered
    world.clock.current = start = at(9, 9)
    # Room for two nudges, both taken by T1 (claimed first): T2 still goes out meanwhile.
    engine = world.engine(
        {"slack": messenger}, sleep_until=t2_first_then_time_moves, max_in_flight=2
    )

    report = await asyncio.wait_for(engine.tick(), timeout=10)

    assert (report.due, report.sent) == (4, 4)
    assert {u.user_id for u, _ in messenger.delivered} == {"a1", "a2", "b1", "b2"}
    a1_again = [t for (u, t) in messenger.calls if u.user_id == "a1"][-1]
    assert a1_again is not None
    assert a1_again >= start + 10 * SECOND
    assert all(r.status == DeliveryStatus.SENT and r.attempts == 1 for r in await world.rows())


async def test_a_long_retry_after_goes_back_to_the_table_and_binds_every_process(
    world: World, messenger: ScriptedMessenger
) -> None:
    await subscribe_two_workspaces(world)
    messenger.then("a1", SendOutcome.rate_limited(120))
    world.clock.current = start = at(9, 9)

    report = await world.engine({"slack": messenger}, concurrency=1).tick()

    assert report.retrying >= 1
    assert {"b1", "b2"} <= {u.user_id for u, _ in messenger.delivered}
    waiting = {r.user_id: r for r in await world.rows() if r.status != DeliveryStatus.SENT}
    assert waiting["a1"].status == DeliveryStatus.PENDING
    assert waiting["a1"].next_attempt_at == start + 120 * SECOND
    assert waiting["a1"].attempts == 0  # a rate limit is not a failed attempt

    world.clock.current = start + 60 * SECOND
    other_process = world.engine({"slack": messenger})
    assert (await other_process.tick()).sent == 0

    world.clock.current = start + 121 * SECOND
    await other_process.tick()
    assert messenger.count("a1") == messenger.count("a2") == 1
    assert all(r.status == DeliveryStatus.SENT for r in await world.rows())


async def test_transient_failures_retry_with_exponential_backoff(
    world: World, messenger: ScriptedMessenger
) -> None:
    await world.subscribe("ana")
    messenger.then("ana", SendOutcome.transient("503"), SendOutcome.transient("timeout"))
    world.clock.current = start = at(9, 9)
    engine = world.engine({"console": messenger})

    first = await engine.tick()
    assert (first.due, first.retrying) == (1, 1)
    [row] = await world.rows()
    assert (row.status, row.attempts) == (DeliveryStatus.RETRYING, 1)
    assert row.next_attempt_at == start + 45 * SECOND  # 60 s, jittered to 75%

    world.clock.current = start + 44 * SECOND
    assert (await engine.tick()).due == 0
    world.clock.current = start + 45 * SECOND
    assert (await engine.tick()).retrying == 1
    [row] = await world.rows()
    assert row.next_attempt_at == start + 135 * SECOND  # doubled: 120 s at 75%

    world.clock.current = start + 135 * SECOND
    assert (await engine.tick()).sent == 1
    [row] = await world.rows()
    assert (row.status, row.attempts, row.message_id) == (DeliveryStatus.SENT, 3, "m-1")


async def test_after_the_last_attempt_a_transient_failure_is_final(
    world: World, messenger: ScriptedMessenger
) -> None:
    user = await world.subscribe("ana")
    messenger.then("ana", *[SendOutcome.transient("503")] * 2)
    world.clock.current = start = at(9, 9)
    engine = world.engine({"console": messenger}, max_attempts=2)

    await engine.tick()
    world.clock.current = start + timedelta(minutes=5)
    report = await engine.tick()

    assert report.failed == 1
    [row] = await world.rows()
    assert row.status == DeliveryStatus.FAILED
    sub = await world.repositories.subscriptions.get(user)
    assert sub is not None
    assert sub.status == SubscriptionStatus.ACTIVE  # next week tries again
    assert sub.notice is None


async def test_a_messenger_that_raises_counts_as_a_transient_failure(
    world: World, messenger: ScriptedMessenger
) -> None:
    await world.subscribe("ana")

    def explode(user: UserRef) -> None:
        messenger.before_send = None
        raise RuntimeError("adapter bug")

    messenger.before_send = explode
    world.clock.current = at(9, 9)

    report = await world.engine({"console": messenger}).tick()

    assert report.retrying == 1
    [row] = await world.rows()
    assert row.status == DeliveryStatus.RETRYING


async def test_a_permanent_failure_pauses_the_member_and_tells_them_next_time(
    world: World, messenger: ScriptedMessenger
) -> None:
    user = await world.subscribe("ana")
    messenger.then("ana", SendOutcome.permanent("DMs are closed"))
    world.clock.current = at(9, 9)
    engine = world.engine({"console": messenger})

    report = await engine.tick()

    assert report.failed == 1
    [row] = await world.rows()
    assert row.status == DeliveryStatus.FAILED
    sub = await world.repositories.subscriptions.get(user)
    assert sub is not None
    assert (sub.status, sub.next_due_at) == (SubscriptionStatus.PAUSED, None)

    world.clock.current = at(23, 9)  # two weeks later: paused, so nothing is attempted
    assert (await engine.tick()).due == 0
    assert len(messenger.calls) == 1

    bot = world.facade({"console": messenger})
    told = await bot.handle(Actor(user), "progress")
    assert "couldn't send you this week's exercise" in told.body
    assert "`resume`" in told.body
    again = await bot.handle(Actor(user), "progress")
    assert "couldn't send" not in again.body

    await bot.handle(Actor(user), "resume")
    world.clock.current = at(30, 9)
    assert (await engine.tick()).sent == 1


async def test_a_member_on_a_platform_this_process_does_not_run_is_left_for_one_that_does(
    world: World, messenger: ScriptedMessenger
) -> None:
    await world.subscribe("dan", platform="discord", workspace="G1")
    await world.subscribe("ana")
    world.clock.current = at(9, 9)

    console_only = await world.engine({"console": messenger}).tick()

    assert (console_only.due, console_only.sent, console_only.failed) == (1, 1, 0)
    assert (await world.statuses())[("dan", "2026-W11")] == DeliveryStatus.PENDING

    discord = ScriptedMessenger()
    world.clock.current = at(9, 10)
    with_discord = await world.engine({"discord": discord}).tick()

    assert with_discord.sent == 1
    assert [u.user_id for u, _ in discord.delivered] == ["dan"]


async def test_a_finished_track_gets_a_warm_offer_to_review_or_stop(
    world: World, messenger: ScriptedMessenger
) -> None:
    user = await world.subscribe("ana")
    bot = world.facade()
    for _ in range(4):
        await bot.handle(Actor(user), "done")
    world.clock.current = at(9, 9)

    await world.engine({"console": messenger}).tick()

    [(_, reply)] = messenger.delivered
    assert isinstance(reply, Reply)
    assert "finished the whole track" in reply.title
    assert [b.command for b in reply.buttons] == ["restart", "unsubscribe"]


class SlidingWindowPlatform:
    """At most `limit` DMs in any second of the fake clock; 429 + exact Retry-After beyond."""

    def __init__(self, world: World, limit: int) -> None:
        self.world = world
        self.limit = limit
        self.accepted: list[datetime] = []
        self.limited = 0

    async def send(self, user: UserRef, reply: Reply) -> SendOutcome:
        await asyncio.sleep(0)
        now = self.world.clock.now()
        window = [t for t in self.accepted if t > now - SECOND]
        if len(window) >= self.limit:
            self.limited += 1
            return SendOutcome.rate_limited((window[0] + SECOND - now).total_seconds())
        self.accepted.append(now)
        return SendOutcome.sent(f"m-{len(self.accepted)}")


class VirtualTime:
    """Sleepers wake in time order, each once everything runnable has run: an event loop in
    fake time. Only for the in-memory backend, where nothing waits on real I/O."""

    def __init__(self, world: World) -> None:
        self.clock = world.clock
        self.sleepers: list[tuple[datetime, int, asyncio.Future[None]]] = []

    async def sleep_until(self, when: datetime) -> None:
        if when <= self.clock.now():
            await asyncio.sleep(0)
            return
        woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self.sleepers, (when, len(self.sleepers) + id(woken), woken))
        await woken

    async def run(self, job: Awaitable[T]) -> T:
        task = asyncio.ensure_future(job)
        while not task.done():
            for _ in range(200):
                await asyncio.sleep(0)
            if self.sleepers and not task.done():
                when, _, woken = heapq.heappop(self.sleepers)
                self.clock.current = max(self.clock.current, when)
                woken.set_result(None)
        return task.result()


@pytest.mark.parametrize("world", ["fake"], indirect=True)
async def test_once_rate_limited_a_workspace_is_paced_instead_of_hammered(world: World) -> None:
    for n in range(40):
        await world.subscribe(f"m{n:02d}", platform="slack", workspace="T1")
    platform = SlidingWindowPlatform(world, limit=10)
    time = VirtualTime(world)
    world.clock.current = start = at(9, 9)
    engine = world.engine({"slack": platform}, sleep_until=time.sleep_until)  # type: ignore[dict-item]

    report = await time.run(engine.tick())

    assert (report.due, report.sent) == (40, 40)
    # The first burst runs into the limit; after that, a paced stream just under it.
    first_burst = 40 - 10
    assert platform.limited <= first_burst + 3
    after = [t - start for t in platform.accepted[10:]]
    assert min(b - a for a, b in itertools.pairwise(after)) >= SECOND / 10
    # At exactly 10 a second the last would go at 1 s + 29 x 100 ms; paced at 97%, a little later.
    assert 3.9 * SECOND <= after[-1] <= 4.2 * SECOND
