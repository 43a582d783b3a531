"""Text that can never ping anyone nor disguise a link, and log lines that never carry a secret.

Discord parses `@everyone`, `@here`, `<@id>`, `<@!id>` and `<@&id>` in message content. Every
send also carries `AllowedMentions.none()`, but text is escaped as well: embeds are quoted in
replies and notifications, and an escape survives any later edit.
"""

from __future__ import annotations

import re
import unicodedata

from bot import logsafety
from bot.logsafety import REDACTED, LogGuard

ZWSP = "\u200b"
_MENTION = re.compile(r"@(?=everyone|here)|<@(?=[!&]?\d)", re.IGNORECASE)
_STRAY_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
PING = re.compile(r"@(?:everyone|here)|<@[!&]?\d+>", re.IGNORECASE)
"""What Discord would turn into a notification; nothing we send may contain it."""


def _visible(text: str) -> str:
    # Format characters (zero-width spaces and joiners, bidi controls, soft hyphens, BOM) are
    # how "@every\u200bone" style tricks hide a mention; drop them before escaping.
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


_MASKED_LINK = re.compile(
    r"\[([^\[\]\n]*)\]\(\s*<?([^()\s<>]*)>?(?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\)"
)


def unmask_links(text: str) -> str:
    """`[docs.google.com](http://x)` shows on Discord as "docs.google.com", linking to x: a
    disguise. Write each masked link as its text followed by its real target instead."""
    for _ in range(8):  # nested brackets unwrap one level per pass
        unmasked = _MASKED_LINK.sub(_visible_target, text)
        if unmasked == text:
            break
        text = unmasked
    return text


def _visible_target(match: re.Match[str]) -> str:
    label, target = match.group(1).strip(), match.group(2)
    if not target:
        return f"[{label}]" if label else ""
    return f"{label} ({target})" if label and label != target else target


def safe_text(text: str) -> str:
    """Member- or moderator-written text made inert for Discord: no mention can fire and no
    link can hide where it goes."""
    text = unmask_links(_STRAY_CONTROL.sub(" ", _visible(text)))
    return _MENTION.sub(lambda m: m.group(0) + ZWSP, text)


def clip(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a word boundary with an ellipsis when it must be."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit * 0.6:
        cut = cut[:space]
    return cut.rstrip() + "…"


_WEBHOOK_TOKEN = re.compile(r"(/(?:webhooks|interactions)/\d+/)[A-Za-z0-9_.\-]+")
_TOKEN_FIELD = re.compile(r"""(['"]token['"]\s*:\s*['"])[^'"]+""")
PREFIXES = ("discord", "bot.discord_adapter", "bot.core", "bot.app")
"""discord.py's loggers and ours; filters do not inherit downwards, so each gets the filter."""


class RedactingFilter(logsafety.RedactingFilter):
    """Removes the bot token and interaction tokens from records before any handler sees them."""

    patterns = (
        (_WEBHOOK_TOKEN, rf"\g<1>{REDACTED}"),
        (_TOKEN_FIELD, rf"\g<1>{REDACTED}"),
    )


def log_guard(token: str) -> LogGuard:
    return LogGuard(RedactingFilter([token]), PREFIXES)
