"""Leases: a claim whose process died is taken over once, and the one duplicate window.

A nudge can only go out twice if a process dies after the platform accepted the message and
before the row was marked sent: the lease then runs out and another process sends it again.
Dying at any other point sends it exactly once.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.core.models import UserRef
from bot.core.ports import DeliveryStatus, SendOutcome, SendStatus
from bot.core.reply import Reply
from tests.nudges.conftest import ScriptedMessenger, World, at

LEASE = timedelta(minutes=5)


class ProcessKilled(BaseException):
    """Stands in for SIGKILL: nothing after it runs, no `except Exception` catches it."""


async def test_an_expired_lease_is_reclaimed_exactly_once(
    world: World, messenger: ScriptedMessenger
) -> None:
    await world.subscribe("ana")
    world.clock.current = start = at(9, 9)
    await world.engine({}).tick()  # materialises; with no messenger it claims nothing
    # A process claims the nudge, then dies before sending it.
    [claim] = await world.deliveries.claim(
        start, 10, lease_until=start + LEASE, owner="dead", platforms=["console"]
    )

    world.clock.current = start + LEASE - timedelta(seconds=1)
    assert (await world.engine({"console": messenger}).tick()).due == 0

    world.clock.current = start + LEASE
    rival = await world.another_connection()
    reports = await asyncio.gather(
        world.engine({"console": messenger}, owner="b").tick(),
        world.engine({"console": messenger}, deliveries=rival, owner="c").tick(),
    )

    assert sorted(r.sent for r in reports) == [0, 1]
    assert messenger.count("ana") == 1
    [row] = await world.rows()
    assert (row.status, row.attempts) == (DeliveryStatus.SENT, 2)
    assert row.owner in {"b", "c"}
    # The dead process's claim is void: recording it now changes nothing.
    assert not await world.deliveries.record_sent(claim, "dead", "late", None, start + LEASE)
    world.clock.current = start + 2 * LEASE
    assert (await world.engine({"console": messenger}).tick()).due == 0


@pytest.mark.parametrize(
    ("dies", "copies"),
    [("before sending", 1), ("after sending, before recording", 2), ("after recording", 1)],
)
async def test_only_a_death_between_send_and_record_duplicates_a_nudge(
    world: World, messenger: ScriptedMessenger, dies: str, copies: int
) -> None:
    """The documented duplicate window: at-least-once at the platform boundary."""
    user = await world.subscribe("ana")
    world.clock.current = start = at(9, 9)

    class Dying(ScriptedMessenger):
        async def send(self, member: UserRef, reply: Reply) -> SendOutcome:
            if dies == "before sending":
                raise ProcessKilled
            outcome = await messenger.send(member, reply)
            if dies.startswith("after sending"):
                raise ProcessKilled
            return outcome

    dying = world.engine({"console": Dying()}, owner="dying")
    if dies == "after recording":
        await world.engine({"console": messenger}, owner="dying").tick()
    else:
        with pytest.raises(ProcessKilled):
            await dying.tick()

    world.clock.current = start + LEASE
    await world.engine({"console": messenger}, owner="survivor").tick()

    assert messenger.count(user.user_id) == copies
    [row] = await world.rows()
    assert row.status == DeliveryStatus.SENT


class Remembering(ScriptedMessenger):
    """A platform that can say whether a delivery's message reached the member (as Slack's
    message metadata lets us look it up)."""

    def __init__(self) -> None:
        super().__init__()
        self.keys: dict[str, str] = {}

    async def send(self, user: UserRef, reply: Reply) -> SendOutcome:
        outcome = await super().send(user, reply)
        if outcome.status == SendStatus.SENT and outcome.message_id:
            self.keys[reply.delivery_key] = outcome.message_id
        return outcome

    async def find_sent(self, user: UserRef, key: str) -> str | None:
        return self.keys.get(key, "")


class DiesAfter(ScriptedMessenger):
    """Hands `sends` messages to the platform, then dies right after the platform accepted
    the next one (the worst moment: sent, not recorded)."""

    def __init__(self, platform: ScriptedMessenger, sends: int) -> None:
        super().__init__()
        self.platform = platform
        self.left = sends

    async def send(self, user: UserRef, reply: Reply) -> SendOutcome:
        if self.left < 0:  # dead: nothing reaches the platform any more
            raise ProcessKilled
        outcome = await self.platform.send(user, reply)
        self.left -= 1
        if self.left < 0:
            raise ProcessKilled
        return outcome


async def crash_mid_fanout(world: World, platform: ScriptedMessenger, members: int) -> None:
    for n in range(members):
        await world.subscribe(f"m{n:02}")
    world.clock.current = start = at(9, 9)
    dying = world.engine({"console": DiesAfter(platform, 3)}, owner="dying", concurrency=1)
    with pytest.raises(ProcessKilled):
        await dying.tick()
    world.clock.current = start + dying.policy.lease
    await world.engine({"console": platform}, owner="survivor").tick()


async def test_a_crash_after_the_platform_accepted_is_reconciled_not_resent(
    world: World,
) -> None:
    platform = Remembering()
    await crash_mid_fanout(world, platform, members=10)

    copies = [platform.count(f"m{n:02}") for n in range(10)]
    assert copies == [1] * 10
    assert {r.status for r in await world.rows()} == {DeliveryStatus.SENT}


async def test_where_the_platform_cannot_tell_only_the_interrupted_row_is_sent_again(
    world: World, messenger: ScriptedMessenger
) -> None:
    await crash_mid_fanout(world, messenger, members=10)

    copies = sorted(messenger.count(f"m{n:02}") for n in range(10))
    assert copies == [1] * 9 + [2]
    assert {r.status for r in await world.rows()} == {DeliveryStatus.SENT}


async def test_a_stopping_process_gives_back_what_it_still_holds(world: World) -> None:
    for name in ("ana", "ben"):
        await world.subscribe(name)
    world.clock.current = start = at(9, 9)
    await world.engine({}).tick()
    claims = await world.deliveries.claim(
        start, 10, lease_until=start + LEASE, owner="leaving", platforms=["console"]
    )
    assert await world.deliveries.mark_sending(claims[0], "leaving", start)

    engine = world.engine({}, owner="leaving")
    assert await engine.release_claims() == 2

    rows = await world.rows()
    assert {r.status for r in rows} == {DeliveryStatus.PENDING}
    # The one never handed to the platform does not count as an attempt.
    assert sorted(r.attempts for r in rows) == [0, 1]
    [again] = [
        c
        for c in await world.deliveries.claim(
            start, 10, lease_until=start + LEASE, owner="next", platforms=["console"]
        )
        if c.id == claims[0].id
    ]
    assert again.interrupted
