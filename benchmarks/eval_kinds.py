"""Retrieval quality per kind of question: long, short, other on-topic, near-domain, off-topic.

    python benchmarks/eval_kinds.py [--queries FILE ...] [--cmd "pmadvice search"]

Runs the search command in batch mode exactly as `../shared/eval/evaluate.py` does and splits
the numbers by kind. On-topic questions of 40+ words are "long", of three words or fewer
"short". A must-decline question is "off-topic" when its entry says `kind: off-topic` or it sits
under a comment that says off-topic or programming; otherwise it is a near-domain trap.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import subprocess
from collections import defaultdict
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_QUERIES = [ROOT.parent / "shared/eval/queries-dev.yaml", ROOT / "tests/data/retrieval.yaml"]
_QUERY_LINE = re.compile(r"^\s*-\s*q:")
_OFF_TOPIC_SECTION = re.compile(r"off-topic|programming|unrelated", re.IGNORECASE)


def load_cases(path: Path) -> list[dict[str, object]]:
    """The file's cases, each with a `kind`, reading section comments for must-decline ones."""
    cases: list[dict[str, object]] = yaml.safe_load(path.read_text())["queries"]
    sections: list[str] = []
    section = ""
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            section = stripped
        elif _QUERY_LINE.match(line):
            sections.append(section)
    for case, heading in zip(cases, sections, strict=True):
        case.setdefault("kind", kind_of(str(case["q"]), list(case["expect"]), heading))  # type: ignore[call-overload]
    return cases


def kind_of(query: str, expect: list[str], section: str) -> str:
    if not expect:
        return "off-topic" if _OFF_TOPIC_SECTION.search(section) else "near-domain"
    count = len(query.split())
    if count >= 40:
        return "long"
    if count <= 3:
        return "short"
    return "regular"


def run(cmd: str, queries: list[str]) -> list[list[dict[str, object]]]:
    stdin = "".join(q.replace("\n", " ") + "\n" for q in queries)
    command = [*shlex.split(cmd), "--json", "--limit", "3", "--stdin"]
    out = subprocess.run(command, input=stdin, capture_output=True, text=True, check=True)
    return [json.loads(line)["results"] for line in out.stdout.splitlines() if line.strip()]


def score(cases: list[dict[str, object]], answers: list[list[dict[str, object]]]) -> None:
    rows: dict[str, list[float]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for case, results in zip(cases, answers, strict=True):
        expected = set(case["expect"])  # type: ignore[call-overload]
        for key in (str(case["kind"]), "all"):
            row = rows[key]
            row[0] += 1
            if not expected:
                row[3] += not results
                continue
            ranks = [i for i, r in enumerate(results[:3]) if expected & set(r["topics"])]  # type: ignore[call-overload]
            row[1] += bool(ranks) and ranks[0] == 0
            row[2] += bool(ranks)
            row[4] += not results
    print(f"{'kind':<12} {'n':>4} {'hit@1':>6} {'hit@3':>6} {'abstain':>8} {'false-decl':>10}")
    known = ["long", "short", "regular", "near-domain", "off-topic"]
    for key in [*known, *sorted(set(rows) - {*known, "all"}), "all"]:
        if key not in rows:
            continue
        n, h1, h3, ab, fd = rows[key]
        negatives = sum(1 for c in cases if not c["expect"] and (key == "all" or c["kind"] == key))
        positives = n - negatives

        def share(x: float, d: int) -> str:
            return f"{x / d:.2f}" if d else "-"

        print(
            f"{key:<12} {int(n):>4} {share(h1, positives):>6} {share(h3, positives):>6} "
            f"{share(ab, negatives):>8} {share(fd, positives):>10}"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--queries", type=Path, nargs="*", default=DEFAULT_QUERIES)
    parser.add_argument("--cmd", default=f"{ROOT / '.venv/bin/pmadvice'} search")
    args = parser.parse_args()
    for path in args.queries:
        cases = load_cases(path)
        print(f"== {path.name}")
        score(cases, run(args.cmd, [str(c["q"]) for c in cases]))


if __name__ == "__main__":
    main()
