"""Is a question about moving from operations into product management at all?

Similarity to the best snippet cannot tell a question about the field from one next to it: "how
do I switch from logistics to data analysis" is as close to the switching snippets as a real
question. A linear read-out of the question's embedding, trained on the knowledge base's own
example questions against questions the bot must not answer (other career switches, running
the ops team better, project-management tooling, "product" in the shop sense, everyday asks),
learns which directions of the embedding space are the field's. A second, local signal
contrasts the question with its nearest out-of-scope prototypes (the classifier's own
must-decline questions): a question that sits right next to "how do I become a scrum master"
is likely a trap however close it also is to a snippet. A third reads the question's words
rather than their average: a logistic regression over the bag of its words, trained on
the same questions, where "pickers", "haiku" or "pmp" can each carry their own weight. All are
signals of the answer model in `ranking.py`. The weights and prototypes belong to one encoder's vector space; they are fitted
and written by `benchmarks/calibrate.py` and loaded next to the encoder.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

LOGIT_LIMIT = 8.0
"""Log-odds are clipped to this, so one far-out question cannot dominate the answer model."""
NEAREST = 3
"""How many out-of-scope prototypes the closeness is averaged over (one is too noisy)."""


@dataclass(frozen=True, slots=True)
class ScopeModel:
    """Logistic regression over unit-length question vectors, and out-of-scope prototypes."""

    weights: NDArray[np.float32]
    bias: float
    encoder: str
    """The encoder whose vectors the weights read (its model id)."""
    prototypes: NDArray[np.float32]
    """Unit vectors of questions that must be declined, one row each."""
    prototype_texts: tuple[str, ...]
    term_weights: Mapping[str, float] = field(default_factory=dict)
    """Weights of words (`lexical.Analyzer.surface`: canonical, not stemmed, so they mean the
    same whatever the stemmer's version) for `term_logit`."""
    term_bias: float = 0.0

    def logit(self, vectors: NDArray[np.float32]) -> float:
        """Log-odds that the question is in scope: the best over its vectors (the whole
        message and, for a long one, its question part)."""
        if not len(vectors):
            return -LOGIT_LIMIT
        z = float((vectors @ self.weights).max()) + self.bias
        return max(min(z, LOGIT_LIMIT), -LOGIT_LIMIT)

    def term_logit(self, parts: Iterable[Iterable[str]]) -> float | None:
        """Log-odds that the question is in scope from its words: the best over its parts
        (the whole message and, for a long one, its question part); None without term weights."""
        if not self.term_weights:
            return None
        return parts_logit(self.term_weights, self.term_bias, parts)

    def outside(self, vectors: NDArray[np.float32]) -> tuple[float, str]:
        """Closeness to the out-of-scope prototypes (see `closeness`) and the nearest one."""
        close, nearest = closeness(self.prototypes, vectors)
        return close, self.prototype_texts[nearest] if nearest >= 0 else ""


def probability(logit: float) -> float:
    return float(1 / (1 + np.exp(-logit)))


def closeness(prototypes: NDArray[np.float32], vectors: NDArray[np.float32]) -> tuple[float, int]:
    """How close a question is to out-of-scope questions: the mean cosine to its NEAREST
    prototypes, for the question's most in-scope vector (the whole message or its question
    part), and which prototype is the nearest."""
    if not len(prototypes) or not len(vectors):
        return 0.0, -1
    scores = vectors @ prototypes.T
    count = min(NEAREST, scores.shape[1])
    top = np.partition(scores, scores.shape[1] - count, axis=1)[:, -count:].mean(axis=1)
    row = int(top.argmin())
    return float(top[row]), int(scores[row].argmax())


def parts_logit(weights: Mapping[str, float], bias: float, parts: Iterable[Iterable[str]]) -> float:
    """`bag_logit` of the best part (the whole message, or its question part), clipped."""
    best = max((bag_logit(weights, bias, terms) for terms in parts), default=-LOGIT_LIMIT)
    return max(min(best, LOGIT_LIMIT), -LOGIT_LIMIT)


def bag_logit(weights: Mapping[str, float], bias: float, terms: Iterable[str]) -> float:
    """A logistic regression's log-odds over the set of known terms, scaled to unit length
    (each known term counts 1 / sqrt(number of known terms), as in training)."""
    known = [weights[t] for t in set(terms) if t in weights]
    if not known:
        return bias
    return bias + sum(known) / float(np.sqrt(len(known)))
