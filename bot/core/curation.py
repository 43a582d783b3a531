"""Changing snippets from chat: validate a draft, add, edit and retire, each audited."""

from __future__ import annotations

import dataclasses
import logging
import re

from bot.core.commands import Draft
from bot.core.history import SnippetHistory
from bot.core.library import LibraryState, SnippetLibrary
from bot.core.models import (
    Actor,
    RevisionAction,
    Snippet,
    SnippetRevision,
    UserRef,
)
from bot.core.ports import Clock, ConflictError, Repositories
from bot.core.reply import (
    Button,
    FieldKind,
    Form,
    FormField,
    Reply,
    ReplyField,
)
from bot.core.revisions import Content
from bot.core.text import clean_input
from bot.core.validation import BODY_MAX, BODY_WORDS, TITLE_MAX, looks_unsafe

log = logging.getLogger(__name__)

MAX_TOPICS = 4
MAX_QUESTIONS = 8
ID_ATTEMPTS = 5
"""Tries at a free snippet id when other moderators publish the same title at once."""


def snippet_form(
    title: str, command: str, draft: Draft | None = None, submit: str = "Save"
) -> Form:
    return Form(
        title=title,
        command=command,
        submit_label=submit,
        fields=(
            FormField("title", "Title", initial=draft.title if draft else "", max_length=TITLE_MAX,
                      hint="One idea, stated plainly"),
            FormField("body", "Advice", FieldKind.PARAGRAPH, initial=draft.body if draft else "",
                      max_length=BODY_MAX,
                      hint=f"What to do, why it works, an example ({BODY_WORDS[0]}-{BODY_WORDS[1]} words)"),
            FormField("topics", "Topics", FieldKind.TOPICS,
                      initial=", ".join(draft.topics) if draft else ""),
            FormField("questions", "Questions people ask", FieldKind.PARAGRAPH, required=False,
                      initial="\n".join(draft.questions) if draft else "", max_length=1000,
                      hint="One per line"),
        ),
    )  # fmt: skip


def slugify(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:50].rstrip("-") or "snippet"


class CurationService:
    def __init__(
        self,
        library: SnippetLibrary,
        repositories: Repositories,
        clock: Clock,
        history: SnippetHistory | None = None,
    ) -> None:
        self._library = library
        self._repos = repositories
        self._clock = clock
        self._topics = {t.slug for t in library.knowledge.topics}
        self._history = history or SnippetHistory(library, repositories, clock)

    @property
    def library(self) -> SnippetLibrary:
        return self._library

    def validate(self, draft: Draft) -> tuple[Draft, dict[str, str]]:
        """The cleaned draft and, per form field, what is wrong with it."""
        clean = Draft(
            title=clean_input(draft.title, TITLE_MAX * 4).replace("\n", " "),
            body=clean_input(draft.body, BODY_MAX * 4),
            topics=tuple(dict.fromkeys(draft.topics)),
            questions=tuple(clean_input(q, 200) for q in draft.questions if q.strip())[
                :MAX_QUESTIONS
            ],
        )
        errors: dict[str, str] = {}
        if not 3 <= len(clean.title) <= TITLE_MAX:
            errors["title"] = f"Give it a title of 3 to {TITLE_MAX} characters."
        count = len(clean.body.split())
        if len(clean.body) > BODY_MAX:
            errors["body"] = (
                f"That's {len(clean.body)} characters; please keep it under {BODY_MAX}."
            )
        elif not BODY_WORDS[0] <= count <= BODY_WORDS[1]:
            errors["body"] = (
                f"That's {count} words; aim for {BODY_WORDS[0]}-{BODY_WORDS[1]}: what to do, "
                "why it works, and an example."
            )
        unknown = [t for t in clean.topics if t not in self._topics]
        if not clean.topics:
            errors["topics"] = "Pick at least one topic."
        elif unknown:
            errors["topics"] = (
                f"Unknown topic {unknown[0][:40]!r}. Use slugs from `topics`, e.g. portfolio."
            )
        elif len(clean.topics) > MAX_TOPICS:
            errors["topics"] = f"Pick at most {MAX_TOPICS} topics."
        for name, text in (
            ("title", clean.title),
            ("body", clean.body),
            ("questions", " ".join(clean.questions)),
        ):
            reason = looks_unsafe(text)
            if reason and name not in errors:
                errors[name] = f"This {reason}."
        return clean, errors

    async def add(self, actor: Actor, draft: Draft | None) -> Reply:
        if draft is None:
            return Reply(
                title="Add a snippet",
                form=snippet_form("Add a snippet", "add", submit="Publish"),
            )
        clean, errors = self.validate(draft)
        if errors:
            return invalid_reply(errors)
        content = draft_content(clean)
        taken: set[str] = set()
        for _ in range(ID_ATTEMPTS):
            snippet_id = await self.free_id(slugify(clean.title), taken)
            try:
                await self._history.record(
                    actor.user, snippet_id, content, RevisionAction.ADD, "add", clean.title
                )
                break
            except ConflictError:
                taken.add(snippet_id)
                self._library.invalidate()
        else:
            return _conflict(slugify(clean.title))
        return Reply(
            title="Snippet published",
            body=f"*{clean.title}* is live as `{snippet_id}`.",
            buttons=(Button("View it", f"show {snippet_id}"),),
        )

    async def edit(self, actor: Actor, snippet_id: str, draft: Draft | None) -> Reply:
        state = await self._library.state()
        snippet_id = state.resolve(snippet_id)
        current = state.index.get(snippet_id)
        if current is None:
            return _unknown_snippet(snippet_id, snippet_id in state.retired)
        if draft is None:
            existing = Draft(current.title, current.body, current.topics, current.questions)
            return Reply(
                title=f"Edit {snippet_id}",
                form=snippet_form(f"Edit {snippet_id}"[:24], f"edit {snippet_id}", existing),
            )
        clean, errors = self.validate(draft)
        if errors:
            return invalid_reply(errors)
        if not clean.questions:
            clean = Draft(clean.title, clean.body, clean.topics, current.questions)
        try:
            revision = await self._history.record(
                actor.user,
                snippet_id,
                draft_content(clean),
                RevisionAction.EDIT,
                "edit",
                _changes(current, clean),
                source=current.source,
            )
        except ConflictError:
            return _conflict(snippet_id)
        return Reply(
            title="Snippet updated",
            body=f"`{snippet_id}` now reads as you wrote it (r{revision.revision}).",
            buttons=(
                Button("View it", f"show {snippet_id}"),
                Button("History", f"history {snippet_id}"),
            ),
        )

    async def retire(self, actor: Actor, snippet_id: str) -> Reply:
        state = await self._library.state()
        snippet_id = state.resolve(snippet_id)
        current = state.index.get(snippet_id)
        if current is None:
            return _unknown_snippet(snippet_id, snippet_id in state.retired)
        content = dataclasses.replace(Content.of_snippet(current), retired=True)
        try:
            revision = await self._history.record(
                actor.user,
                snippet_id,
                content,
                RevisionAction.RETIRE,
                "retire",
                current.title,
                source=current.source,
            )
        except ConflictError:
            return _conflict(snippet_id)
        before = f"r{revision.revision - 1}"
        return Reply(
            title="Snippet retired",
            body=(
                f"`{snippet_id}` no longer appears in answers. `revert {snippet_id} {before}` "
                "undoes it; `export` keeps git in step."
            ),
            buttons=(Button("Undo", f"revert {snippet_id} {before}"),),
        )

    # -- shared with the review workflow ------------------------------------------------------

    def revision(
        self, snippet_id: str, number: int, draft: Draft, author: UserRef, source: str | None = None
    ) -> SnippetRevision:
        return SnippetRevision(
            snippet_id=snippet_id,
            revision=number,
            title=draft.title,
            body=draft.body,
            topics=draft.topics,
            questions=draft.questions or (draft.title,),
            retired=False,
            author=author,
            at=self._clock.now(),
            source=source,
        )

    async def free_id(self, base: str, also_taken: set[str] | None = None) -> str:
        state = await self._library.state()
        taken = {s.id for s in state.snippets} | set(state.latest) | set(state.retired)
        taken |= {s.id for s in self._library.knowledge.snippets} | set(state.aliases)
        taken |= also_taken or set()
        candidate, number = base, 2
        while candidate in taken:
            candidate = f"{base}-{number}"
            number += 1
        return candidate


def draft_content(draft: Draft) -> Content:
    return Content(draft.title, draft.body, draft.topics, draft.questions or (draft.title,))


def conflict_field(state: LibraryState) -> tuple[ReplyField, ...]:
    """Chat changes git has since changed under them, for moderators to settle."""
    if not state.conflicts:
        return ()
    ids = ", ".join(f"`{c.snippet_id}`" for c in state.conflicts[:10])
    return (
        ReplyField(
            f"Changed in git and in chat ({len(state.conflicts)})",
            f"{ids}. The chat version is live; `history <id>` compares, `revert <id> git` "
            "takes the git version, an `edit` keeps yours.",
            inline=False,
        ),
    )


def _changes(current: Snippet, draft: Draft) -> str:
    changed = [
        name
        for name, before, after in (
            ("title", current.title, draft.title),
            ("body", current.body.strip(), draft.body.strip()),
            ("topics", current.topics, draft.topics),
            ("questions", current.questions, draft.questions),
        )
        if before != after
    ]
    return "changed " + (", ".join(changed) if changed else "nothing")


def invalid_reply(errors: dict[str, str]) -> Reply:
    lines = [f"- *{name}*: {message}" for name, message in errors.items()]
    return Reply(
        title="Almost there",
        body="Please fix this and send it again:\n" + "\n".join(lines),
        errors=errors,
    )


def _unknown_snippet(snippet_id: str, retired: bool) -> Reply:
    if retired:
        return Reply(
            body=(
                f"`{snippet_id}` is retired. `history {snippet_id}` lists its revisions and "
                f"`revert {snippet_id} <r-number>` brings one back."
            )
        )
    return Reply(body=f"There's no snippet `{snippet_id}`. Ids appear under every answer.")


def conflict_reply(snippet_id: str) -> Reply:
    return _conflict(snippet_id)


def _conflict(snippet_id: str) -> Reply:
    return Reply(
        body=(
            f"Someone changed `{snippet_id}` at the same moment. Nothing was lost: `show "
            f"{snippet_id}` to see the latest, then try again."
        )
    )
