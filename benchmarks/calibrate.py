"""Calibrate the answer/decline decision on the knowledge base itself.

    python benchmarks/calibrate.py [--knowledge DIR] [--negatives FILE ...] [--folds 4]

Positives are the knowledge base's own example questions, each asked of an index that does
not contain it: fold k removes the k-th example question of every snippet. Negatives are the
must-decline questions of the maintainers' set (`tests/data/retrieval.yaml`) and of the shared
dev set. For each question the best-ranked snippet's lexical evidence and semantic similarity
are fitted with a logistic model; the script prints the coefficients to put in
`bot/core/ranking.py`, the ROC table, the chosen threshold (PMADVICE_ANSWER_THRESHOLD) and how
often the domain-word pre-filter would have helped or hurt. Re-run it after content changes.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from collections.abc import Sequence
from dataclasses import astuple
from pathlib import Path

import numpy as np
import yaml

from bot.catalog import load_knowledge
from bot.core.models import Snippet
from bot.core.ranking import AnswerModel, SearchIndex, Signals
from bot.embedding import WordLlamaEncoder

ROOT = Path(__file__).resolve().parents[1]
SHARED_DEV = ROOT.parent / "shared/eval/queries-dev.yaml"
FALSE_DECLINE_BUDGET = 0.05
"""The threshold is the highest one that declines at most this share of held-out positives."""


def negatives(paths: Sequence[Path]) -> list[str]:
    out: list[str] = []
    for path in paths:
        if path.exists():
            out += [c["q"] for c in yaml.safe_load(path.read_text())["queries"] if not c["expect"]]
    return out


def held_out_positives(
    snippets: Sequence[Snippet], topics: dict[str, object], folds: int, encoder: object
) -> tuple[list[Signals], list[tuple[str, bool, bool, bool]]]:
    """Signals and hits of each example question asked of an index without it."""
    features: list[Signals] = []
    hits: list[tuple[str, bool, bool, bool]] = []
    for fold in range(folds):
        reduced = [
            dataclasses.replace(
                s, questions=tuple(q for i, q in enumerate(s.questions) if i != fold)
            )
            for s in snippets
        ]
        index = SearchIndex(reduced, topics, encoder=encoder)  # type: ignore[arg-type]
        for snippet in snippets:
            if fold >= len(snippet.questions):
                continue
            question = snippet.questions[fold]
            features.append(index.signals(question))
            found = index.explain(question, limit=3)
            ids = [h.snippet.id for h in found.hits]
            topical = [bool(set(h.snippet.topics) & set(snippet.topics)) for h in found.hits]
            hits.append((question, ids[:1] == [snippet.id], any(topical[:1]), any(topical[:3])))
    return features, hits


def fit(x: np.ndarray, y: np.ndarray, l2: float = 1e-3) -> np.ndarray:
    """Logistic regression by Newton's method; returns (bias, weights...)."""
    design = np.hstack([np.ones((len(x), 1)), x])
    w = np.zeros(design.shape[1])
    for _ in range(50):
        p = 1 / (1 + np.exp(-design @ w))
        gradient = design.T @ (p - y) + l2 * np.r_[0, w[1:]]
        hessian = design.T @ (design * (p * (1 - p))[:, None]) + l2 * np.eye(len(w))
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


def auc(positive: np.ndarray, negative: np.ndarray) -> float:
    if not len(positive) or not len(negative):
        return float("nan")
    wins = (positive[:, None] > negative[None, :]).sum() + 0.5 * (
        positive[:, None] == negative[None, :]
    ).sum()
    return float(wins / (len(positive) * len(negative)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--knowledge", type=Path, default=ROOT / "knowledge")
    parser.add_argument(
        "--negatives",
        type=Path,
        nargs="*",
        default=[ROOT / "tests/data/retrieval.yaml", SHARED_DEV],
    )
    parser.add_argument("--folds", type=int, default=4)
    args = parser.parse_args()

    started = time.perf_counter()
    knowledge = load_knowledge(args.knowledge)
    topics = {t.slug: t for t in knowledge.topics}
    encoder = WordLlamaEncoder()
    pos, hits = held_out_positives(knowledge.snippets, topics, args.folds, encoder)
    index = SearchIndex(knowledge.snippets, topics, encoder=encoder)
    negative_questions = negatives(args.negatives)
    neg = [index.signals(q) for q in negative_questions]
    x = np.asarray([astuple(f) for f in pos + neg], dtype=np.float64)
    y = np.r_[np.ones(len(pos)), np.zeros(len(neg))]
    bias, w_lex, w_sem, w_dom = fit(x[:, :3], y)
    lexical_only = fit(x[:, :1], y)
    model = AnswerModel(float(bias), float(w_lex), float(w_sem), float(w_dom))
    chance = np.asarray([model.probability(f) for f in pos + neg])
    p_pos, p_neg = chance[y == 1], chance[y == 0]

    print(f"knowledge: {len(knowledge.snippets)} snippets; positives {len(pos)} (held out, "
          f"{args.folds} folds), negatives {len(neg)}")  # fmt: skip
    print(f"held-out example questions: hit@1 (same snippet) {np.mean([h[1] for h in hits]):.2f}, "
          f"hit@1 (shared topic) {np.mean([h[2] for h in hits]):.2f}, "
          f"hit@3 (shared topic) {np.mean([h[3] for h in hits]):.2f}")  # fmt: skip
    print("AUC answerable vs must-decline:")
    print(f"  lexical evidence alone   {auc(x[y == 1, 0], x[y == 0, 0]):.3f}")
    print(f"  semantic similarity alone {auc(x[y == 1, 1], x[y == 0, 1]):.3f}")
    for label, columns in (("lexical + semantic", 2), ("+ known-word share (unused)", 4)):
        w = fit(x[:, :columns], y)
        z = x[:, :columns] @ w[1:] + w[0]
        print(f"  {label:<26}{auc(z[y == 1], z[y == 0]):.3f}")
    print(f"  lexical + semantic + field vocabulary (used) {auc(p_pos, p_neg):.3f}")
    print("ROC of the fused chance (threshold: share of positives answered / negatives declined):")
    chosen = 0.0
    for t in np.round(np.arange(0.05, 0.96, 0.05), 2):
        tpr, tnr = float((p_pos >= t).mean()), float((p_neg < t).mean())
        if 1 - tpr <= FALSE_DECLINE_BUDGET:
            chosen = float(t)
        print(f"  {t:.2f}  answered {tpr:.3f}  declined {tnr:.3f}")
    print(
        f"SEMANTIC_MODEL = AnswerModel(bias={bias:.2f}, lexical={w_lex:.2f}, semantic={w_sem:.2f}, "
        f"domain={w_dom:.2f})"
    )
    print(
        f"LEXICAL_MODEL = AnswerModel(bias={lexical_only[0]:.2f}, lexical={lexical_only[1]:.2f}, "
        "semantic=0.0, domain=0.0)"
    )
    print(f"DEFAULT_ANSWER_THRESHOLD = {chosen:.2f}  (PMADVICE_ANSWER_THRESHOLD; at most "
          f"{FALSE_DECLINE_BUDGET:.0%} of held-out example questions declined)")  # fmt: skip

    domain = index.lexical.domain

    def has_domain(q: str) -> bool:
        return bool(set(index.lexical.query_terms(q).originals) & domain)

    positives_text = [h[0] for h in hits]
    blocked_pos = sum(not has_domain(q) for q in positives_text)
    blocked_neg = [q for q in negative_questions if not has_domain(q)]
    caught = sum(model.probability(index.signals(q)) >= chosen for q in blocked_neg)
    print("(as a soft feature above, the field vocabulary already costs those positives little)")
    print(f"domain-word pre-filter: would decline {blocked_pos}/{len(positives_text)} positives "
          f"and {len(blocked_neg)}/{len(neg)} negatives, of which {caught} the fused chance "
          "answers at the chosen threshold")  # fmt: skip
    print(f"({time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
