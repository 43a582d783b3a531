"""When a weekly nudge is due: local weekday and time in an IANA zone, as a UTC instant.

DST rules: a local time that does not exist on a spring-forward day (02:30 when clocks jump from
02:00 to 03:00) moves forward by the gap, so the nudge still goes out once that day; a local
time that happens twice on an autumn day (01:30) is taken at its first occurrence, so it goes
out once.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of local `day` `at` in `zone`, resolving DST gaps and folds."""
    # fold=0 picks the first of two repeated times, and inside a gap it applies the offset from
    # before the transition, which lands just past the gap: exactly the two rules above.
    return datetime.combine(day, at).replace(tzinfo=zone, fold=0).astimezone(UTC)


def next_due(weekday: int, at: time, zone_name: str, after: datetime) -> datetime:
    """The first nudge instant strictly after `after` (aware) for this weekly slot."""
    zone = ZoneInfo(zone_name)
    local_after = after.astimezone(zone)
    day = local_after.date() + timedelta(days=(weekday - local_after.weekday()) % 7)
    for week in range(3):
        candidate = local_instant(day + timedelta(weeks=week), at, zone)
        if candidate > after:
            return candidate
    raise AssertionError("a weekly slot always recurs within three weeks")


def week_key(due: datetime, zone_name: str) -> str:
    """The ISO week of a due instant in the member's zone, e.g. `2026-W10`."""
    local = due.astimezone(ZoneInfo(zone_name)).isocalendar()
    return f"{local.year}-W{local.week:02d}"


REMINDER_SUFFIX = "-mid"
"""A week key with this suffix is the mid-week reminder for that week's nudge."""


def reminder_week(week: str) -> str:
    return week + REMINDER_SUFFIX


def is_reminder_week(week: str) -> bool:
    return week.endswith(REMINDER_SUFFIX)
