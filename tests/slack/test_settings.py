"""Start-up configuration: every missing or malformed setting is named, and no secret leaks."""

from __future__ import annotations

import pytest

from bot.app import Runtime, StartupError, load_factory
from bot.slack_adapter import service as service_module
from bot.slack_adapter.service import build_service
from bot.slack_adapter.settings import load_slack_settings
from tests.slack.fake_slack import FakeSlack
from tests.slack.support import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET

GOOD = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET}


def problem(**values: object) -> str:
    with pytest.raises(StartupError) as caught:
        load_slack_settings(**values)
    return str(caught.value)


def test_the_platform_factory_is_this_module() -> None:
    assert load_factory("slack") is service_module.build_service


@pytest.mark.parametrize(
    ("name", "value", "hint"),
    [
        ("SLACK_BOT_TOKEN", "xoxp-1234567890-user-token", "xoxb-"),
        ("SLACK_BOT_TOKEN", "xoxb-", "xoxb-"),
        ("SLACK_BOT_TOKEN", "xoxb-1234567890 with space", "xoxb-"),
        ("SLACK_APP_TOKEN", "xoxb-1234567890-not-app", "xapp-"),
        ("SLACK_SIGNING_SECRET", "short", "Signing Secret"),
        ("SLACK_SIGNING_SECRET", " padded-secret-0000000000 ", "Signing Secret"),
        ("PMADVICE_SLACK_MODERATOR_IDS", "U0123ABCD, bob", "member id"),
        ("PMADVICE_SLACK_MODERATOR_GROUP", "mods", "user group id"),
        ("PMADVICE_SLACK_API_URL", "slack.com/api", "http"),
    ],
)
def test_malformed_values_name_the_variable(name: str, value: str, hint: str) -> None:
    message = problem(**{**GOOD, name: value})
    assert name in message
    assert hint in message
    if ("TOKEN" in name or "SECRET" in name) and len(value.strip()) > 6:
        assert value.strip() not in message


@pytest.mark.parametrize(
    ("http", "missing", "env"),
    [
        (True, "SLACK_BOT_TOKEN", {"SLACK_SIGNING_SECRET": SIGNING_SECRET}),
        (True, "SLACK_SIGNING_SECRET", {"SLACK_BOT_TOKEN": BOT_TOKEN}),
        (False, "SLACK_APP_TOKEN", {"SLACK_BOT_TOKEN": BOT_TOKEN}),
    ],
)
def test_what_each_mode_requires(http: bool, missing: str, env: dict[str, str]) -> None:
    settings = load_slack_settings(**env)
    with pytest.raises(StartupError, match=missing):
        settings.require(http)


def test_values_are_parsed_and_normalised() -> None:
    settings = load_slack_settings(
        **GOOD,
        SLACK_APP_TOKEN=APP_TOKEN,
        PMADVICE_SLACK_MODERATOR_IDS="U0AAA111, W0BBB222;U0CCC333",
        PMADVICE_SLACK_MODERATOR_GROUP="S0MODS123",
        PMADVICE_SLACK_API_URL="http://127.0.0.1:9/api",
    )
    assert settings.moderator_ids == ["U0AAA111", "W0BBB222", "U0CCC333"]
    assert settings.api_url == "http://127.0.0.1:9/api/"
    assert BOT_TOKEN not in repr(settings)
    assert SIGNING_SECRET not in repr(settings)
    assert load_slack_settings(**GOOD).api_url == "https://slack.com/api/"


async def test_a_rejected_bot_token_stops_start_up(
    runtime: Runtime, slack_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-999-revoked-token")
    with pytest.raises(StartupError, match="SLACK_BOT_TOKEN") as caught:
        await build_service(runtime, {"http": True, "port": 0})
    assert "revoked-token" not in str(caught.value)


async def test_an_unreachable_api_url_stops_start_up(
    runtime: Runtime, slack_env: None, monkeypatch: pytest.MonkeyPatch, fake: FakeSlack
) -> None:
    await fake.stop()
    with pytest.raises(StartupError, match="PMADVICE_SLACK_API_URL"):
        await build_service(runtime, {"http": True, "port": 0})


async def test_a_refused_app_token_stops_socket_mode_start_up(
    runtime: Runtime, slack_env: None, monkeypatch: pytest.MonkeyPatch, fake: FakeSlack
) -> None:
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1-A0-wrong-app-token")
    service = await build_service(runtime, {"http": False})
    try:
        with pytest.raises(StartupError, match="SLACK_APP_TOKEN"):
            await service.start()
    finally:
        await service.stop()
    assert not fake.socket_connected


async def test_a_busy_port_is_a_startup_error(runtime: Runtime, slack_env: None) -> None:
    first = await build_service(runtime, {"http": True, "port": 0, "host": "127.0.0.1"})
    await first.start()
    second = await build_service(
        runtime, {"http": True, "port": first.bound_port, "host": "127.0.0.1"}
    )
    try:
        with pytest.raises(StartupError, match="--port"):
            await second.start()
    finally:
        await second.stop()
        await first.stop()
