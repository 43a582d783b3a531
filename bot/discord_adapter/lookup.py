"""Autocomplete choices: snippet titles and ids, topics and IANA time zones, fitted to
Discord's limits. Which snippets match is the core's decision (`PmAdvice.snippets_matching`)."""

from __future__ import annotations

import functools
import zoneinfo
from collections.abc import Iterable

from discord import app_commands

from bot.core.models import Snippet, Topic

CHOICES_MAX = 25
CHOICE_MAX = 100
COMMON_ZONES = (
    "UTC", "Europe/London", "Europe/Berlin", "Europe/Paris", "Europe/Madrid", "Europe/Warsaw",
    "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles",
    "America/Toronto", "America/Sao_Paulo", "America/Mexico_City", "Africa/Lagos",
    "Africa/Nairobi", "Asia/Kolkata", "Asia/Dubai", "Asia/Singapore", "Asia/Manila",
    "Asia/Tokyo", "Australia/Sydney", "Pacific/Auckland",
)  # fmt: skip

Choice = app_commands.Choice


def _choice(name: str, value: str) -> Choice[str]:
    return Choice(name=_fit(name), value=value[:CHOICE_MAX])


def _fit(text: str) -> str:
    text = " ".join(text.split()) or "…"
    return text if len(text) <= CHOICE_MAX else text[: CHOICE_MAX - 1] + "…"


@functools.cache
def all_zones() -> tuple[str, ...]:
    """Region/City zones (plus UTC), without the legacy aliases such as US/Eastern."""
    regions = ("Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia",
               "Europe", "Indian", "Pacific")  # fmt: skip
    zones = {z for z in zoneinfo.available_timezones() if z.split("/", 1)[0] in regions}
    return ("UTC", *sorted(zones))


def zone_choices(current: str) -> list[Choice[str]]:
    query = current.strip().lower().replace(" ", "_")
    if not query:
        return [_choice(z.replace("_", " "), z) for z in COMMON_ZONES[:CHOICES_MAX]]
    starts = [z for z in all_zones() if z.lower().rsplit("/", 1)[-1].startswith(query)]
    starts += [z for z in all_zones() if z.lower().startswith(query) and z not in starts]
    rest = [z for z in all_zones() if query in z.lower() and z not in starts]
    return [_choice(z.replace("_", " "), z) for z in (starts + rest)[:CHOICES_MAX]]


def topic_choices(topics: Iterable[Topic], current: str) -> list[Choice[str]]:
    query = current.strip().lower()
    found = [t for t in topics if not query or query in t.slug or query in t.title.lower()]
    return [_choice(t.title, t.slug) for t in found[:CHOICES_MAX]]


def snippet_choices(snippets: Iterable[Snippet], by_id: bool) -> list[Choice[str]]:
    """Values are titles (for `ask`) or ids (for moderators' `edit` and `retire`)."""
    if by_id:
        return [_choice(f"{s.id}: {s.title}", s.id) for s in snippets]
    return [_choice(s.title, s.title) for s in snippets]
