"""The offline text encoder: WordLlama's static embeddings, loaded from its own wheel.

The wordllama package (MIT) ships its 256-dimensional weights and its tokenizer inside the
wheel. They are read from the installed package's folder with safetensors and tokenizers, so no
code that could reach the network runs at all. The model is loaded on first use, so commands
that never search never pay for it.

A text's vector is the mean of its token vectors, as `WordLlama.embed` computes it. The
tokenizer never merges across a space, so each distinct word is tokenised once and kept as the
sum of its token vectors and its token count; a text is then a sum over its words. That makes
embedding a large knowledge base several times faster than tokenising every text in full.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from bot.core.scope import ScopeModel
from bot.core.semantic import TextEncoder

log = logging.getLogger(__name__)

CHUNK = 4096
"""Texts split and looked up at a time."""
POOL_ROWS = 16384
"""Word vectors gathered at once when pooling (16 MB): bounds the memory of a large build."""

WORD_CACHE_LIMIT = 50_000
"""Distinct words remembered (about 50 MB); past this the cache starts again from empty."""


WEIGHTS = "weights/l2_supercat_256.safetensors"
DIMENSIONS = 256
MODEL_ID = "wordllama-0.4.0-l2_supercat_256"
SAVE_AFTER = 64
"""New knowledge-base words learnt before the word cache file is written again."""
QUESTION_TEXTS = 2
"""A call with at most this many texts is a member's question (whole and question part)."""
TOKENIZER = "tokenizers/l2_supercat_tokenizer_config.json"
SCOPE_FILE = Path(__file__).resolve().parent / "data" / "scope-wordllama.npz"
"""The in-scope classifier for these vectors, written by benchmarks/calibrate.py."""


class ModelMissing(RuntimeError):
    """The wordllama package, which carries the model files, is not installed."""


def model_folder() -> Path:
    """Where the wordllama package's files are, found without importing it."""
    spec = importlib.util.find_spec("wordllama")
    if spec is None or not spec.submodule_search_locations:
        raise ModelMissing(
            "The semantic model needs the wordllama package (pip install wordllama); "
            "or set PMADVICE_SEMANTIC_MODEL=none to rank by words alone."
        )
    return Path(next(iter(spec.submodule_search_locations)))


class WordLlamaEncoder:
    """A `TextEncoder` backed by the weights that ship inside the wordllama package."""

    name = "wordllama l2_supercat 256-d"

    def __init__(self, cache_file: Path | None = None, scope: ScopeModel | None = None) -> None:
        self._lock = threading.Lock()
        self._tokenizer: Any = None
        self._words: frozenset[str] | None = None
        self._weights: NDArray[np.float16] | None = None
        self._word_ids: dict[str, int] = {}
        self._sums = np.zeros((0, DIMENSIONS), dtype=np.float32)
        self._counts = np.zeros(0, dtype=np.float32)
        self._cache_file = cache_file
        self._kept: set[str] = set()
        """Words from the knowledge base, the only ones written to the cache file: members'
        questions are encoded one or two texts at a time and their words stay in memory."""
        self._unsaved = 0
        self._scope = scope
        self._scope_read = scope is not None
        if cache_file is not None:
            self._restore(cache_file)

    def scope(self) -> ScopeModel | None:
        """The shipped scope classifier (a few kilobytes, read on first use)."""
        if not self._scope_read:
            self._scope = read_scope(SCOPE_FILE)
            self._scope_read = True
        return self._scope

    def is_word(self, word: str) -> bool:
        """Whether the tokenizer has the word whole (as "▁word"): its 32,000 pieces include
        some 9,000 common English words of five letters or more, and no misspellings of them."""
        if self._words is None:
            from tokenizers import Tokenizer

            vocabulary = Tokenizer.from_file(str(model_folder() / TOKENIZER)).get_vocab()
            self._words = frozenset(
                piece[1:] for piece in vocabulary if piece.startswith("\u2581") and len(piece) > 1
            )
        return word in self._words

    def _restore(self, path: Path) -> None:
        """Words encoded by an earlier run; a missing or unreadable file is simply ignored."""
        try:
            with np.load(path, allow_pickle=False) as data:
                if str(data["model"]) != MODEL_ID:
                    return
                words = [str(w) for w in data["words"]]
                sums = data["sums"].astype(np.float32)
                counts = data["counts"].astype(np.float32)
        except (OSError, ValueError, KeyError) as error:
            log.debug("word vector cache %s not used: %s", path, error)
            return
        if len(words) != len(sums) or len(words) != len(counts) or len(words) > WORD_CACHE_LIMIT:
            return
        self._word_ids = {word: row for row, word in enumerate(words)}
        self._kept = set(words)
        self._sums, self._counts = sums, counts

    def _save(self, path: Path) -> None:
        words = sorted(self._kept)
        rows = np.asarray([self._word_ids[word] for word in words], dtype=np.int64)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_name(f".{path.name}.{os.getpid()}.npz")
            np.savez(
                temporary,
                model=np.asarray(MODEL_ID),
                words=np.asarray(words),
                sums=self._sums[rows].astype(np.float16),
                counts=self._counts[rows],
            )
            os.replace(temporary, path)
        except OSError as error:
            log.debug("word vector cache %s not saved: %s", path, error)

    def _load(self) -> tuple[Any, NDArray[np.float16]]:
        if self._weights is None:
            # The files the package ships, read directly: importing the package's loader would
            # also import its model-hub client (0.3 s and 50 MB more) for nothing.
            from safetensors.numpy import load_file
            from tokenizers import Tokenizer

            folder = model_folder()
            weights = load_file(folder / WEIGHTS)["embedding.weight"]
            tokenizer = Tokenizer.from_file(str(folder / TOKENIZER))
            tokenizer.no_padding()
            tokenizer.no_truncation()
            self._tokenizer = tokenizer
            self._weights = weights
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
                sums[row] = weights[ids].sum(axis=0, dtype=np.float32)
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
            out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
            keep = self._cache_file is not None and len(texts) > QUESTION_TEXTS
            for start in range(0, len(texts), CHUNK):
                chunk = texts[start : start + CHUNK]
                out[start : start + CHUNK] = self._encode_chunk(chunk, keep)
            if len(self._word_ids) > WORD_CACHE_LIMIT:
                self._forget()
            elif self._cache_file is not None and self._unsaved >= SAVE_AFTER:
                self._save(self._cache_file)
                self._unsaved = 0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        np.divide(out, norms, out=out, where=norms > 0)
        return out

    def _encode_chunk(self, texts: Sequence[str], keep: bool) -> NDArray[np.float32]:
        """Mean token vectors (not yet normalised) of a few texts."""
        split = [text.split() for text in texts]
        seen = {w for words in split for w in words}
        new = sorted(seen - self._word_ids.keys())
        if new:
            self._learn(new)
        if keep:
            self._unsaved += len(seen - self._kept)
            self._kept |= seen
        ids = self._word_ids
        lengths = np.fromiter(map(len, split), dtype=np.int64, count=len(split))
        flat = np.fromiter(
            (ids[w] for words in split for w in words), dtype=np.int64, count=int(lengths.sum())
        )
        out = np.zeros((len(texts), self._sums.shape[1]), dtype=np.float32)
        starts = np.cumsum(lengths) - lengths
        # Texts of equal length are pooled together, a few at a time: one gather and one sum
        # per batch rather than per text.
        order = np.argsort(lengths, kind="stable")
        bounds = np.flatnonzero(np.diff(lengths[order])) + 1
        for group in np.split(order, bounds):
            length = int(lengths[group[0]])
            if not length:
                continue
            step = max(1, POOL_ROWS // length)
            for first in range(0, len(group), step):
                rows = group[first : first + step]
                word_rows = flat[starts[rows][:, None] + np.arange(length)]
                tokens = self._counts[word_rows].sum(axis=1)
                pooled = self._sums[word_rows].sum(axis=1)
                np.divide(pooled, tokens[:, None], out=pooled, where=tokens[:, None] > 0)
                out[rows] = pooled
        return out

    def _forget(self) -> None:
        self._word_ids = {}
        self._kept = set()
        self._sums = self._sums[:0]
        self._counts = self._counts[:0]


@functools.cache
def build_encoder(name: str, cache_dir: Path | None = None) -> TextEncoder | None:
    """The encoder a setting names ("none" leaves the ranking lexical only).

    With a cache folder, words already encoded by an earlier run are read from a small file
    there, so a one-shot `pmadvice search` neither re-encodes the knowledge base nor, when it
    knows every word of the question, loads the model at all. One encoder per process and
    folder: the weights are read-only, and sharing it lets unchanged indexes be reused.
    """
    if name != "wordllama":
        return None
    return WordLlamaEncoder(cache_dir / f"{MODEL_ID}.npz" if cache_dir else None)


def read_scope(path: Path) -> ScopeModel | None:
    """A scope classifier file, or None when it is missing or fitted for another model."""
    try:
        with np.load(path, allow_pickle=False) as data:
            if str(data["encoder"]) != MODEL_ID or data["weights"].shape != (DIMENSIONS,):
                return None
            return ScopeModel(
                weights=data["weights"].astype(np.float32),
                bias=float(data["bias"]),
                encoder=MODEL_ID,
                prototypes=data["prototypes"].astype(np.float32),
                prototype_texts=tuple(str(t) for t in data["prototype_texts"]),
                term_weights=dict(
                    zip(
                        (str(t) for t in data["terms"]),
                        (float(w) for w in data["term_weights"]),
                        strict=True,
                    )
                )
                if "terms" in data
                else {},
                term_bias=float(data["term_bias"]) if "term_bias" in data else 0.0,
            )
    except (OSError, ValueError, KeyError) as error:
        log.warning("scope classifier %s not used: %s", path, error)
        return None


def write_scope(path: Path, model: ScopeModel, about: str) -> None:
    """Write a scope classifier for this encoder's vectors (used by benchmarks/calibrate.py)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        np.savez_compressed(
            out,
            about=np.asarray(about),
            encoder=np.asarray(model.encoder),
            bias=np.asarray(model.bias),
            weights=model.weights.astype(np.float32),
            prototypes=model.prototypes.astype(np.float16),
            prototype_texts=np.asarray(model.prototype_texts),
            terms=np.asarray(list(model.term_weights)),
            term_weights=np.asarray(list(model.term_weights.values()), dtype=np.float32),
            term_bias=np.asarray(model.term_bias),
        )
