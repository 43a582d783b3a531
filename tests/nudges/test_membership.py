"""Subscription changes meet the engine: unsubscribe mid fan-out, resubscribe, pause."""

from __future__ import annotations

from bot.core.models import Actor, SubscriptionStatus, UserRef
from bot.core.ports import DeliveryStatus
from tests.nudges.conftest import ScriptedMessenger, World, at


async def test_unsubscribing_mid_fan_out_cancels_the_pending_nudge_and_resubscribing_sends_no_second(
    world: World, messenger: ScriptedMessenger
) -> None:
    members = [await world.subscribe(f"m{n}") for n in range(1, 6)]
    leaver = members[3]
    bot = world.facade({"console": messenger})

    async def leave_during_fan_out(user: UserRef) -> None:
        if user == members[0]:
            reply = await bot.handle(Actor(leaver), "unsubscribe")
            assert reply.title == "Unsubscribed"

    messenger.before_send = leave_during_fan_out
    world.clock.current = at(9, 9)
    # One nudge at a time, so the leaver's is still pending when m1's goes out.
    engine = world.engine({"console": messenger}, max_in_flight=1, concurrency=1)

    report = await engine.tick()

    assert (report.due, report.sent) == (4, 4)
    assert messenger.count(leaver.user_id) == 0
    statuses = await world.statuses()
    assert statuses[(leaver.user_id, "2026-W11")] == DeliveryStatus.CANCELLED
    assert sorted(s for s in statuses.values()).count(DeliveryStatus.SENT) == 4

    # Back the same week, on a slot later this week: that week already had its nudge row.
    messenger.before_send = None
    await bot.handle(Actor(leaver), "subscribe thu 09:00 UTC")
    world.clock.current = at(12, 9)
    assert (await engine.tick()).due == 0
    assert messenger.count(leaver.user_id) == 0

    world.clock.current = at(19, 9)  # the week after, as normal
    assert (await engine.tick()).sent == 1
    assert messenger.count(leaver.user_id) == 1


async def test_resubscribing_in_the_week_already_nudged_sends_no_second(
    world: World, messenger: ScriptedMessenger
) -> None:
    user = await world.subscribe("ana")
    bot = world.facade({"console": messenger})
    world.clock.current = at(9, 9)
    engine = world.engine({"console": messenger})
    assert (await engine.tick()).sent == 1

    await bot.handle(Actor(user), "unsubscribe")
    await bot.handle(Actor(user), "subscribe fri 18:00 UTC")
    world.clock.current = at(13, 19)

    assert (await engine.tick()).due == 0
    assert messenger.count("ana") == 1


async def test_a_paused_subscription_resumes_on_its_date(
    world: World, messenger: ScriptedMessenger
) -> None:
    user = await world.subscribe("ana")
    bot = world.facade({"console": messenger})
    await bot.handle(Actor(user), "pause 2")  # from Monday 2 March: back on Monday 23 March
    engine = world.engine({"console": messenger})

    for day in (9, 16):
        world.clock.current = at(day, 10)
        assert (await engine.tick()).due == 0
    world.clock.current = at(23, 9)
    report = await engine.tick()

    assert (report.sent, report.skipped) == (1, 0)
    sub = await world.repositories.subscriptions.get(user)
    assert sub is not None
    assert sub.status == SubscriptionStatus.ACTIVE
    assert sub.paused_until is None
    assert sub.next_due_at == at(30, 9)


async def test_the_nudge_is_the_members_next_exercise_with_progress_and_actions(
    world: World, messenger: ScriptedMessenger
) -> None:
    user = await world.subscribe("ana")
    bot = world.facade()
    await bot.handle(Actor(user), "done https://example.com/one")
    await bot.handle(Actor(user), "skip")
    world.clock.current = at(9, 9)

    await world.engine({"console": messenger}).tick()

    [(_, reply)] = messenger.delivered
    assert reply.title == "This week's exercise: Exercise 3"
    assert [f.name for f in reply.fields][:2] == ["Deliverable", "Time"]
    assert reply.context == "1/4 ▓░░░ streak 1"
    assert [b.command for b in reply.buttons] == ["done", "skip", "pause 1"]
