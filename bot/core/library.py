"""The live set of snippets: the shipped catalog with chat changes layered over it by id."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.core.models import (
    AuditEntry,
    Knowledge,
    RevisionAction,
    Snippet,
    SnippetRevision,
    Topic,
    VoteTally,
)
from bot.core.ports import Clock, ConflictError, Repositories
from bot.core.ranking import Analyzer, RankingConfig, SearchIndex
from bot.core.revisions import GIT_AUTHOR, Content, content_hash, snapshot
from bot.core.semantic import TextEncoder
from bot.core.telemetry import NO_TELEMETRY, Telemetry

log = logging.getLogger(__name__)

DATABASE_RETRY = timedelta(seconds=5)


@dataclass(frozen=True, slots=True)
class GitConflict:
    """The YAML changed after a chat change was made over it: both exist, the chat one is live."""

    snippet_id: str
    revision: int
    at: datetime


@dataclass(frozen=True, slots=True)
class LibraryState:
    index: SearchIndex
    revisions: dict[str, SnippetRevision]
    retired: frozenset[str]
    loaded_at: datetime
    latest: dict[str, SnippetRevision] = field(default_factory=dict)
    """The newest stored revision of every snippet with any, whatever it says."""
    conflicts: tuple[GitConflict, ...] = ()
    aliases: dict[str, str] = field(default_factory=dict)
    """Retired catalog ids -> the live snippet that absorbed them."""
    source: tuple[object, ...] = ()
    """What the index was built from; an unchanged source is not rebuilt."""

    @property
    def snippets(self) -> tuple[Snippet, ...]:
        return self.index.snippets

    def resolve(self, snippet_id: str) -> str:
        """The live id for `snippet_id`: itself, or the snippet that absorbed it."""
        return self.aliases.get(snippet_id, snippet_id)

    def get(self, snippet_id: str) -> Snippet | None:
        return self.index.get(self.resolve(snippet_id))


@dataclass(frozen=True, slots=True)
class Merged:
    snippets: list[Snippet]
    retired: frozenset[str]
    overrides: dict[str, SnippetRevision]
    conflicts: tuple[GitConflict, ...]
    carried: tuple[SnippetRevision, ...]
    """Chat changes the YAML now carries: each is to be closed with a `yaml` revision."""


def merge(catalog: tuple[Snippet, ...], revisions: list[SnippetRevision]) -> Merged:
    """Edits override catalog entries, retirements hide them, new ids are added; a chat change
    the YAML already says is dropped (carried), and one made over a YAML version git has
    since changed stays live but is reported as a conflict.

    Chat changes to an id the catalog has since merged into another snippet are superseded
    by that merge, so they never bring the old snippet back.
    """
    absorbed = {old for s in catalog for old in s.replaces}
    latest = {r.snippet_id: r for r in revisions if r.snippet_id not in absorbed}
    merged: list[Snippet] = []
    overrides: dict[str, SnippetRevision] = {}
    conflicts: list[GitConflict] = []
    carried: list[SnippetRevision] = []
    retired: set[str] = set()
    for snippet in catalog:
        revision = latest.pop(snippet.id, None)
        if revision is None or not revision.overrides:
            merged.append(snippet)
            continue
        if not revision.retired and Content.of_revision(revision).same_text(
            Content.of_snippet(snippet)
        ):
            merged.append(snippet)
            carried.append(revision)
            continue
        if revision.base_hash is not None and revision.base_hash != content_hash(snippet):
            # (None: made before base versions were recorded; nothing to compare with.)
            conflicts.append(GitConflict(snippet.id, revision.revision, revision.at))
        overrides[snippet.id] = revision
        if revision.retired:
            retired.add(snippet.id)
        else:
            merged.append(revision.as_snippet())
    for revision in latest.values():
        if revision.retired:
            retired.add(revision.snippet_id)
            if revision.overrides and revision.base_hash:
                carried.append(revision)  # the YAML has dropped it too
            elif revision.overrides:
                overrides[revision.snippet_id] = revision
        elif revision.overrides:
            overrides[revision.snippet_id] = revision
            merged.append(revision.as_snippet())
    return Merged(merged, frozenset(retired), overrides, tuple(conflicts), tuple(carried))


@functools.cache
def shared_analyzer() -> Analyzer:
    """One analyzer per process: it is pure, and its stemming cache is worth keeping warm
    across index rebuilds (stemming is most of the cost of building an index)."""
    return Analyzer()


IndexKey = tuple[tuple[str, VoteTally], ...]


def _frozen(votes: dict[str, VoteTally]) -> IndexKey:
    return tuple(sorted(votes.items()))


def _built_index(
    factory: Callable[..., SearchIndex],
    snippets: tuple[Snippet, ...],
    topics: tuple[Topic, ...],
    votes: IndexKey,
    config: RankingConfig | None,
    encoder: TextEncoder | None = None,
) -> SearchIndex:
    """Runs in a worker thread, so with an analyzer of its own: the stemmer inside one is not
    safe to share with searches that run on the event loop meanwhile."""
    topic_map = {t.slug: t for t in topics}
    return factory(
        snippets, topic_map, dict(votes), config=config, analyzer=Analyzer(), encoder=encoder
    )


class SnippetLibrary:
    """Keeps a search index over the merged snippets, rebuilt when stale or changed here.

    Other processes' changes show up within `ttl`; this process's own changes immediately.
    An index is a pure function of what it indexes, so a reload that finds nothing changed
    (the usual case every `ttl`) keeps it; a rebuild runs in a worker thread (the event loop
    keeps answering meanwhile) and the finished index is swapped in at once.
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
        encoder: TextEncoder | None = None,
    ) -> None:
        self.knowledge = knowledge
        self._repos = repositories
        self._clock = clock
        self._ttl = ttl
        self._config = config
        self._factory = index_factory
        self._telemetry = telemetry
        self._encoder = encoder
        self._state: LibraryState | None = None
        self._stale = False
        self._lock = asyncio.Lock()

    def _fresh(self, state: LibraryState) -> bool:
        return not self._stale and self._clock.now() - state.loaded_at < self._ttl

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
            tallies = await self._repos.feedback.tallies()
        except Exception as error:
            # The database is away: keep answering from what we have (the last state, or
            # the shipped catalog alone) and look again soon.
            log.warning("snippet changes unavailable (%s); answering from the catalog", error)
            retry_at = self._clock.now() - self._ttl + DATABASE_RETRY
            if previous is not None:
                return dataclasses.replace(previous, loaded_at=retry_at)
            state = await self._build(None, [], {})
            return dataclasses.replace(state, loaded_at=retry_at, source=())
        return await self._build(previous, revisions, tallies)

    async def _build(
        self,
        previous: LibraryState | None,
        revisions: list[SnippetRevision],
        tallies: dict[str, VoteTally],
    ) -> LibraryState:
        aliases = self.knowledge.aliases
        votes = _frozen(_fold_votes(tallies, aliases))
        source = (tuple(revisions), votes)
        if previous is not None and previous.source == source:
            return dataclasses.replace(previous, loaded_at=self._clock.now())
        merged = merge(self.knowledge.snippets, revisions)
        latest = {r.snippet_id: r for r in revisions}
        for revision in merged.carried:
            closed = await self._close(revision)
            if closed is not None:
                latest[closed.snippet_id] = closed
        snippets = merged.snippets
        started = time.perf_counter()
        index = await asyncio.to_thread(
            _built_index,
            self._factory,
            tuple(snippets),
            self.knowledge.topics,
            votes,
            self._config,
            self._encoder,
        )
        self._telemetry.index_built(len(snippets), time.perf_counter() - started)
        return LibraryState(
            index=index,
            revisions=merged.overrides,
            retired=merged.retired,
            loaded_at=self._clock.now(),
            latest=latest,
            conflicts=merged.conflicts,
            aliases=aliases,
            source=source,
        )

    async def _close(self, revision: SnippetRevision) -> SnippetRevision | None:
        """Record that git now carries a chat change, so the override steps aside for good
        (a later git edit of the snippet is then simply the snippet, not a conflict)."""
        now = self._clock.now()
        shipped = next((s for s in self.knowledge.snippets if s.id == revision.snippet_id), None)
        if shipped is not None:
            closing = snapshot(shipped, revision.revision + 1, now)
        else:
            closing = dataclasses.replace(
                revision,
                revision=revision.revision + 1,
                author=GIT_AUTHOR,
                at=now,
                action=RevisionAction.YAML,
            )
        closing = dataclasses.replace(closing, note=f"git carries r{revision.revision}")
        audit = AuditEntry(GIT_AUTHOR, "sync", revision.snippet_id, now, closing.note)
        try:
            await self._repos.revisions.add(closing, audit)
        except ConflictError:
            return None  # another process closed it first
        log.info("%s: the YAML now carries r%s", revision.snippet_id, revision.revision)
        return closing


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
