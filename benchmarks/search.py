"""Search speed at scale: index 10,000 synthetic snippets, then time queries.

    python benchmarks/search.py [--snippets 10000] [--queries 2000]

Prints index load time, per-query p50/p99 and peak RSS.
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import time
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
            )
        )
    return out


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

    started = time.perf_counter()
    index = SearchIndex(snippets, topics)
    load_seconds = time.perf_counter() - started

    timings = []
    for query in queries:
        t0 = time.perf_counter()
        index.search(query, limit=3)
        timings.append((time.perf_counter() - t0) * 1000)
    timings.sort()
    p99 = timings[int(len(timings) * 0.99) - 1]
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"snippets {len(snippets)}  queries {len(queries)}")
    print(f"load {load_seconds:.2f} s  (target <= 3 s)")
    print(
        f"query p50 {statistics.median(timings):.2f} ms  p99 {p99:.2f} ms  max {timings[-1]:.2f} ms"
        "  (target p99 <= 5 ms)"
    )
    print(f"peak RSS {rss_mb:.0f} MB  (target <= 250 MB)")


if __name__ == "__main__":
    main()
