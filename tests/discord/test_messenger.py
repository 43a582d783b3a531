"""Weekly nudges by DM: caching, nonces, 50007, 429s, and buttons that outlive a restart."""

from __future__ import annotations

import asyncio

from bot.core.models import UserRef
from bot.core.ports import SendStatus
from bot.core.presenter import exercise_reply
from bot.core.reply import Reply
from bot.discord_adapter.messenger import Pacer
from bot.discord_adapter.service import DiscordService
from tests.discord.conftest import Chat, buttons_of, started
from tests.discord.fake_discord import GUILD_ID, FakeDiscord

MEMBER = 1_600_000_000_000_000_001


def member(user_id: int = MEMBER) -> UserRef:
    return UserRef("discord", "discord", str(user_id))


def nudge(runtime) -> Reply:
    return exercise_reply(runtime.knowledge.exercises[0], "0/14 streak 0")


def posts(fake: FakeDiscord, path_start: str) -> list:
    return [r for r in fake.requests if r.method == "POST" and r.path.startswith(path_start)]


async def test_a_nudge_is_a_dm_with_nonce_no_mentions_and_command_buttons(
    fake: FakeDiscord, service: DiscordService, runtime
):
    outcome = await service.messenger.send(member(), nudge(runtime))
    assert outcome.status == SendStatus.SENT
    assert outcome.message_id
    channel = fake.dm_channels[str(MEMBER)]
    [message] = fake.messages[channel]
    assert message["id"] == outcome.message_id
    [request] = posts(fake, f"/channels/{channel}/messages")
    assert request.body["enforce_nonce"] is True
    assert 1 <= len(request.body["nonce"]) <= 25
    assert request.body["allowed_mentions"] == {"parse": []}
    assert set(buttons_of(message).values()) == {
        "pmadvice:done",
        "pmadvice:skip",
        "pmadvice:pause 1",
    }


async def test_the_dm_channel_is_opened_once_and_cached(fake: FakeDiscord, service, runtime):
    for _ in range(3):
        outcome = await service.messenger.send(member(), Reply(body=f"note {_}"))
        assert outcome.status == SendStatus.SENT
    assert len(posts(fake, "/users/@me/channels")) == 1
    assert len(fake.messages[fake.dm_channels[str(MEMBER)]]) == 3


async def test_concurrent_sends_to_one_member_open_one_channel(fake: FakeDiscord, service):
    outcomes = await asyncio.gather(
        *(service.messenger.send(member(), Reply(body=f"n{i}")) for i in range(5))
    )
    assert all(o.status == SendStatus.SENT for o in outcomes)
    assert len(posts(fake, "/users/@me/channels")) == 1


async def test_a_retried_nudge_is_not_delivered_twice(fake: FakeDiscord, service, runtime):
    first = await service.messenger.send(member(), nudge(runtime))
    again = await service.messenger.send(member(), nudge(runtime))
    assert first.message_id == again.message_id
    assert len(fake.messages[fake.dm_channels[str(MEMBER)]]) == 1


async def test_50007_is_permanent_and_never_retried(fake: FakeDiscord, service, runtime):
    fake.blocked_dm_users.add(str(MEMBER))
    outcome = await service.messenger.send(member(), nudge(runtime))
    assert outcome.status == SendStatus.PERMANENT
    assert "50007" in outcome.reason
    channel = fake.dm_channels[str(MEMBER)]
    assert len(posts(fake, f"/channels/{channel}/messages")) == 1


async def test_unknown_user_is_permanent(fake: FakeDiscord, service):
    fake.fail("POST", r"^/users/@me/channels$", 400, {"message": "Unknown User", "code": 10013})
    outcome = await service.messenger.send(member(), Reply(body="hi"))
    assert outcome.status == SendStatus.PERMANENT
    assert "10013" in outcome.reason


async def test_a_short_429_is_honoured_and_the_retry_reuses_the_nonce(
    fake: FakeDiscord, service, runtime
):
    fake.rate_limit("POST", r"^/channels/\d+/messages$", retry_after=0.05)
    outcome = await service.messenger.send(member(), nudge(runtime))
    assert outcome.status == SendStatus.SENT
    channel = fake.dm_channels[str(MEMBER)]
    attempts = posts(fake, f"/channels/{channel}/messages")
    assert [a.status for a in attempts] == [429, 200]
    assert attempts[0].body["nonce"] == attempts[1].body["nonce"]
    assert len(fake.messages[channel]) == 1


async def test_a_global_429_holds_every_request_then_delivers(fake: FakeDiscord, service):
    fake.rate_limit("POST", r"^/users/@me/channels$", retry_after=0.05, is_global=True)
    outcome = await service.messenger.send(member(), Reply(body="hi"))
    assert outcome.status == SendStatus.SENT
    assert fake.rate_limited == 1


async def test_a_long_429_surfaces_as_rate_limited_without_waiting(fake: FakeDiscord, service):
    fake.rate_limit("POST", r"^/channels/\d+/messages$", retry_after=120.0)
    outcome = await service.messenger.send(member(), Reply(body="hi"))
    assert outcome.status == SendStatus.RATE_LIMITED
    assert outcome.retry_after == 120.0
    assert len(posts(fake, "/channels/")) == 1


async def test_a_429_without_via_header_is_a_cloudflare_ban_and_surfaces(
    fake: FakeDiscord, service
):
    fake.via_header = False
    fake.rate_limit("POST", r"^/channels/\d+/messages$", retry_after=2.0)
    outcome = await service.messenger.send(member(), Reply(body="hi"))
    assert outcome.status == SendStatus.RATE_LIMITED
    assert outcome.retry_after == 2.0


async def test_a_server_error_is_transient(fake: FakeDiscord, service):
    fake.fail(
        "POST", r"^/channels/\d+/messages$", 503, {"message": "Service Unavailable", "code": 0}
    )
    outcome = await service.messenger.send(member(), Reply(body="hi"))
    assert outcome.status == SendStatus.TRANSIENT


async def test_a_refused_message_is_permanent_and_not_retried(fake: FakeDiscord, service):
    body = {"message": "Invalid Form Body", "code": 50035}
    fake.fail("POST", r"^/channels/\d+/messages$", 400, body)
    outcome = await service.messenger.send(member(), Reply(body="second"))
    assert outcome.status == SendStatus.PERMANENT
    assert "50035" in outcome.reason
    assert len(posts(fake, "/channels/")) == 1


async def test_other_platforms_and_bad_ids_are_permanent(service):
    slack = await service.messenger.send(UserRef("slack", "T1", "U1"), Reply(body="x"))
    bad = await service.messenger.send(UserRef("discord", "1", "not-a-number"), Reply(body="x"))
    assert slack.status == bad.status == SendStatus.PERMANENT


async def test_sending_while_disconnected_is_transient(service, runtime):
    await service.stop()
    outcome = await service.messenger.send(member(), nudge(runtime))
    assert outcome.status == SendStatus.TRANSIENT


async def test_pressing_done_in_the_dm_records_progress_for_the_member(
    fake: FakeDiscord, service, runtime
):
    await service.messenger.send(member(), nudge(runtime))
    channel = fake.dm_channels[str(MEMBER)]
    [message] = fake.messages[channel]
    dm = Chat(fake).as_(user_id=MEMBER, guild_id=None, channel_id=int(channel))
    done = await dm.press(message, "Mark done")
    assert "is done" in done.text()
    [entry] = await runtime.repositories.progress.list_for(member())
    assert entry.status == "done"
    assert all(cid.startswith("pmadvice:") for cid in done.buttons().values())


async def test_guild_tagged_buttons_sent_before_an_upgrade_still_work(
    fake: FakeDiscord, service, runtime
):
    await service.messenger.send(member(), nudge(runtime))
    channel = fake.dm_channels[str(MEMBER)]
    [message] = fake.messages[channel]
    dm = Chat(fake).as_(user_id=MEMBER, guild_id=None, channel_id=int(channel))
    done = await dm.click(message, f"pmadvice@{GUILD_ID}:done")
    assert "is done" in done.text()
    [entry] = await runtime.repositories.progress.list_for(member())
    assert entry.status == "done"
    assert all(cid.startswith("pmadvice:") for cid in done.buttons().values())


async def test_nudge_buttons_still_work_after_a_restart(fake: FakeDiscord, discord_env, runtime):
    first = await started(runtime)
    await Chat(fake).as_(user_id=MEMBER).slash("subscribe", timezone="Europe/London")
    await first.messenger.send(member(), nudge(runtime))
    await first.stop()
    assert not fake.sessions
    channel = fake.dm_channels[str(MEMBER)]
    [message] = fake.messages[channel]

    second = await started(runtime)
    try:
        assert fake.identifies == 2
        dm = Chat(fake).as_(user_id=MEMBER, guild_id=None, channel_id=int(channel))
        skipped = await dm.press(message, "Skip")
        assert "Skipped" in skipped.text()
        paused = await dm.press(message, "Pause a week")
        assert paused.title == "Paused"
        [entry] = await runtime.repositories.progress.list_for(member())
        assert entry.status == "skipped"
    finally:
        await second.stop()


async def test_a_long_button_command_expires_kindly_after_a_restart(
    fake: FakeDiscord, discord_env, runtime
):
    question = "how do I explain my operations experience " * 3
    first = await started(runtime)
    chat = Chat(fake)
    try:
        answer = await chat.slash("ask", question=question.strip())
        another = answer.buttons()["Another answer"]
        assert another.startswith("pmadvice:#")
        works = await chat.press(answer.message, "Another answer")
        assert works.title
    finally:
        await first.stop()
    second = await started(runtime)
    try:
        expired = await chat.press(answer.message, "Another answer")
        assert "no longer remember" in expired.text()
    finally:
        await second.stop()


async def test_a_long_dm_is_split_and_each_part_has_its_own_nonce(fake: FakeDiscord, service):
    body = "\n".join(f"Step {n}: " + "do the thing " * 60 for n in range(30))
    outcome = await service.messenger.send(member(), Reply(title="Long", body=body))
    assert outcome.status == SendStatus.SENT
    channel = fake.dm_channels[str(MEMBER)]
    parts = fake.messages[channel]
    assert len(parts) > 1
    assert outcome.message_id == parts[-1]["id"]
    assert len({p["nonce"] for p in parts}) == len(parts)


def test_the_pacer_backs_off_on_repeated_429s_and_recovers_slowly():
    now = [100.0]
    pacer = Pacer(48.0, clock=lambda: now[0])
    pacer.limited(0.5)
    assert pacer.rate == 48.0  # one unlucky 429 is not a trend
    pacer.limited(0.5)
    pacer.limited(0.5)
    assert pacer.rate == 36.0
    pacer.limited(0.5)
    assert pacer.rate == 36.0  # at most one cut a second
    now[0] += 0.2
    for _ in range(3):
        pacer.limited(0.5)
    now[0] += 1.0
    for _ in range(3):
        pacer.limited(0.5)
    assert pacer.rate == 27.0
    for _ in range(2000):
        pacer.succeeded()
    assert pacer.rate == 48.0


async def test_discord_py_internal_429s_reach_the_pacer(fake: FakeDiscord, service):
    fake.rate_limit("POST", r"^/channels/\d+/messages$", retry_after=0.01, times=3)
    outcome = await service.messenger.send(member(), Reply(body="hi"))
    assert outcome.status == SendStatus.SENT
    assert service.direct.rate < 48.0
