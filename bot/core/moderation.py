"""Curating the snippet base from chat: suggestions, add/edit/retire, review, gaps, stats."""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import timedelta

from bot.core.commands import Draft
from bot.core.library import SnippetLibrary
from bot.core.models import (
    Actor,
    AuditEntry,
    NewSuggestion,
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
from bot.core.text import clean_input
from bot.core.validation import BODY_MAX, BODY_WORDS, TITLE_MAX, looks_unsafe

log = logging.getLogger(__name__)

Notify = Callable[[UserRef, Reply], Awaitable[None]]
MAX_TOPICS = 4
MAX_QUESTIONS = 8
GAP_WINDOW = timedelta(days=30)


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
    ) -> None:
        self._library = library
        self._repos = repositories
        self._clock = clock
        self._exporter = exporter
        self._notify = notify
        self._topics = {t.slug for t in library.knowledge.topics}

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
        stored = await self._repos.suggestions.add(
            NewSuggestion(actor.user, clean.title, clean.body, clean.topics, self._clock.now())
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
        snippet_id = await self._free_id(slugify(clean.title))
        revision = self._revision(snippet_id, 1, clean, actor.user)
        await self._save(revision, actor, "add", clean.title)
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
            return _invalid(errors)
        if not clean.questions:
            clean = Draft(clean.title, clean.body, clean.topics, current.questions)
        base = state.revisions.get(snippet_id)
        revision = self._revision(
            snippet_id, (base.revision if base else 0) + 1, clean, actor.user, current.source
        )
        try:
            await self._save(revision, actor, "edit", _changes(current, clean))
        except ConflictError:
            return _conflict(snippet_id)
        return Reply(
            title="Snippet updated",
            body=f"`{snippet_id}` now reads as you wrote it (revision {revision.revision}).",
            buttons=(Button("View it", f"show {snippet_id}"),),
        )

    async def retire(self, actor: Actor, snippet_id: str) -> Reply:
        state = await self._library.state()
        snippet_id = state.resolve(snippet_id)
        current = state.index.get(snippet_id)
        if current is None:
            return _unknown_snippet(snippet_id, snippet_id in state.retired)
        base = state.revisions.get(snippet_id)
        draft = Draft(current.title, current.body, current.topics, current.questions)
        revision = self._revision(
            snippet_id, (base.revision if base else 0) + 1, draft, actor.user, current.source
        )
        retired = dataclasses.replace(revision, retired=True)
        try:
            await self._save(retired, actor, "retire", current.title)
        except ConflictError:
            return _conflict(snippet_id)
        return Reply(
            title="Snippet retired",
            body=f"`{snippet_id}` no longer appears in answers. `export` keeps git in step.",
        )

    async def review(self) -> Reply:
        pending = await self._repos.suggestions.pending(limit=5)
        total = await self._repos.suggestions.count_pending()
        if not pending:
            return Reply(title="Review queue", body="Nothing waiting. The queue is empty. 🎉")
        fields = tuple(
            ReplyField(
                f"#{s.id} {s.title}",
                f"{_short(s.body, 400)}\nTopics: {', '.join(s.topics)}",
                inline=False,
            )
            for s in pending
        )
        buttons: list[Button] = []
        for s in pending[:2]:
            buttons.append(Button(f"Approve #{s.id}", f"approve {s.id}", ButtonStyle.PRIMARY))
            buttons.append(Button(f"Reject #{s.id}", f"reject {s.id}", ButtonStyle.DANGER))
        more = f" Showing the oldest {len(pending)}." if total > len(pending) else ""
        return Reply(
            title=f"Review queue ({total} waiting)",
            body=(
                f"Oldest first.{more} `approve <number>` publishes; "
                "`reject <number> <reason>` declines and tells the member why."
            ),
            fields=fields,
            buttons=tuple(buttons),
        )

    async def approve(self, actor: Actor, suggestion_id: int) -> Reply:
        suggestion = await self._repos.suggestions.get(suggestion_id)
        if suggestion is None or suggestion.status != SuggestionStatus.PENDING:
            return _not_pending(suggestion_id, suggestion)
        draft = Draft(suggestion.title, suggestion.body, suggestion.topics, (suggestion.title,))
        snippet_id = await self._free_id(slugify(suggestion.title))
        now = self._clock.now()
        revision = self._revision(snippet_id, 1, draft, actor.user)
        decided = await self._repos.suggestions.decide(
            suggestion_id,
            SuggestionStatus.APPROVED,
            actor.user,
            now,
            None,
            revision,
            AuditEntry(actor.user, "approve", snippet_id, now, f"suggestion #{suggestion_id}"),
        )
        if decided is None:
            return _not_pending(suggestion_id, await self._repos.suggestions.get(suggestion_id))
        self._library.invalidate()
        await self._tell(
            suggestion.author,
            Reply(
                title="Your suggestion was published",
                body=f"Thank you! *{suggestion.title}* is now part of the advice (`{snippet_id}`).",
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
            ),
        )

    async def export(self) -> Reply:
        state = await self._library.state()
        revisions = sorted(state.revisions.values(), key=lambda r: r.snippet_id)
        if not revisions:
            return Reply(
                title="Nothing to export", body="No snippet has been changed from chat yet."
            )
        return Reply(
            title="Chat changes as YAML",
            body=(
                f"{len(revisions)} snippets changed from chat. Commit this to "
                "`knowledge/snippets/community.yaml`, or run `pmadvice knowledge export` on "
                "the server to write the files."
            ),
            attachment=Attachment("community.yaml", self._exporter.dump(revisions)),
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

    async def _save(
        self, revision: SnippetRevision, actor: Actor, action: str, detail: str
    ) -> None:
        audit = AuditEntry(actor.user, action, revision.snippet_id, revision.at, detail[:500])
        await self._repos.revisions.add(revision, audit)
        self._library.invalidate()

    async def _free_id(self, base: str) -> str:
        state = await self._library.state()
        taken = {s.id for s in state.snippets} | set(state.revisions) | set(state.retired)
        taken |= {s.id for s in self._library.knowledge.snippets} | set(state.aliases)
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
        return Reply(body=f"`{snippet_id}` is already retired.")
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
