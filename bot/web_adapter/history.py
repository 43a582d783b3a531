"""Each snippet's history on the dashboard: revisions newest first with short word diffs, and
a revert button per revision that runs the same command as chat `revert`."""

from __future__ import annotations

import difflib
import urllib.parse

from aiohttp import web

from bot.core import commands as c
from bot.core.history import ACTION_WORDS, author_name
from bot.core.models import WebRole
from bot.core.reply import Reply
from bot.core.revisions import FieldChange
from bot.web_adapter.pages import SESSION, actor_of, context, page, requires, see_other

moderators = requires(WebRole.MODERATOR)

KEPT_WORDS = 6
"""Unchanged words shown on each side of a change; the rest of an unchanged run is elided."""
ID_MAX = 100
WHOLE_FIELDS = ("title", "topics", "retired")
"""Short fields shown as before → after rather than word by word."""


def word_diff(change: FieldChange) -> list[tuple[str, str]]:
    """(kind, text) in reading order; kind is `same`, `del`, `ins` or `gap` (words elided)."""
    if change.field in WHOLE_FIELDS:
        return [("del", change.before), ("ins", change.after)]
    old, new = change.before.split(), change.after.split()
    parts: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    opcodes = matcher.get_opcodes()
    for position, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        if tag == "equal":
            parts.extend(_context(old[i1:i2], position == 0, position == len(opcodes) - 1))
            continue
        if tag in ("replace", "delete"):
            parts.append(("del", " ".join(old[i1:i2])))
        if tag in ("replace", "insert"):
            parts.append(("ins", " ".join(new[j1:j2])))
    return parts


def _context(words: list[str], first: bool, last: bool) -> list[tuple[str, str]]:
    """An unchanged run, trimmed to the words next to the changes around it."""
    head = [] if first else words[:KEPT_WORDS]
    tail = [] if last else words[-KEPT_WORDS:]
    if len(head) + len(tail) >= len(words):
        return [("same", " ".join(words))]
    shown: list[tuple[str, str]] = []
    if head:
        shown.append(("same", " ".join(head)))
    shown.append(("gap", "…"))
    if tail:
        shown.append(("same", " ".join(tail)))
    return shown


def _snippet_id(request: web.Request) -> str:
    snippet_id = request.match_info["snippet_id"]
    if len(snippet_id) > ID_MAX:
        raise web.HTTPNotFound()
    return snippet_id


@moderators
async def find(request: web.Request) -> web.StreamResponse:
    """The search box: an id typed on the snippets page opens that snippet's history."""
    typed = request.query.get("id", "").strip().strip("`")[:ID_MAX]
    if not typed:
        return see_other(context(request).url("/dashboard/snippets"))
    return see_other(context(request).url(f"/dashboard/snippets/{_quoted(typed)}/history"))


def _quoted(snippet_id: str) -> str:
    return urllib.parse.quote(snippet_id, safe="")


@moderators
async def history(request: web.Request) -> web.StreamResponse:
    return await _page(request, _snippet_id(request))


async def _page(
    request: web.Request, snippet_id: str, reply: Reply | None = None, status: int = 200
) -> web.StreamResponse:
    view = await context(request).facade.history.history(snippet_id)
    if view is None:
        return page(
            request, "dashboard/history.html", status=404, private=True, view=None,
            snippet_id=snippet_id, reply=reply, waiting=None,
        )  # fmt: skip
    return page(
        request, "dashboard/history.html", status=status, private=True, view=view,
        snippet_id=snippet_id, reply=reply, waiting=None, diff=word_diff, who=author_name,
        actions=ACTION_WORDS, quoted=_quoted,
    )  # fmt: skip


@moderators
async def revert(request: web.Request) -> web.StreamResponse:
    """Restore one revision as a new one, audited as the signed-in moderator."""
    snippet_id = _snippet_id(request)
    form = await request.post()
    target = str(form.get("revision", "")).strip()[:12]
    if not target:
        return await _page(request, snippet_id, Reply(body="Pick a revision to restore."), 422)
    actor = actor_of(request[SESSION])
    reply = await context(request).facade.dispatch(actor, c.Revert(snippet_id, target))
    return await _page(request, snippet_id, reply)
