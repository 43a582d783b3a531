"""Downtime: a missed week goes out once within the grace window; older ones are skipped."""

from __future__ import annotations

from datetime import timedelta

from bot.core.ports import DeliveryStatus
from tests.nudges.conftest import ScriptedMessenger, World, at

SKIPPED = DeliveryStatus.SKIPPED
SENT = DeliveryStatus.SENT


async def test_down_across_the_fire_time_then_restarted_within_the_window_sends_once(
    world: World, messenger: ScriptedMessenger
) -> None:
    await world.subscribe("ana")  # Mondays 09:00 UTC; the first nudge is Monday 9 March
    world.clock.current = at(9, 8)
    assert (await world.engine({"console": messenger}).tick()).due == 0

    world.clock.current = at(10, 20)  # the process was down for 36 hours across 09:00
    restarted = world.engine({"console": messenger})
    report = await restarted.tick()

    assert (report.due, report.sent, report.skipped) == (1, 1, 0)
    assert (await restarted.tick()).due == 0
    assert (await world.engine({"console": messenger}).tick()).due == 0
    assert messenger.count("ana") == 1
    assert await world.statuses() == {("ana", "2026-W11"): SENT}


async def test_three_missed_weeks_send_one_nudge_and_record_two_skipped(
    world: World, messenger: ScriptedMessenger
) -> None:
    await world.subscribe("ana")
    world.clock.current = at(9, 8)  # then down over 9, 16 and 23 March
    world.clock.current = at(23, 10)

    report = await world.engine({"console": messenger}).tick()

    assert (report.sent, report.skipped) == (1, 2)
    assert messenger.count("ana") == 1
    assert await world.statuses() == {
        ("ana", "2026-W11"): SKIPPED,
        ("ana", "2026-W12"): SKIPPED,
        ("ana", "2026-W13"): SENT,
    }
    sub = await world.repositories.subscriptions.get(messenger.delivered[0][0])
    assert sub is not None
    assert sub.next_due_at == at(30, 9)


async def test_a_week_missed_by_more_than_the_grace_window_is_skipped_not_sent_late(
    world: World, messenger: ScriptedMessenger
) -> None:
    await world.subscribe("ana")
    world.clock.current = at(11, 9, 1)  # 48 h and a minute after Monday 09:00

    report = await world.engine({"console": messenger}).tick()

    assert (report.due, report.skipped) == (0, 1)
    assert messenger.delivered == []
    assert await world.statuses() == {("ana", "2026-W11"): SKIPPED}


async def test_the_grace_window_is_configurable(world: World, messenger: ScriptedMessenger) -> None:
    await world.subscribe("ana")
    world.clock.current = at(9, 16)

    short = await world.engine({"console": messenger}, grace=timedelta(hours=6)).tick()

    assert (short.sent, short.skipped) == (0, 1)


async def test_a_nudge_left_pending_past_the_grace_window_is_skipped(
    world: World, messenger: ScriptedMessenger
) -> None:
    await world.subscribe("dan", platform="discord", workspace="G1")
    world.clock.current = at(9, 9)
    only_console = world.engine({"console": messenger})
    await only_console.tick()  # materialised, but nobody here can reach Discord
    assert await world.statuses() == {("dan", "2026-W11"): DeliveryStatus.PENDING}

    world.clock.current = at(11, 10)
    report = await only_console.tick()

    assert report.skipped == 1
    assert await world.statuses() == {("dan", "2026-W11"): SKIPPED}


async def test_a_long_outage_records_a_bounded_number_of_skipped_weeks(
    world: World, messenger: ScriptedMessenger
) -> None:
    await world.subscribe("ana")
    world.clock.current = at(9, 9) + timedelta(weeks=30)

    report = await world.engine({"console": messenger}, max_skipped_weeks=4).tick()

    assert (report.sent, report.skipped) == (1, 4)
    weeks = await world.rows()
    assert [r.status for r in weeks] == [SKIPPED] * 4 + [SENT]
    assert weeks[-1].due_at == at(9, 9) + timedelta(weeks=30)
