"""Slack settings from the environment, validated before anything connects."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.runtime import StartupError
from bot.settings import split_ids

DEFAULT_API_URL = "https://slack.com/api/"
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,20}$")
_GROUP_ID = re.compile(r"^S[A-Z0-9]{2,20}$")
_TEAM_ID = re.compile(r"^[TE][A-Z0-9]{2,20}$")
_CLIENT_ID = re.compile(r"^[0-9]{3,20}\.[0-9]{3,20}$")


class SlackSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="", extra="ignore", case_sensitive=False, env_ignore_empty=True
    )

    bot_token: SecretStr | None = Field(default=None, alias="SLACK_BOT_TOKEN")
    signing_secret: SecretStr | None = Field(default=None, alias="SLACK_SIGNING_SECRET")
    app_token: SecretStr | None = Field(default=None, alias="SLACK_APP_TOKEN")
    moderator_ids: Annotated[list[str], NoDecode] = Field(
        default_factory=list, alias="PMADVICE_SLACK_MODERATOR_IDS"
    )
    moderator_group: str | None = Field(default=None, alias="PMADVICE_SLACK_MODERATOR_GROUP")
    client_id: str | None = Field(default=None, alias="SLACK_CLIENT_ID")
    client_secret: SecretStr | None = Field(default=None, alias="SLACK_CLIENT_SECRET")
    state_secret: SecretStr | None = Field(default=None, alias="SLACK_STATE_SECRET")
    workspace_moderators: Annotated[dict[str, frozenset[str]], NoDecode] = Field(
        default_factory=dict, alias="PMADVICE_SLACK_WORKSPACE_MODERATORS"
    )
    """Per workspace, when the app is installed in several: `T0AAA=U01,S02;T0BBB=U03`."""
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

    @field_validator("client_id")
    @classmethod
    def _client_id(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        if not _CLIENT_ID.match(value):
            raise ValueError(
                "doesn't look like a Slack client id (digits, a dot, digits); copy it from "
                "Basic Information > App Credentials > Client ID"
            )
        return value

    @field_validator("client_secret", "state_secret")
    @classmethod
    def _oauth_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        secret = value.get_secret_value()
        if secret != secret.strip() or not secret.isascii() or len(secret) < 16:
            raise ValueError("must be at least 16 characters with no spaces")
        return value

    @field_validator("workspace_moderators", mode="before")
    @classmethod
    def _workspace_moderators(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        mapping: dict[str, frozenset[str]] = {}
        for entry in value.split(";"):
            if not entry.strip():
                continue
            team, equals, ids = entry.partition("=")
            team = team.strip()
            if not equals or not _TEAM_ID.match(team):
                raise ValueError(
                    f"{entry.strip()[:40]!r} is not TEAM=ids; write e.g. T0AAA=U01,S02;T0BBB=U03"
                )
            members = split_ids(ids)
            assert isinstance(members, list)
            for item in members:
                if not (_USER_ID.match(item) or _GROUP_ID.match(item)):
                    raise ValueError(
                        f"{item[:30]!r} for {team} is neither a member id (U...) nor a user "
                        "group id (S...)"
                    )
            mapping[team] = mapping.get(team, frozenset()) | frozenset(members)
        return mapping

    @property
    def distributed(self) -> bool:
        """Installed in many workspaces through OAuth, rather than one with SLACK_BOT_TOKEN."""
        return self.client_id is not None

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
        oauth = {
            "SLACK_CLIENT_ID": self.client_id,
            "SLACK_CLIENT_SECRET": self.client_secret,
            "SLACK_STATE_SECRET": self.state_secret,
        }
        if any(value is not None for value in oauth.values()):
            problems.extend(self._distribution_problems(oauth, http))
            if problems:
                raise StartupError("Slack configuration problem:\n  " + "\n  ".join(problems))
            return
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

    def _distribution_problems(self, oauth: Mapping[str, object], http: bool) -> list[str]:
        problems = [
            f"{name}: is required to install the app in several workspaces (set all three "
            "of SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and SLACK_STATE_SECRET, or none)"
            for name, value in oauth.items()
            if value is None
        ]
        if self.bot_token is not None:
            problems.append(
                "SLACK_BOT_TOKEN: leave it unset when SLACK_CLIENT_ID is set; each workspace's "
                "token comes from its installation"
            )
        if not http:
            problems.append(
                "SLACK_CLIENT_ID: installing in several workspaces needs HTTP mode; run with "
                "--http so Slack can reach /slack/install and /slack/oauth_redirect"
            )
        if self.signing_secret is None:
            problems.append(
                "SLACK_SIGNING_SECRET: is required with --http; copy it from Basic Information "
                "> App Credentials"
            )
        return problems


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
