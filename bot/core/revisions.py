"""Snippet revisions as moderators see them: content hashes, per-field changes, short diffs.

Pure functions over `SnippetRevision` and `Snippet`; the history and revert services build on
them, and so can any adapter that shows history (plain values, no replies).
"""

from __future__ import annotations

import difflib
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from bot.core.models import RevisionAction, Snippet, SnippetRevision, UserRef

GIT_AUTHOR = UserRef("git", "", "knowledge")
"""Who a `yaml` revision names: the reviewed files, not a person."""

NOT_IN_YAML = ""
"""The base of a revision of a snippet the YAML did not have when it was made."""

FIELDS = ("title", "body", "topics", "questions", "retired")


@dataclass(frozen=True, slots=True)
class Content:
    """The parts of a snippet a revision can change."""

    title: str
    body: str
    topics: tuple[str, ...]
    questions: tuple[str, ...]
    retired: bool = False

    @classmethod
    def of_snippet(cls, snippet: Snippet) -> Content:
        return cls(snippet.title, snippet.body, snippet.topics, snippet.questions)

    @classmethod
    def of_revision(cls, revision: SnippetRevision) -> Content:
        return cls(
            revision.title, revision.body, revision.topics, revision.questions, revision.retired
        )

    def same_text(self, other: Content) -> bool:
        """Equal once whitespace is ignored (the YAML loader reflows hard-wrapped bodies)."""
        return _key(self) == _key(other)


def _key(content: Content) -> tuple[object, ...]:
    return (
        " ".join(content.title.split()),
        " ".join(content.body.split()),
        tuple(content.topics),
        tuple(" ".join(q.split()) for q in content.questions),
        content.retired,
    )


def content_hash(snippet: Snippet) -> str:
    """A short, stable fingerprint of a YAML snippet's text: it changes when git changes it."""
    title, body, topics, questions, _ = _key(Content.of_snippet(snippet))
    payload = json.dumps([title, body, topics, questions, snippet.source], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


def snapshot(snippet: Snippet, number: int, at: datetime) -> SnippetRevision:
    """The YAML version of a snippet, recorded as the revision a chat change started from."""
    return SnippetRevision(
        snippet_id=snippet.id,
        revision=number,
        title=snippet.title,
        body=snippet.body,
        topics=snippet.topics,
        questions=snippet.questions,
        retired=False,
        author=GIT_AUTHOR,
        at=at,
        source=snippet.source,
        action=RevisionAction.YAML,
        base_hash=content_hash(snippet),
    )


@dataclass(frozen=True, slots=True)
class FieldChange:
    field: str
    before: str
    after: str


@dataclass(frozen=True, slots=True)
class RevisionView:
    """One line of a snippet's history, newest first in `history`."""

    number: int
    action: RevisionAction
    author: UserRef
    at: datetime
    note: str
    content: Content
    changes: tuple[FieldChange, ...]
    """Against the revision before it (empty for the first)."""

    @property
    def label(self) -> str:
        return f"r{self.number}"

    @property
    def changed(self) -> tuple[str, ...]:
        return tuple(c.field for c in self.changes)


def changes(before: Content | None, after: Content) -> tuple[FieldChange, ...]:
    if before is None:
        return ()
    found: list[FieldChange] = []
    for name in FIELDS:
        old, new = getattr(before, name), getattr(after, name)
        if name in ("title", "body"):
            old, new = " ".join(str(old).split()), " ".join(str(new).split())
        if old == new:
            continue
        found.append(FieldChange(name, _text(old), _text(new)))
    return tuple(found)


def _text(value: object) -> str:
    if isinstance(value, tuple):
        return "; ".join(str(v) for v in value) if value else "(none)"
    if isinstance(value, bool):
        return "retired" if value else "live"
    return str(value)


def views(revisions: list[SnippetRevision]) -> list[RevisionView]:
    """Revisions (oldest first, as stored) as history lines, newest first."""
    shown: list[RevisionView] = []
    previous: Content | None = None
    for revision in revisions:
        content = Content.of_revision(revision)
        shown.append(
            RevisionView(
                number=revision.revision,
                action=revision.action,
                author=revision.author,
                at=revision.at,
                note=revision.note,
                content=content,
                changes=changes(previous, content),
            )
        )
        previous = content
    return list(reversed(shown))


def short_diff(change: FieldChange, width: int = 160) -> str:
    """A one-line word diff: `-removed +added`, trimmed to `width`."""
    if change.field in ("title", "retired", "topics"):
        return _trim(f"{change.before} → {change.after}", width)
    old, new = change.before.split(), change.after.split()
    parts: list[str] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag in ("replace", "delete"):
            parts.append("-" + " ".join(old[i1:i2]))
        if tag in ("replace", "insert"):
            parts.append("+" + " ".join(new[j1:j2]))
    return _trim(" ".join(f"[{p}]" for p in parts) or "(whitespace only)", width)


def _trim(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"
