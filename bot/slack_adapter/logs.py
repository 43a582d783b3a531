"""Keep tokens, the signing secret and response_urls out of every log line.

slack_sdk and slack-bolt log request URLs, Socket Mode frames and webhook targets at DEBUG;
a response_url is a bearer credential for posting into a channel. The adapter hands one
filtered logger to every library object it builds, and bolt copies its filters onto the
loggers it makes from it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.logsafety import REDACTED, LogGuard, Pattern, RedactingFilter
from bot.logsafety import redact as shared_redact

PREFIXES = ("bot.slack_adapter", "slack_bolt", "slack_sdk")

_PATTERNS = re.compile(
    r"xox[abposre]-[A-Za-z0-9-]+"  # bot, user and config tokens
    r"|xapp-[A-Za-z0-9-]+"  # app-level tokens
    # response_url and incoming webhooks, also JSON-escaped (\/) or URL-encoded (%2F)
    r"|https?(?::|%3A)(?:\\?/|%2F){2}[^\s\"'&]*?(?:\\?/|%2F)"
    r"(?:commands|actions|services|workflows|triggers)(?:\\?/|%2F)[^\s\"'&,}]+"
    r"|ticket=[A-Za-z0-9-]+",  # the single-use Socket Mode websocket ticket
    re.IGNORECASE,
)


PATTERNS: tuple[Pattern, ...] = ((_PATTERNS, REDACTED),)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    return shared_redact(text, secrets, PATTERNS)


def log_guard(secrets: Iterable[str]) -> LogGuard:
    """The adapter's, slack_sdk's and bolt's loggers (bolt copies its filters onto the loggers
    it makes from the one it is given)."""
    return LogGuard(RedactingFilter(secrets, PATTERNS), PREFIXES)
