"""Finding the question inside a long message.

Members often tell their story first ("8 years in linehaul planning, my PM friend says...") and
ask at the end. Matched as a whole, the story drowns the question: most of its words are about
their job, not what they want to know. So a long message is also scored by its question part:
the sentences that end in a question mark or open like a question, or else its last sentence.
"""

from __future__ import annotations

import re

from bot.core.text import words

LONG_MESSAGE_WORDS = 25
"""From this many words on, a message is also scored by its question part."""

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
_QUESTION_OPENERS = frozenset(
    """
    how what which why when where who whom whose should shall can could would will is are am
    do does did any anyone has have was were may might must tips advice ideas help
    """.split()
)


def sentences(text: str) -> list[str]:
    return [part.strip() for part in _SENTENCE_END.split(text) if part and part.strip()]


def question_part(text: str) -> str | None:
    """The question inside a long message, or None when the message is short enough as is."""
    if len(words(text)) < LONG_MESSAGE_WORDS:
        return None
    parts = sentences(text)
    if len(parts) < 2:
        # One run-on sentence: its last clause usually carries the ask.
        clauses = [c.strip() for c in re.split(r"[,;:]|\bbut\b|\bso\b", text) if c.strip()]
        tail = " ".join(clauses[-2:]) if len(clauses) > 2 else None
        return tail if tail and len(words(tail)) < len(words(text)) else None
    asked = [p for p in parts if p.endswith("?") or _opens_like_question(p)]
    chosen = asked or parts[-1:]
    picked = " ".join(chosen)
    return picked if len(words(picked)) < len(words(text)) else None


def _opens_like_question(sentence: str) -> bool:
    tokens = words(sentence)
    return bool(tokens) and tokens[0] in _QUESTION_OPENERS
