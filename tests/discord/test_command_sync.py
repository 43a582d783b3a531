"""Slash commands are synced only when their definitions changed, and a rate-limited sync
never stops the bot."""

from __future__ import annotations

import logging

import pytest

from bot.app import Runtime
from bot.discord_adapter.command_sync import SyncedHashes
from tests.discord.conftest import started
from tests.discord.fake_discord import GUILD_ID, FakeDiscord

SYNC = r"/applications/\d+/guilds/\d+/commands"


def syncs(fake: FakeDiscord) -> int:
    return len([r for r in fake.requests if r.method == "PUT" and r.path.endswith("/commands")])


async def test_a_restart_with_the_same_commands_does_not_sync_again(
    fake: FakeDiscord, discord_env: FakeDiscord, runtime: Runtime
) -> None:
    first = await started(runtime)
    await first.stop()
    assert syncs(fake) == 1
    second = await started(runtime)
    await second.stop()
    assert syncs(fake) == 1


async def test_changed_definitions_are_synced(
    fake: FakeDiscord, discord_env: FakeDiscord, runtime: Runtime
) -> None:
    await SyncedHashes(runtime.engine).put(f"discord.commands.{GUILD_ID}", "an older tree")
    service = await started(runtime)
    await service.stop()
    assert syncs(fake) == 1
    assert await SyncedHashes(runtime.engine).get(f"discord.commands.{GUILD_ID}") != (
        "an older tree"
    )


async def test_a_long_429_on_sync_is_logged_and_retried_later_not_a_crash(
    fake: FakeDiscord,
    discord_env: FakeDiscord,
    runtime: Runtime,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    fake.rate_limit("PUT", SYNC, retry_after=120.0)
    service = await started(runtime)
    try:
        assert service.client is not None
        assert service.client.is_ready()
        assert service.sync.retry_pending
        assert "syncs again in 120 s" in caplog.text
        assert "Traceback" not in caplog.text
        assert await SyncedHashes(runtime.engine).get(f"discord.commands.{GUILD_ID}") is None
    finally:
        await service.stop()
    assert not service.sync.retry_pending


async def test_hashes_are_kept_on_every_backend(engine) -> None:
    hashes = SyncedHashes(engine)
    assert await hashes.get("discord.commands.global") is None
    await hashes.put("discord.commands.global", "first")
    await hashes.put("discord.commands.global", "second")
    assert await hashes.get("discord.commands.global") == "second"
