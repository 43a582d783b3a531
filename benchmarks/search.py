"""Search speed at scale: index 10,000 synthetic snippets, then time queries.

    python benchmarks/search.py [--snippets 10000] [--queries 2000]

Prints, for the bot's ranking (lexical evidence fused with the offline semantic model), for the
lexical ranking alone, and for a plain BM25 (bm25s) over the same corpus in the same process:
index build time, per-query p50/p99, and the memory each index added. Then the process's peak
RSS, and what loading the semantic model cost. Times are CPU time of this process, so a busy
machine does not inflate them; wall-clock build time is shown beside.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import resource
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from bot.catalog import load_knowledge
from bot.core.models import Snippet
from bot.core.ranking import SearchIndex

ROOT = Path(__file__).resolve().parents[1]


def synthetic(count: int, seed: int = 7) -> list[Snippet]:
    """Snippets recombined from the shipped ones' words, so vocabulary and lengths are real."""
    knowledge = load_knowledge(ROOT / "knowledge")
    rng = random.Random(seed)
    vocabulary = sorted({w for s in knowledge.snippets for w in s.body.split()})
    topics = [t.slug for t in knowledge.topics]
    out = []
    for n in range(count):
        base = knowledge.snippets[n % len(knowledge.snippets)]
        body = " ".join(rng.choice(vocabulary) for _ in range(rng.randint(60, 140)))
        out.append(
            Snippet(
                id=f"{base.id}-{n}",
                title=f"{base.title} {rng.choice(vocabulary)}",
                body=body,
                topics=tuple(rng.sample(topics, 2)),
                questions=tuple(
                    " ".join(rng.choice(vocabulary) for _ in range(rng.randint(4, 9)))
                    for _ in range(4)
                ),
                audience=base.audience,
            )
        )
    return out


def rss_mb() -> float:
    """Resident memory now, from /proc (peak RSS cannot show what one index added)."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def timed(queries: list[str], run: Callable[[str], object]) -> tuple[float, float, float]:
    timings = []
    for query in queries:
        t0 = time.process_time()
        run(query)
        timings.append((time.process_time() - t0) * 1000)
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.99) - 1], timings[-1]


class Clock:
    def __init__(self) -> None:
        self.cpu, self.wall = time.process_time(), time.perf_counter()

    def __str__(self) -> str:
        cpu, wall = time.process_time() - self.cpu, time.perf_counter() - self.wall
        return f"{cpu:5.2f} s cpu ({wall:5.2f} s wall)"


def report(name: str, build: str, memory: float, times: tuple[float, float, float]) -> None:
    p50, p99, worst = times
    print(
        f"{name:<30} build {build}  +{memory:4.0f} MB  query p50 {p50:5.2f} ms  "
        f"p99 {p99:5.2f} ms  max {worst:6.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--snippets", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=2_000)
    args = parser.parse_args()

    snippets = synthetic(args.snippets)
    knowledge = load_knowledge(ROOT / "knowledge")
    topics = {t.slug: t for t in knowledge.topics}
    questions = [q for s in knowledge.snippets for q in s.questions]
    rng = random.Random(11)
    queries = [rng.choice(questions) for _ in range(args.queries)]
    queries += ["prodct teardwn exampel", "whats the best pizza topping", "x " * 400]
    print(f"snippets {len(snippets)}  queries {len(queries)}")

    from bot.embedding import WordLlamaEncoder

    before = rss_mb()
    clock = Clock()
    encoder = WordLlamaEncoder()
    encoder.encode(["warm up"])
    print(f"semantic model: import + load {clock}, +{rss_mb() - before:.0f} MB")

    before = rss_mb()
    clock = Clock()
    fused = SearchIndex(snippets, topics, encoder=encoder)
    build = str(clock)
    report("pmadvice (lexical + semantic)", build, rss_mb() - before, timed(queries, fused.search))
    del fused
    gc.collect()

    before = rss_mb()
    clock = Clock()
    lexical = SearchIndex(snippets, topics)
    build = str(clock)
    report("pmadvice lexical only", build, rss_mb() - before, timed(queries, lexical.search))
    del lexical
    gc.collect()

    import logging

    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)

    before = rss_mb()
    clock = Clock()
    corpus = [" ".join((s.title, *s.questions, *s.topics, s.body)) for s in snippets]
    bm25 = bm25s.BM25()
    bm25.index(bm25s.tokenize(corpus, stopwords="en", show_progress=False), show_progress=False)
    build = str(clock)

    def bm25_search(query: str) -> object:
        tokens = bm25s.tokenize([query], stopwords="en", show_progress=False)
        if not tokens.vocab:
            return None
        return bm25.retrieve(tokens, k=3, show_progress=False, n_threads=0)

    report("bm25s (plain BM25)", build, rss_mb() - before, timed(queries, bm25_search))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("targets: build <= 3 s, query p99 <= 5 ms, peak RSS <= 350 MB")
    print(f"peak RSS {peak:.0f} MB")


if __name__ == "__main__":
    main()
