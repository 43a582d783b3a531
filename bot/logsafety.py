"""Log records without secrets: one redacting filter, and a guard that puts it on the loggers of
the libraries a service uses (filters do not inherit down the logger tree).

Each adapter names what is secret on its platform (tokens, patterns such as response_urls or
interaction tokens); the mechanics live here once.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence

REDACTED = "[redacted]"

Pattern = tuple[re.Pattern[str], str]
"""A pattern and what replaces each match (`REDACTED`, or e.g. `\\g<1>[redacted]`)."""


def redact(text: str, secrets: Iterable[str] = (), patterns: Sequence[Pattern] = ()) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    for pattern, replacement in patterns:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites each record's message (and exception text) with secrets removed."""

    patterns: Sequence[Pattern] = ()

    def __init__(self, secrets: Iterable[str] = (), patterns: Sequence[Pattern] = ()) -> None:
        super().__init__()
        self._secrets = tuple(sorted({s for s in secrets if s}, key=len, reverse=True))
        self._patterns = tuple(patterns) or tuple(self.patterns)

    def redact(self, text: str) -> str:
        return redact(text, self._secrets, self._patterns)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: keep the template only
            message = str(record.msg)
        record.msg = self.redact(message)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            # Tracebacks are rendered later by the handler; render and clean them now.
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = self.redact(text)
            record.exc_info = None
        return True


class LogGuard:
    """One redacting filter for one service, on every logger under `prefixes` (plus `extra`).

    It is added to the loggers that exist when installed and removed again by `remove`, leaving
    any other service's filter in place.
    """

    def __init__(self, redaction: RedactingFilter, prefixes: Sequence[str]) -> None:
        self.filter = redaction
        self.prefixes = tuple(prefixes)

    def install(self, extra: Iterable[str] = ()) -> None:
        for logger in self.loggers(extra):
            if self.filter not in logger.filters:
                logger.addFilter(self.filter)

    def remove(self, extra: Iterable[str] = ()) -> None:
        for logger in self.loggers(extra):
            logger.removeFilter(self.filter)

    def loggers(self, extra: Iterable[str] = ()) -> list[logging.Logger]:
        names = {
            name
            for name, logger in list(logging.Logger.manager.loggerDict.items())
            if isinstance(logger, logging.Logger) and _under(name, self.prefixes)
        }
        names.update(extra)
        return [logging.getLogger(name) for name in sorted(names)]


def _under(name: str, prefixes: Sequence[str]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)
