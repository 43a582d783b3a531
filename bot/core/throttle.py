"""Per-workspace rate limits, learned from the platform's 429s: obey, then pace.

Pure and clock-agnostic: every method takes `now`, so the engine's injected clock drives it.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta

Workspace = tuple[str, str]
"""(platform, workspace): the scope of a platform's rate limit."""

MIN_SAMPLE = 5
"""Accepted sends in a window needed before a workspace's pace is learned from them."""


class Throttle:
    """Per (platform, workspace) send control, learned from the platform's own answers.

    Closed: after a 429 nothing goes to that workspace until its Retry-After has run out.
    Paced: once rate limited, its sends are spaced just under the rate it accepted in the
    second before, nudged up a little with every accepted send to find the limit again. A steady
    stream just under the limit beats bursting into it after every Retry-After: each burst
    arrives a round trip late and, against a sliding window, that loss adds up every second.
    """

    def __init__(
        self,
        window: timedelta = timedelta(seconds=1),
        pace_for: timedelta = timedelta(minutes=1),
        ahead: timedelta = timedelta(seconds=1),
        margin: float = 0.97,
        probe: float = 1.0005,
    ) -> None:
        self._window = window
        self._pace_for = pace_for
        self._ahead = ahead
        """How far ahead a workspace's sends may be booked before claims skip it."""
        self._margin = margin
        """Pace at this share of the accepted rate: exactly at a sliding window's limit,
        network jitter alone trips it."""
        self._probe = probe
        self._until: dict[Workspace, datetime] = {}
        self._accepted: dict[Workspace, deque[datetime]] = {}
        self._pace: dict[Workspace, tuple[timedelta, datetime]] = {}
        """Interval between sends, and when pacing ends unless another 429 renews it."""
        self._next_slot: dict[Workspace, datetime] = {}
        self._limits: dict[Workspace, int] = {}
        """429s seen per workspace: a booking made before the latest one is void."""

    def close(self, key: Workspace, until: datetime) -> None:
        if until > self._until.get(key, until - timedelta(seconds=1)):
            self._until[key] = until

    def closed_until(self, key: Workspace, now: datetime) -> datetime | None:
        until = self._until.get(key)
        if until is None or until <= now:
            self._until.pop(key, None)
            return None
        return until

    def accepted(self, key: Workspace, now: datetime) -> None:
        self._recent(key, now).append(now)
        pace = self._pace.get(key)
        if pace is not None:
            self._pace[key] = (pace[0] / self._probe, pace[1])

    def limited(self, key: Workspace, now: datetime, until: datetime) -> None:
        self.close(key, until)
        self._next_slot[key] = until
        self._limits[key] = self._limits.get(key, 0) + 1
        # What this process got through in the last window is what the platform allows it
        # (other processes may share the limit). Too few to tell, or a sudden collapse, is
        # more likely noise: keep at least half the pace it had.
        accepted = len(self._recent(key, now))
        pace = self._pace.get(key)
        rate = accepted * self._margin
        if pace is not None and pace[1] > now:
            rate = max(rate, self._window / pace[0] / 2)
        elif accepted < MIN_SAMPLE:
            return
        self._pace[key] = (self._window / rate, now + self._pace_for)

    def limits(self, key: Workspace) -> int:
        return self._limits.get(key, 0)

    def reserve(self, key: Workspace, now: datetime) -> datetime:
        """When this workspace's next send may go: now, unless it is paced."""
        pace = self._pace.get(key)
        if pace is None or pace[1] <= now:
            self._pace.pop(key, None)
            self._next_slot.pop(key, None)
            return now
        slot = max(now, self._next_slot.get(key, now))
        self._next_slot[key] = slot + pace[0]
        return slot

    def busy(self, now: datetime) -> dict[Workspace, datetime]:
        """Workspaces to claim nothing for just now, and when that changes: closed ones,
        and paced ones whose sends are already booked more than `ahead` into the future."""
        busy = {k: u for k in list(self._until) if (u := self.closed_until(k, now)) is not None}
        for key, slot in self._next_slot.items():
            if key in self._pace and slot - now > self._ahead:
                busy[key] = max(busy.get(key, now), slot - self._ahead)
        return busy

    def _recent(self, key: Workspace, now: datetime) -> deque[datetime]:
        recent = self._accepted.setdefault(key, deque())
        while recent and recent[0] <= now - self._window:
            recent.popleft()
        return recent
