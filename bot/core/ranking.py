"""Ranking snippets for a member's question, and the one decision to answer or decline.

Two signals describe how well a snippet fits a question: lexical evidence (`lexical.py`) and the
semantic similarity of the question to the snippet's title, body and example questions
(`semantic.py`). Snippets are ranked by a blend of the two, nudged by votes and by the member's
background (`audience.py`). Whether to answer at all is one calibrated decision: a logistic
model of the best snippet's two signals, the field vocabulary, the question's scope (a
classifier of the question's embedding, `scope.py`) and the career the question heads for
(product management or another one, `aim.py`) estimates the chance that the best snippet
answers the question, and the bot answers when that reaches `answer_threshold`. The
coefficients and the threshold come from `benchmarks/calibrate.py`, which fits them on the
knowledge base's own example questions (each left out of the index, and of the scope
classifier's training, in turn) against questions that must be declined.

A long message is scored twice, as a whole and by its question part (`query.py`), and each
snippet keeps its better score, so a story followed by a question gets an answer to the question.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from bot.core.aim import NO_AIM, Aim, aim_of
from bot.core.audience import audience_backgrounds, backgrounds_in
from bot.core.lexical import Analyzer, LexicalConfig, LexicalIndex, LexicalScores
from bot.core.models import Correction, ScoredSnippet, SearchResult, Snippet, Topic, VoteTally
from bot.core.query import question_part
from bot.core.scope import ScopeModel, probability
from bot.core.semantic import SemanticIndex, TextEncoder

Floats = NDArray[np.float64]

__all__ = [
    "DEFAULT_ANSWER_THRESHOLD",
    "Analyzer",
    "Explanation",
    "HitSignals",
    "RankingConfig",
    "SearchIndex",
    "Signals",
]


@dataclass(frozen=True, slots=True)
class Signals:
    """What the answer model reads: the best snippet's lexical evidence and semantic
    similarity; whether the question uses any of the field's vocabulary; the scope classifier's
    log-odds that the question is about the field and its closeness to out-of-scope questions
    (both 0 without a classifier); the share of the question's words the knowledge base has at
    all; whether it names product management; whether it names another career as where the
    member is heading, and not product management (`aim.py`)."""

    lexical: float
    semantic: float
    domain: bool
    scope: float
    outside: float
    known: float
    product: bool = False
    elsewhere: bool = False
    term_scope: float = 0.0
    """The scope log-odds read from the question's words (0 without a classifier)."""


@dataclass(frozen=True, slots=True)
class AnswerModel:
    """Logistic model of the chance that the best snippet answers the question.

    The share of known words is shown by `explain` but not used: it helped the shared dev set
    and hurt the maintainers' set by as much, so it has not earned its place.
    """

    bias: float
    lexical: float
    semantic: float
    domain: float
    scope: float = 0.0
    outside: float = 0.0
    product: float = 0.0
    elsewhere: float = 0.0
    term_scope: float = 0.0

    def probability(self, signals: Signals) -> float:
        z = self._question_term(signals) + (
            self.lexical * signals.lexical + self.semantic * signals.semantic
        )
        return 1 / (1 + math.exp(-max(min(z, 50.0), -50.0)))

    def probabilities(self, lexical: Floats, semantic: Floats, question: Signals) -> Floats:
        """The chance for each candidate snippet; `question` gives the signals that belong to
        the question alone (its lexical and semantic fields are not read)."""
        z = self._question_term(question) + self.lexical * lexical + self.semantic * semantic
        return np.asarray(1 / (1 + np.exp(-np.clip(z, -50.0, 50.0))), dtype=np.float64)

    def _question_term(self, signals: Signals) -> float:
        return (
            self.bias
            + self.domain * signals.domain
            + self.scope * signals.scope
            + self.outside * signals.outside
            + self.product * signals.product
            + self.elsewhere * signals.elsewhere
            + self.term_scope * signals.term_scope
        )


# Fitted by `python benchmarks/calibrate.py` on the shipped knowledge base.
SCOPED_MODEL = AnswerModel(
    bias=-3.59, lexical=9.71, semantic=6.96, domain=0.96, scope=0.72, outside=-9.03,
    product=8.79, elsewhere=-5.66, term_scope=0.23,
)  # fmt: skip
SEMANTIC_MODEL = AnswerModel(
    bias=-7.45, lexical=9.57, semantic=7.92, domain=1.65, product=8.58, elsewhere=-5.48,
)  # fmt: skip
"""Used when the encoder has no scope classifier."""
LEXICAL_MODEL = AnswerModel(
    bias=-2.99, lexical=11.44, semantic=0.0, domain=0.0,
)  # fmt: skip
"""Used when no encoder is wired in (tests of the lexical ranker, tools)."""


DEFAULT_ANSWER_THRESHOLD = 0.64
"""Chosen by `benchmarks/calibrate.py`; overridden by PMADVICE_ANSWER_THRESHOLD."""


@dataclass(frozen=True, slots=True)
class RankingConfig:
    lexical: LexicalConfig = field(default_factory=LexicalConfig)
    semantic_weight: float = 1.0
    """Ranking score = lexical evidence + this times the semantic similarity."""
    answer_threshold: float = DEFAULT_ANSWER_THRESHOLD
    """Answer when the estimated chance that the best snippet answers reaches this."""
    scoped_model: AnswerModel = SCOPED_MODEL
    semantic_model: AnswerModel = SEMANTIC_MODEL
    lexical_model: AnswerModel = LEXICAL_MODEL
    domain_prefilter: bool = False
    """Decline at once when no query word is in the field's vocabulary (cheap, coarse)."""
    related_share: float = 0.5
    """Further hits must reach this share of the best hit's answerability."""
    audience_boost: float = 0.04
    """Added to the ranking score of snippets written for the background the member names:
    enough to choose between near-equal answers, too little to hide a clearly better one."""
    feedback_strength: float = 0.08
    candidates: int = 40
    """Snippets compared field by field: the best by lexical evidence and by whole-snippet
    similarity, this many of each."""


@dataclass(frozen=True, slots=True)
class HitSignals:
    """Why a snippet ranked where it did."""

    snippet: Snippet
    score: float
    answerability: float
    lexical: float
    bm25: float
    strong: float
    question: float
    semantic: float
    semantic_field: str
    audience: tuple[str, ...]
    prior: float
    part: str
    """Which part of the message gave the better score: "whole" or "question"."""


@dataclass(frozen=True, slots=True)
class Explanation:
    query: str
    question_part: str | None
    terms: tuple[str, ...]
    corrections: tuple[Correction, ...]
    unknown: tuple[str, ...]
    backgrounds: tuple[str, ...]
    encoder: str
    domain: bool
    """Whether the question uses any of the field's vocabulary."""
    scope: float | None
    """The scope classifier's chance that the question is about the field (None without one)."""
    outside: float
    """Mean cosine to the nearest out-of-scope prototypes (0 without a classifier)."""
    nearest_outside: str
    """The out-of-scope prototype closest to the question."""
    known: float
    """Share of the question's words the knowledge base has at all."""
    aim: Aim
    """Whether the question names product management, and other careers it heads for."""
    term_scope: float | None
    """The chance its words alone give that it is about the field (None without a classifier)."""
    answerability: float
    threshold: float
    answered: bool
    reason: str
    hits: tuple[HitSignals, ...]


@dataclass(slots=True)
class _Evaluation:
    docs: NDArray[np.int64]
    score: Floats
    lexical: Floats
    semantic: Floats
    answerability: Floats
    parts: NDArray[np.int64]
    best_field: NDArray[np.int64]
    lexical_parts: list[LexicalScores | None]
    question_part: str | None
    corrections: tuple[Correction, ...]
    unknown: tuple[str, ...]
    terms: tuple[str, ...]
    backgrounds: frozenset[str]
    domain: bool
    scope: float | None
    outside: float
    nearest_outside: str
    known: float
    aim: Aim
    term_scope: float | None
    reason: str = ""


class SearchIndex:
    """An immutable index over a set of snippets; build a new one when the set changes."""

    def __init__(
        self,
        snippets: Sequence[Snippet],
        topics: Mapping[str, Topic] | None = None,
        votes: Mapping[str, VoteTally] | None = None,
        config: RankingConfig | None = None,
        analyzer: Analyzer | None = None,
        encoder: TextEncoder | None = None,
    ) -> None:
        self.config = config or RankingConfig()
        self.analyzer = analyzer or Analyzer()
        self.snippets = tuple(snippets)
        self._by_id = {s.id: i for i, s in enumerate(self.snippets)}
        votes = votes or {}
        self.lexical = LexicalIndex(self.snippets, topics or {}, self.config.lexical, self.analyzer)
        self.semantic = SemanticIndex(self.snippets, encoder) if encoder is not None else None
        self._scope: ScopeModel | None = encoder.scope() if encoder is not None else None
        if self._scope is not None:
            self._model = self.config.scoped_model
        elif encoder is not None:
            self._model = self.config.semantic_model
        else:
            self._model = self.config.lexical_model
        self._prior = np.asarray(
            [
                1 + self.config.feedback_strength * math.tanh(_net(votes.get(s.id)) / 3)
                for s in self.snippets
            ],
            dtype=np.float64,
        )
        self._audiences = [audience_backgrounds(s.audience) for s in self.snippets]
        self._written_for: dict[str, Floats] = {}
        for doc, backgrounds in enumerate(self._audiences):
            for background in backgrounds:
                self._written_for.setdefault(background, np.zeros(len(self.snippets)))[doc] = 1.0
        self._id_rank = np.argsort(np.argsort([s.id for s in self.snippets], kind="stable"))

    def __len__(self) -> int:
        return len(self.snippets)

    def get(self, snippet_id: str) -> Snippet | None:
        index = self._by_id.get(snippet_id)
        return None if index is None else self.snippets[index]

    def search(self, query: str, limit: int = 3, exclude: Iterable[str] = ()) -> SearchResult:
        found = self._evaluate(query, exclude)
        if found is None:
            return SearchResult(query=query)
        best = float(found.answerability[0]) if len(found.docs) else 0.0
        if not len(found.docs) or best < self.config.answer_threshold:
            return SearchResult(query=query, corrections=found.corrections, answerability=best)
        floor = best * self.config.related_share
        hits = tuple(
            ScoredSnippet(self.snippets[int(doc)], round(float(score), 4))
            for doc, score, chance in zip(
                found.docs[:limit], found.score[:limit], found.answerability[:limit], strict=True
            )
            if chance >= floor
        )
        return SearchResult(
            query=query, hits=hits, corrections=found.corrections, answerability=best
        )

    def explain(self, query: str, limit: int = 3) -> Explanation:
        """The signals behind `search`, for people: what matched, and why it answered or not."""
        cfg = self.config
        found = self._evaluate(query, ())
        encoder = self.semantic.encoder.name if self.semantic else "none (lexical only)"
        if found is None:
            return Explanation(
                query, None, (), (), (), (), encoder, False, None, 0.0, "", 0.0, NO_AIM, None, 0.0,
                cfg.answer_threshold, False,
                "no words to match (only stop words, or nothing the index or the field "
                "vocabulary knows)",
                (),
            )  # fmt: skip
        best = float(found.answerability[0]) if len(found.docs) else 0.0
        answered = bool(len(found.docs)) and best >= cfg.answer_threshold
        if found.reason:
            reason = found.reason
        elif answered:
            reason = f"answered: chance {best:.2f} >= threshold {cfg.answer_threshold:.2f}"
        else:
            reason = (
                f"declined: the best snippet's chance of answering is {best:.2f}, below the "
                f"threshold {cfg.answer_threshold:.2f}"
            )
        hits = []
        for rank in range(min(limit, len(found.docs))):
            doc = int(found.docs[rank])
            part = int(found.parts[rank])
            lex = found.lexical_parts[part]
            hits.append(
                HitSignals(
                    snippet=self.snippets[doc],
                    score=float(found.score[rank]),
                    answerability=float(found.answerability[rank]),
                    lexical=float(found.lexical[rank]),
                    bm25=float(lex.bm25[doc]) if lex else 0.0,
                    strong=float(lex.strong[doc]) if lex else 0.0,
                    question=float(lex.question[doc]) if lex else 0.0,
                    semantic=float(found.semantic[rank]),
                    semantic_field=self._field_name(doc, int(found.best_field[rank])),
                    audience=tuple(sorted(self._audiences[doc] & found.backgrounds)),
                    prior=float(self._prior[doc]),
                    part="question" if part else "whole",
                )
            )
        return Explanation(
            query=query,
            question_part=found.question_part,
            terms=found.terms,
            corrections=found.corrections,
            unknown=found.unknown,
            backgrounds=tuple(sorted(found.backgrounds)),
            encoder=encoder,
            domain=found.domain,
            scope=None if found.scope is None else probability(found.scope),
            outside=found.outside,
            nearest_outside=found.nearest_outside,
            known=found.known,
            aim=found.aim,
            term_scope=None if found.term_scope is None else probability(found.term_scope),
            answerability=best,
            threshold=cfg.answer_threshold,
            answered=answered,
            reason=reason,
            hits=tuple(hits),
        )

    def signals(self, query: str) -> Signals:
        """What the answer model reads for this query (for calibration)."""
        found = self._evaluate(query, (), prefilter=False)
        if found is None or not len(found.docs):
            return Signals(0.0, 0.0, False, 0.0, 0.0, 0.0)
        return Signals(
            float(found.lexical[0]),
            float(found.semantic[0]),
            found.domain,
            found.scope or 0.0,
            found.outside,
            found.known,
            found.aim.product,
            found.aim.other_career,
            found.term_scope or 0.0,
        )

    def _field_name(self, doc: int, field_index: int) -> str:
        if self.semantic is None or field_index < 0:
            return ""
        snippet = self.snippets[doc]
        if field_index == 0:
            return "title"
        if field_index == 1:
            return "body"
        if field_index - 2 < len(snippet.questions):
            return f"example question: {snippet.questions[field_index - 2]}"
        return "whole snippet"

    def _evaluate(
        self, query: str, exclude: Iterable[str], prefilter: bool | None = None
    ) -> _Evaluation | None:
        cfg = self.config
        if not self.snippets:
            return None
        asked = question_part(query)
        texts = [query] if asked is None else [query, asked]
        is_word = self.semantic.encoder.is_word if self.semantic is not None else None
        parsed = [self.lexical.query_terms(text, is_word) for text in texts]
        if not any(p.terms for p in parsed) and self.semantic is None:
            return None
        lexical_parts = [self.lexical.score(p) for p in parsed]
        size = len(self.snippets)
        backgrounds = backgrounds_in(query)
        terms = tuple(dict.fromkeys(t.term for p in parsed for t in p.terms if t.original))
        corrections = tuple(dict.fromkeys(c for p in parsed for c in p.corrections))
        unknown = tuple(dict.fromkeys(w for p in parsed for w in p.unknown))
        lexical = np.zeros((len(texts), size))
        for row, scores in enumerate(lexical_parts):
            if scores is not None:
                lexical[row] = scores.evidence

        blocked = np.zeros(size, dtype=bool)
        for snippet_id in exclude:
            index = self._by_id.get(snippet_id)
            if index is not None:
                blocked[index] = True
        lexical[:, blocked] = 0.0

        vectors = None
        if self.semantic is not None:
            vectors = self.semantic.encode(texts)
            whole = self.semantic.whole_similarity(vectors)
            whole[blocked] = -1.0
        pool = _top(lexical.max(axis=0), cfg.candidates, positive=True)
        if vectors is not None:
            pool = np.union1d(pool, _top(whole, cfg.candidates, positive=False))
        pool = pool[~blocked[pool]]
        if not len(pool):
            return None

        evidence = lexical[:, pool]
        if self.semantic is not None and vectors is not None:
            similarity, fields = self._field_similarity(vectors, pool)
        else:
            similarity = np.zeros_like(evidence)
            fields = np.full(evidence.shape, -1, dtype=np.int64)
        blend = evidence + cfg.semantic_weight * similarity
        part = blend.argmax(axis=0)
        columns = np.arange(len(pool))
        lex = evidence[part, columns]
        sem = similarity[part, columns]
        domain = bool(set(terms) & self.lexical.domain)
        asked_terms = parsed[-1]
        originals = [t for t in asked_terms.terms if t.original]
        known = sum(self.lexical.knows(t.term) for t in originals) / max(len(originals), 1)
        scope, outside, nearest_outside = self._scope_signals(vectors)
        term_scope = (
            self._scope.term_logit(self.analyzer.surface(text) for text in texts)
            if self._scope is not None
            else None
        )
        aim = aim_of(query)
        question = Signals(
            0.0, 0.0, domain, scope or 0.0, outside, known, aim.product, aim.other_career,
            term_scope or 0.0,
        )  # fmt: skip
        chance = self._model.probabilities(lex, sem, question)
        bonus = np.zeros(len(pool))
        for background in backgrounds:
            written_for = self._written_for.get(background)
            if written_for is not None:
                bonus = np.maximum(bonus, cfg.audience_boost * written_for[pool])
        score = (blend[part, columns] + bonus) * self._prior[pool]
        rank = np.lexsort((self._id_rank[pool], -score))
        found = _Evaluation(
            docs=pool[rank],
            score=score[rank],
            lexical=lex[rank],
            semantic=sem[rank],
            answerability=chance[rank],
            parts=part[rank],
            best_field=fields[part, columns][rank],
            lexical_parts=lexical_parts,
            question_part=asked,
            corrections=corrections,
            unknown=unknown,
            terms=terms,
            backgrounds=backgrounds,
            domain=domain,
            scope=scope,
            outside=outside,
            nearest_outside=nearest_outside,
            known=known,
            aim=aim,
            term_scope=term_scope,
        )
        use_prefilter = cfg.domain_prefilter if prefilter is None else prefilter
        if use_prefilter and not domain:
            found.answerability = np.zeros_like(found.answerability)
            found.reason = "declined: no word of the question is in the field's vocabulary"
        return found

    def _scope_signals(
        self, vectors: NDArray[np.float32] | None
    ) -> tuple[float | None, float, str]:
        """The scope log-odds, the closeness to out-of-scope questions and the nearest one."""
        if self._scope is None or vectors is None:
            return None, 0.0, ""
        return (self._scope.logit(vectors), *self._scope.outside(vectors))

    def _field_similarity(
        self, vectors: NDArray[np.float32], pool: NDArray[np.int64]
    ) -> tuple[Floats, NDArray[np.int64]]:
        """Best cosine over each pooled snippet's fields, per query part, and which field."""
        assert self.semantic is not None
        best = np.zeros((len(vectors), len(pool)))
        fields = np.zeros((len(vectors), len(pool)), dtype=np.int64)
        for row in range(len(vectors)):
            best[row], fields[row] = self.semantic.field_similarity(vectors[row : row + 1], pool)
        return best, fields


def _top(values: Floats, count: int, positive: bool) -> NDArray[np.int64]:
    if positive:
        nonzero = np.flatnonzero(values > 0)
        if len(nonzero) <= count:
            return nonzero.astype(np.int64)
        chosen = nonzero[np.argpartition(-values[nonzero], count - 1)[:count]]
        return np.sort(chosen).astype(np.int64)
    if len(values) <= count:
        return np.arange(len(values), dtype=np.int64)
    return np.sort(np.argpartition(-values, count - 1)[:count]).astype(np.int64)


def _net(tally: VoteTally | None) -> int:
    return 0 if tally is None else tally.up - tally.down
