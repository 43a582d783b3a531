"""What a failed Slack Web API call said: its error code, status and Retry-After."""

from __future__ import annotations

from typing import Any

from slack_sdk.errors import SlackApiError

DEFAULT_RETRY_AFTER = 60.0


def error_code(error: SlackApiError) -> str:
    """Slack's `error` field (e.g. `channel_not_found`), or "" when the answer had none."""
    data: Any = getattr(error.response, "data", None)
    if isinstance(data, dict):
        return str(data.get("error") or "")
    return ""


def status(error: SlackApiError) -> int:
    value = getattr(error.response, "status_code", 0)
    return value if isinstance(value, int) else 0


def describe(error: BaseException) -> str:
    """For a log line: the error code, else the HTTP status, else the exception's type."""
    if isinstance(error, SlackApiError):
        return error_code(error) or f"status {status(error) or '?'}"
    return type(error).__name__


def retry_after(error: SlackApiError, default: float = DEFAULT_RETRY_AFTER) -> float:
    """Seconds to wait before retrying, from the Retry-After header (within an hour)."""
    headers: Any = getattr(error.response, "headers", None) or {}
    raw = headers.get("Retry-After") or headers.get("retry-after")
    try:
        seconds = float(raw)
    except (TypeError, ValueError):
        return default
    return seconds if 0 < seconds <= 3600 else default
