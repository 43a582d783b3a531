"""Autocomplete data: snippet titles and ids, topics and IANA time zones."""

from __future__ import annotations

import functools
import zoneinfo
from collections.abc import Iterable

from discord import app_commands

from bot.core.library import SnippetLibrary
from bot.core.models import Knowledge, Snippet

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


def topic_choices(knowledge: Knowledge, current: str) -> list[Choice[str]]:
    query = current.strip().lower()
    found = [
        t for t in knowledge.topics if not query or query in t.slug or query in t.title.lower()
    ]
    return [_choice(t.title, t.slug) for t in found[:CHOICES_MAX]]


def topic_slug(knowledge: Knowledge, value: str) -> str:
    """A slug for what the member picked or typed (a topic's title works too)."""
    wanted = value.strip().lower()
    for topic in knowledge.topics:
        if wanted in (topic.slug, topic.title.lower()):
            return topic.slug
    return wanted


async def snippet_choices(library: SnippetLibrary, current: str, by_id: bool) -> list[Choice[str]]:
    """Live snippets matching what is typed: titles containing it first, then ranked hits.

    Values are titles (for `ask`) or ids (for moderators' `edit` and `retire`).
    """
    state = await library.state()
    query = " ".join(current.lower().split())
    picked: list[Snippet] = []
    if not query:
        picked = sorted(state.snippets, key=lambda s: s.title.lower())[:CHOICES_MAX]
    else:
        picked = [s for s in state.snippets if query in s.title.lower() or query in s.id]
        if len(picked) < CHOICES_MAX:
            ids = {s.id for s in picked}
            hits = state.index.search(current, limit=CHOICES_MAX).hits
            picked += [h.snippet for h in hits if h.snippet.id not in ids]
    return _snippet_choices(picked[:CHOICES_MAX], by_id)


def _snippet_choices(snippets: Iterable[Snippet], by_id: bool) -> list[Choice[str]]:
    if by_id:
        return [_choice(f"{s.id}: {s.title}", s.id) for s in snippets]
    return [_choice(s.title, s.title) for s in snippets]


async def snippet_by_title(library: SnippetLibrary, value: str) -> Snippet | None:
    def norm(text: str) -> str:
        return " ".join(text.lower().split())[:CHOICE_MAX]

    wanted = norm(value)
    state = await library.state()
    return next((s for s in state.snippets if norm(s.title) == wanted), None)
