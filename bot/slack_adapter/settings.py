"""Slack settings from the environment, validated before anything connects."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.runtime import StartupError
from bot.settings import split_ids

DEFAULT_API_URL = "https://slack.com/api/"
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,20}$")
_GROUP_ID = re.compile(r"^S[A-Z0-9]{2,20}$")


class SlackSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore", case_sensitive=False)

    bot_token: SecretStr | None = Field(default=None, alias="SLACK_BOT_TOKEN")
    signing_secret: SecretStr | None = Field(default=None, alias="SLACK_SIGNING_SECRET")
    app_token: SecretStr | None = Field(default=None, alias="SLACK_APP_TOKEN")
    moderator_ids: Annotated[list[str], NoDecode] = Field(
        default_factory=list, alias="PMADVICE_SLACK_MODERATOR_IDS"
    )
    moderator_group: str | None = Field(default=None, alias="PMADVICE_SLACK_MODERATOR_GROUP")
    api_url: str = Field(default=DEFAULT_API_URL, alias="PMADVICE_SLACK_API_URL")
    host: str = Field(default="0.0.0.0", alias="PMADVICE_SLACK_HOST")

    @field_validator("bot_token")
    @classmethod
    def _bot_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _token_shape(value, "xoxb-"):
            raise ValueError(
                "must be the Bot User OAuth Token, which starts with xoxb- "
                "(OAuth & Permissions page of your Slack app)"
            )
        return value

    @field_validator("app_token")
    @classmethod
    def _app_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().strip():
            return None
        if value is not None and not _token_shape(value, "xapp-"):
            raise ValueError(
                "must be an app-level token with the connections:write scope, which starts "
                "with xapp- (Basic Information > App-Level Tokens)"
            )
        return value

    @field_validator("signing_secret")
    @classmethod
    def _secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        secret = value.get_secret_value()
        if secret != secret.strip() or not secret.isascii() or len(secret) < 16:
            raise ValueError(
                "doesn't look like a signing secret; copy it from Basic Information > "
                "App Credentials > Signing Secret"
            )
        return value

    @field_validator("moderator_ids", mode="before")
    @classmethod
    def _ids(cls, value: object) -> object:
        return split_ids(value)

    @field_validator("moderator_ids")
    @classmethod
    def _check_ids(cls, value: list[str]) -> list[str]:
        for item in value:
            if not _USER_ID.match(item):
                raise ValueError(
                    f"{item[:30]!r} is not a Slack member id; ids look like U0123ABCD "
                    "(profile > ⋮ > Copy member ID)"
                )
        return value

    @field_validator("moderator_group")
    @classmethod
    def _group(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        if not _GROUP_ID.match(value):
            raise ValueError(f"{value[:30]!r} is not a user group id; they look like S0123ABCD")
        return value

    @field_validator("api_url")
    @classmethod
    def _url(cls, value: str) -> str:
        value = value.strip()
        if not re.match(r"^https?://[^\s/]+(/\S*)?$", value):
            raise ValueError("must be an http(s) URL such as https://slack.com/api/")
        return value if value.endswith("/") else value + "/"

    def require(self, http: bool) -> None:
        """Check what this mode needs; raise StartupError naming each missing variable."""
        problems: list[str] = []
        if self.bot_token is None:
            problems.append(
                "SLACK_BOT_TOKEN: is not set; copy the Bot User OAuth Token (xoxb-...) from "
                "OAuth & Permissions"
            )
        if http and self.signing_secret is None:
            problems.append(
                "SLACK_SIGNING_SECRET: is required with --http; copy it from Basic Information "
                "> App Credentials"
            )
        if not http and self.app_token is None:
            problems.append(
                "SLACK_APP_TOKEN: is required for Socket Mode (xapp-...); create one under "
                "Basic Information > App-Level Tokens, or run with --http"
            )
        if problems:
            raise StartupError("Slack configuration problem:\n  " + "\n  ".join(problems))


def _token_shape(value: SecretStr, prefix: str) -> bool:
    token = value.get_secret_value()
    return (
        token.startswith(prefix)
        and len(token) > len(prefix) + 8
        and token.isascii()
        and (not any(ch.isspace() for ch in token))
    )


def load_slack_settings(**overrides: object) -> SlackSettings:
    """Read the Slack settings; a malformed value raises StartupError naming its variable."""
    try:
        return SlackSettings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        lines = []
        for detail in error.errors():
            name = str(detail["loc"][0]) if detail["loc"] else "settings"
            lines.append(f"{name}: {detail['msg'].removeprefix('Value error, ')}")
        raise StartupError("Slack configuration problem:\n  " + "\n  ".join(lines)) from None
