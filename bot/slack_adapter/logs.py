"""Keep tokens, the signing secret and response_urls out of every log line.

slack_sdk and slack-bolt log request URLs, Socket Mode frames and webhook targets at DEBUG;
a response_url is a bearer credential for posting into a channel. The adapter hands one
filtered logger to every library object it builds, and bolt copies its filters onto the
loggers it makes from it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

REDACTED = "[redacted]"

_PATTERNS = re.compile(
    r"xox[abposre]-[A-Za-z0-9-]+"  # bot, user and config tokens
    r"|xapp-[A-Za-z0-9-]+"  # app-level tokens
    # response_url and incoming webhooks, also JSON-escaped (\/) or URL-encoded (%2F)
    r"|https?(?::|%3A)(?:\\?/|%2F){2}[^\s\"'&]*?(?:\\?/|%2F)"
    r"(?:commands|actions|services|workflows|triggers)(?:\\?/|%2F)[^\s\"'&,}]+"
    r"|ticket=[A-Za-z0-9-]+",  # the single-use Socket Mode websocket ticket
    re.IGNORECASE,
)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return _PATTERNS.sub(REDACTED, text)


class RedactingFilter(logging.Filter):
    """Rewrites each record's message (and exception text) with secrets removed."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets = tuple(sorted({s for s in secrets if s}, key=len, reverse=True))

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: keep the template only
            message = str(record.msg)
        record.msg = redact(message, self._secrets)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            formatter = logging.Formatter()
            record.exc_text = redact(formatter.formatException(record.exc_info), self._secrets)
            record.exc_info = None
        return True


class LogGuard:
    """One redacting filter for one service, on every logger that may see its secrets.

    It is added to the loggers that exist when installed (this adapter's, slack_sdk's and the
    ones bolt built from the logger it was given) and removed again by `remove`, leaving any
    other service's filter in place.
    """

    PREFIXES = ("bot.slack_adapter", "slack_bolt", "slack_sdk")

    def __init__(self, secrets: Iterable[str]) -> None:
        self.filter = RedactingFilter(secrets)

    def install(self) -> None:
        for logger in self._loggers():
            if self.filter not in logger.filters:
                logger.addFilter(self.filter)

    def remove(self) -> None:
        for logger in self._loggers():
            logger.removeFilter(self.filter)

    def _loggers(self) -> list[logging.Logger]:
        found = []
        for name, logger in list(logging.Logger.manager.loggerDict.items()):
            if isinstance(logger, logging.Logger) and name.startswith(self.PREFIXES):
                found.append(logger)
        return found
