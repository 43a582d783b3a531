"""Discord payloads as the gateway and REST API send them: users, members, channels and interactions."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from aiohttp import web

TOKEN = "MTAwMDAwMDAwMDAwMDAwMDAx.FAKE00.fake-discord-token-for-tests-0000"
APPLICATION_ID = 1_100_000_000_000_000_001
BOT_ID = 1_100_000_000_000_000_002
GUILD_ID = 1_200_000_000_000_000_001
CHANNEL_ID = 1_200_000_000_000_000_002
ATTACHMENT_LIMIT = 25 * 1024 * 1024
JSON = "application/json"
"""discord.py decodes a body as JSON only when the Content-Type is exactly this."""

T = TypeVar("T")
BODY = web.RequestKey("body", object)

_snowflakes = itertools.count(1_300_000_000_000_000_000)


def snowflake() -> int:
    return next(_snowflakes)


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


# -- payload helpers ------------------------------------------------------------------------------


def user_payload(
    user_id: int, name: str = "member", global_name: str | None = None, bot: bool = False
) -> dict[str, Any]:
    return {
        "id": str(user_id),
        "username": name,
        "discriminator": "0",
        "global_name": global_name,
        "avatar": None,
        "bot": bot,
        "public_flags": 0,
    }


BOT_USER = user_payload(BOT_ID, "pmadvice", "pmadvice", bot=True)


def member_payload(
    user: dict[str, Any], roles: Iterable[int] = (), permissions: int = 0
) -> dict[str, Any]:
    return {
        "user": user,
        "roles": [str(r) for r in roles],
        "joined_at": "2025-01-01T00:00:00+00:00",
        "deaf": False,
        "mute": False,
        "flags": 0,
        "pending": False,
        "nick": None,
        "avatar": None,
        "premium_since": None,
        "permissions": str(permissions),
    }


def guild_channel(channel_id: int, guild_id: int) -> dict[str, Any]:
    return {
        "id": str(channel_id),
        "type": 0,
        "guild_id": str(guild_id),
        "name": "career-switchers",
        "position": 0,
        "permission_overwrites": [],
        "nsfw": False,
        "parent_id": None,
        "topic": None,
        "rate_limit_per_user": 0,
        "flags": 0,
    }


def dm_channel(channel_id: int, recipient: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(channel_id),
        "type": 1,
        "last_message_id": None,
        "recipients": [recipient],
        "flags": 0,
    }


@dataclass
class Where:
    """Who is interacting and where: a guild channel (with roles and permissions) or a DM."""

    user_id: int = 1_400_000_000_000_000_001
    name: str = "alex"
    global_name: str | None = "Alex"
    guild_id: int | None = GUILD_ID
    channel_id: int = CHANNEL_ID
    roles: tuple[int, ...] = ()
    permissions: int = 0

    def user(self) -> dict[str, Any]:
        return user_payload(self.user_id, self.name, self.global_name)


def interaction_payload(
    kind: int, data: dict[str, Any], where: Where, message: dict[str, Any] | None = None
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": str(snowflake()),
        "application_id": str(APPLICATION_ID),
        "type": kind,
        "data": data,
        "token": f"itoken-{snowflake()}",
        "version": 1,
        "locale": "en-US",
        "app_permissions": "0",
        "entitlements": [],
        "authorizing_integration_owners": {"0": str(where.guild_id or 0)},
        "attachment_size_limit": ATTACHMENT_LIMIT,
        "channel_id": str(where.channel_id),
    }
    if where.guild_id is not None:
        payload["guild_id"] = str(where.guild_id)
        payload["guild_locale"] = "en-US"
        payload["guild"] = {"id": str(where.guild_id), "locale": "en-US", "features": []}
        payload["channel"] = guild_channel(where.channel_id, where.guild_id)
        payload["member"] = member_payload(where.user(), where.roles, where.permissions)
        payload["context"] = 0
    else:
        payload["channel"] = dm_channel(where.channel_id, where.user())
        payload["user"] = where.user()
        payload["context"] = 1
    if message is not None:
        payload["message"] = message
    return payload


def component_data(custom_id: str) -> dict[str, Any]:
    return {"custom_id": custom_id, "component_type": 2}


def modal_inputs(modal: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A modal's inputs by custom id, whether in action rows or labels."""
    found = {}
    for row in modal.get("components") or []:
        item = row["components"][0] if row.get("type") == 1 else row.get("component", {})
        found[item["custom_id"]] = item
    return found


def shown_values(modal: dict[str, Any]) -> dict[str, str]:
    """What a member sees filled in: text values, and a select's preselected options."""
    values = {}
    for name, item in modal_inputs(modal).items():
        if item.get("type") == 3:
            values[name] = ",".join(o["value"] for o in item["options"] if o.get("default"))
        else:
            values[name] = str(item.get("value") or "")
    return values


def modal_submit_data(modal: dict[str, Any], values: dict[str, str]) -> dict[str, Any]:
    """A MODAL_SUBMIT's data for `modal` filled in with `values`: text inputs carry a value,
    select menus the chosen option values (given comma-separated)."""
    rows = []
    for name, item in modal_inputs(modal).items():
        if name not in values:
            continue
        if item.get("type") == 3:
            chosen = [v.strip() for v in values[name].split(",") if v.strip()]
            rows.append({"type": 18, "component": {"type": 3, "custom_id": name,
                                                   "values": chosen}})  # fmt: skip
        else:
            rows.append(
                {"type": 1, "components": [{"type": 4, "custom_id": name, "value": values[name]}]}
            )
    return {"custom_id": modal["custom_id"], "components": rows}
