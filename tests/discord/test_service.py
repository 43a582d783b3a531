"""Starting and stopping the service as `pmadvice run discord` does, and its settings."""

from __future__ import annotations

import asyncio
import socket

import discord
import pytest
from discord.gateway import DiscordWebSocket
from discord.http import Route

import bot.discord_adapter.interactions as interactions
from bot.app import StartupError, load_factory, serve
from bot.core.reply import Button, Reply, ReplyField
from bot.discord_adapter.custom_ids import CommandKeys
from bot.discord_adapter.render import render
from bot.discord_adapter.service import DiscordService, build_service
from bot.discord_adapter.settings import (
    DEFAULT_API_URL,
    DEFAULT_GATEWAY_URL,
    load_discord_settings,
)
from tests.discord.conftest import Chat, buttons_of, embed_text, started
from tests.discord.fake_discord import (
    GUILD_ID,
    TOKEN,
    FakeDiscord,
    SchemaError,
    interaction_payload,
    validate_commands,
    validate_message,
    validate_modal,
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# -- settings -------------------------------------------------------------------------------------


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in (
        "DISCORD_TOKEN", "DISCORD_GUILD_IDS", "PMADVICE_DISCORD_MODERATOR_ROLE_IDS",
        "PMADVICE_DISCORD_API_URL", "PMADVICE_DISCORD_GATEWAY_URL", "PMADVICE_DISCORD_DM_RATE",
    ):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_defaults_are_discord_itself(clean_env):
    clean_env.setenv("DISCORD_TOKEN", TOKEN)
    settings = load_discord_settings()
    assert settings.api_url == DEFAULT_API_URL == "https://discord.com/api/v10"
    assert settings.gateway_url == DEFAULT_GATEWAY_URL == "wss://gateway.discord.gg/"
    assert settings.guilds == []
    assert settings.moderator_roles == frozenset()
    assert TOKEN not in repr(settings)


def test_ids_are_comma_lists(clean_env):
    clean_env.setenv("DISCORD_TOKEN", TOKEN)
    clean_env.setenv("DISCORD_GUILD_IDS", " 1, 2;3 ,")
    clean_env.setenv("PMADVICE_DISCORD_MODERATOR_ROLE_IDS", "44")
    settings = load_discord_settings()
    assert settings.guilds == [1, 2, 3]
    assert settings.moderator_roles == {44}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DISCORD_TOKEN", None),
        ("DISCORD_TOKEN", "   "),
        ("DISCORD_TOKEN", "two words"),
        ("DISCORD_GUILD_IDS", "my-server"),
        ("PMADVICE_DISCORD_MODERATOR_ROLE_IDS", "12,moderators"),
        ("PMADVICE_DISCORD_API_URL", "discord.com/api"),
        ("PMADVICE_DISCORD_GATEWAY_URL", "https://gateway.discord.gg"),
        ("PMADVICE_DISCORD_DM_RATE", "80"),
        ("PMADVICE_DISCORD_DM_RATE", "fast"),
    ],
)
def test_a_missing_or_malformed_setting_names_the_variable(clean_env, name, value):
    clean_env.setenv("DISCORD_TOKEN", TOKEN)
    if value is None:
        clean_env.delenv(name)
    else:
        clean_env.setenv(name, value)
    with pytest.raises(StartupError) as raised:
        load_discord_settings()
    message = str(raised.value)
    assert name in message
    assert TOKEN not in message
    if name == "DISCORD_TOKEN" and value:
        assert value.strip() not in message or not value.strip()


async def test_the_run_command_finds_this_factory_and_it_checks_settings(clean_env, runtime):
    factory = load_factory("discord")
    assert factory is build_service
    with pytest.raises(StartupError, match="DISCORD_TOKEN"):
        await factory(runtime, {"http": False, "port": 3000})


# -- start and stop -------------------------------------------------------------------------------


async def test_start_points_discord_py_at_the_configured_urls_and_returns_when_ready(
    fake: FakeDiscord, service: DiscordService
):
    assert fake.api_url == Route.BASE
    assert str(DiscordWebSocket.DEFAULT_GATEWAY) == fake.gateway_url
    assert service.client is not None
    assert service.client.is_ready()
    assert fake.identifies == 1
    paths = [r.path for r in fake.requests]
    assert paths[:2] == ["/users/@me", "/oauth2/applications/@me"]
    assert "/gateway/bot" in paths  # how many shards Discord wants; DEFAULT_GATEWAY is used
    assert any(r.method == "PUT" and str(GUILD_ID) in r.path for r in fake.requests)


async def test_without_guild_ids_commands_are_synced_globally(
    fake: FakeDiscord, discord_env, runtime, monkeypatch
):
    monkeypatch.delenv("DISCORD_GUILD_IDS")
    service = await started(runtime)
    try:
        assert {c["name"] for c in fake.commands["global"]} == {
            "pmadvice",
            "pmadvice-mod",
            "Suggest as advice",
        }
        answer = await Chat(fake).slash("help")
        assert answer.title == "How to use pmadvice"
    finally:
        await service.stop()


async def test_stop_closes_the_gateway_connection(fake: FakeDiscord, discord_env, runtime):
    service = await started(runtime)
    assert fake.sessions
    await service.stop()
    await fake.wait_for(lambda: not fake.sessions)
    assert service.client is not None
    assert service.client.is_closed()


async def test_serve_runs_the_service_until_asked_to_stop(fake: FakeDiscord, discord_env, runtime):
    service = await build_service(runtime, {})
    stop = asyncio.Event()
    running = asyncio.create_task(serve(runtime, [service], [], stop))
    await fake.connected()
    assert runtime.facade.messengers["discord"] is service.messenger
    answer = await Chat(fake).slash("topics")
    assert answer.title == "Topics"
    stop.set()
    await asyncio.wait_for(running, 5)
    await fake.wait_for(lambda: not fake.sessions)


async def test_a_refused_command_sync_stops_start_up(fake: FakeDiscord, discord_env, runtime):
    fake.fail("PUT", r"/commands$", 400, {"message": "Invalid Form Body", "code": 50035})
    with pytest.raises(StartupError, match="slash commands"):
        await started(runtime)


async def test_an_unreachable_api_names_the_variable(discord_env, runtime, monkeypatch):
    monkeypatch.setenv("PMADVICE_DISCORD_API_URL", f"http://127.0.0.1:{free_port()}/api/v10")
    with pytest.raises(StartupError, match="PMADVICE_DISCORD_API_URL"):
        await started(runtime)


async def test_an_unreachable_gateway_names_the_variable(discord_env, runtime, monkeypatch):
    monkeypatch.setenv("PMADVICE_DISCORD_GATEWAY_URL", f"ws://127.0.0.1:{free_port()}/gateway")
    with pytest.raises(StartupError, match="PMADVICE_DISCORD_GATEWAY_URL"):
        await started(runtime, ready_timeout=0.5)


async def test_a_token_the_gateway_refuses_stops_start_up(fake: FakeDiscord, discord_env, runtime):
    fake.gateway_token = "something-else"  # REST accepts the token, IDENTIFY does not
    with pytest.raises(StartupError, match="DISCORD_TOKEN"):
        await started(runtime, ready_timeout=5)


async def test_a_slow_core_call_is_deferred_then_the_placeholder_is_replaced(
    fake: FakeDiscord, discord_env, runtime
):
    service = await started(runtime, defer_after=0.0)
    try:
        chat = Chat(fake)
        answer = await chat.slash("progress")
        assert answer.type == 5
        assert answer.callback.data["flags"] & 64
        assert answer.title == "Your progress"
        patch = next(r for r in fake.requests if r.method == "PATCH")
        assert patch.path.endswith("/messages/@original")
        # A form can't follow a deferral, so it waits behind a button instead.
        suggest = await chat.slash("suggest")
        assert suggest.type == 5
        assert "Open the form" in suggest.buttons()
    finally:
        await service.stop()


async def test_a_deferred_share_is_posted_publicly(fake: FakeDiscord, discord_env, runtime):
    service = await started(runtime, defer_after=0.0)
    try:
        chat = Chat(fake)
        answer = await chat.slash("ask", question="how do I talk about my supply chain work")
        shared = await chat.press(answer.message, "Share to channel")
        assert shared.type == 5
        assert not shared.callback.data.get("flags", 0) & 64
        assert shared.embeds[0]["author"]["name"] == "Shared by Alex"
    finally:
        await service.stop()


async def test_an_adapter_failure_is_an_apology_not_a_traceback(
    chat: Chat, service: DiscordService, monkeypatch
):
    def broken(*args, **kwargs):
        raise RuntimeError("renderer exploded")

    monkeypatch.setattr(interactions, "render", broken)
    answer = await chat.slash("help")
    assert "Sorry" in answer.text()
    assert "exploded" not in answer.text()


async def test_many_members_at_once_are_all_answered(chat: Chat, fake: FakeDiscord):
    members = [chat.as_(user_id=3_000 + n) for n in range(20)]
    answers = await asyncio.gather(
        *(m.slash("ask", question="how do I build a portfolio") for m in members)
    )
    assert all(a.type == 4 and a.title for a in answers)


def test_discord_py_is_the_version_this_adapter_was_measured_against():
    assert discord.__version__.startswith("2.")


async def test_a_reply_too_big_for_one_message_is_split_and_never_refused(
    chat: Chat, fake: FakeDiscord, runtime, monkeypatch
):
    giant = Reply(
        title="T" * 300,
        body="\n".join(f"Paragraph {n}. " + "advice " * 120 for n in range(40)),
        fields=tuple(ReplyField(f"Field {n}", "v" * 1500) for n in range(40)),
        buttons=tuple(Button(f"Button {n}", f"show snippet-{n}") for n in range(30)),
        context="c" * 3000,
    )

    async def handle(actor, text):
        return giant

    monkeypatch.setattr(runtime.facade, "handle", handle)
    expected = len(render(giant, CommandKeys())) - 1
    answer = await chat.slash("help")
    followups = await fake.wait_for(
        lambda: len(answer.interaction.followups) == expected and answer.interaction.followups
    )
    assert expected >= 2
    assert fake.invalid == []
    everything = [answer.message, *followups]
    text = "\n".join(embed_text(e) for m in everything for e in m["embeds"])
    assert "Paragraph 0." in text
    assert "Paragraph 39." in text
    assert sum(len(e.get("fields", [])) for m in everything for e in m["embeds"]) == 40
    assert len(buttons_of(followups[-1])) == 25
    assert all(m["flags"] & 64 for m in everything)


async def test_a_slow_answer_is_deferred_in_time_then_delivered(
    fake: FakeDiscord, discord_env, runtime, monkeypatch
):
    release = asyncio.Event()
    real = runtime.facade.handle

    async def slow(actor, text):
        await release.wait()
        return await real(actor, text)

    monkeypatch.setattr(runtime.facade, "handle", slow)
    service = await started(runtime, defer_after=0.05)
    try:
        interaction = await fake.send_interaction(
            interaction_payload(2, fake.slash_data("pmadvice", "topics", {}), Chat(fake).where)
        )
        callback = await fake.answered(interaction)
        assert callback.type == 5
        assert interaction.original is not None
        assert interaction.original["flags"] & 128  # "thinking..."
        release.set()
        settled = await fake.settled(interaction)
        assert settled["embeds"][0]["title"] == "Topics"
    finally:
        await service.stop()


def test_the_fake_really_validates_what_the_bot_sends():
    with pytest.raises(SchemaError):
        validate_message({"embeds": [{"description": "x" * 4097}]})
    with pytest.raises(SchemaError):
        validate_message({"embeds": [{"title": "t", "fields": [{"name": "n", "value": ""}]}]})
    row = {"type": 1, "components": [{"label": "a", "custom_id": "x"}] * 2}
    with pytest.raises(SchemaError):
        validate_message({"components": [row]})
    with pytest.raises(SchemaError):
        validate_modal({"title": "t" * 46, "custom_id": "c", "components": []})
    command = {"name": "pmadvice", "description": "d" * 101, "options": []}
    with pytest.raises(SchemaError):
        validate_commands([command])
    with pytest.raises(SchemaError):
        validate_commands([{"name": "Upper", "description": "d"}])
    options = [{"name": f"o{n}", "description": "d", "type": 3} for n in range(26)]
    with pytest.raises(SchemaError):
        validate_commands([{"name": "x", "description": "d", "options": options}])
