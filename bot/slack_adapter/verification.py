"""Slack request signatures, checked before slack-bolt sees a request.

Stock slack-bolt answers 500 to a non-numeric timestamp or a non-ASCII signature and logs the
rejected body at INFO. Here every failure is a reason string (never the body or signature),
and the caller answers 401.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping

from slack_sdk.signature import Clock, SignatureVerifier

MAX_SKEW_SECONDS = 300
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")


class _Clock(Clock):
    def __init__(self, now: Callable[[], float]) -> None:
        self._now = now

    def now(self) -> float:
        return self._now()


class RequestVerifier:
    """Checks `X-Slack-Signature` over `v0:{timestamp}:{body}` with the signing secret."""

    def __init__(self, signing_secret: str, now: Callable[[], float] = time.time) -> None:
        self._now = now
        self._verifier = SignatureVerifier(signing_secret, clock=_Clock(now))

    def problem(self, headers: Mapping[str, str], body: bytes) -> str | None:
        """None when the request is authentic; otherwise why not, safe to log."""
        timestamp = headers.get("X-Slack-Request-Timestamp")
        signature = headers.get("X-Slack-Signature")
        if timestamp is None or signature is None:
            return "missing signature headers"
        if not _TIMESTAMP.fullmatch(timestamp):
            return "malformed timestamp"
        if not _SIGNATURE.fullmatch(signature):
            return "malformed signature"
        if abs(self._now() - int(timestamp)) > MAX_SKEW_SECONDS:
            return "timestamp outside the five-minute window"
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return "body is not UTF-8"
        try:
            valid = self._verifier.is_valid(text, timestamp, signature)
        except (ValueError, TypeError):
            return "unverifiable signature"
        return None if valid else "signature mismatch"
