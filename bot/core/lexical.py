"""Lexical evidence: a BM25 index over weighted snippet fields, with typo tolerance.

A BM25 score over a weighted bag of words (title, example questions, topics, body) is blended
with how much of the query the snippet's strong fields (title, topics, example questions)
cover and with the best match against any single example question, which is what most
paraphrases hit. Queries are canonicalised with the field's vocabulary (PM, prodops, CV...),
stemmed, expanded with related terms at a lower weight, and corrected for typos against the
index's own words. This module only measures evidence; deciding whether to answer is the
ranking's job.
"""

from __future__ import annotations

import math
from array import array
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import snowballstemmer
from numpy.typing import NDArray
from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.core.models import Correction, Snippet, Topic
from bot.core.text import words
from bot.core.vocabulary import DOMAIN_WORDS, EXPANSIONS, JARGON, PHRASES, STOP_WORDS

_MAX_PHRASE = max(len(p) for p in PHRASES)
_QUESTION = 3
_FIELD_CODES = [array("b", [code]) for code in range(_QUESTION + 1)]
"""Field codes of indexed text: body, title, topics, example question."""
_PHRASE_STARTS = frozenset(p[0] for p in PHRASES)
Floats = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class LexicalConfig:
    title_weight: float = 3.0
    question_weight: float = 2.0
    topic_weight: float = 2.0
    body_weight: float = 1.0
    k1: float = 1.2
    b: float = 0.75
    bm25_share: float = 0.35
    """Lexical evidence = this share of normalised BM25 + `strong_share` of strong-field
    coverage + the rest from the best single example question."""
    strong_share: float = 0.35
    unknown_idf: float = 2.5
    """What a query word the index has never seen weighs against the coverage."""
    expansion_weight: float = 0.35
    typo_weight: float = 0.8
    min_typo_length: int = 5
    """Shorter words are never corrected: too many real four-letter words are one edit from
    an index word ("saas" and "slas")."""


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
    saturation: Floats
    """BM25 term-frequency saturation with length normalisation, per document."""
    strong: Floats
    """1 where the term is in the document's title, topics or example questions."""


@dataclass(frozen=True, slots=True)
class QueryTerm:
    term: str
    weight: float
    original: bool


@dataclass(frozen=True, slots=True)
class QueryTerms:
    terms: tuple[QueryTerm, ...]
    corrections: tuple[Correction, ...]
    unknown: tuple[str, ...]
    """Words of the query the index has never seen and could not correct."""

    @property
    def originals(self) -> frozenset[str]:
        return frozenset(t.term for t in self.terms if t.original)


@dataclass(frozen=True, slots=True)
class LexicalScores:
    """Per-snippet lexical evidence for one query, each in [0, 1]."""

    evidence: Floats
    bm25: Floats
    strong: Floats
    question: Floats
    coverage: Floats
    """Share of the query's IDF mass the snippet contains at all."""


class LexicalIndex:
    """An immutable lexical index over a set of snippets."""

    def __init__(
        self,
        snippets: Sequence[Snippet],
        topics: Mapping[str, Topic],
        config: LexicalConfig,
        analyzer: Analyzer,
    ) -> None:
        cfg = self.config = config
        self.analyzer = analyzer
        self.size = len(snippets)
        term_ids: dict[str, int] = {}
        word_terms: dict[str, int] = {}
        """Surface word -> term id, so each distinct word is stemmed once."""
        surface, stem = analyzer.surface, analyzer.stem

        def analyse(text: str) -> list[int]:
            found = surface(text)
            try:
                return [word_terms[word] for word in found]
            except KeyError:
                for word in found:
                    if word not in word_terms:
                        word_terms[word] = term_ids.setdefault(stem(word), len(term_ids))
                return [word_terms[word] for word in found]

        # Every (term, snippet, field) occurrence in flat typed arrays, aggregated with numpy
        # below: a per-snippet dictionary of term weights costs far more on a large base.
        entry_term, entry_doc, entry_field = array("i"), array("i"), array("b")
        pair_term, pair_question = array("i"), array("i")
        """Terms of each example question and title, for the best single-question match."""
        question_doc = array("i")
        topic_terms: dict[tuple[str, ...], list[int]] = {}
        for doc, snippet in enumerate(snippets):
            if snippet.topics not in topic_terms:
                topic_terms[snippet.topics] = analyse(
                    " ".join(
                        f"{slug} {topics[slug].title if slug in topics else ''}"
                        for slug in snippet.topics
                    )
                )
            title = analyse(snippet.title)
            fields = [analyse(snippet.body), title, topic_terms[snippet.topics]]
            asked = [analyse(q) for q in snippet.questions]
            before = len(entry_term)
            for code, terms in enumerate([*fields, *asked]):
                entry_term.extend(terms)
                entry_field.extend(_FIELD_CODES[min(code, _QUESTION)] * len(terms))
            entry_doc.extend(array("i", [doc]) * (len(entry_term) - before))
            for terms in (*asked, title):
                if terms:
                    pair_term.extend(terms)
                    pair_question.extend(array("i", [len(question_doc)]) * len(terms))
                    question_doc.append(doc)

        size = max(self.size, 1)
        field = np.frombuffer(entry_field, dtype=np.int8)
        field_weight = np.asarray(
            [cfg.body_weight, cfg.title_weight, cfg.topic_weight, cfg.question_weight / 2]
        )
        # One row per (term, snippet), ordered by term and then snippet.
        keys, inverse = np.unique(
            np.frombuffer(entry_term, dtype=np.int32).astype(np.int64) * size
            + np.frombuffer(entry_doc, dtype=np.int32),
            return_inverse=True,
        )
        tf = np.bincount(inverse, weights=field_weight[field], minlength=len(keys))
        strong_array = (np.bincount(inverse, weights=field > 0, minlength=len(keys)) > 0).astype(
            np.float64
        )
        terms_array = (keys // size).astype(np.int32)
        docs_array = (keys % size).astype(np.int32)
        length = np.bincount(docs_array, weights=tf, minlength=self.size)
        norm = 1 - cfg.b + cfg.b * length / (length.mean() if self.size else 1.0)
        # BM25's saturation depends only on the document, so it is computed once here.
        saturation = tf * (cfg.k1 + 1) / (tf + cfg.k1 * norm[docs_array])
        bounds = np.searchsorted(terms_array, np.arange(len(term_ids) + 1))
        self._postings: dict[str, _Posting] = {}
        for term, term_id in term_ids.items():
            rows = slice(bounds[term_id], bounds[term_id + 1])
            self._postings[term] = _Posting(
                docs=docs_array[rows], saturation=saturation[rows], strong=strong_array[rows]
            )
        count = max(self.size, 1)
        document_frequency = np.diff(bounds)
        idf = np.log(1 + (count - document_frequency + 0.5) / (document_frequency + 0.5))
        self._idf = {term: float(idf[term_id]) for term, term_id in term_ids.items()}
        self._unknown_idf = math.log(1 + (count + 0.5) / 0.5)
        # Each question's distinct terms, ordered by term: postings and IDF mass per question.
        questions = max(len(question_doc), 1)
        pairs = np.unique(
            np.frombuffer(pair_term, dtype=np.int32).astype(np.int64) * questions
            + np.frombuffer(pair_question, dtype=np.int32)
        )
        pair_terms, pair_questions = pairs // questions, (pairs % questions).astype(np.int32)
        question_bounds = np.searchsorted(pair_terms, np.arange(len(term_ids) + 1))
        self._question_postings = {
            term: pair_questions[question_bounds[term_id] : question_bounds[term_id + 1]]
            for term, term_id in term_ids.items()
            if question_bounds[term_id + 1] > question_bounds[term_id]
        }
        self._question_doc = np.frombuffer(question_doc, dtype=np.int32).copy()
        self._question_mass = np.bincount(
            pair_questions, weights=idf[pair_terms], minlength=len(question_doc)
        )
        # Sorted, so typo correction breaks ties the same way in every process: closest first,
        # then the word in more snippets, then alphabetical.
        self._surface = {word: stem(word) for word in sorted(word_terms)}
        self._surface_by_length: dict[int, list[str]] = defaultdict(list)
        for word in self._surface:
            self._surface_by_length[len(word)].append(word)
        self._correct = lru_cache(maxsize=16384)(self._correct_uncached)
        self.domain = frozenset(analyzer.stem(w) for w in DOMAIN_WORDS) | frozenset(
            analyzer.stem(w) for w in PHRASES.values()
        )

    def idf(self, term: str) -> float:
        return self._idf.get(term, self._unknown_idf)

    def knows(self, term: str) -> bool:
        return term in self._postings

    def _correct_uncached(self, word: str) -> str | None:
        """The index word a misspelt query word most likely meant, if any is close enough."""
        cfg = self.config
        if len(word) < cfg.min_typo_length or not word.isalpha() or word in JARGON:
            return None
        allowed = 1 if len(word) < 8 else 2
        candidates: list[str] = []
        for length in range(len(word) - allowed, len(word) + allowed + 1):
            candidates.extend(self._surface_by_length.get(length, ()))
        matches = process.extract(
            word, candidates, scorer=OSA.distance, score_cutoff=allowed, limit=None
        )
        if not matches:
            return None
        best = min(
            matches,
            key=lambda m: (m[1], -len(self._postings[self._surface[m[0]]].docs), m[0]),
        )
        return str(best[0])

    def query_terms(self, query: str, is_word: Callable[[str], bool] | None = None) -> QueryTerms:
        """The query's terms; a word the index lacks is corrected to a close index word unless
        `is_word` says it is a real word of its own."""
        cfg = self.config
        found: dict[str, QueryTerm] = {}
        corrections: list[Correction] = []
        unknown: list[str] = []

        def put(term: str, weight: float, original: bool) -> None:
            current = found.get(term)
            if current is None or current.weight < weight:
                found[term] = QueryTerm(
                    term, weight, original or bool(current and current.original)
                )

        for word in self.analyzer.surface(query):
            term = self.analyzer.stem(word)
            if term in self._postings:
                put(term, 1.0, True)
            else:
                real = is_word is not None and is_word(word)
                corrected = None if real else self._correct(word)
                if corrected is None:
                    unknown.append(word)
                    put(term, 1.0, True)
                else:
                    corrections.append(Correction(word, corrected))
                    put(self._surface[corrected], cfg.typo_weight, True)
            for related in EXPANSIONS.get(word, ()):
                for extra in self.analyzer.terms(related):
                    if extra in self._postings:
                        put(extra, cfg.expansion_weight, False)
        return QueryTerms(tuple(found.values()), tuple(dict.fromkeys(corrections)), tuple(unknown))

    def score(self, query: QueryTerms) -> LexicalScores | None:
        """Evidence per snippet, or None when the query has no words worth matching."""
        cfg = self.config
        known = [t for t in query.terms if t.term in self._postings]
        originals = {t.term for t in known if t.original}
        unknown_mass = cfg.unknown_idf * sum(
            1 for t in query.terms if t.original and t.term not in self._postings
        )
        weights = {t.term: self.idf(t.term) * t.weight for t in known}
        denominator = sum(weights[t] for t in originals) + unknown_mass
        if not originals or denominator <= 0 or not self.size:
            return None
        max_bm25 = sum(w * (cfg.k1 + 1) for w in weights.values()) + unknown_mass * (cfg.k1 + 1)
        bm25 = np.zeros(self.size)
        covered = np.zeros(self.size)
        strong = np.zeros(self.size)
        for term, weight in weights.items():
            posting = self._postings[term]
            bm25[posting.docs] += weight * posting.saturation
            strong[posting.docs] += weight * posting.strong
            if term in originals:
                covered[posting.docs] += weight
        shared = np.zeros(len(self._question_doc))
        for term, weight in weights.items():
            ids = self._question_postings.get(term)
            if ids is not None:
                shared[ids] += weight
        asked = np.flatnonzero(shared)
        similarity = np.minimum(2 * shared[asked] / (denominator + self._question_mass[asked]), 1.0)
        question = np.zeros(self.size)
        np.maximum.at(question, self._question_doc[asked], similarity)
        bm25 /= max_bm25
        strong = np.minimum(strong / denominator, 1.0)
        question_share = 1 - cfg.bm25_share - cfg.strong_share
        evidence = cfg.bm25_share * bm25 + cfg.strong_share * strong + question_share * question
        return LexicalScores(evidence, bm25, strong, question, covered / denominator)
