"""One entry point for every platform: text (or a form, or a button) in, a reply out."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from bot.core import commands as c
from bot.core.advice import AdviceService
from bot.core.browse import LibraryView
from bot.core.library import SnippetLibrary
from bot.core.models import Actor, GapCount, Knowledge, Subscription, UserRef, WebRole
from bot.core.moderation import GAP_WINDOW, ModerationService, draft_from_values
from bot.core.portfolio import Portfolios
from bot.core.ports import Clock, DeliveryRepository, Exporter, Messenger, Repositories
from bot.core.progress import ProgressService, TrackState
from bot.core.reply import Button, Reply
from bot.core.reports import ReportService
from bot.core.web_access import WebAccess, WebLinks, sign_in_reply

log = logging.getLogger(__name__)

HELP = """\
*Ask anything* about moving from operations into product: `/pmadvice how do I talk about my supply chain work`
- `topics`, `topic <name>`: browse the advice
- `subscribe [day] [HH:MM] [time zone]`: a portfolio exercise every week, e.g. `subscribe tue 08:30 Europe/Berlin`
- `challenge`: this week's exercise · `done [link or note]` · `skip` · `progress`
- `pause [weeks]`, `resume`, `unsubscribe`
- `suggest`: propose a snippet for the moderators to review"""

MODERATOR_HELP = """\
*Moderators*
- `add`, `edit <id>`, `retire <id>`: change snippets (every change is audited)
- `review`, `approve <number>`, `reject <number> <reason>`: the suggestion queue
- `gaps`: questions I couldn't answer · `stats` · `export`: chat changes as YAML"""


@dataclass(frozen=True, slots=True)
class Overview:
    """Everything a member's home screen shows, in one read."""

    subscription: Subscription | None
    track: TrackState
    waiting_suggestions: int | None = None
    """Moderators only: the review queue's size."""
    top_gaps: tuple[GapCount, ...] = ()
    """Moderators only: the most asked unanswered questions of the last 30 days."""


class PmAdvice:
    """The facade adapters talk to. Holds no platform knowledge at all."""

    def __init__(
        self,
        knowledge: Knowledge,
        repositories: Repositories,
        clock: Clock,
        exporter: Exporter,
        messengers: Mapping[str, Messenger] | None = None,
        deliveries: DeliveryRepository | None = None,
    ) -> None:
        self.knowledge = knowledge
        self.repositories = repositories
        self.clock = clock
        self.messengers: dict[str, Messenger] = dict(messengers or {})
        self.library = SnippetLibrary(knowledge, repositories, clock)
        self.advice = AdviceService(self.library, repositories, clock)
        self.progress = ProgressService(knowledge, repositories, clock, deliveries)
        self.moderation = ModerationService(
            self.library, repositories, clock, exporter, notify=self._notify
        )
        self.browse = LibraryView(self.library, repositories, clock)
        self.reports = ReportService(self.library, repositories, clock)
        self.web = WebAccess(repositories.web, clock)
        self.web_links = WebLinks()
        self.portfolios = Portfolios(knowledge, repositories, clock, enabled=False)

    async def overview(self, actor: Actor, gaps: int = 5) -> Overview:
        subscription, track = await self.progress.state_for(actor.user)
        if not actor.is_moderator:
            return Overview(subscription, track)
        waiting = await self.repositories.suggestions.count_pending()
        since = self.clock.now() - GAP_WINDOW
        top = await self.repositories.unanswered.top(limit=gaps, since=since)
        return Overview(subscription, track, waiting, tuple(top))

    async def web_sign_in(self, actor: Actor, role: WebRole) -> Reply:
        """A private one-time link to the dashboard (moderators) or the member's own page."""
        if role == WebRole.MODERATOR and not actor.is_moderator:
            return _moderators_only()
        if self.web_links.base is None:
            return sign_in_reply(None, role)
        token = await self.web.issue_link(actor.user, role)
        return sign_in_reply(self.web_links.sign_in(token), role)

    async def handle(self, actor: Actor, text: str) -> Reply:
        """Run what the member typed after /pmadvice (or a button's command)."""
        return await self.dispatch(actor, c.parse(text))

    async def submit_form(self, actor: Actor, command: str, values: Mapping[str, str]) -> Reply:
        """Run a submitted form: `command` is the form's command, e.g. `suggest` or `edit <id>`."""
        draft = draft_from_values(dict(values))
        parsed = c.parse(command)
        if isinstance(parsed, c.Reject):
            reason = values.get("reason", "").strip()
            if not reason:
                return Reply(
                    title="Almost there",
                    body="Please write a short reason; the member will see it.",
                    errors={"reason": "Please write a short reason; the member will see it."},
                )
            return await self.dispatch(actor, c.Reject(parsed.suggestion_id, reason))
        if isinstance(parsed, c.Suggest):
            return await self.dispatch(actor, c.Suggest(draft))
        if isinstance(parsed, c.Add):
            return await self.dispatch(actor, c.Add(draft))
        if isinstance(parsed, c.Edit):
            return await self.dispatch(actor, c.Edit(parsed.snippet_id, draft))
        return Reply(body="That form has expired. Please start again from the command.")

    async def dispatch(self, actor: Actor, command: c.Command) -> Reply:
        try:
            reply = await self._run(actor, command)
        except Exception:
            log.exception("command %s failed", type(command).__name__)
            return Reply(
                title="Something went wrong on my side",
                body=(
                    "Sorry, I couldn't finish that. Nothing you sent was lost; please try again "
                    "in a minute. If it keeps happening, tell a moderator."
                ),
            )
        return await self._with_notice(actor.user, reply)

    async def _run(self, actor: Actor, command: c.Command) -> Reply:
        if isinstance(command, c.MODERATOR_COMMANDS) and not actor.is_moderator:
            return _moderators_only()
        match command:
            case c.Menu():
                return self._menu(actor)
            case c.Help():
                return self._help(actor)
            case c.Usage(message=message):
                return Reply(title="Not quite", body=message, buttons=(Button("Help", "help"),))
            case c.Ask(query=query, offset=offset):
                return await self.advice.ask(query, offset)
            case c.ListTopics():
                return await self.advice.topics()
            case c.ShowTopic(slug=slug):
                return await self.advice.topic(slug)
            case c.ShowSnippet(snippet_id=snippet_id):
                return await self.advice.show(snippet_id)
            case c.Vote(snippet_id=snippet_id, value=value):
                return await self.advice.vote(actor, snippet_id, value)
            case c.Share(snippet_id=snippet_id):
                return await self.advice.share(actor, snippet_id)
            case c.Subscribe():
                return await self.progress.subscribe(actor, command)
            case c.Pause():
                return await self.progress.pause(actor, command)
            case c.Resume():
                return await self.progress.resume(actor)
            case c.Unsubscribe():
                return await self.progress.unsubscribe(actor)
            case c.Challenge():
                return await self.progress.challenge(actor)
            case c.Done():
                return await self.progress.done(actor, command)
            case c.Skip():
                return await self.progress.skip(actor)
            case c.Restart():
                return await self.progress.restart(actor)
            case c.Progress():
                return await self.progress.progress(actor)
            case c.Suggest(draft=draft):
                return await self.moderation.suggest(actor, draft)
            case c.Add(draft=draft):
                return await self.moderation.add(actor, draft)
            case c.Edit(snippet_id=snippet_id, draft=draft):
                return await self.moderation.edit(actor, snippet_id, draft)
            case c.Retire(snippet_id=snippet_id):
                return await self.moderation.retire(actor, snippet_id)
            case c.Review():
                return await self.moderation.review()
            case c.Approve(suggestion_id=number):
                return await self.moderation.approve(actor, number)
            case c.Reject(suggestion_id=number, reason=reason):
                return await self.moderation.reject(actor, number, reason)
            case c.Gaps():
                return await self.moderation.gaps()
            case c.Stats():
                return await self.moderation.stats()
            case c.Export():
                return await self.moderation.export()
        raise AssertionError(f"unhandled command {command!r}")

    def _menu(self, actor: Actor) -> Reply:
        return Reply(
            title="Hi! I'm pmadvice",
            body=(
                "I help people moving from operations into product management. Ask me a "
                "question in your own words, browse the topics, or take on a weekly portfolio "
                "exercise."
            ),
            buttons=(
                Button("Browse topics", "topics"),
                Button("This week's exercise", "challenge"),
                Button("My progress", "progress"),
                Button("Help", "help"),
            ),
        )

    def _help(self, actor: Actor) -> Reply:
        body = HELP + ("\n\n" + MODERATOR_HELP if actor.is_moderator else "")
        return Reply(title="How to use pmadvice", body=body)

    async def _with_notice(self, user: UserRef, reply: Reply) -> Reply:
        """Tell the member, once, about something that happened while they were away."""
        subscription = await self.repositories.subscriptions.get(user)
        if subscription is None or not subscription.notice:
            return reply
        await self.repositories.subscriptions.save(dataclasses.replace(subscription, notice=None))
        note = f"_{subscription.notice}_"
        return dataclasses.replace(reply, body=f"{note}\n\n{reply.body}" if reply.body else note)

    async def _notify(self, user: UserRef, reply: Reply) -> None:
        messenger = self.messengers.get(user.platform)
        if messenger is not None:
            await messenger.send(user, reply)


def _moderators_only() -> Reply:
    return Reply(
        title="That's for moderators",
        body=(
            "Only community moderators can change snippets or see the queues. You can "
            "`suggest` a snippet and a moderator will review it."
        ),
        buttons=(Button("Suggest a snippet", "suggest"),),
    )
