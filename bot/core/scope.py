"""Is a question about moving from operations into product management at all?

Similarity to the best snippet cannot tell a question about the field from one next to it: "how
do I switch from logistics to data analysis" is as close to the switching snippets as a real
question. A linear read-out of the question's embedding, trained on the knowledge base's own
example questions against questions the bot must not answer (other career switches, running
the ops team better, project-management tooling, "product" in the shop sense, everyday asks),
learns which directions of the embedding space are the field's. Its log-odds are one signal of
the answer model in `ranking.py`. The weights belong to one encoder's vector space; they are
fitted and written by `benchmarks/calibrate.py` and loaded next to the encoder.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

LOGIT_LIMIT = 8.0
"""Log-odds are clipped to this, so one far-out question cannot dominate the answer model."""


@dataclass(frozen=True, slots=True)
class ScopeModel:
    """Logistic regression over unit-length question vectors."""

    weights: NDArray[np.float32]
    bias: float
    encoder: str
    """The encoder whose vectors the weights read (its model id)."""

    def logit(self, vectors: NDArray[np.float32]) -> float:
        """Log-odds that the question is in scope: the best over its vectors (the whole
        message and, for a long one, its question part)."""
        if not len(vectors):
            return -LOGIT_LIMIT
        z = float((vectors @ self.weights).max()) + self.bias
        return max(min(z, LOGIT_LIMIT), -LOGIT_LIMIT)


def probability(logit: float) -> float:
    return float(1 / (1 + np.exp(-logit)))
