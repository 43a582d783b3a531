"""Weekly nudges through the Slack messenger: the core's engine sends, Slack answers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest

from bot.app import Runtime
from bot.core.models import UserRef
from bot.core.nudges import NudgeEngine
from tests.slack.fake_slack import TEAM_ID, Call, FakeSlack
from tests.slack.support import Answer, Member, section_text
from tests.support.fakes import FakeClock


@pytest.fixture
def engine(runtime: Runtime, clock: FakeClock) -> NudgeEngine:
    async def sleep_until(when: datetime) -> None:
        clock.current = max(clock.current, when)

    return NudgeEngine(
        deliveries=runtime.deliveries,
        progress=runtime.repositories.progress,
        exercises=runtime.knowledge.exercises,
        messengers=runtime.facade.messengers,
        clock=clock,
        sleep_until=sleep_until,
        jitter=lambda: 0.0,
    )


def dm_to(member: Member) -> Callable[[Call], bool]:
    return lambda call: call.params.get("channel") == member.user_id


async def test_a_due_nudge_arrives_by_dm_and_its_buttons_work(
    member: Member, engine: NudgeEngine, clock: FakeClock, fake: FakeSlack, runtime: Runtime
) -> None:
    await member.ask("subscribe mon 10:00 UTC")
    clock.advance(hours=1, minutes=1)
    report = await engine.tick()
    assert report.sent == 1
    dm = await fake.wait_call("chat.postMessage", dm_to(member))
    member.channel = dm.params["channel"]
    nudge = Answer(ack=None, message=dm.params, response_url="")  # type: ignore[arg-type]
    assert {"Mark done", "Skip"} <= set(nudge.buttons())
    done = await member.click(nudge, "Mark done")
    assert "is done" in section_text(done.blocks)
    entries = await runtime.repositories.progress.list_for(
        UserRef("slack", TEAM_ID, member.user_id)
    )
    assert len(entries) == 1


async def test_a_429_holds_the_nudge_for_a_later_tick(
    member: Member, engine: NudgeEngine, clock: FakeClock, fake: FakeSlack
) -> None:
    await member.ask("subscribe mon 10:00 UTC")
    clock.advance(hours=1, minutes=1)
    fake.rate_limit("chat.postMessage", retry_after=120)
    first = await engine.tick()
    assert first.sent == 0
    clock.advance(minutes=3)
    later = await engine.tick()
    assert later.sent == 1


async def test_a_member_who_left_is_paused_and_told_later(
    member: Member, engine: NudgeEngine, clock: FakeClock, fake: FakeSlack, runtime: Runtime
) -> None:
    await member.ask("subscribe mon 10:00 UTC")
    clock.advance(hours=1, minutes=1)
    fake.fail("chat.postMessage", "user_not_found")
    report = await engine.tick()
    assert report.failed == 1
    assert len(fake.called("chat.postMessage")) == 1  # the refused one; nothing more
    subscription = await runtime.repositories.subscriptions.get(
        UserRef("slack", TEAM_ID, member.user_id)
    )
    assert subscription is not None
    assert subscription.status.value == "paused"
    told = await member.ask("help")
    assert "couldn't send you this week's exercise" in section_text(told.blocks)
