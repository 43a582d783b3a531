"""Every change of a snippet is a revision: recording them, listing them, and reverting.

`SnippetHistory.history` and `.revert` return plain values so any adapter (chat, a web
dashboard) can show them; `history_reply` and `revert_reply` are the chat wording.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from bot.core.library import SnippetLibrary
from bot.core.models import Actor, AuditEntry, RevisionAction, Snippet, SnippetRevision, UserRef
from bot.core.ports import Clock, ConflictError, Repositories
from bot.core.reply import Button, Reply
from bot.core.revisions import (
    GIT_AUTHOR,
    NOT_IN_YAML,
    Content,
    RevisionView,
    content_hash,
    short_diff,
    snapshot,
    views,
)

HISTORY_SHOWN = 10
GIT = "git"
"""`revert <id> git`: follow the YAML version again."""


@dataclass(frozen=True, slots=True)
class SnippetHistoryView:
    snippet_id: str
    revisions: tuple[RevisionView, ...]
    """Newest first."""
    live: bool
    conflict: bool
    """The YAML changed after the chat change in force was made."""


class RevertStatus(enum.StrEnum):
    DONE = "done"
    UNKNOWN_SNIPPET = "unknown_snippet"
    UNKNOWN_REVISION = "unknown_revision"
    UNCHANGED = "unchanged"
    RACED = "raced"


@dataclass(frozen=True, slots=True)
class RevertResult:
    status: RevertStatus
    snippet_id: str
    restored: str = ""
    """The label restored, e.g. `r1`, or `git`."""
    revision: int | None = None
    """The new revision's number."""
    retired: bool = False


class SnippetHistory:
    def __init__(self, library: SnippetLibrary, repositories: Repositories, clock: Clock) -> None:
        self._library = library
        self._repos = repositories
        self._clock = clock

    def shipped(self, snippet_id: str) -> Snippet | None:
        return next((s for s in self._library.knowledge.snippets if s.id == snippet_id), None)

    async def record(
        self,
        actor: UserRef,
        snippet_id: str,
        content: Content,
        action: RevisionAction,
        audit_action: str,
        detail: str,
        note: str = "",
        source: str | None = None,
    ) -> SnippetRevision:
        """Store a change as the snippet's next revision, after a snapshot of the YAML version
        it starts from when the history does not hold that version yet.

        Raises ConflictError when another change took the number first.
        """
        state = await self._library.state()
        latest = state.latest.get(snippet_id)
        shipped = self.shipped(snippet_id)
        now = self._clock.now()
        number = (latest.revision if latest else 0) + 1
        before: SnippetRevision | None = None
        base = NOT_IN_YAML
        if shipped is not None:
            base = content_hash(shipped)
            if latest is None or (not latest.overrides and latest.base_hash != base):
                before = snapshot(shipped, number, now)
                number += 1
        if shipped is not None and content.same_text(Content.of_snippet(shipped)):
            # Back to exactly what the YAML says: that overrides nothing.
            action = RevisionAction.YAML
        revision = SnippetRevision(
            snippet_id=snippet_id,
            revision=number,
            title=content.title,
            body=content.body,
            topics=content.topics,
            questions=content.questions,
            retired=content.retired,
            author=actor,
            at=now,
            source=source if source is not None else (shipped.source if shipped else None),
            action=action,
            base_hash=base,
            note=note,
        )
        audit = AuditEntry(actor, audit_action, snippet_id, now, detail[:500])
        await self._repos.revisions.add(revision, audit, snapshot=before)
        self._library.invalidate()
        return revision

    async def history(self, snippet_id: str) -> SnippetHistoryView | None:
        """None when there is no such snippet, live or retired, chat-made or shipped."""
        stored = await self._repos.revisions.history(snippet_id)
        shipped = self.shipped(snippet_id)
        if not stored and shipped is None:
            return None
        if not stored and shipped is not None:
            stored = [snapshot(shipped, 1, self._clock.now())]
        state = await self._library.state()
        return SnippetHistoryView(
            snippet_id=snippet_id,
            revisions=tuple(views(stored)),
            live=state.index.get(snippet_id) is not None,
            conflict=any(c.snippet_id == snippet_id for c in state.conflicts),
        )

    async def revert(self, actor: Actor, snippet_id: str, target: str) -> RevertResult:
        """Make revision `target` (`r2`, `2`, or `git` for the YAML version) the newest."""
        view = await self.history(snippet_id)
        if view is None:
            return RevertResult(RevertStatus.UNKNOWN_SNIPPET, snippet_id)
        shipped = self.shipped(snippet_id)
        if target == GIT:
            if shipped is None:
                return RevertResult(RevertStatus.UNKNOWN_REVISION, snippet_id, GIT)
            content = Content.of_snippet(shipped)
            action, note, label = RevisionAction.YAML, "back to the YAML version", GIT
        else:
            number = int(target.lstrip("rR")) if target.lstrip("rR").isdigit() else -1
            chosen = next((v for v in view.revisions if v.number == number), None)
            if chosen is None:
                return RevertResult(RevertStatus.UNKNOWN_REVISION, snippet_id, target)
            content = chosen.content
            action, note, label = RevisionAction.REVERT, f"restored r{number}", f"r{number}"
        state = await self._library.state()
        in_force = state.revisions.get(snippet_id)
        if in_force is not None:
            live = Content.of_revision(in_force)
        elif shipped is not None:
            live = Content.of_snippet(shipped)
        else:
            live = view.revisions[0].content
        if content.same_text(live) and content.retired == live.retired:
            return RevertResult(RevertStatus.UNCHANGED, snippet_id, label)
        try:
            stored = await self.record(
                actor.user, snippet_id, content, action, "revert", f"{note} ({label})", note=note
            )
        except ConflictError:
            return RevertResult(RevertStatus.RACED, snippet_id, label)
        return RevertResult(
            RevertStatus.DONE, snippet_id, label, stored.revision, retired=content.retired
        )


def _when(at: datetime) -> str:
    return f"{at:%Y-%m-%d %H:%M} UTC"


def _who(user: UserRef) -> str:
    if user == GIT_AUTHOR:
        return "git"
    return user.user_id if user.platform == "console" else f"{user.platform}:{user.user_id}"


_ACTION_WORDS = {
    RevisionAction.YAML: "YAML version",
    RevisionAction.ADD: "added",
    RevisionAction.EDIT: "edited",
    RevisionAction.RETIRE: "retired",
    RevisionAction.APPROVE: "approved suggestion",
    RevisionAction.REVERT: "reverted",
}


def history_reply(view: SnippetHistoryView | None, snippet_id: str) -> Reply:
    if view is None:
        return Reply(body=f"There's no snippet `{snippet_id}`. Ids appear under every answer.")
    lines: list[str] = []
    for item in view.revisions[:HISTORY_SHOWN]:
        what = _ACTION_WORDS[item.action]
        note = f" ({item.note})" if item.note else ""
        head = f"*{item.label}* {what}{note} · {_who(item.author)} · {_when(item.at)}"
        diffs = [f"  {c.field}: {short_diff(c)}" for c in item.changes[:3]]
        lines.append("\n".join([head, *diffs]))
    hidden = len(view.revisions) - HISTORY_SHOWN
    more = f"\n…and {hidden} older." if hidden > 0 else ""
    state = "live" if view.live else "retired"
    context = f"`{snippet_id}` is {state}. `revert {snippet_id} <r-number>` restores one as a new revision."
    if view.conflict:
        context += (
            f" The YAML changed after the chat change in force: `revert {snippet_id} git` takes "
            f"the YAML version, an `edit` keeps yours."
        )
    oldest = view.revisions[-1].label
    buttons: tuple[Button, ...] = ()
    if len(view.revisions) > 1:
        buttons = (Button(f"Revert to {oldest}", f"revert {snippet_id} {oldest}"),)
    return Reply(
        title=f"History of {snippet_id} (newest first)",
        body="\n".join(lines) + more,
        context=context,
        buttons=buttons,
    )


def revert_reply(result: RevertResult) -> Reply:
    sid = result.snippet_id
    match result.status:
        case RevertStatus.UNKNOWN_SNIPPET:
            return Reply(body=f"There's no snippet `{sid}`. Ids appear under every answer.")
        case RevertStatus.UNKNOWN_REVISION:
            return Reply(
                body=f"`{sid}` has no revision {result.restored!r}. `history {sid}` lists them.",
                buttons=(Button("Show history", f"history {sid}"),),
            )
        case RevertStatus.UNCHANGED:
            return Reply(body=f"`{sid}` already reads like {result.restored}; nothing to do.")
        case RevertStatus.RACED:
            return Reply(
                body=(
                    f"Someone changed `{sid}` at the same moment. Nothing was lost: `history "
                    f"{sid}` shows the latest, then try again."
                )
            )
    state = " It stays retired." if result.retired else ""
    return Reply(
        title="Reverted",
        body=f"`{sid}` now reads as {result.restored} did, as r{result.revision}.{state}",
        buttons=(Button("View it", f"show {sid}"), Button("History", f"history {sid}")),
    )
