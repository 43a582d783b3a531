"""Daylight saving weeks in both hemispheres: ticking every 30 minutes across the change,
a nudge at a local time that is skipped (spring) or repeated (autumn) goes out exactly once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.ports import DeliveryStatus
from tests.nudges.conftest import ScriptedMessenger, World

TICK = timedelta(minutes=30)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


# zone, local slot, due instant on the change day (UTC), the next week's (UTC)
WEEKS = [
    # 02:30 does not exist on 8 March: it goes out at 03:30 EDT.
    ("America/New_York", "sun 02:30", utc(2026, 3, 8, 7, 30), utc(2026, 3, 15, 6, 30)),
    # 01:30 happens twice on 1 November: the first, EDT, only.
    ("America/New_York", "sun 01:30", utc(2026, 11, 1, 5, 30), utc(2026, 11, 8, 6, 30)),
    ("Europe/Berlin", "sun 02:30", utc(2026, 3, 29, 1, 30), utc(2026, 4, 5, 0, 30)),
    ("Europe/Berlin", "sun 02:30", utc(2026, 10, 25, 0, 30), utc(2026, 11, 1, 1, 30)),
    # Southern hemisphere: summer time ends in April and starts in October.
    ("Australia/Sydney", "sun 02:30", utc(2026, 4, 4, 15, 30), utc(2026, 4, 11, 16, 30)),
    ("Australia/Sydney", "sun 02:30", utc(2026, 10, 3, 16, 30), utc(2026, 10, 10, 15, 30)),
]


@pytest.mark.parametrize(
    ("zone", "slot", "due", "following"),
    WEEKS,
    ids=[f"{zone}-{due:%b}" for zone, _, due, _ in WEEKS],
)
async def test_a_dst_week_gets_exactly_one_nudge_at_the_right_instant(
    world: World,
    messenger: ScriptedMessenger,
    zone: str,
    slot: str,
    due: datetime,
    following: datetime,
) -> None:
    world.clock.current = due - timedelta(days=3)
    user = await world.subscribe("ana", f"{slot} {zone}")
    engine = world.engine({"console": messenger})

    sent_at = []
    world.clock.current = due - timedelta(days=1)
    while world.clock.current <= due + timedelta(days=2):
        if (await engine.tick()).sent:
            sent_at.append(world.clock.current)
        world.clock.current += TICK

    assert sent_at == [due]
    [row] = await world.rows()
    assert (row.status, row.due_at) == (DeliveryStatus.SENT, due)
    sub = await world.repositories.subscriptions.get(user)
    assert sub is not None
    assert sub.next_due_at == following
