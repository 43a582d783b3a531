"""Logging for every mode: text or JSON lines, secrets redacted, request and delivery ids.

One filter on the root handler redacts every secret the process knows (tokens, signing
secret, the database password, the metrics token), whichever library logs it.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable

from bot.core.context import current_delivery, current_request

REDACTED = "[redacted]"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s%(ids)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s"
QUIET = ("aiosqlite", "asyncio", "alembic", "apscheduler", "aiohttp.access")


class ContextFilter(logging.Filter):
    """Adds `request_id` and `delivery_id` to every record (empty when not in one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        request, delivery = current_request.get(), current_delivery.get()
        ids = [f"{n}={v}" for n, v in (("request", request), ("delivery", delivery)) if v]
        record.__dict__.update(
            request_id=request, delivery_id=delivery, ids=f" [{' '.join(ids)}]" if ids else ""
        )
        return True


class RedactingFilter(logging.Filter):
    """Replaces every known secret in a record's message, arguments and exception text."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        clean = self.redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            # Formatters print exc_text when exc_info is gone, rather than format it afresh.
            record.exc_text, record.exc_info = self.redact(record.exc_text), None
        return True


def formatter(style: str) -> logging.Formatter:
    if style == "json":
        from pythonjsonlogger.core import RESERVED_ATTRS
        from pythonjsonlogger.json import JsonFormatter

        return JsonFormatter(
            JSON_FIELDS + " %(request_id)s %(delivery_id)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            reserved_attrs=[*RESERVED_ATTRS, "ids"],
        )
    return logging.Formatter(TEXT_FORMAT)


def configure_logging(level: str, style: str = "text", secrets: Iterable[str] = ()) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(style))
    handler.addFilter(ContextFilter())
    handler.addFilter(RedactingFilter(secrets))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    for noisy in QUIET:
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
