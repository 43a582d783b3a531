"""The live set of snippets: the shipped catalog with chat changes layered over it by id."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.models import Knowledge, Snippet, SnippetRevision, VoteTally
from bot.core.ports import Clock, Repositories
from bot.core.ranking import Analyzer, RankingConfig, SearchIndex
from bot.core.telemetry import NO_TELEMETRY, Telemetry

log = logging.getLogger(__name__)

DATABASE_RETRY = timedelta(seconds=5)


@dataclass(frozen=True, slots=True)
class LibraryState:
    index: SearchIndex
    revisions: dict[str, SnippetRevision]
    retired: frozenset[str]
    loaded_at: datetime
    source: tuple[object, ...] = ()
    """What the index was built from; an unchanged source is not rebuilt."""

    @property
    def snippets(self) -> tuple[Snippet, ...]:
        return self.index.snippets


def merge(
    catalog: tuple[Snippet, ...], revisions: list[SnippetRevision]
) -> tuple[list[Snippet], frozenset[str]]:
    """Edits override catalog entries, retirements hide them, new ids are added."""
    latest = {r.snippet_id: r for r in revisions}
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


class SnippetLibrary:
    """Keeps a search index over the merged snippets, rebuilt when stale or changed here.

    Other processes' changes show up within `ttl`; this process's own changes immediately.
    A rebuild happens only when the revisions or votes changed, runs in a worker thread (so
    the event loop keeps answering meanwhile) and swaps the finished index in at once.
    """

    def __init__(
        self,
        knowledge: Knowledge,
        repositories: Repositories,
        clock: Clock,
        ttl: timedelta = timedelta(seconds=60),
        config: RankingConfig | None = None,
        index_factory: Callable[..., SearchIndex] = SearchIndex,
        telemetry: Telemetry = NO_TELEMETRY,
    ) -> None:
        self.knowledge = knowledge
        self._repos = repositories
        self._clock = clock
        self._ttl = ttl
        self._config = config
        self._telemetry = telemetry
        self._topics = {t.slug: t for t in knowledge.topics}
        self._factory = index_factory
        self._state: LibraryState | None = None
        self._stale = False
        self._lock = asyncio.Lock()

    def _fresh(self, state: LibraryState | None) -> bool:
        return (
            state is not None
            and not self._stale
            and self._clock.now() - state.loaded_at < self._ttl
        )

    async def state(self) -> LibraryState:
        current = self._state
        if current is not None and self._fresh(current):
            return current
        async with self._lock:
            current = self._state
            if current is None or not self._fresh(current):
                self._stale = False
                current = await self._load(current)
                self._state = current
        return current

    def invalidate(self) -> None:
        self._stale = True

    async def _load(self, previous: LibraryState | None) -> LibraryState:
        try:
            revisions = await self._repos.revisions.latest()
            votes: dict[str, VoteTally] = await self._repos.feedback.tallies()
        except Exception as error:
            # The database is away: keep answering from what we have (the last state, or
            # the shipped catalog alone) and look again soon.
            log.warning("snippet changes unavailable (%s); answering from the catalog", error)
            retry_at = self._clock.now() - self._ttl + DATABASE_RETRY
            if previous is not None:
                return dataclasses.replace(previous, loaded_at=retry_at)
            revisions, votes = [], {}
            state = await self._build(previous, revisions, votes)
            return dataclasses.replace(state, loaded_at=retry_at, source=())
        return await self._build(previous, revisions, votes)

    async def _build(
        self,
        previous: LibraryState | None,
        revisions: list[SnippetRevision],
        votes: dict[str, VoteTally],
    ) -> LibraryState:
        source = (tuple(revisions), tuple(sorted(votes.items())))
        if previous is not None and previous.source == source:
            return dataclasses.replace(previous, loaded_at=self._clock.now())
        snippets, retired = merge(self.knowledge.snippets, revisions)
        started = time.perf_counter()
        # A fresh analyzer per build: its stemmer is not safe to share with searches that
        # run on the event loop meanwhile.
        index = await asyncio.to_thread(
            self._factory, snippets, self._topics, votes, config=self._config, analyzer=Analyzer()
        )
        self._telemetry.index_built(len(snippets), time.perf_counter() - started)
        return LibraryState(
            index=index,
            revisions={r.snippet_id: r for r in revisions},
            retired=retired,
            loaded_at=self._clock.now(),
            source=source,
        )
