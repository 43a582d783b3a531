"""Several engines on one database: disjoint claims, every member exactly once.

On PostgreSQL this is the multi-process set-up (claims use FOR UPDATE SKIP LOCKED); each
engine here has its own connection pool, as separate processes would. SQLite is supported for
one process only, but its guarded claims keep even two engines in one process disjoint.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, text

from bot.core.ports import ClaimedDelivery, DeliveryRepository
from bot.storage.tables import DeliveryRow
from tests.nudges.conftest import ScriptedMessenger, World, at

MEMBERS = 40
LEASE = timedelta(minutes=5)


class Recording:
    """A delivery repository that remembers which rows it claimed."""

    def __init__(self, inner: DeliveryRepository) -> None:
        self.inner = inner
        self.claimed: list[int] = []

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    async def claim(self, *args: object, **kwargs: object) -> list[ClaimedDelivery]:
        claims: list[ClaimedDelivery] = await self.inner.claim(*args, **kwargs)  # type: ignore[arg-type]
        self.claimed.extend(c.id for c in claims)
        await asyncio.sleep(0)
        return claims


async def many_members(world: World) -> None:
    for n in range(MEMBERS):
        await world.subscribe(f"m{n:02d}", platform="slack", workspace=f"T{n % 3}")


async def test_two_engines_claiming_at_once_take_disjoint_batches_and_send_each_once(
    world: World, messenger: ScriptedMessenger
) -> None:
    await many_members(world)
    world.clock.current = at(9, 9)
    await world.engine({}).tick()  # materialise only: both engines start from the same rows
    one, two = Recording(world.deliveries), Recording(await world.another_connection())

    reports = await asyncio.gather(
        world.engine({"slack": messenger}, deliveries=one, owner="one", claim_batch=4).tick(),  # type: ignore[arg-type]
        world.engine({"slack": messenger}, deliveries=two, owner="two", claim_batch=4).tick(),  # type: ignore[arg-type]
    )

    assert not set(one.claimed) & set(two.claimed)
    assert len(one.claimed) + len(two.claimed) == MEMBERS
    assert sum(r.sent for r in reports) == MEMBERS
    sends = Counter(user.user_id for user, _ in messenger.delivered)
    assert len(sends) == MEMBERS
    assert set(sends.values()) == {1}


async def test_two_engines_starting_together_materialise_and_send_each_once(
    world: World, messenger: ScriptedMessenger
) -> None:
    await many_members(world)
    world.clock.current = at(10, 12)
    rival = await world.another_connection()

    reports = await asyncio.gather(
        world.engine({"slack": messenger}, owner="one", materialise_batch=7).tick(),
        world.engine(
            {"slack": messenger}, deliveries=rival, owner="two", materialise_batch=7
        ).tick(),
    )

    assert sum(r.sent for r in reports) == MEMBERS
    assert set(Counter(u.user_id for u, _ in messenger.delivered).values()) == {1}
    assert len(await world.rows()) == MEMBERS


async def test_racing_claims_never_overlap(world: World) -> None:
    await many_members(world)
    now = at(9, 9)
    world.clock.current = now
    await world.engine({}).tick()
    sides = [world.deliveries, await world.another_connection()]
    taken: list[list[int]] = [[], []]

    async def drain(side: int) -> None:
        while claims := await sides[side].claim(
            now, 3, lease_until=now + LEASE, owner=f"side-{side}", platforms=["slack"]
        ):
            taken[side].extend(c.id for c in claims)

    await asyncio.gather(drain(0), drain(1))

    assert not set(taken[0]) & set(taken[1])
    assert len(taken[0]) + len(taken[1]) == MEMBERS


@pytest.mark.parametrize("world", ["postgres"], indirect=True)
async def test_postgres_claims_skip_rows_another_transaction_has_locked(world: World) -> None:
    await many_members(world)
    now: datetime = at(9, 9)
    world.clock.current = now
    await world.engine({}).tick()
    other = await world.another_connection()

    async with world.engines[0].connect() as holder:
        await holder.begin()
        locked = (
            (
                await holder.execute(
                    select(DeliveryRow.id).order_by(DeliveryRow.id).limit(5).with_for_update()
                )
            )
            .scalars()
            .all()
        )
        await holder.execute(text("SELECT 1"))

        claims = await asyncio.wait_for(
            other.claim(now, MEMBERS, lease_until=now + LEASE, owner="b", platforms=["slack"]),
            timeout=5,  # SKIP LOCKED: no waiting for the holder
        )
        await holder.rollback()

    assert len(claims) == MEMBERS - 5
    assert not {c.id for c in claims} & set(locked)
