"""Discord's "you are opening direct messages too fast" (40003) and anti-spam refusals are
about this bot's pace: DMs slow down and the nudge goes out later; no member is paused."""

from __future__ import annotations

from datetime import datetime

import pytest

from bot.app import Runtime
from bot.core.models import Actor, SubscriptionStatus, UserRef
from bot.core.nudges import NudgeEngine
from bot.core.ports import SendStatus
from bot.core.reply import Reply
from bot.discord_adapter.messenger import SLOW_DOWN_WAIT
from bot.discord_adapter.service import DiscordService
from tests.discord.fake_discord import FakeDiscord
from tests.support.fakes import FakeClock

MEMBER = UserRef("discord", "discord", "1600000000000000007")
OPEN_DM = r"^/users/@me/channels$"
TOO_FAST = {"message": "You are opening direct messages too fast.", "code": 40003}


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


async def test_a_40003_on_dm_open_pauses_no_member_and_the_nudge_goes_out_later(
    fake: FakeDiscord,
    service: DiscordService,
    runtime: Runtime,
    engine: NudgeEngine,
    clock: FakeClock,
) -> None:
    await runtime.facade.handle(Actor(MEMBER), "subscribe mon 10:00 UTC")
    fake.fail("POST", OPEN_DM, 403, TOO_FAST)
    rate = service.direct.rate
    clock.advance(hours=1, minutes=1)

    first = await engine.tick()

    assert (first.sent, first.failed, first.retrying) == (0, 0, 1)
    subscription = await runtime.repositories.subscriptions.get(MEMBER)
    assert subscription is not None
    assert subscription.status == SubscriptionStatus.ACTIVE
    assert service.direct.rate <= rate / 2
    clock.advance(seconds=SLOW_DOWN_WAIT + 1)
    second = await engine.tick()
    assert second.sent == 1
    channel = fake.dm_channels[MEMBER.user_id]
    assert len(fake.messages[channel]) == 1


@pytest.mark.parametrize(
    "refusal",
    [
        TOO_FAST,
        {"message": "This bot has been flagged by the anti-spam system.", "code": 20026},
        {"message": "Forbidden", "code": 0},
    ],
)
async def test_pace_refusals_are_rate_limits_and_every_dm_waits_then_longer(
    fake: FakeDiscord, service: DiscordService, refusal: dict[str, object]
) -> None:
    fake.fail("POST", OPEN_DM, 403, refusal)
    first = await service.messenger.send(MEMBER, Reply(body="hi"))
    assert first.status == SendStatus.RATE_LIMITED
    assert first.retry_after == SLOW_DOWN_WAIT
    other = UserRef("discord", "discord", "1600000000000000008")
    held = await service.messenger.send(other, Reply(body="hi"))
    assert held.status == SendStatus.RATE_LIMITED  # not even attempted
    assert len([r for r in fake.requests if r.path == "/api/v10/users/@me/channels"]) <= 1


async def test_50007_is_still_the_members_setting(
    fake: FakeDiscord, service: DiscordService
) -> None:
    fake.blocked_dm_users.add(MEMBER.user_id)
    outcome = await service.messenger.send(MEMBER, Reply(body="hi"))
    assert outcome.status == SendStatus.PERMANENT
