"""The live set of snippets: the shipped catalog with chat changes layered over it by id."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.core.models import Knowledge, Snippet, SnippetRevision, Topic, VoteTally
from bot.core.ports import Clock, Repositories
from bot.core.ranking import Analyzer, RankingConfig, SearchIndex
from bot.core.semantic import TextEncoder


@dataclass(frozen=True, slots=True)
class LibraryState:
    index: SearchIndex
    revisions: dict[str, SnippetRevision]
    retired: frozenset[str]
    loaded_at: datetime
    aliases: dict[str, str] = field(default_factory=dict)
    """Retired catalog ids -> the live snippet that absorbed them."""

    @property
    def snippets(self) -> tuple[Snippet, ...]:
        return self.index.snippets

    def resolve(self, snippet_id: str) -> str:
        """The live id for `snippet_id`: itself, or the snippet that absorbed it."""
        return self.aliases.get(snippet_id, snippet_id)

    def get(self, snippet_id: str) -> Snippet | None:
        return self.index.get(self.resolve(snippet_id))


def merge(
    catalog: tuple[Snippet, ...], revisions: list[SnippetRevision]
) -> tuple[list[Snippet], frozenset[str]]:
    """Edits override catalog entries, retirements hide them, new ids are added.

    Chat changes to an id the catalog has since merged into another snippet are superseded
    by that merge, so they never bring the old snippet back.
    """
    absorbed = {old for s in catalog for old in s.replaces}
    latest = {r.snippet_id: r for r in revisions if r.snippet_id not in absorbed}
    merged: list[Snippet] = []
    for snippet in catalog:
        revision = latest.pop(snippet.id, None)
        if revision is None:
            merged.append(snippet)
        elif not revision.retired:
            merged.append(revision.as_snippet())
    merged.extend(r.as_snippet() for r in latest.values() if not r.retired)
    retired = frozenset(r.snippet_id for r in revisions if r.retired)
    return merged, retired


@functools.cache
def shared_analyzer() -> Analyzer:
    """One analyzer per process: it is pure, and its stemming cache is worth keeping warm
    across index rebuilds (stemming is most of the cost of building an index)."""
    return Analyzer()


IndexKey = tuple[tuple[str, VoteTally], ...]


def _frozen(votes: dict[str, VoteTally]) -> IndexKey:
    return tuple(sorted(votes.items()))


@functools.lru_cache(maxsize=8)
def _built_index(
    factory: Callable[..., SearchIndex],
    snippets: tuple[Snippet, ...],
    topics: tuple[Topic, ...],
    votes: IndexKey,
    config: RankingConfig | None,
    encoder: TextEncoder | None = None,
) -> SearchIndex:
    """An index is a pure function of what it indexes, so a reload that finds nothing changed
    (the usual case every `ttl`) reuses the index instead of building it again."""
    return factory(
        snippets,
        {t.slug: t for t in topics},
        dict(votes),
        config=config,
        analyzer=shared_analyzer(),
        encoder=encoder,
    )


class SnippetLibrary:
    """Keeps a search index over the merged snippets, rebuilt when stale or changed here.

    Other processes' changes show up within `ttl`; this process's own changes immediately.
    """

    def __init__(
        self,
        knowledge: Knowledge,
        repositories: Repositories,
        clock: Clock,
        ttl: timedelta = timedelta(seconds=60),
        config: RankingConfig | None = None,
        index_factory: Callable[..., SearchIndex] = SearchIndex,
        encoder: TextEncoder | None = None,
    ) -> None:
        self.knowledge = knowledge
        self._repos = repositories
        self._clock = clock
        self._ttl = ttl
        self._config = config
        self._factory = index_factory
        self._encoder = encoder
        self._state: LibraryState | None = None
        self._lock = asyncio.Lock()

    async def state(self) -> LibraryState:
        current = self._state
        if current is not None and self._clock.now() - current.loaded_at < self._ttl:
            return current
        async with self._lock:
            current = self._state
            if current is None or self._clock.now() - current.loaded_at >= self._ttl:
                current = await self._load()
                self._state = current
        return current

    def invalidate(self) -> None:
        self._state = None

    async def _load(self) -> LibraryState:
        revisions = await self._repos.revisions.latest()
        aliases = self.knowledge.aliases
        votes = _fold_votes(await self._repos.feedback.tallies(), aliases)
        snippets, retired = merge(self.knowledge.snippets, revisions)
        index = _built_index(
            self._factory,
            tuple(snippets),
            self.knowledge.topics,
            _frozen(votes),
            self._config,
            self._encoder,
        )
        return LibraryState(
            index=index,
            revisions={r.snippet_id: r for r in revisions},
            retired=retired,
            loaded_at=self._clock.now(),
            aliases=aliases,
        )


async def snippets_matching(library: SnippetLibrary, typed: str, limit: int) -> list[Snippet]:
    """Live snippets for what a member is typing: titles or ids containing it first, then ranked
    search hits; with nothing typed, the titles in order."""
    state = await library.state()
    query = " ".join(typed.lower().split())
    if not query:
        return sorted(state.snippets, key=lambda s: s.title.lower())[:limit]
    picked = [s for s in state.snippets if query in s.title.lower() or query in s.id]
    if len(picked) < limit:
        ids = {s.id for s in picked}
        hits = state.index.search(typed, limit=limit).hits
        picked += [h.snippet for h in hits if h.snippet.id not in ids]
    return picked[:limit]


async def snippet_titled(library: SnippetLibrary, title: str, length: int) -> Snippet | None:
    """The live snippet whose title (cut to `length`, spacing ignored) is exactly `title`."""

    def norm(text: str) -> str:
        return " ".join(text.lower().split())[:length]

    wanted = norm(title)
    state = await library.state()
    return next((s for s in state.snippets if norm(s.title) == wanted), None)


def _fold_votes(tallies: dict[str, VoteTally], aliases: dict[str, str]) -> dict[str, VoteTally]:
    """Votes cast on a retired id count for the snippet that absorbed it."""
    folded: dict[str, VoteTally] = {}
    for snippet_id, tally in tallies.items():
        key = aliases.get(snippet_id, snippet_id)
        before = folded.get(key, VoteTally())
        folded[key] = VoteTally(before.up + tally.up, before.down + tally.down)
    return folded
