"""Checks on text that members and moderators write into the bot."""

from __future__ import annotations

import re

BODY_WORDS = (25, 200)
"""Snippet body length in words accepted from chat and YAML (the style guide asks 40-160)."""

TITLE_MAX = 80
BODY_MAX = 1500
QUERY_MAX = 500
NOTE_MAX = 1000
REASON_MAX = 500
LINK_MAX = 500

_MASS_MENTION = re.compile(
    r"<!(?:channel|here|everyone|subteam\^[^>]*)(?:\|[^>]*)?>|@(?:everyone|here|channel)\b",
    re.IGNORECASE,
)
_DIRECT_MENTION = re.compile(r"<@[!&]?[A-Z0-9]+>|<#[A-Z0-9]+(?:\|[^>]*)?>", re.IGNORECASE)
_SECRET = re.compile(
    r"xox[abposr]-[A-Za-z0-9-]{10,}"  # Slack tokens
    r"|xapp-\d-[A-Za-z0-9-]{10,}"  # Slack app-level tokens
    r"|[MNO][A-Za-z\d_-]{23,25}\.[A-Za-z\d_-]{6}\.[A-Za-z\d_-]{27,}"  # Discord bot tokens
    r"|gh[pousr]_[A-Za-z0-9]{30,}"  # GitHub tokens
    r"|AKIA[0-9A-Z]{16}"  # AWS access keys
    r"|sk-[A-Za-z0-9_-]{20,}"  # API secret keys of the common sk- form
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----"
)
_LINK = re.compile(r"^https?://[^\s<>\"]+\.[^\s<>\"]+$", re.IGNORECASE)


def looks_unsafe(text: str) -> str | None:
    """Why this text must not be published as a snippet, or None when it is fine."""
    flat = re.sub(r"[\u200b-\u200f\u2060-\u2064\ufeff]", "", text)
    if _MASS_MENTION.search(flat):
        return (
            "contains a mention that would notify a whole channel (like @everyone or @here); "
            "please remove it"
        )
    if _DIRECT_MENTION.search(flat):
        return "contains a mention of a person, role or channel; please write it out in words"
    if _SECRET.search(flat):
        return "contains something that looks like a password or API token; please remove it"
    return None


def is_link(text: str) -> bool:
    return len(text) <= LINK_MAX and bool(_LINK.match(text))
