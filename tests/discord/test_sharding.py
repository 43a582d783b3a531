"""Several processes on one bot token split the guilds by shard: every interaction is handled
by exactly one of them (one reply, one record), and a process without shard settings runs
every shard Discord recommends."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.app import Runtime
from bot.discord_adapter.service import DiscordService
from tests.discord.conftest import Chat, started
from tests.discord.fake_discord import GUILD_ID, TOKEN, Where
from tests.discord.fake_shards import ShardedFakeDiscord

OTHER_GUILD = GUILD_ID + (1 << 22)  # GUILD_ID is on shard 1 of 2, this one on shard 0
BODY = (
    "Write one page on a process you fixed: the problem, who felt it, what you tried, what "
    "changed for them and the number that moved. It shows product judgment in your own words."
)


@pytest.fixture
async def fake() -> AsyncIterator[ShardedFakeDiscord]:
    async with ShardedFakeDiscord(shards=2) as server:
        yield server
    assert not server.invalid


@pytest.fixture
def sharded_env(monkeypatch: pytest.MonkeyPatch, fake: ShardedFakeDiscord) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", TOKEN)
    monkeypatch.setenv("DISCORD_GUILD_IDS", f"{GUILD_ID},{OTHER_GUILD}")
    monkeypatch.setenv("PMADVICE_DISCORD_API_URL", fake.api_url)
    monkeypatch.setenv("PMADVICE_DISCORD_GATEWAY_URL", fake.gateway_url)
    monkeypatch.delenv("DISCORD_SHARD_IDS", raising=False)
    monkeypatch.delenv("DISCORD_SHARD_COUNT", raising=False)


@pytest.fixture
async def two_processes(
    runtime: Runtime, sharded_env: None, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[list[DiscordService]]:
    services = []
    monkeypatch.setenv("DISCORD_SHARD_COUNT", "2")
    try:
        for shard in ("0", "1"):
            monkeypatch.setenv("DISCORD_SHARD_IDS", shard)
            services.append(await started(runtime))
        yield services
    finally:
        for service in services:
            await service.stop()


async def test_two_processes_with_a_shard_each_handle_one_submit_once(
    two_processes: list[DiscordService], fake: ShardedFakeDiscord, runtime: Runtime
) -> None:
    assert fake.identified_shards() == [(0, 2), (1, 2)]
    slug = runtime.knowledge.topics[0].slug
    for guild, user in (
        (GUILD_ID, 1_400_000_000_000_000_011),
        (OTHER_GUILD, 1_400_000_000_000_000_012),
    ):
        chat = Chat(fake, Where(user_id=user, guild_id=guild))
        before = await runtime.repositories.suggestions.count_pending()
        form = (await chat.slash("suggest")).modal
        sent = await chat.submit(
            form,
            {"title": "Write the one-page story", "body": BODY, "topics": slug, "questions": ""},
        )
        assert sent.title == "Thanks, suggestion received"
        assert len(sent.interaction.callbacks) == 1
        assert await runtime.repositories.suggestions.count_pending() == before + 1
    callbacks = [r for r in fake.requests if r.path.endswith("/callback")]
    assert len(callbacks) == 4  # two slash commands and two submits, each answered once
    assert all(r.status == 200 for r in callbacks)


async def test_only_the_process_with_shard_zero_syncs_the_commands(
    two_processes: list[DiscordService], fake: ShardedFakeDiscord
) -> None:
    syncs = [r for r in fake.requests if r.method == "PUT" and r.path.endswith("/commands")]
    assert len(syncs) == 2  # one per guild, from one process


async def test_without_shard_settings_one_process_runs_every_recommended_shard(
    runtime: Runtime, sharded_env: None, fake: ShardedFakeDiscord
) -> None:
    service = await started(runtime)
    try:
        assert fake.identified_shards() == [(0, 2), (1, 2)]
        answer = await Chat(fake, Where(guild_id=OTHER_GUILD)).slash("help")
        assert len(answer.interaction.callbacks) == 1
    finally:
        await service.stop()
