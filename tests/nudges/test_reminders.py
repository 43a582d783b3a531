"""The mid-week reminder rides on the weekly nudge's deliveries: planned with it, claimed and
recorded exactly once, and skipped when the week's exercise is done or reminders are off."""

from __future__ import annotations

from datetime import timedelta

from bot.core.models import Actor
from bot.core.ports import DeliveryStatus
from tests.nudges.conftest import ScriptedMessenger, World, at

DAYS = timedelta(days=1)


async def _week_one(world: World, messenger: ScriptedMessenger, user_id: str) -> None:
    await world.subscribe(user_id)
    world.clock.current = at(9, 9, 1)
    report = await world.engine({"console": messenger}, reminders=True).tick()
    assert report.sent == 1


async def test_an_open_exercise_gets_one_reminder_mid_week(
    world: World, messenger: ScriptedMessenger
) -> None:
    await _week_one(world, messenger, "ann")
    engine = world.engine({"console": messenger}, reminders=True)
    world.clock.current = at(11, 9)
    await engine.tick()
    assert messenger.count("ann") == 1  # not yet: the reminder is due three days later
    world.clock.current = at(12, 9, 1)
    await engine.tick()
    await engine.tick()
    assert messenger.count("ann") == 2
    reminder = messenger.delivered[-1][1]
    assert reminder.title.startswith("Mid-week reminder")
    assert "remind off" in [b.command for b in reminder.buttons]
    assert (await world.statuses())[("ann", "2026-W11-mid")] == DeliveryStatus.SENT


async def test_done_this_week_means_no_reminder(world: World, messenger: ScriptedMessenger) -> None:
    await _week_one(world, messenger, "bea")
    world.clock.current = at(10, 12)
    await world.facade().handle(Actor(await world.subscribe("bea")), "done")
    world.clock.current = at(12, 9, 1)
    await world.engine({"console": messenger}, reminders=True).tick()
    assert messenger.count("bea") == 1
    assert (await world.statuses())[("bea", "2026-W11-mid")] == DeliveryStatus.SKIPPED


async def test_remind_off_stops_the_reminder_and_on_brings_it_back(
    world: World, messenger: ScriptedMessenger
) -> None:
    user = await world.subscribe("cy")
    off = await world.facade().handle(Actor(user), "remind off")
    assert "No more mid-week reminders" in off.body
    world.clock.current = at(9, 9, 1)
    engine = world.engine({"console": messenger}, reminders=True)
    await engine.tick()
    world.clock.current = at(12, 9, 1)
    await engine.tick()
    assert messenger.count("cy") == 1
    assert ("cy", "2026-W11-mid") not in await world.statuses()

    await world.facade().handle(Actor(user), "remind on")
    world.clock.current = at(16, 9, 1)
    await engine.tick()
    world.clock.current = at(19, 9, 1)
    await engine.tick()
    assert messenger.count("cy") == 3
    assert (await world.statuses())[("cy", "2026-W12-mid")] == DeliveryStatus.SENT


async def test_turning_reminders_off_after_planning_skips_the_planned_one(
    world: World, messenger: ScriptedMessenger
) -> None:
    await _week_one(world, messenger, "dee")
    user = await world.subscribe("dee")
    await world.facade().handle(Actor(user), "remind off")
    world.clock.current = at(12, 9, 1)
    await world.engine({"console": messenger}, reminders=True).tick()
    assert messenger.count("dee") == 1
    assert (await world.statuses())[("dee", "2026-W11-mid")] == DeliveryStatus.SKIPPED
