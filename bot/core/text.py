"""Text helpers shared by the parser, ranking and services."""

from __future__ import annotations

import re
import unicodedata

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_ZERO_WIDTH = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
_SPACES = re.compile(r"[ \t]+")
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def clean_input(text: str, limit: int) -> str:
    """Normalise member input: NFC, no control or zero-width characters, trimmed, capped."""
    text = unicodedata.normalize("NFKC", text)
    text = _ZERO_WIDTH.sub("", _CONTROL.sub(" ", text))
    text = "\n".join(_SPACES.sub(" ", line).strip() for line in text.splitlines())
    return text.strip()[:limit].rstrip()


def words(text: str) -> list[str]:
    """Lowercase word tokens, apostrophes folded."""
    folded = unicodedata.normalize("NFKD", text.lower().replace("\u2019", "'"))
    ascii_text = folded.encode("ascii", "ignore").decode("ascii")
    return _WORD.findall(ascii_text)


def normalise_question(text: str) -> str:
    """A grouping key for questions: lowercase words joined by single spaces."""
    return " ".join(words(text))[:300]
