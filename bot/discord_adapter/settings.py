"""The Discord adapter's own settings, read from the environment when the service is built."""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import urlsplit

from discord.gateway import DiscordWebSocket
from discord.http import Route
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.runtime import StartupError
from bot.settings import split_ids

DEFAULT_API_URL = Route.BASE
"""discord.py's REST base, captured at import before anything points it elsewhere."""
DEFAULT_GATEWAY_URL = str(DiscordWebSocket.DEFAULT_GATEWAY)

_SNOWFLAKE = re.compile(r"^[0-9]{1,20}$")

ENV_NAMES = {
    "token": "DISCORD_TOKEN",
    "guild_ids": "DISCORD_GUILD_IDS",
    "moderator_role_ids": "PMADVICE_DISCORD_MODERATOR_ROLE_IDS",
    "api_url": "PMADVICE_DISCORD_API_URL",
    "gateway_url": "PMADVICE_DISCORD_GATEWAY_URL",
    "dm_rate": "PMADVICE_DISCORD_DM_RATE",
    "shard_ids": "DISCORD_SHARD_IDS",
    "shard_count": "DISCORD_SHARD_COUNT",
}
GLOBAL_LIMIT = 50.0
"""Discord's global limit for one bot token, requests per second."""


def _snowflakes(values: list[str]) -> list[int]:
    for value in values:
        if not _SNOWFLAKE.match(value):
            raise ValueError(
                f"{value[:30]!r} is not a Discord id; use numbers separated by commas "
                "(right-click > Copy ID with developer mode on)"
            )
    return [int(value) for value in values]


class DiscordSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="", extra="ignore", case_sensitive=False, env_ignore_empty=True
    )

    token: SecretStr = Field(alias="DISCORD_TOKEN")
    guild_ids: Annotated[list[str], NoDecode] = Field(
        default_factory=list, alias="DISCORD_GUILD_IDS"
    )
    moderator_role_ids: Annotated[list[str], NoDecode] = Field(
        default_factory=list, alias="PMADVICE_DISCORD_MODERATOR_ROLE_IDS"
    )
    api_url: str = Field(default=DEFAULT_API_URL, alias="PMADVICE_DISCORD_API_URL")
    gateway_url: str = Field(default=DEFAULT_GATEWAY_URL, alias="PMADVICE_DISCORD_GATEWAY_URL")
    dm_rate: float = Field(default=48.0, alias="PMADVICE_DISCORD_DM_RATE")
    """Requests a second this process allows itself for DMs; divide when processes share a token."""
    shard_ids: Annotated[list[str], NoDecode] = Field(
        default_factory=list, alias="DISCORD_SHARD_IDS"
    )
    """The shards this process runs, when several processes split the guilds between them."""
    shard_count: int | None = Field(default=None, alias="DISCORD_SHARD_COUNT")
    """Shards in total across every process; unset: as many as Discord recommends, all here."""

    @field_validator("token")
    @classmethod
    def _token(cls, value: SecretStr) -> SecretStr:
        raw = value.get_secret_value().strip()
        if raw.lower().startswith("bot "):
            raw = raw[4:].strip()
        if not raw:
            raise ValueError("empty; paste the bot token from the Developer Portal")
        if any(ch.isspace() for ch in raw) or not raw.isascii():
            raise ValueError("contains spaces or unusual characters; paste only the bot token")
        return SecretStr(raw)

    @field_validator("shard_ids", mode="before")
    @classmethod
    def _shard_list(cls, value: object) -> object:
        return split_ids(value)

    @field_validator("shard_ids")
    @classmethod
    def _check_shards(cls, value: list[str]) -> list[str]:
        for item in value:
            if not item.isdigit() or len(item) > 5:
                raise ValueError(
                    f"{item[:20]!r} is not a shard number; list this process's shards, e.g. 0,1"
                )
        return value

    @field_validator("shard_count", mode="before")
    @classmethod
    def _blank_count(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("shard_count")
    @classmethod
    def _check_count(cls, value: int | None) -> int | None:
        if value is not None and not 1 <= value <= 10_000:
            raise ValueError("must be a whole number of shards from 1 up")
        return value

    @model_validator(mode="after")
    def _shards_fit(self) -> DiscordSettings:
        if self.shard_ids and self.shard_count is None:
            raise ValueError(
                "DISCORD_SHARD_COUNT: is required with DISCORD_SHARD_IDS (the total number of "
                "shards across every process)"
            )
        if self.shard_count is not None:
            too_big = [i for i in self.shards or [] if i >= self.shard_count]
            if too_big:
                raise ValueError(
                    f"DISCORD_SHARD_IDS: shard {too_big[0]} does not exist with "
                    f"DISCORD_SHARD_COUNT={self.shard_count}; shards are numbered from 0 to "
                    f"{self.shard_count - 1}"
                )
        return self

    @property
    def shards(self) -> list[int] | None:
        """This process's shards, or None for every shard (discord.py decides)."""
        if self.shard_ids:
            return sorted({int(v) for v in self.shard_ids})
        if self.shard_count is not None:
            return list(range(self.shard_count))
        return None

    @field_validator("guild_ids", "moderator_role_ids", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return split_ids(value)

    @field_validator("guild_ids", "moderator_role_ids")
    @classmethod
    def _check_ids(cls, value: list[str]) -> list[str]:
        _snowflakes(value)
        return value

    @field_validator("api_url")
    @classmethod
    def _api(cls, value: str) -> str:
        return _url(value, ("http", "https"), "https://discord.com/api/v10")

    @field_validator("gateway_url")
    @classmethod
    def _gateway(cls, value: str) -> str:
        return _url(value, ("ws", "wss"), "wss://gateway.discord.gg/")

    @field_validator("dm_rate")
    @classmethod
    def _rate(cls, value: float) -> float:
        if not 0 < value <= GLOBAL_LIMIT:
            raise ValueError(
                f"use a number above 0 and at most {GLOBAL_LIMIT:g} (Discord's global limit); "
                "divide it between processes that share one bot token"
            )
        return value

    @property
    def guilds(self) -> list[int]:
        return [int(v) for v in self.guild_ids]

    @property
    def moderator_roles(self) -> frozenset[int]:
        return frozenset(int(v) for v in self.moderator_role_ids)


def _url(value: str, schemes: tuple[str, ...], example: str) -> str:
    value = value.strip()
    parts = urlsplit(value)
    if parts.scheme not in schemes or not parts.netloc:
        raise ValueError(f"{value[:80]!r} is not an {'/'.join(schemes)} URL, e.g. {example}")
    return value.rstrip("/") if schemes[0] == "http" else value


def load_discord_settings(**overrides: Any) -> DiscordSettings:
    """Read and check the settings; a StartupError names every variable that is wrong."""
    try:
        return DiscordSettings(**overrides)
    except ValidationError as error:
        lines = []
        for detail in error.errors():
            field = str(detail["loc"][0]) if detail["loc"] else ""
            name = ENV_NAMES.get(field, field)
            if not field:  # a check across settings names its variables itself
                lines.append(str(detail["msg"]).removeprefix("Value error, "))
                continue
            if detail["type"] == "missing":
                message = "not set; it is the bot token from the Discord Developer Portal"
            else:
                message = str(detail["msg"]).removeprefix("Value error, ")
            lines.append(f"{name}: {message}")
        raise StartupError("Discord settings problem:\n  " + "\n  ".join(lines)) from None
