"""Curating the snippet base from chat: suggestions, add/edit/retire, review, gaps, stats."""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import timedelta

from bot.core.commands import Draft
from bot.core.flood import Action, FloodControl, limited_reply
from bot.core.history import SnippetHistory
from bot.core.library import LibraryState, SnippetLibrary
from bot.core.models import (
    Actor,
    AuditEntry,
    NewSuggestion,
    RevisionAction,
    Snippet,
    SnippetRevision,
    SubscriptionStatus,
    Suggestion,
    SuggestionStatus,
    UserRef,
)
from bot.core.ports import Clock, ConflictError, Exporter, Repositories
from bot.core.reply import (
    Attachment,
    Button,
    ButtonStyle,
    FieldKind,
    Form,
    FormField,
    Reply,
    ReplyField,
)
from bot.core.revisions import NOT_IN_YAML, Content
from bot.core.text import clean_input
from bot.core.validation import BODY_MAX, BODY_WORDS, TITLE_MAX, looks_unsafe

log = logging.getLogger(__name__)

Notify = Callable[[UserRef, Reply], Awaitable[None]]
MAX_TOPICS = 4
MAX_QUESTIONS = 8
GAP_WINDOW = timedelta(days=30)
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


def draft_from_values(values: dict[str, str]) -> Draft:
    topics = re.split(r"[,;\n]", values.get("topics", ""))
    questions = re.split(r"[;\n]", values.get("questions", ""))
    return Draft(
        title=values.get("title", ""),
        body=values.get("body", ""),
        topics=tuple(t.strip().lower() for t in topics if t.strip()),
        questions=tuple(q.strip() for q in questions if q.strip()),
    )


def slugify(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:50].rstrip("-") or "snippet"


class ModerationService:
    def __init__(
        self,
        library: SnippetLibrary,
        repositories: Repositories,
        clock: Clock,
        exporter: Exporter,
        notify: Notify | None = None,
        history: SnippetHistory | None = None,
        flood: FloodControl | None = None,
    ) -> None:
        self._library = library
        self._repos = repositories
        self._clock = clock
        self._exporter = exporter
        self._notify = notify
        self._topics = {t.slug for t in library.knowledge.topics}
        self._history = history or SnippetHistory(library, repositories, clock)
        self._flood = flood or FloodControl(repositories.flood, clock)

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

    # -- members -------------------------------------------------------------------------------

    async def suggest(self, actor: Actor, draft: Draft | None) -> Reply:
        if draft is None:
            return Reply(
                title="Suggest a snippet",
                body="Share advice you wish you'd had. A moderator reviews every suggestion.",
                form=snippet_form("Suggest a snippet", "suggest", submit="Send for review"),
            )
        clean, errors = self.validate(draft)
        if errors:
            return _invalid(errors)
        wait = await self._flood.wait(actor.user, Action.SUGGEST)
        if wait is not None:
            return limited_reply(Action.SUGGEST, self._flood.limits.suggest, wait)
        stored = await self._repos.suggestions.add(
            NewSuggestion(
                actor.user,
                clean.title,
                clean.body,
                clean.topics,
                self._clock.now(),
                questions=clean.questions,
            )
        )
        return Reply(
            title="Thanks, suggestion received",
            body=(
                f"*{clean.title}* is #{stored.id} in the review queue. I'll let you know what "
                "the moderators decide."
            ),
        )

    # -- moderators ----------------------------------------------------------------------------

    async def add(self, actor: Actor, draft: Draft | None) -> Reply:
        if draft is None:
            return Reply(
                title="Add a snippet",
                form=snippet_form("Add a snippet", "add", submit="Publish"),
            )
        clean, errors = self.validate(draft)
        if errors:
            return _invalid(errors)
        content = _content(clean)
        taken: set[str] = set()
        for _ in range(ID_ATTEMPTS):
            snippet_id = await self._free_id(slugify(clean.title), taken)
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
            return _invalid(errors)
        if not clean.questions:
            clean = Draft(clean.title, clean.body, clean.topics, current.questions)
        try:
            revision = await self._history.record(
                actor.user,
                snippet_id,
                _content(clean),
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

    async def review(self) -> Reply:
        pending = await self._repos.suggestions.pending(limit=5)
        total = await self._repos.suggestions.count_pending()
        conflicts = conflict_field(await self._library.state())
        if not pending:
            return Reply(
                title="Review queue",
                body="Nothing waiting. The queue is empty. 🎉",
                fields=conflicts,
            )
        fields = tuple(
            ReplyField(
                f"#{s.id} {s.title}",
                f"{_short(s.body, 400)}\nTopics: {', '.join(s.topics)}"
                + (f"\nQuestions: {_short('; '.join(s.questions), 300)}" if s.questions else ""),
                inline=False,
            )
            for s in pending
        )
        buttons: list[Button] = []
        for s in pending[:2]:
            buttons.append(Button(f"Approve #{s.id}", f"approve {s.id}", ButtonStyle.PRIMARY))
            buttons.append(Button(f"Edit #{s.id} first", f"approve {s.id} edit"))
            buttons.append(Button(f"Reject #{s.id}", f"reject {s.id}", ButtonStyle.DANGER))
        more = f" Showing the oldest {len(pending)}." if total > len(pending) else ""
        return Reply(
            title=f"Review queue ({total} waiting)",
            body=(
                f"Oldest first.{more} `approve <number>` publishes as written; `approve "
                "<number> edit` lets you polish it first; `reject <number> <reason>` declines "
                "and tells the member why."
            ),
            fields=fields + conflicts,
            buttons=tuple(buttons),
        )

    async def approve(
        self,
        actor: Actor,
        suggestion_id: int,
        draft: Draft | None = None,
        edit: bool = False,
    ) -> Reply:
        suggestion = await self._repos.suggestions.get(suggestion_id)
        if suggestion is None or suggestion.status != SuggestionStatus.PENDING:
            return _not_pending(suggestion_id, suggestion)
        kept = Draft(suggestion.title, suggestion.body, suggestion.topics, suggestion.questions)
        if edit:
            return Reply(
                title=f"Edit #{suggestion_id} before approving",
                form=snippet_form(
                    f"Approve #{suggestion_id}"[:24], f"approve {suggestion_id}", kept, "Approve"
                ),
            )
        clean, errors = self.validate(draft or kept)
        if draft is not None and errors:
            return _invalid(errors)
        if draft is None:
            clean = kept
        snippet_id = ""
        taken: set[str] = set()
        decided: Suggestion | None = None
        for _ in range(ID_ATTEMPTS):
            snippet_id = await self._free_id(slugify(clean.title), taken)
            now = self._clock.now()
            revision = dataclasses.replace(
                self._revision(snippet_id, 1, clean, actor.user),
                action=RevisionAction.APPROVE,
                base_hash=NOT_IN_YAML,
                note=f"suggestion #{suggestion_id}",
            )
            try:
                decided = await self._repos.suggestions.decide(
                    suggestion_id,
                    SuggestionStatus.APPROVED,
                    actor.user,
                    now,
                    None,
                    revision,
                    AuditEntry(
                        actor.user, "approve", snippet_id, now, f"suggestion #{suggestion_id}"
                    ),
                )
                break
            except ConflictError:
                # Another approval took this id a moment ago: the next free one is ours.
                taken.add(snippet_id)
                self._library.invalidate()
        else:
            return _conflict(snippet_id)
        if decided is None:
            return _not_pending(suggestion_id, await self._repos.suggestions.get(suggestion_id))
        self._library.invalidate()
        await self._tell(
            suggestion.author,
            Reply(
                title="Your suggestion was published",
                body=f"Thank you! *{clean.title}* is now part of the advice (`{snippet_id}`).",
            ),
        )
        return Reply(
            title="Approved",
            body=f"#{suggestion_id} is live as `{snippet_id}`. The member has been told.",
            buttons=(Button("View it", f"show {snippet_id}"), Button("Next", "review")),
        )

    async def reject(self, actor: Actor, suggestion_id: int, reason: str | None) -> Reply:
        suggestion = await self._repos.suggestions.get(suggestion_id)
        if suggestion is None or suggestion.status != SuggestionStatus.PENDING:
            return _not_pending(suggestion_id, suggestion)
        reason = clean_input(reason or "", 500)
        if not reason:
            return Reply(
                title=f"Reject #{suggestion_id}",
                body=f"*{suggestion.title}*: tell the member why, kindly and briefly.",
                form=Form(
                    title=f"Reject #{suggestion_id}",
                    command=f"reject {suggestion_id}",
                    submit_label="Reject",
                    fields=(
                        FormField(
                            "reason",
                            "Reason for the member",
                            FieldKind.PARAGRAPH,
                            max_length=500,
                            hint="They will see this, e.g. we already cover it in coffee-chats",
                        ),
                    ),
                ),
            )
        now = self._clock.now()
        decided = await self._repos.suggestions.decide(
            suggestion_id,
            SuggestionStatus.REJECTED,
            actor.user,
            now,
            reason,
            None,
            AuditEntry(actor.user, "reject", f"suggestion #{suggestion_id}", now, reason),
        )
        if decided is None:
            return _not_pending(suggestion_id, await self._repos.suggestions.get(suggestion_id))
        await self._tell(
            suggestion.author,
            Reply(
                title="About your suggestion",
                body=(
                    f"Thanks for suggesting *{suggestion.title}*. The moderators didn't publish "
                    f"it this time: {reason}"
                ),
            ),
        )
        return Reply(
            title="Rejected",
            body=f"#{suggestion_id} was declined and the member has been told why.",
            buttons=(Button("Next", "review"),),
        )

    async def gaps(self) -> Reply:
        since = self._clock.now() - GAP_WINDOW
        top = await self._repos.unanswered.top(limit=15, since=since)
        if not top:
            return Reply(title="Unanswered questions", body="No unanswered questions in 30 days.")
        lines = [f"- {g.count}× {_short(g.text, 150)}" for g in top]
        return Reply(
            title="Unanswered questions, last 30 days",
            body="\n".join(lines),
            context="Each is a snippet waiting to be written: `add` one.",
            buttons=(Button("Add a snippet", "add"),),
        )

    async def stats(self) -> Reply:
        now = self._clock.now()
        state = await self._library.state()
        subscriptions = await self._repos.subscriptions.counts()
        tallies = await self._repos.feedback.tallies()
        done_week = await self._repos.progress.count_done_since(now - timedelta(days=7))
        unanswered = await self._repos.unanswered.count_since(now - GAP_WINDOW)
        pending = await self._repos.suggestions.count_pending()
        conflicts = conflict_field(state)
        liked = sorted(tallies.items(), key=lambda kv: kv[1].down - kv[1].up)[:3]
        top = ", ".join(f"`{sid}` (+{t.up}/-{t.down})" for sid, t in liked if t.up) or "none yet"
        return Reply(
            title="pmadvice stats",
            fields=(
                ReplyField("Snippets live", str(len(state.snippets))),
                ReplyField("Changed from chat", str(len(state.revisions))),
                ReplyField("Subscribers", str(subscriptions.get(SubscriptionStatus.ACTIVE, 0))),
                ReplyField("Paused", str(subscriptions.get(SubscriptionStatus.PAUSED, 0))),
                ReplyField("Exercises done (7 days)", str(done_week)),
                ReplyField("Unanswered (30 days)", str(unanswered)),
                ReplyField("Suggestions waiting", str(pending)),
                ReplyField("Most helpful", top, inline=False),
                *conflicts,
            ),
        )

    async def export(self) -> Reply:
        state = await self._library.state()
        revisions = sorted(state.revisions.values(), key=lambda r: r.snippet_id)
        if not revisions:
            return Reply(
                title="Nothing to export",
                body="Every chat change is already in the YAML (or there are none yet).",
            )
        export = self._exporter.export(revisions)
        held = (
            "\nLeft out, because git changed them after the chat change: "
            + ", ".join(f"`{c}`" for c in export.conflicts)
            + ". `history <id>` shows how to settle each."
            if export.conflicts
            else ""
        )
        if not export.patch:
            return Reply(title="Nothing to export", body="No file would change." + held)
        files = ", ".join(f"`knowledge/{name}`" for name in export.files)
        return Reply(
            title="Chat changes as a patch",
            body=(
                f"{len(revisions)} snippets changed from chat; the patch touches {files}. "
                "Save it as `chat-changes.patch` in the repository root (the folder holding "
                "`knowledge/`), run `git apply chat-changes.patch` (add `--3way` if the files "
                "moved on since this bot was deployed), check with `pmadvice knowledge "
                "check`, and commit. Once deployed, the chat copies step aside by "
                "themselves. On the server, `pmadvice knowledge export` writes the same "
                "changes into the files." + held
            ),
            attachment=Attachment("chat-changes.patch", export.patch),
        )

    # -- helpers -------------------------------------------------------------------------------

    def _revision(
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

    async def _free_id(self, base: str, also_taken: set[str] | None = None) -> str:
        state = await self._library.state()
        taken = {s.id for s in state.snippets} | set(state.latest) | set(state.retired)
        taken |= {s.id for s in self._library.knowledge.snippets} | (also_taken or set())
        candidate, number = base, 2
        while candidate in taken:
            candidate = f"{base}-{number}"
            number += 1
        return candidate

    async def _tell(self, user: UserRef, reply: Reply) -> None:
        if self._notify is None:
            return
        try:
            await self._notify(user, reply)
        except Exception:  # the decision is stored; a failed courtesy DM must not undo it
            log.warning("could not tell %s about a review decision", user.platform, exc_info=True)


def _content(draft: Draft) -> Content:
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


def _invalid(errors: dict[str, str]) -> Reply:
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


def _conflict(snippet_id: str) -> Reply:
    return Reply(
        body=(
            f"Someone changed `{snippet_id}` at the same moment. Nothing was lost: `show "
            f"{snippet_id}` to see the latest, then try again."
        )
    )


def _not_pending(suggestion_id: int, suggestion: Suggestion | None) -> Reply:
    if suggestion is None:
        return Reply(body=f"There's no suggestion #{suggestion_id}. `review` shows the queue.")
    return Reply(
        body=f"#{suggestion_id} was already {suggestion.status.value}. `review` shows what's left."
    )


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
