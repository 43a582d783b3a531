"""Per-member flood control for suggestions, votes and shares.

Fixed windows counted in the database (one atomic upsert per action), so every replica and
every platform sees the same counts. A fixed window lets at most twice the limit through
around a window boundary, which the defaults allow for.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.core.models import UserRef
from bot.core.ports import Clock, FloodRepository
from bot.core.reply import Reply

_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_LIMIT = re.compile(r"^\s*(\d{1,5})\s*/\s*(\d{1,5})\s*([smh])\s*$", re.IGNORECASE)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours"}


class Action(enum.StrEnum):
    SUGGEST = "suggest"
    VOTE = "vote"
    SHARE = "share"


@dataclass(frozen=True, slots=True)
class Limit:
    count: int
    window: timedelta

    def __str__(self) -> str:
        return f"{self.count} per {_duration(self.window)}"


def parse_limit(text: str) -> Limit:
    """`3/10m` is three per ten minutes; units s, m, h. Raises ValueError otherwise."""
    match = _LIMIT.match(text)
    if not match or int(match[1]) < 1 or int(match[2]) < 1:
        raise ValueError(f"{text!r}: write it as a count per window, e.g. 3/10m, 20/1m or 50/1h")
    window = timedelta(**{_UNITS[match[3].lower()]: int(match[2])})
    return Limit(int(match[1]), window)


@dataclass(frozen=True, slots=True)
class FloodLimits:
    suggest: Limit = field(default_factory=lambda: Limit(3, timedelta(minutes=10)))
    vote: Limit = field(default_factory=lambda: Limit(30, timedelta(minutes=1)))
    share: Limit = field(default_factory=lambda: Limit(2, timedelta(minutes=10)))

    def of(self, action: Action) -> Limit:
        limit: Limit = getattr(self, action.value)
        return limit


class FloodControl:
    def __init__(
        self, repository: FloodRepository, clock: Clock, limits: FloodLimits | None = None
    ) -> None:
        self._repository = repository
        self._clock = clock
        self.limits = limits or FloodLimits()

    async def wait(self, user: UserRef, action: Action) -> timedelta | None:
        """Count one `action`; None if it is allowed, else how long until it would be."""
        limit = self.limits.of(action)
        now = self._clock.now()
        start = window_start(now, limit.window)
        count = await self._repository.take(user, action.value, start)
        if count <= limit.count:
            return None
        return start + limit.window - now


def window_start(now: datetime, window: timedelta) -> datetime:
    return now - (now - _EPOCH) % window


_WHAT = {
    Action.SUGGEST: "suggestions",
    Action.VOTE: "votes",
    Action.SHARE: "shares to the channel",
}


def limited_reply(action: Action, limit: Limit, wait: timedelta) -> Reply:
    message = (
        f"That's the most {_WHAT[action]} I take from one person for now ({limit}). "
        f"Please try again in {_duration(wait, round_up=True)}."
    )
    if action == Action.SUGGEST:
        message += " Everything you sent before is safe with the moderators."
        # In a form, the message shows on the form and what was typed stays in it.
        return Reply(title="Thanks, that's plenty for now", body=message, errors={"title": message})
    return Reply(title="Easy there", body=message)


def _duration(span: timedelta, round_up: bool = False) -> str:
    seconds = span.total_seconds()
    if seconds < 60:
        value = max(int(seconds + (0.999 if round_up else 0)), 1)
        return f"{value} second{'s' if value != 1 else ''}"
    if seconds < 3600:
        value = int(seconds / 60 + (0.999 if round_up else 0))
        return f"{value} minute{'s' if value != 1 else ''}"
    value = int(seconds / 3600 + (0.999 if round_up else 0))
    return f"{value} hour{'s' if value != 1 else ''}"
