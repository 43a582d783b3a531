"""Semantic similarity between a question and each snippet, behind a small encoder port.

The encoder turns texts into unit vectors (any static embedding will do; the composition root
picks one). Each snippet is represented by several vectors: its title, its body, each example
question and the whole snippet. A question's similarity to a snippet is the best cosine over
those fields, which matches paraphrases of one example question as well as questions about the
body. Scanning every field of a large base costs too much per query, so the whole-snippet
vectors pick candidates and only the candidates' fields are compared.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from bot.core.models import Snippet
from bot.core.scope import ScopeModel

Vectors = NDArray[np.float32]
ENCODE_BATCH = 4096


class TextEncoder(Protocol):
    """Turns texts into L2-normalised vectors, one row per text, without network access."""

    @property
    def name(self) -> str:
        """What the encoder is, for explanations and benchmark reports."""
        ...

    def encode(self, texts: Sequence[str]) -> Vectors: ...

    def scope(self) -> ScopeModel | None:
        """The in-scope classifier fitted in this encoder's vector space, if there is one."""
        ...

    def is_word(self, word: str) -> bool:
        """Whether a lowercase word is a whole word of the model's vocabulary: a real word, so
        typo correction leaves it alone ("stuff" is not a misspelt "staff")."""
        ...

    def __hash__(self) -> int:
        """Encoders are compared by identity, so an index built with one can be reused."""
        ...


def snippet_fields(snippet: Snippet) -> list[str]:
    """The texts a snippet is compared on: its title, its body and each example question."""
    return [snippet.title, snippet.body, *snippet.questions]


class SemanticIndex:
    """Field vectors of a set of snippets, for max-over-fields cosine similarity.

    Besides its fields, each snippet has a whole-snippet vector: the normalised mean of its
    field vectors, which is what candidates are picked by.
    """

    def __init__(self, snippets: Sequence[Snippet], encoder: TextEncoder) -> None:
        self.encoder = encoder
        texts: list[str] = []
        counts: list[int] = []
        for snippet in snippets:
            fields = snippet_fields(snippet)
            texts.extend(fields)
            counts.append(len(fields))
        self._size = len(snippets)
        self._counts = np.asarray(counts, dtype=np.int64)
        self._starts = np.concatenate(([0], np.cumsum(self._counts))).astype(np.int64)
        # Encoded in batches and kept in half precision, which halves the memory of a large
        # base; only candidates' rows are read back, in single precision, at query time.
        batches = [
            encoder.encode(texts[start : start + ENCODE_BATCH]).astype(np.float16)
            for start in range(0, len(texts), ENCODE_BATCH)
        ]
        self._fields = np.concatenate(batches) if batches else np.zeros((0, 1), np.float16)
        whole = np.zeros((self._size, self._fields.shape[1]), dtype=np.float32)
        # Snippets with as many fields are summed together: a handful of operations in all.
        for count in np.unique(self._counts).tolist():
            docs = np.flatnonzero(self._counts == count)
            rows = self._starts[docs][:, None] + np.arange(count)
            whole[docs] = self._fields[rows].sum(axis=1, dtype=np.float32)
        norms = np.linalg.norm(whole, axis=1, keepdims=True)
        np.divide(whole, norms, out=whole, where=norms > 0)
        self._whole: Vectors = whole

    def field_count(self, doc: int) -> int:
        """How many fields a snippet has; field index `field_count` is the whole snippet."""
        return int(self._counts[doc])

    def encode(self, texts: Sequence[str]) -> Vectors:
        return self.encoder.encode(texts)

    def whole_similarity(self, query: Vectors) -> NDArray[np.float64]:
        """Cosine of each snippet as a whole to the closest of the query vectors (rows)."""
        if not self._size:
            return np.zeros(0)
        # einsum rather than BLAS: a matrix-vector product this size is faster without threads.
        scores = np.einsum("ij,kj->ik", self._whole, query)
        return np.asarray(scores.max(axis=1), dtype=np.float64)

    def field_similarity(
        self, query: Vectors, docs: NDArray[np.int64]
    ) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
        """For each of `docs`, the best cosine over its fields and whole, and which one won.

        `query` is one row. The winner is a field index into `snippet_fields`, or the field
        count for the whole snippet.
        """
        if not len(docs):
            return np.zeros(0), np.zeros(0, dtype=np.int64)
        counts = self._counts[docs]
        starts = self._starts[docs]
        owners = np.repeat(np.arange(len(docs)), counts)
        rows = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
        scores = np.einsum("ij,j->i", self._fields[rows].astype(np.float32), query[0])
        scores = scores.astype(np.float64)
        # Within each snippet's run of fields, the highest score comes first after this sort.
        order = np.lexsort((-scores, owners))
        first = np.searchsorted(owners[order], np.arange(len(docs)))
        top = order[first]
        best, winner = scores[top], rows[top] - starts
        whole = np.einsum("ij,j->i", self._whole[docs], query[0]).astype(np.float64)
        better = whole > best
        return np.where(better, whole, best), np.where(better, counts, winner)
