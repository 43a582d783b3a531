"""Lexical ranking of snippets for a member's question.

A BM25 score over a weighted bag of words (title, example questions, topics, body) is blended
with the best match against any single example question, which is what most paraphrases hit.
Queries are canonicalised with the field's vocabulary (PM, prodops, CV...), stemmed, expanded
with related terms at a lower weight, and corrected for typos against the index's own words.
The blend is the confidence: below the threshold the ranking declines rather than guessing.
"""

from __future__ import annotations

import math
from array import array
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import snowballstemmer
from numpy.typing import NDArray
from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.core.models import ScoredSnippet, SearchResult, Snippet, Topic, VoteTally
from bot.core.text import words
from bot.core.vocabulary import DOMAIN_WORDS, EXPANSIONS, PHRASES, STOP_WORDS

_MAX_PHRASE = max(len(p) for p in PHRASES)
_PHRASE_STARTS = frozenset(p[0] for p in PHRASES)


@dataclass(frozen=True, slots=True)
class RankingConfig:
    title_weight: float = 3.0
    question_weight: float = 2.0
    topic_weight: float = 2.0
    body_weight: float = 1.0
    k1: float = 1.2
    b: float = 0.75
    lexical_share: float = 0.35
    """Confidence = this share of BM25 + `strong_share` of strong-field coverage + the rest
    from the best single example question."""
    strong_share: float = 0.35
    unknown_idf: float = 2.5
    """What a query word the index has never seen costs the coverage: enough that a question
    made of unknown words is declined, not so much that one odd word sinks a good match."""
    expansion_weight: float = 0.35
    typo_weight: float = 0.8
    min_confidence: float = 0.25
    min_coverage: float = 0.35
    """Share of the query's meaning (IDF mass) the best snippet must account for."""
    relative_floor: float = 0.5
    """Further hits must score at least this share of the best one."""
    feedback_strength: float = 0.08


class Analyzer:
    """Turns text into canonical, stemmed terms."""

    def __init__(self) -> None:
        self._stemmer = snowballstemmer.stemmer("english")
        self.stem = lru_cache(maxsize=65536)(self._stem)

    def _stem(self, word: str) -> str:
        if len(word) <= 3 or any(ch.isdigit() for ch in word):
            return word
        stemmed: str = self._stemmer.stemWord(word)
        return stemmed

    def surface(self, text: str) -> list[str]:
        """Canonical words before stemming, stop words removed."""
        tokens = words(text.replace("-", " ").replace("/", " "))
        out: list[str] = []
        i = 0
        while i < len(tokens):
            if tokens[i] not in _PHRASE_STARTS:
                if tokens[i] not in STOP_WORDS:
                    out.append(tokens[i])
                i += 1
                continue
            for size in range(min(_MAX_PHRASE, len(tokens) - i), 0, -1):
                canonical = PHRASES.get(tuple(tokens[i : i + size]))
                if canonical is not None:
                    out.append(canonical)
                    i += size
                    break
            else:
                if tokens[i] not in STOP_WORDS:
                    out.append(tokens[i])
                i += 1
        return out

    def terms(self, text: str) -> list[str]:
        return [self.stem(w) for w in self.surface(text)]


@dataclass(frozen=True, slots=True)
class _Posting:
    docs: NDArray[np.int32]
    saturation: NDArray[np.float64]
    """BM25 term-frequency saturation with length normalisation, per document."""
    strong: NDArray[np.float64]
    """1 where the term is in the document's title, topics or example questions."""


@dataclass(frozen=True, slots=True)
class _QueryTerm:
    term: str
    weight: float
    original: bool


class SearchIndex:
    """An immutable index over a set of snippets; build a new one when the set changes."""

    def __init__(
        self,
        snippets: Sequence[Snippet],
        topics: Mapping[str, Topic] | None = None,
        votes: Mapping[str, VoteTally] | None = None,
        config: RankingConfig | None = None,
        analyzer: Analyzer | None = None,
    ) -> None:
        self.config = config or RankingConfig()
        self.analyzer = analyzer or Analyzer()
        self.snippets = tuple(snippets)
        self._by_id = {s.id: i for i, s in enumerate(self.snippets)}
        topics = topics or {}
        votes = votes or {}
        cfg = self.config
        term_ids: dict[str, int] = {}
        # Compact typed arrays keep the peak memory of a large build low.
        entry_term = array("i")
        entry_doc = array("i")
        entry_tf = array("d")
        entry_strong = array("b")
        question_postings: dict[str, list[int]] = defaultdict(list)
        question_doc: list[int] = []
        question_terms: list[frozenset[str]] = []
        lengths: list[float] = []
        seen_words: set[str] = set()
        surface, stem = self.analyzer.surface, self.analyzer.stem

        def analyse(text: str) -> list[str]:
            found = surface(text)
            seen_words.update(found)
            return [stem(word) for word in found]

        for doc, snippet in enumerate(self.snippets):
            bag: dict[str, float] = defaultdict(float)
            topic_text = " ".join(
                f"{slug} {topics[slug].title if slug in topics else ''}" for slug in snippet.topics
            )
            title_terms = analyse(snippet.title)
            topic_terms = analyse(topic_text)
            per_question = [analyse(q) for q in snippet.questions]
            for term in analyse(snippet.body):
                bag[term] += cfg.body_weight
            for term in title_terms:
                bag[term] += cfg.title_weight
            for term in topic_terms:
                bag[term] += cfg.topic_weight
            for terms in per_question:
                for term in terms:
                    bag[term] += cfg.question_weight / 2
            strong = set(title_terms).union(topic_terms, *per_question)
            for term, tf in bag.items():
                entry_term.append(term_ids.setdefault(term, len(term_ids)))
                entry_tf.append(tf)
                entry_strong.append(term in strong)
            entry_doc.extend(array("i", [doc]) * len(bag))
            lengths.append(sum(bag.values()))
            for terms in (*per_question, title_terms):
                unique = frozenset(terms)
                if unique:
                    for term in unique:
                        question_postings[term].append(len(question_terms))
                    question_doc.append(doc)
                    question_terms.append(unique)

        count = max(len(self.snippets), 1)
        length = np.asarray(lengths, dtype=np.float64)
        norm = 1 - cfg.b + cfg.b * length / (length.mean() if lengths else 1.0)
        terms_array = np.frombuffer(entry_term, dtype=np.int32)
        docs_array = np.frombuffer(entry_doc, dtype=np.int32)
        tf_array = np.frombuffer(entry_tf, dtype=np.float64)
        # BM25's saturation depends only on the document, so it is computed once here.
        saturation = tf_array * (cfg.k1 + 1) / (tf_array + cfg.k1 * norm[docs_array])
        strong_array = np.frombuffer(entry_strong, dtype=np.int8).astype(np.float64)
        order = np.argsort(terms_array, kind="stable")
        bounds = np.searchsorted(terms_array[order], np.arange(len(term_ids) + 1))
        self._postings: dict[str, _Posting] = {}
        for term, term_id in term_ids.items():
            rows = order[bounds[term_id] : bounds[term_id + 1]]
            self._postings[term] = _Posting(
                docs=docs_array[rows], saturation=saturation[rows], strong=strong_array[rows]
            )
        surface_words = {word: stem(word) for word in seen_words}
        self._idf = {
            term: math.log(1 + (count - len(p.docs) + 0.5) / (len(p.docs) + 0.5))
            for term, p in self._postings.items()
        }
        self._unknown_idf = math.log(1 + (count + 0.5) / 0.5)
        self._question_postings = {
            term: np.asarray(ids, dtype=np.int32) for term, ids in question_postings.items()
        }
        self._question_doc = np.asarray(question_doc, dtype=np.int32)
        self._question_mass = np.asarray(
            [sum(self._idf[t] for t in terms) for terms in question_terms], dtype=np.float64
        )
        self._surface = surface_words
        self._surface_by_length: dict[int, list[str]] = defaultdict(list)
        for word in surface_words:
            self._surface_by_length[len(word)].append(word)
        self._prior = np.asarray(
            [
                1 + cfg.feedback_strength * math.tanh(_net(votes.get(s.id)) / 3)
                for s in self.snippets
            ],
            dtype=np.float64,
        )
        self._correct = lru_cache(maxsize=16384)(self._correct_uncached)
        self._domain = frozenset(self.analyzer.stem(w) for w in DOMAIN_WORDS) | frozenset(
            self.analyzer.stem(w) for w in PHRASES.values()
        )

    def __len__(self) -> int:
        return len(self.snippets)

    def get(self, snippet_id: str) -> Snippet | None:
        index = self._by_id.get(snippet_id)
        return None if index is None else self.snippets[index]

    def idf(self, term: str) -> float:
        return self._idf.get(term, self._unknown_idf)

    def _correct_uncached(self, word: str) -> str | None:
        """The index word a misspelt query word most likely meant, if any is close enough."""
        if len(word) < 4 or word.isdigit():
            return None
        allowed = 1 if len(word) < 8 else 2
        candidates: list[str] = []
        for length in range(len(word) - allowed, len(word) + allowed + 1):
            candidates.extend(self._surface_by_length.get(length, ()))
        match = process.extractOne(word, candidates, scorer=OSA.distance, score_cutoff=allowed)
        if match is None:
            return None
        return self._surface[match[0]]

    def _query_terms(self, query: str) -> list[_QueryTerm]:
        cfg = self.config
        found: dict[str, _QueryTerm] = {}

        def put(term: str, weight: float, original: bool) -> None:
            current = found.get(term)
            if current is None or current.weight < weight:
                found[term] = _QueryTerm(
                    term, weight, original or bool(current and current.original)
                )

        for word in self.analyzer.surface(query):
            term = self.analyzer.stem(word)
            if term in self._postings:
                put(term, 1.0, True)
            else:
                corrected = self._correct(word)
                put(corrected or term, cfg.typo_weight if corrected else 1.0, True)
            for related in EXPANSIONS.get(word, ()):
                for extra in self.analyzer.terms(related):
                    if extra in self._postings:
                        put(extra, cfg.expansion_weight, False)
        return list(found.values())

    def search(self, query: str, limit: int = 3, exclude: Iterable[str] = ()) -> SearchResult:
        cfg = self.config
        terms = self._query_terms(query)
        if not any(t.original for t in terms) or not self.snippets:
            return SearchResult(query=query)
        known = [t for t in terms if t.term in self._postings]
        unknown_mass = cfg.unknown_idf * sum(
            1 for t in terms if t.original and t.term not in self._postings
        )
        weights = {t.term: self.idf(t.term) * t.weight for t in known}
        originals = {t.term for t in known if t.original}
        if not originals & self._domain:
            return SearchResult(query=query)
        denominator = sum(weights[t] for t in originals) + unknown_mass
        if not originals or denominator <= 0:
            return SearchResult(query=query)
        max_bm25 = sum(w * (cfg.k1 + 1) for w in weights.values()) + unknown_mass * (cfg.k1 + 1)

        size = len(self.snippets)
        lexical = np.zeros(size)
        covered = np.zeros(size)
        strong = np.zeros(size)
        for term, weight in weights.items():
            posting = self._postings[term]
            lexical[posting.docs] += weight * posting.saturation
            strong[posting.docs] += weight * posting.strong
            if term in originals:
                covered[posting.docs] += weight
        eligible = covered >= cfg.min_coverage * denominator
        for snippet_id in exclude:
            index = self._by_id.get(snippet_id)
            if index is not None:
                eligible[index] = False
        if not eligible.any():
            return SearchResult(query=query)

        shared = np.zeros(len(self._question_doc))
        for term, weight in weights.items():
            ids = self._question_postings.get(term)
            if ids is not None:
                shared[ids] += weight
        asked = np.flatnonzero(shared)
        similarity = np.minimum(2 * shared[asked] / (denominator + self._question_mass[asked]), 1.0)
        best_question = np.zeros(size)
        np.maximum.at(best_question, self._question_doc[asked], similarity)

        question_share = 1 - cfg.lexical_share - cfg.strong_share
        confidence = (
            cfg.lexical_share * lexical / max_bm25
            + cfg.strong_share * np.minimum(strong / denominator, 1.0)
            + question_share * best_question
        ) * self._prior
        confidence[~eligible] = -1.0
        top = min(limit, int(eligible.sum()))
        if top <= 0:
            return SearchResult(query=query)
        order = np.argpartition(-confidence, top - 1)[:top] if top < size else np.arange(size)
        ranked = sorted(
            (int(doc) for doc in order if eligible[doc]),
            key=lambda doc: (-confidence[doc], self.snippets[doc].id),
        )[:top]
        best = float(confidence[ranked[0]])
        if best < cfg.min_confidence:
            return SearchResult(query=query)
        hits = tuple(
            ScoredSnippet(self.snippets[doc], round(float(confidence[doc]), 4))
            for doc in ranked
            if confidence[doc] >= best * cfg.relative_floor
        )
        return SearchResult(query=query, hits=hits)


def _net(tally: VoteTally | None) -> int:
    return 0 if tally is None else tally.up - tally.down
