"""One entry point for every platform: text (or a form, or a button) in, a reply out."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping
from datetime import timedelta

from bot.core import commands as c
from bot.core import presenter
from bot.core.advice import AdviceService
from bot.core.browse import LibraryView
from bot.core.context import new_request_id
from bot.core.curation import CurationService
from bot.core.dashboard import DashboardService
from bot.core.flood import FloodControl, FloodLimits
from bot.core.history import SnippetHistory
from bot.core.library import SnippetLibrary, snippet_titled, snippets_matching
from bot.core.models import Actor, Knowledge, SearchResult, Snippet, Topic, UserRef, WebRole
from bot.core.portfolio import Portfolios
from bot.core.ports import Clock, DeliveryRepository, Exporter, Messenger, Repositories
from bot.core.privacy import PrivacyService
from bot.core.progress import ProgressService
from bot.core.ranking import Explanation, RankingConfig, SearchIndex
from bot.core.reply import SORRY, Reply
from bot.core.reports import Overview, Reports
from bot.core.review import ReviewWorkflow
from bot.core.semantic import TextEncoder
from bot.core.services import Services
from bot.core.telemetry import NO_TELEMETRY, Telemetry
from bot.core.web_access import WebAccess, WebLinks, WebSignIn

log = logging.getLogger(__name__)


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
        limits: FloodLimits | None = None,
        gap_retention: timedelta | None = None,
        telemetry: Telemetry = NO_TELEMETRY,
        ranking: RankingConfig | None = None,
        encoder: TextEncoder | None = None,
        index_factory: Callable[..., SearchIndex] = SearchIndex,
    ) -> None:
        self.knowledge = knowledge
        self.repositories = repositories
        self.clock = clock
        self.messengers: dict[str, Messenger] = dict(messengers or {})
        self.telemetry = telemetry
        self.library = SnippetLibrary(
            knowledge,
            repositories,
            clock,
            config=ranking,
            encoder=encoder,
            telemetry=telemetry,
            index_factory=index_factory,
        )
        self.flood = FloodControl(repositories.flood, clock, limits)
        self.advice = AdviceService(
            self.library,
            repositories,
            clock,
            telemetry,
            flood=self.flood,
            gap_retention=gap_retention,
        )
        self.progress = ProgressService(knowledge, repositories, clock, deliveries)
        self.history = SnippetHistory(self.library, repositories, clock)
        self.privacy = PrivacyService(repositories, clock)
        self.curation = CurationService(self.library, repositories, clock, self.history)
        self.review = ReviewWorkflow(
            self.curation,
            repositories,
            clock,
            notify=self._notify,
            telemetry=telemetry,
            flood=self.flood,
        )
        self.reports = Reports(self.library, repositories, clock, exporter, self.progress)
        self.browse = LibraryView(self.library, repositories, clock)
        self.dashboard = DashboardService(self.library, repositories, clock)
        self.web = WebAccess(repositories.web, clock)
        self.web_links = WebLinks()
        self.portfolios = Portfolios(knowledge, repositories, clock, enabled=False)

    @property
    def _services(self) -> Services:
        return Services(
            self.knowledge,
            self.library,
            self.advice,
            self.progress,
            self.curation,
            self.review,
            self.reports,
            self.clock,
            self.history,
            self.privacy,
            WebSignIn(self.web, self.web_links),
        )

    @property
    def topics(self) -> tuple[Topic, ...]:
        return self.knowledge.topics

    def topic_slug(self, typed: str) -> str:
        """A slug for what the member picked or typed (a topic's title works too)."""
        wanted = typed.strip().lower()
        for topic in self.knowledge.topics:
            if wanted in (topic.slug, topic.title.lower()):
                return topic.slug
        return wanted

    async def snippets_matching(self, typed: str, limit: int = 25) -> list[Snippet]:
        """Snippets for an autocomplete: titles or ids containing the text first, then hits."""
        return await snippets_matching(self.library, typed, limit)

    async def snippet_titled(self, title: str, length: int = 100) -> Snippet | None:
        return await snippet_titled(self.library, title, length)

    async def warm_up(self) -> None:
        """Build the search index now, so the first question does not pay for it (Discord
        wants an answer within three seconds)."""
        await self.library.state()

    async def search(self, query: str, limit: int = 3) -> SearchResult:
        """The ranked matches for a query, without recording anything (`pmadvice search`)."""
        return await self.advice.search(query, limit=limit)

    async def explain(self, query: str, limit: int = 3) -> Explanation:
        """Why a query is answered or declined: the signals behind each hit (`search --explain`)."""
        state = await self.library.state()
        return state.index.explain(query, limit=limit)

    def register_messenger(self, platform: str, messenger: Messenger) -> None:
        """Where replies to this platform's members go when they are not answering a request
        (review outcomes, weekly nudges)."""
        self.messengers[platform] = messenger

    async def overview(self, actor: Actor, gaps: int = 5) -> Overview:
        """What the member's home screen shows (and the queues, for moderators)."""
        return await self.reports.overview(actor, gaps)

    async def web_sign_in(self, actor: Actor, role: WebRole) -> Reply:
        """A private one-time link to the dashboard (moderators) or the member's own page."""
        return await WebSignIn(self.web, self.web_links).link(actor, role)

    async def handle(self, actor: Actor, text: str) -> Reply:
        """Run what the member typed after /pmadvice (or a button's command)."""
        new_request_id()
        return await self.dispatch(actor, c.parse(text))

    async def submit_form(self, actor: Actor, command: str, values: Mapping[str, str]) -> Reply:
        """Run a submitted form: `command` is the form's command, e.g. `suggest` or `edit <id>`."""
        new_request_id()
        parsed = c.parse(command)
        spec = c.spec_of(parsed)
        if spec is None or spec.form is None:
            return presenter.form_expired_reply()
        rebuilt = spec.form(parsed, values)
        return rebuilt if isinstance(rebuilt, Reply) else await self.dispatch(actor, rebuilt)

    async def dispatch(self, actor: Actor, command: c.Command) -> Reply:
        try:
            reply = await self._run(actor, command)
            return await self._with_notice(actor.user, reply)
        except Exception:
            log.exception("command %s failed", type(command).__name__)
            return SORRY

    async def _run(self, actor: Actor, command: c.Command) -> Reply:
        match command:
            case c.Menu():
                return presenter.menu_reply()
            case c.Usage(message=message):
                return presenter.usage_reply(message)
            case _:
                spec = c.spec_of(command)
                if spec is None:
                    raise LookupError(f"no declaration for {type(command).__name__}")
                if spec.moderator_only and not actor.is_moderator:
                    return presenter.moderators_only_reply()
                return await spec.run(self._services, actor, command)

    async def _with_notice(self, user: UserRef, reply: Reply) -> Reply:
        """Tell the member, once, about something that happened while they were away."""
        try:
            subscription = await self.repositories.subscriptions.get(user)
            if subscription is None or not subscription.notice:
                return reply
            await self.repositories.subscriptions.save(
                dataclasses.replace(subscription, notice=None)
            )
        except Exception:
            # A notice can wait for the next reply; the one in hand must not be lost to it.
            log.warning("could not read or clear a member's notice", exc_info=True)
            return reply
        note = f"_{subscription.notice}_"
        return dataclasses.replace(reply, body=f"{note}\n\n{reply.body}" if reply.body else note)

    async def _notify(self, user: UserRef, reply: Reply) -> None:
        messenger = self.messengers.get(user.platform)
        if messenger is not None:
            await messenger.send(user, reply)
