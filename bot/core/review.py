"""The suggestion queue: members suggest, moderators approve or reject, the member is told."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable

from bot.core.commands import Draft
from bot.core.curation import (
    ID_ATTEMPTS,
    CurationService,
    conflict_field,
    conflict_reply,
    invalid_reply,
    slugify,
    snippet_form,
)
from bot.core.flood import Action, FloodControl, limited_reply
from bot.core.models import (
    Actor,
    AuditEntry,
    NewSuggestion,
    RevisionAction,
    Suggestion,
    SuggestionStatus,
    UserRef,
)
from bot.core.ports import Clock, ConflictError, Repositories
from bot.core.reply import (
    Button,
    ButtonStyle,
    FieldKind,
    Form,
    FormField,
    Reply,
    ReplyField,
)
from bot.core.revisions import NOT_IN_YAML
from bot.core.telemetry import NO_TELEMETRY, Telemetry
from bot.core.text import clean_input
from bot.core.validation import REASON_MAX

log = logging.getLogger(__name__)

Notify = Callable[[UserRef, Reply], Awaitable[None]]


class ReviewWorkflow:
    def __init__(
        self,
        curation: CurationService,
        repositories: Repositories,
        clock: Clock,
        notify: Notify | None = None,
        flood: FloodControl | None = None,
        telemetry: Telemetry = NO_TELEMETRY,
    ) -> None:
        self._telemetry = telemetry
        self._curation = curation
        self._library = curation.library
        self._repos = repositories
        self._clock = clock
        self._notify = notify
        self._flood = flood or FloodControl(repositories.flood, clock)

    async def suggest(self, actor: Actor, draft: Draft | None) -> Reply:
        if draft is None:
            return Reply(
                title="Suggest a snippet",
                body="Share advice you wish you'd had. A moderator reviews every suggestion.",
                form=snippet_form("Suggest a snippet", "suggest", submit="Send for review"),
            )
        clean, errors = self._curation.validate(draft)
        if errors:
            return invalid_reply(errors)
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
        self._telemetry.suggestion()
        return Reply(
            title="Thanks, suggestion received",
            body=(
                f"*{clean.title}* is #{stored.id} in the review queue. I'll let you know what "
                "the moderators decide."
            ),
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
                    f"Approve #{suggestion_id}"[:24], f"publish {suggestion_id}", kept, "Approve"
                ),
            )
        clean = kept
        if draft is not None:
            clean, errors = self._curation.validate(draft)
            if errors:
                return invalid_reply(errors)
        snippet_id = ""
        taken: set[str] = set()
        decided: Suggestion | None = None
        for _ in range(ID_ATTEMPTS):
            snippet_id = await self._curation.free_id(slugify(clean.title), taken)
            now = self._clock.now()
            revision = dataclasses.replace(
                self._curation.revision(snippet_id, 1, clean, actor.user),
                action=RevisionAction.APPROVE,
                base_hash=NOT_IN_YAML,
                note=f"suggestion #{suggestion_id}",
            )
            audit = AuditEntry(
                actor.user, "approve", snippet_id, now, f"suggestion #{suggestion_id}"
            )
            try:
                decided = await self._repos.suggestions.decide(
                    suggestion_id, SuggestionStatus.APPROVED, actor.user, now, None, revision, audit
                )
                break
            except ConflictError:
                # Another approval took this id a moment ago: the next free one is ours.
                taken.add(snippet_id)
                self._library.invalidate()
        else:
            return conflict_reply(snippet_id)
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
        reason = clean_input(reason or "", REASON_MAX)
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
                            max_length=REASON_MAX,
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

    async def _tell(self, user: UserRef, reply: Reply) -> None:
        if self._notify is None:
            return
        try:
            await self._notify(user, reply)
        except Exception:  # the decision is stored; a failed courtesy DM must not undo it
            log.warning("could not tell %s about a review decision", user.platform, exc_info=True)


def _not_pending(suggestion_id: int, suggestion: Suggestion | None) -> Reply:
    if suggestion is None:
        return Reply(body=f"There's no suggestion #{suggestion_id}. `review` shows the queue.")
    return Reply(
        body=f"#{suggestion_id} was already {suggestion.status.value}. `review` shows what's left."
    )


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
