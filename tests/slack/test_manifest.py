"""The shipped Slack manifest asks for exactly what the code uses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bot.slack_adapter.installs import BOT_SCOPES
from bot.slack_adapter.listeners import COMMAND

MANIFEST = Path(__file__).resolve().parents[2] / "slack-manifest.yaml"


def manifest() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    return loaded


def test_command_events_and_interactivity_match_the_listeners() -> None:
    data = manifest()
    assert [c["command"] for c in data["features"]["slash_commands"]] == [COMMAND]
    assert data["features"]["slash_commands"][0]["should_escape"] is False
    assert set(data["settings"]["event_subscriptions"]["bot_events"]) == {
        "app_home_opened",
        "subteam_members_changed",
        "app_uninstalled",
        "tokens_revoked",
        "app_mention",
        "message.im",
    }
    assert data["settings"]["interactivity"]["is_enabled"] is True
    assert data["features"]["app_home"]["home_tab_enabled"] is True


def test_scopes_cover_every_method_the_bot_calls_and_no_more() -> None:
    scopes = set(manifest()["oauth_config"]["scopes"]["bot"])
    assert scopes == {
        "commands",
        "chat:write",
        "im:write",
        "users:read",
        "usergroups:read",
        "app_mentions:read",
        "im:history",
    }


def test_the_oauth_install_link_asks_for_the_manifests_scopes() -> None:
    assert list(BOT_SCOPES) == manifest()["oauth_config"]["scopes"]["bot"]


def test_socket_mode_is_on_out_of_the_box() -> None:
    assert manifest()["settings"]["socket_mode_enabled"] is True
