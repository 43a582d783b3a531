"""Configuration from the environment, validated once at start-up.

Call `load_settings()`; there is deliberately no module-level instance.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import platformdirs
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy import make_url
from sqlalchemy.exc import ArgumentError

from bot.core.flood import FloodLimits, parse_limit
from bot.core.ranking import DEFAULT_ANSWER_THRESHOLD
from bot.resources import SHIPPED_KNOWLEDGE


def default_database_url() -> str:
    data_dir = Path(platformdirs.user_data_dir("pmadvice", appauthor=False))
    return f"sqlite+aiosqlite:///{data_dir / 'pmadvice.db'}"


def default_cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir("pmadvice", appauthor=False))


def split_ids(value: object) -> object:
    """`a, b; c` from the environment as a list of ids (anything else is left to validate)."""
    if isinstance(value, str):
        return [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="", extra="ignore", case_sensitive=False, env_ignore_empty=True
    )

    database_url: str = Field(default_factory=default_database_url, alias="PMADVICE_DATABASE_URL")
    knowledge_dir: Path = Field(default=SHIPPED_KNOWLEDGE, alias="PMADVICE_KNOWLEDGE_DIR")
    moderator_ids: Annotated[list[str], NoDecode] = Field(
        default_factory=list, alias="PMADVICE_MODERATOR_IDS"
    )
    log_level: str = Field(default="INFO", alias="PMADVICE_LOG_LEVEL")
    console_user: str = Field(default="console-user", alias="PMADVICE_CONSOLE_USER")
    nudge_grace_hours: float = Field(
        default=48.0, ge=0, le=24 * 14, alias="PMADVICE_NUDGE_GRACE_HOURS"
    )
    """How late a missed weekly nudge may still go out; older missed weeks are skipped."""
    nudge_tick_seconds: float = Field(
        default=30.0, ge=1, le=3600, alias="PMADVICE_NUDGE_TICK_SECONDS"
    )
    limit_suggest: str = Field(default="3/10m", alias="PMADVICE_LIMIT_SUGGEST")
    """Suggestions one member may send per window, e.g. 3/10m (units s, m, h)."""
    limit_vote: str = Field(default="30/1m", alias="PMADVICE_LIMIT_VOTE")
    limit_share: str = Field(default="2/10m", alias="PMADVICE_LIMIT_SHARE")
    reminders: bool = Field(default=True, alias="PMADVICE_REMINDERS")
    """Mid-week reminders for members whose exercise of the week is still open."""
    unanswered_days: int = Field(default=90, ge=1, le=3650, alias="PMADVICE_UNANSWERED_DAYS")
    """How long unanswered questions (masked, without member ids) are kept."""
    answer_threshold: float = Field(
        default=DEFAULT_ANSWER_THRESHOLD, ge=0, le=1, alias="PMADVICE_ANSWER_THRESHOLD"
    )
    """Answer when the estimated chance that the best snippet answers reaches this; below it,
    decline honestly. Calibrated by `benchmarks/calibrate.py`."""
    semantic_model: Literal["wordllama", "none"] = Field(
        default="wordllama", alias="PMADVICE_SEMANTIC_MODEL"
    )
    """The offline embedding model used beside the lexical ranker, or none."""
    cache_dir: Path = Field(default_factory=default_cache_dir, alias="PMADVICE_CACHE_DIR")
    """Where the semantic model's word vectors, the parsed knowledge base and the built search
    index are kept between runs (safe to delete)."""

    log_format: str = Field(default="text", alias="PMADVICE_LOG_FORMAT")
    http_host: str = Field(default="127.0.0.1", alias="PMADVICE_HTTP_HOST")
    http_port: int | None = Field(default=None, ge=0, le=65535, alias="PMADVICE_HTTP_PORT")
    """Health, readiness, metrics (and Slack's HTTP mode, web pages) on this port."""
    metrics_token: SecretStr | None = Field(default=None, alias="PMADVICE_METRICS_TOKEN")
    public_url: str | None = Field(default=None, alias="PMADVICE_PUBLIC_URL")
    """The address members reach the web pages at; links in chat and on pages use it."""
    public_portfolios: bool = Field(default=False, alias="PMADVICE_PUBLIC_PORTFOLIOS")
    """Let members publish a page of the work they choose to show (off by default)."""

    slack_bot_token: SecretStr | None = Field(default=None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(default=None, alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(default=None, alias="SLACK_APP_TOKEN")
    slack_client_id: str | None = Field(default=None, alias="SLACK_CLIENT_ID")
    """Set when the Slack app is installed in several workspaces through OAuth."""
    discord_token: SecretStr | None = Field(default=None, alias="DISCORD_TOKEN")

    @field_validator("moderator_ids", mode="before")
    @classmethod
    def _ids(cls, value: object) -> object:
        return split_ids(value)

    @field_validator("database_url")
    @classmethod
    def _database(cls, value: str) -> str:
        if not value.startswith(
            ("sqlite+aiosqlite://", "postgresql+asyncpg://", "sqlite://", "postgresql://")
        ):
            raise ValueError(
                "use sqlite+aiosqlite:///path/to/file.db or postgresql+asyncpg://user@host/db"
            )
        if value.startswith("sqlite://"):
            value = "sqlite+aiosqlite://" + value[len("sqlite://") :]
        elif value.startswith("postgresql://"):
            value = "postgresql+asyncpg://" + value[len("postgresql://") :]
        try:
            parsed = make_url(value)
            _ = parsed.port
        except (ArgumentError, ValueError):
            raise ValueError(
                "is not a valid URL; use sqlite+aiosqlite:///path/to/file.db or "
                "postgresql+asyncpg://user:password@host:5432/db"
            ) from None
        if parsed.get_backend_name() == "postgresql" and not parsed.database:
            raise ValueError("name the database: postgresql+asyncpg://user@host:5432/db")
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.startswith(("http://", "https://")) or " " in value:
            raise ValueError("use the address members open, e.g. https://pmadvice.example.org")
        return value.rstrip("/")

    @field_validator("knowledge_dir")
    @classmethod
    def _knowledge(cls, value: Path) -> Path:
        if not (value / "snippets").is_dir():
            raise ValueError(f"{value} has no snippets/ folder; point it at a knowledge directory")
        return value

    @field_validator("limit_suggest", "limit_vote", "limit_share")
    @classmethod
    def _limit(cls, value: str) -> str:
        parse_limit(value)
        return value

    def flood_limits(self) -> FloodLimits:
        return FloodLimits(
            suggest=parse_limit(self.limit_suggest),
            vote=parse_limit(self.limit_vote),
            share=parse_limit(self.limit_share),
        )

    @field_validator("log_format")
    @classmethod
    def _log_format(cls, value: str) -> str:
        style = value.strip().lower()
        if style not in {"text", "json"}:
            raise ValueError("use text or json")
        return style

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("use DEBUG, INFO, WARNING or ERROR")
        return level


class SettingsError(Exception):
    """Start-up configuration is wrong; the message names each variable and what to fix."""


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        lines = []
        for detail in error.errors():
            name = str(detail["loc"][0]) if detail["loc"] else "settings"
            field = Settings.model_fields.get(name)
            name = field.alias if field is not None and field.alias else name
            message = detail["msg"].removeprefix("Value error, ")
            lines.append(f"{name}: {message}")
        raise SettingsError("Configuration problem:\n  " + "\n  ".join(lines)) from None
