"""The offline text encoder: WordLlama's static embeddings, loaded from its own wheel.

The wordllama package (MIT) ships its 256-dimensional weights and its tokenizer inside the
wheel. Loaded with its package folder as the cache and downloads disabled, it never touches the
network. The model is loaded on first use, so commands that never search never pay for it.

A text's vector is the mean of its token vectors, as `WordLlama.embed` computes it. The
tokenizer never merges across a space, so each distinct word is tokenised once and kept as the
sum of its token vectors and its token count; a text is then a sum over its words. That makes
embedding a large knowledge base several times faster than tokenising every text in full.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from bot.core.semantic import TextEncoder

CHUNK = 256
"""Texts pooled at a time: bounds the memory of gathering their word vectors."""

WORD_CACHE_LIMIT = 50_000
"""Distinct words remembered (about 50 MB); past this the cache starts again from empty."""


class WordLlamaEncoder:
    """A `TextEncoder` backed by the weights that ship inside the wordllama package."""

    name = "wordllama l2_supercat 256-d"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokenizer: Any = None
        self._weights: NDArray[np.float32] | None = None
        self._word_ids: dict[str, int] = {}
        self._sums = np.zeros((0, 0), dtype=np.float32)
        self._counts = np.zeros(0, dtype=np.float32)

    def _load(self) -> tuple[Any, NDArray[np.float32]]:
        if self._weights is None:
            import wordllama

            folder = Path(wordllama.__file__).resolve().parent
            model = wordllama.WordLlama.load(cache_dir=folder, disable_download=True)
            tokenizer = model.tokenizer
            tokenizer.no_padding()
            tokenizer.no_truncation()
            self._tokenizer = tokenizer
            self._weights = np.ascontiguousarray(model.embedding, dtype=np.float32)
            self._sums = np.zeros((0, self._weights.shape[1]), dtype=np.float32)
        return self._tokenizer, self._weights

    def _learn(self, new: list[str]) -> None:
        """Tokenise words not seen before and remember their vector sums and token counts."""
        tokenizer, weights = self._load()
        encoded = tokenizer.encode_batch(new, add_special_tokens=False)
        sums = np.zeros((len(new), weights.shape[1]), dtype=np.float32)
        counts = np.zeros(len(new), dtype=np.float32)
        for row, encoding in enumerate(encoded):
            ids = np.clip(np.asarray(encoding.ids, dtype=np.int64), 0, weights.shape[0] - 1)
            if len(ids):
                sums[row] = weights[ids].sum(axis=0)
                counts[row] = len(ids)
        base = len(self._word_ids)
        for offset, word in enumerate(new):
            self._word_ids[word] = base + offset
        needed = base + len(new)
        if needed > len(self._sums):
            # Grow by doubling so that a few new words per query do not copy the whole cache.
            capacity = max(needed, 2 * len(self._sums), 1024)
            sums_grown = np.zeros((capacity, weights.shape[1]), dtype=np.float32)
            sums_grown[:base] = self._sums[:base]
            counts_grown = np.zeros(capacity, dtype=np.float32)
            counts_grown[:base] = self._counts[:base]
            self._sums, self._counts = sums_grown, counts_grown
        self._sums[base:needed] = sums
        self._counts[base:needed] = counts

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        with self._lock:
            _, weights = self._load()
            out = np.zeros((len(texts), weights.shape[1]), dtype=np.float32)
            for start in range(0, len(texts), CHUNK):
                out[start : start + CHUNK] = self._encode_chunk(texts[start : start + CHUNK])
            if len(self._word_ids) > WORD_CACHE_LIMIT:
                self._forget()
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        np.divide(out, norms, out=out, where=norms > 0)
        return out

    def _encode_chunk(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Mean token vectors (not yet normalised) of a few texts."""
        split = [text.split() for text in texts]
        new = sorted({w for words in split for w in words} - self._word_ids.keys())
        if new:
            self._learn(new)
        ids = self._word_ids
        lengths = np.fromiter((len(words) for words in split), dtype=np.int64, count=len(split))
        flat = np.fromiter(
            (ids[w] for words in split for w in words), dtype=np.int64, count=int(lengths.sum())
        )
        out = np.zeros((len(texts), self._sums.shape[1]), dtype=np.float32)
        gathered, counts = self._sums[flat], self._counts[flat]
        # Slice sums beat np.add.reduceat along rows by a wide margin here.
        end = 0
        for row, length in enumerate(lengths.tolist()):
            start, end = end, end + length
            tokens = counts[start:end].sum()
            if tokens > 0:
                out[row] = gathered[start:end].sum(axis=0) / tokens
        return out

    def _forget(self) -> None:
        self._word_ids = {}
        self._sums = self._sums[:0]
        self._counts = self._counts[:0]


def build_encoder(name: str) -> TextEncoder | None:
    """The encoder a setting names; "none" leaves the ranking lexical only."""
    return WordLlamaEncoder() if name == "wordllama" else None
