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
from bot.core.ports import DeliveryStatus, SendOutcome
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
