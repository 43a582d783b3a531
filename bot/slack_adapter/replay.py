"""Requests Slack must not run twice: a replayed signed request and a retried event.

A signature covers the timestamp and the body, so an attacker who captured one signed request
can post it again until the timestamp leaves the five-minute window. Remembering every
signature seen inside that window makes the copy harmless. Slack itself re-sends an event it
thinks we missed (`X-Slack-Retry-Num`, or `retry_attempt` in Socket Mode) with the same
`event_id`; remembering event ids for an hour keeps a slow first attempt from running twice.

Both memories are per process. Behind a load balancer a replay could reach another replica
within the window; the signature still has to be genuine and recent, and every command the
bot runs is safe to repeat from the member's side (the worst case is a second reply).
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.response import BoltResponse

log = logging.getLogger(__name__)

SIGNATURE_WINDOW = 330.0
"""Slack's five minutes of accepted clock skew, plus a margin."""
EVENT_WINDOW = 3600.0
"""Slack retries an event three times within about an hour."""
CAPACITY = 200_000


class SeenOnce:
    """Remembers keys for `window` seconds; `first(key)` is True only the first time."""

    def __init__(
        self,
        window: float,
        capacity: int = CAPACITY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._window = window
        self._capacity = capacity
        self._clock = clock
        self._seen: OrderedDict[str, float] = OrderedDict()

    def first(self, key: str) -> bool:
        now = self._clock()
        while self._seen:
            oldest, at = next(iter(self._seen.items()))
            if now - at < self._window and len(self._seen) < self._capacity:
                break
            del self._seen[oldest]
        if key in self._seen:
            return False
        self._seen[key] = now
        return True

    def __len__(self) -> int:
        return len(self._seen)


def retried_event_filter(
    seen: SeenOnce,
) -> Callable[..., Awaitable[BoltResponse | None]]:
    """A bolt middleware: an event whose `event_id` already ran is acknowledged, not rerun."""

    async def skip_repeated_events(
        body: dict[str, Any], next: Callable[[], Awaitable[None]]
    ) -> BoltResponse | None:
        event_id = body.get("event_id") if isinstance(body, dict) else None
        if isinstance(event_id, str) and event_id and not seen.first(event_id):
            log.info("skipped a repeated delivery of event %s", event_id[:40])
            return BoltResponse(status=200, body="")
        await next()
        return None

    return skip_repeated_events
