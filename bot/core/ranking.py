"""Lexical ranking of snippets for a member's question.

A BM25 score over a weighted bag of words (title, example questions, topics, body) is blended
with the best match against any single example question, which is what most paraphrases hit.
Queries are canonicalised with the field's vocabulary (PM, prodops, CV...), stemmed, expanded
with related terms at a lower weight, and corrected for typos against the index's own words.
The blend is the confidence: below the threshold the ranking declines rather than guessing.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer
from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.core.models import ScoredSnippet, SearchResult, Snippet, Topic, VoteTally
from bot.core.text import words
from bot.core.vocabulary import DOMAIN_WORDS, EXPANSIONS, PHRASES, STOP_WORDS

_MAX_PHRASE = max(len(p) for p in PHRASES)


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
        postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        question_postings: dict[str, list[int]] = defaultdict(list)
        self._question_doc: list[int] = []
        self._question_terms: list[frozenset[str]] = []
        self._lengths: list[float] = []
        self._strong: list[frozenset[str]] = []
        surface_words: dict[str, str] = {}
        for doc, snippet in enumerate(self.snippets):
            bag: dict[str, float] = defaultdict(float)
            topic_text = " ".join(
                f"{slug} {topics[slug].title if slug in topics else ''}" for slug in snippet.topics
            )
            fields: list[tuple[str, float]] = [
                (snippet.title, cfg.title_weight),
                (topic_text, cfg.topic_weight),
                (snippet.body, cfg.body_weight),
            ]
            fields.extend((q, cfg.question_weight / 2) for q in snippet.questions)
            for text, weight in fields:
                for word in self.analyzer.surface(text):
                    term = self.analyzer.stem(word)
                    surface_words.setdefault(word, term)
                    bag[term] += weight
            for term, tf in bag.items():
                postings[term].append((doc, tf))
            strong_text = " ".join((snippet.title, topic_text, *snippet.questions))
            self._strong.append(frozenset(self.analyzer.terms(strong_text)))
            self._lengths.append(sum(bag.values()))
            for question in (*snippet.questions, snippet.title):
                terms = frozenset(self.analyzer.terms(question))
                if not terms:
                    continue
                qid = len(self._question_doc)
                self._question_doc.append(doc)
                self._question_terms.append(terms)
                for term in terms:
                    question_postings[term].append(qid)
        self._postings = dict(postings)
        self._question_postings = dict(question_postings)
        count = max(len(self.snippets), 1)
        self._avg_length = sum(self._lengths) / count if self._lengths else 1.0
        self._idf = {
            term: math.log(1 + (count - len(p) + 0.5) / (len(p) + 0.5))
            for term, p in self._postings.items()
        }
        self._unknown_idf = math.log(1 + (count + 0.5) / 0.5)
        self._surface = surface_words
        self._surface_by_length: dict[int, list[str]] = defaultdict(list)
        for word in surface_words:
            self._surface_by_length[len(word)].append(word)
        self._prior = [
            1 + cfg.feedback_strength * math.tanh(_net(votes.get(s.id)) / 3) for s in self.snippets
        ]
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

        bm25: dict[int, float] = defaultdict(float)
        matched: dict[int, float] = defaultdict(float)
        for term, weight in weights.items():
            for doc, tf in self._postings[term]:
                norm = 1 - cfg.b + cfg.b * self._lengths[doc] / self._avg_length
                bm25[doc] += weight * tf * (cfg.k1 + 1) / (tf + cfg.k1 * norm)
                if term in originals:
                    matched[doc] += weight

        overlap: dict[int, float] = defaultdict(float)
        for term, weight in weights.items():
            for qid in self._question_postings.get(term, ()):
                overlap[qid] += weight
        best_question: dict[int, float] = defaultdict(float)
        for qid, shared in overlap.items():
            question_mass = sum(self.idf(t) for t in self._question_terms[qid])
            similarity = min(2 * shared / (denominator + question_mass), 1.0)
            doc = self._question_doc[qid]
            best_question[doc] = max(best_question[doc], similarity)

        skip = {self._by_id[s] for s in exclude if s in self._by_id}
        question_share = 1 - cfg.lexical_share - cfg.strong_share
        scored: list[tuple[float, int]] = []
        for doc, raw in bm25.items():
            if doc in skip or matched[doc] / denominator < cfg.min_coverage:
                continue
            strong = sum(w for t, w in weights.items() if t in self._strong[doc])
            confidence = (
                cfg.lexical_share * raw / max_bm25
                + cfg.strong_share * min(strong / denominator, 1.0)
                + question_share * best_question[doc]
            )
            scored.append((confidence * self._prior[doc], doc))
        if not scored:
            return SearchResult(query=query)
        scored.sort(key=lambda pair: (-pair[0], self.snippets[pair[1]].id))
        best = scored[0][0]
        if best < cfg.min_confidence:
            return SearchResult(query=query)
        hits = tuple(
            ScoredSnippet(self.snippets[doc], round(score, 4))
            for score, doc in scored[:limit]
            if score >= best * cfg.relative_floor
        )
        return SearchResult(query=query, hits=hits)


def _net(tally: VoteTally | None) -> int:
    return 0 if tally is None else tally.up - tally.down
