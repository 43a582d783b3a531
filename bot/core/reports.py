"""Read-only views for moderators and members' home screens: gaps, stats, export, overview."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot.core.curation import conflict_field
from bot.core.library import SnippetLibrary
from bot.core.models import (
    Actor,
    GapCount,
    Subscription,
    SubscriptionStatus,
)
from bot.core.ports import Clock, Exporter, Repositories
from bot.core.progress import ProgressService, TrackState
from bot.core.reply import (
    Attachment,
    Button,
    Reply,
    ReplyField,
)

GAP_WINDOW = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class Overview:
    """Everything a member's home screen shows, in one read."""

    subscription: Subscription | None
    track: TrackState
    waiting_suggestions: int | None = None
    """Moderators only: the review queue's size."""
    top_gaps: tuple[GapCount, ...] = ()
    """Moderators only: the most asked unanswered questions of the last 30 days."""


class Reports:
    def __init__(
        self,
        library: SnippetLibrary,
        repositories: Repositories,
        clock: Clock,
        exporter: Exporter,
        progress: ProgressService,
    ) -> None:
        self._library = library
        self._repos = repositories
        self._clock = clock
        self._exporter = exporter
        self._progress = progress

    async def overview(self, actor: Actor, gaps: int = 5) -> Overview:
        subscription, track = await self._progress.state_for(actor.user)
        if not actor.is_moderator:
            return Overview(subscription, track)
        waiting = await self._repos.suggestions.count_pending()
        since = self._clock.now() - GAP_WINDOW
        top = await self._repos.unanswered.top(limit=gaps, since=since)
        return Overview(subscription, track, waiting, tuple(top))

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
                "check`, and commit. Once deployed, the chat copies step aside by themselves. "
                "On the server, `pmadvice knowledge export` writes the same changes into the "
                "files." + held
            ),
            attachment=Attachment("chat-changes.patch", export.patch),
        )


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
