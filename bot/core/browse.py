"""The public library as read models: topics, a topic's snippets, one snippet, search.

The web pages use these; search goes through the same index and the same decline as chat.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from bot.core.library import SnippetLibrary
from bot.core.models import Exercise, QuestionEvent, SearchResult, Snippet, Topic
from bot.core.ports import Clock, Repositories
from bot.core.text import clean_input, words
from bot.core.validation import QUERY_MAX

SEARCH_LIMIT = 3
"""As many results as chat shows for a question: the answer and two related."""


@dataclass(frozen=True, slots=True)
class TopicSummary:
    topic: Topic
    snippets: int


@dataclass(frozen=True, slots=True)
class TopicPage:
    topic: Topic
    snippets: tuple[Snippet, ...]


@dataclass(frozen=True, slots=True)
class SnippetLookup:
    snippet: Snippet | None = None
    moved_to: str | None = None
    """A retired id that another snippet absorbed: the id to send the reader to."""
    retired: bool = False


@dataclass(frozen=True, slots=True)
class SnippetPage:
    snippet: Snippet
    topics: tuple[Topic, ...]
    related: tuple[Snippet, ...]


class LibraryView:
    def __init__(self, library: SnippetLibrary, repositories: Repositories, clock: Clock) -> None:
        self._library = library
        self._repos = repositories
        self._clock = clock

    @property
    def exercises(self) -> tuple[Exercise, ...]:
        return self._library.knowledge.exercises

    async def topics(self) -> list[TopicSummary]:
        state = await self._library.state()
        counts = Counter(slug for s in state.snippets for slug in s.topics)
        return [TopicSummary(t, counts.get(t.slug, 0)) for t in self._library.knowledge.topics]

    async def topic(self, slug: str) -> TopicPage | None:
        topic = self._library.knowledge.topic(slug)
        if topic is None:
            return None
        state = await self._library.state()
        members = [s for s in state.snippets if slug in s.topics]
        members.sort(key=lambda s: (s.topics.index(slug), s.title))
        return TopicPage(topic, tuple(members))

    async def lookup(self, snippet_id: str) -> SnippetLookup:
        state = await self._library.state()
        live = state.resolve(snippet_id)
        if live != snippet_id and state.index.get(live) is not None:
            return SnippetLookup(moved_to=live)
        found = state.index.get(snippet_id)
        if found is not None:
            return SnippetLookup(snippet=found)
        return SnippetLookup(retired=snippet_id in state.retired)

    async def page(self, snippet: Snippet) -> SnippetPage:
        state = await self._library.state()
        knowledge = self._library.knowledge
        topics = tuple(t for slug in snippet.topics if (t := knowledge.topic(slug)) is not None)
        primary = snippet.topics[0] if snippet.topics else ""
        related = tuple(s for s in state.snippets if s.id != snippet.id and primary in s.topics)
        return SnippetPage(snippet, topics, related[:3])

    async def search(self, query: str) -> SearchResult:
        """The same ranking and decline as a question in chat, counted the same way: a
        declined question joins the moderators' gaps, as the decline says it does."""
        cleaned = clean_input(query, QUERY_MAX)
        if not words(cleaned):
            return SearchResult(query=cleaned)
        state = await self._library.state()
        result = state.index.search(cleaned, limit=SEARCH_LIMIT)
        now = self._clock.now()
        if result.declined:
            await self._repos.unanswered.add(cleaned, now)
            await self._repos.questions.add(QuestionEvent(now, answered=False))
        else:
            await self._repos.questions.add(QuestionEvent(now, True, result.hits[0].snippet.id))
        return result
