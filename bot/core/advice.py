"""Answering questions: the best snippet, related ones, or an honest decline."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections import Counter
from datetime import timedelta
from importlib.metadata import PackageNotFoundError, version

from bot.core.flood import Action, FloodControl, limited_reply
from bot.core.library import SnippetLibrary
from bot.core.models import Actor, QuestionEvent, SearchResult, Snippet
from bot.core.ports import Clock, Repositories
from bot.core.presenter import (
    about_reply,
    decline_reply,
    shared_snippet_reply,
    snippet_reply,
    topic_reply,
    topics_reply,
)
from bot.core.privacy import mask_personal
from bot.core.reply import Button, Reply
from bot.core.telemetry import NO_TELEMETRY, Telemetry
from bot.core.text import clean_input, words
from bot.core.validation import QUERY_MAX

GAP_RETENTION = timedelta(days=90)
log = logging.getLogger(__name__)


class AdviceService:
    def __init__(
        self,
        library: SnippetLibrary,
        repositories: Repositories,
        clock: Clock,
        telemetry: Telemetry = NO_TELEMETRY,
        flood: FloodControl | None = None,
        gap_retention: timedelta | None = None,
    ) -> None:
        self._library = library
        self._repos = repositories
        self._clock = clock
        self._telemetry = telemetry
        self._flood = flood or FloodControl(repositories.flood, clock)
        self._gap_retention = gap_retention or GAP_RETENTION

    async def search(self, query: str, limit: int = 3, offset: int = 0) -> SearchResult:
        state = await self._library.state()
        result = state.index.search(query, limit=limit + offset)
        return dataclasses.replace(result, hits=result.hits[offset:])

    async def ask(self, query: str, offset: int = 0) -> Reply:
        query = clean_input(query, QUERY_MAX)
        if not words(query):
            return Reply(
                title="Ask me in words",
                body=(
                    "I match questions by their words, and I couldn't find any in that. Try "
                    "something like `/pmadvice how do I talk about my supply chain work`."
                ),
                buttons=(Button("Topics", "topics"), Button("Help", "help")),
            )
        started = time.perf_counter()
        result = await self.search(query, limit=3, offset=offset)
        knowledge = self._library.knowledge
        if result.declined:
            if offset:
                return Reply(
                    title="That's everything I have on this",
                    body="Those were all the snippets that fit. Browse the topics for more.",
                    buttons=(Button("Topics", "topics"),),
                )
            await self._record_gap(query)
            await self._repos.questions.add(QuestionEvent(self._clock.now(), answered=False))
            self._telemetry.question(False, time.perf_counter() - started)
            return decline_reply(query, knowledge, result.corrections)
        best, *related = (hit.snippet for hit in result.hits)
        if not offset:
            await self._repos.questions.add(QuestionEvent(self._clock.now(), True, best.id))
        if len(related) < 2:
            related.extend(await self._same_topic(best.id, best.topics, 2 - len(related)))
        reply = snippet_reply(
            best, knowledge, related, query=query, offset=offset, corrections=result.corrections
        )
        if not offset:
            self._telemetry.question(True, time.perf_counter() - started)
        return reply

    async def _record_gap(self, query: str) -> None:
        """The backlog of unanswered questions is for moderators: losing one entry must never
        turn the member's honest "I have nothing on that" into an error."""
        # Kept without any member id, masked, and only for the retention period.
        now = self._clock.now()
        try:
            await self._repos.unanswered.add(mask_personal(query), now)
            await self._repos.unanswered.purge(now - self._gap_retention)
        except Exception:
            log.warning("could not record an unanswered question", exc_info=True)

    async def _same_topic(self, exclude: str, topics: tuple[str, ...], count: int) -> list[Snippet]:
        state = await self._library.state()
        primary = topics[0] if topics else ""
        return [s for s in state.snippets if s.id != exclude and primary in s.topics][:count]

    async def show(self, snippet_id: str) -> Reply:
        state = await self._library.state()
        snippet = state.get(snippet_id)
        if snippet is None:
            return self._missing(snippet_id, retired=snippet_id in state.retired)
        related = await self._same_topic(snippet.id, snippet.topics, 2)
        return snippet_reply(snippet, self._library.knowledge, related)

    async def share(self, actor: Actor, snippet_id: str) -> Reply:
        state = await self._library.state()
        snippet = state.get(snippet_id)
        if snippet is None:
            return self._missing(snippet_id, retired=snippet_id in state.retired)
        wait = await self._flood.wait(actor.user, Action.SHARE)
        if wait is not None:
            return limited_reply(Action.SHARE, self._flood.limits.share, wait)
        return shared_snippet_reply(snippet, self._library.knowledge, actor.display_name)

    async def vote(self, actor: Actor, snippet_id: str, value: int) -> Reply:
        state = await self._library.state()
        snippet = state.get(snippet_id)
        if snippet is None:
            return self._missing(snippet_id, retired=snippet_id in state.retired)
        wait = await self._flood.wait(actor.user, Action.VOTE)
        if wait is not None:
            return limited_reply(Action.VOTE, self._flood.limits.vote, wait)
        await self._repos.feedback.vote(actor.user, snippet.id, value, self._clock.now())
        self._telemetry.vote(value > 0)
        if value > 0:
            return Reply(body="Thanks! Glad it helped. Your vote nudges it up for others too.")
        return Reply(
            body=(
                "Thanks for saying so. Your vote nudges it down, and if you know what would "
                "have helped, `suggest` it and a moderator will take a look."
            ),
            buttons=(Button("Suggest a snippet", "suggest"),),
        )

    async def about(self) -> Reply:
        state = await self._library.state()
        try:
            release = version("pmadvice")
        except PackageNotFoundError:
            release = "unknown"
        knowledge = self._library.knowledge
        return about_reply(
            release, len(state.snippets), len(knowledge.topics), len(knowledge.exercises)
        )

    async def topics(self) -> Reply:
        state = await self._library.state()
        counts = Counter(slug for s in state.snippets for slug in s.topics)
        return topics_reply(self._library.knowledge, dict(counts))

    async def topic(self, slug: str) -> Reply:
        knowledge = self._library.knowledge
        topic = knowledge.topic(slug)
        if topic is None:
            close = [t.slug for t in knowledge.topics if slug[:4] and slug[:4] in t.slug]
            hint = f" Did you mean `{close[0]}`?" if close else ""
            return Reply(
                title="No such topic",
                body=f"I don't have a topic called `{slug[:60]}`.{hint} `topics` lists them all.",
                buttons=(Button("All topics", "topics"),),
            )
        state = await self._library.state()
        members = [s for s in state.snippets if slug in s.topics]
        members.sort(key=lambda s: (s.topics.index(slug), s.title))
        return topic_reply(topic, members)

    @staticmethod
    def _missing(snippet_id: str, retired: bool) -> Reply:
        if retired:
            return Reply(
                title="That snippet was retired",
                body=f"`{snippet_id}` has been retired by a moderator. Ask again for a fresh answer.",
            )
        return Reply(
            title="No such snippet",
            body=f"I couldn't find a snippet with the id `{snippet_id}`. Try asking a question instead.",
        )
