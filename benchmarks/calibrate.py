"""Calibrate the answer/decline decision: the scope classifier and the answer model.

    python benchmarks/calibrate.py [--knowledge DIR] [--folds 4] [--with-dev] [--dry-run]

1. The scope classifier (`bot/core/scope.py`) is an L2-regularised logistic regression over
   question vectors. In scope: the knowledge base's own example questions and the on-topic
   questions of `tests/data/scope.yaml`. Out of scope: the must-decline questions of that file
   and of `tests/data/retrieval.yaml`. Never used, so that they measure it honestly: questions
   marked `holdout: true` and the on-topic questions of `tests/data/retrieval.yaml`. Its
   regularisation is chosen by cross-validated log-loss; the classifier fitted on all of its
   questions is written to `bot/data/scope-wordllama.npz` (unless --dry-run). Beside it, a
   second classifier reads the same questions as bags of canonical words (its own
   regularisation, also chosen by cross-validated log-loss), written into the same file.
2. The answer model is a logistic model of the best snippet's lexical evidence and semantic
   similarity, the field-vocabulary flag, the scope log-odds, the closeness to out-of-scope
   prototypes, and whether the question heads for product management or for another career
   (`bot/core/aim.py`). Positives are example questions asked of an index without them (fold k removes
   the k-th example question of every snippet) and the on-topic training questions; negatives
   are the must-decline training questions (with --with-dev, the shared dev set's too; by
   default the dev set stays unseen, so its numbers estimate unseen questions). Every scope
   signal it is fitted on is out of fold: the classifier and prototypes that scored a question
   never included it.
3. The threshold is the highest one that declines at most FALSE_DECLINE_BUDGET of the positives.

It prints the coefficients to put in `bot/core/ranking.py`, the AUC of each signal, and the
decision's numbers on the held-out questions and on the dev set. Deterministic (fixed seed).
Re-run it after content changes.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import time
from collections.abc import Sequence
from dataclasses import astuple
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from numpy.typing import NDArray

from bot.catalog import load_knowledge
from bot.core.lexical import Analyzer
from bot.core.models import Snippet, Topic
from bot.core.query import question_part
from bot.core.ranking import AnswerModel, RankingConfig, SearchIndex, Signals
from bot.core.scope import LOGIT_LIMIT, ScopeModel, parts_logit
from bot.embedding import MODEL_ID, SCOPE_FILE, WordLlamaEncoder, write_scope

ROOT = Path(__file__).resolve().parents[1]
SHARED_DEV = ROOT.parent / "shared/eval/queries-dev.yaml"
OWN_SETS = [ROOT / "tests/data/scope.yaml", ROOT / "tests/data/retrieval.yaml"]
FALSE_DECLINE_BUDGET = 0.05
"""The threshold is the highest one that declines at most this share of held-out positives."""
L2_GRID = (0.01, 0.03, 0.1, 0.3, 1.0)
TERM_L2_GRID = (0.03, 0.1, 0.3, 1.0)
ANALYZER = Analyzer()
SEED = 2026
Floats = NDArray[np.float64]


@dataclasses.dataclass
class Question:
    text: str
    in_scope: bool
    fold: int
    expect: tuple[str, ...] = ()
    vectors: NDArray[np.float32] | None = None
    oof: float = 0.0
    """Scope log-odds from a classifier that did not see this question."""
    oof_outside: float = 0.0
    """Closeness to out-of-scope prototypes, none of which is this question."""
    parts: tuple[tuple[str, ...], ...] = ()
    """Canonical words of the whole question and, for a long one, of its question part."""
    oof_terms: float = 0.0
    """Scope log-odds from the words, by a term classifier that did not see this question."""


def cases(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    found: list[dict[str, Any]] = yaml.safe_load(path.read_text())["queries"]
    return found


def embed(encoder: WordLlamaEncoder, questions: Sequence[Question]) -> None:
    """Each question's vectors and terms as the ranking makes them: the whole and its question
    part."""
    texts = [q.text for q in questions]
    parts = [question_part(t) for t in texts]
    for question, part in zip(questions, parts, strict=True):
        texts_of = [question.text] if part is None else [question.text, part]
        question.parts = tuple(tuple(ANALYZER.surface(t)) for t in texts_of)
    whole = encoder.encode(texts)
    asked = encoder.encode([p or t for p, t in zip(parts, texts, strict=True)])
    for row, question in enumerate(questions):
        rows = [whole[row]] if parts[row] is None else [whole[row], asked[row]]
        question.vectors = np.stack(rows)


def fit(x: Floats, y: Floats, l2: float = 1e-3, balanced: bool = False) -> Floats:
    """Logistic regression by Newton's method; returns (bias, weights...)."""
    design = np.hstack([np.ones((len(x), 1)), x])
    sample = np.ones(len(y))
    if balanced:
        sample = np.where(y == 1, 0.5 / max(y.mean(), 1e-9), 0.5 / max(1 - y.mean(), 1e-9))
    w = np.zeros(design.shape[1])
    penalty = l2 * np.eye(len(w))
    penalty[0, 0] = 0.0
    for _ in range(100):
        p = 1 / (1 + np.exp(-np.clip(design @ w, -50, 50)))
        gradient = design.T @ (sample * (p - y)) + penalty @ w
        hessian = design.T @ (design * (sample * p * (1 - p))[:, None]) + penalty
        step = np.linalg.solve(hessian + 1e-9 * np.eye(len(w)), gradient)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


def train_terms(questions: Sequence[Question], l2: float) -> tuple[dict[str, float], float]:
    """A logistic regression over unit-length bags of words (`bag_logit` reads it)."""
    rows = [(set(part), q.in_scope) for q in questions for part in q.parts]
    vocabulary = {t: i for i, t in enumerate(sorted({t for terms, _ in rows for t in terms}))}
    x = np.zeros((len(rows), len(vocabulary)))
    for row, (terms, _) in enumerate(rows):
        if terms:
            x[row, [vocabulary[t] for t in terms]] = 1 / np.sqrt(len(terms))
    y = np.asarray([float(in_scope) for _, in_scope in rows])
    w = fit(x, y, l2, balanced=True)
    return {t: float(w[1 + i]) for t, i in vocabulary.items()}, float(w[0])


def train_scope(questions: Sequence[Question], l2: float) -> ScopeModel:
    # Each question by its whole vector; long ones also by their question part.
    kept = [(q.vectors, q) for q in questions if q.vectors is not None]
    x = np.vstack([v for v, _ in kept]).astype(np.float64)
    y = np.concatenate([np.full(len(v), float(q.in_scope)) for v, q in kept])
    w = fit(x, y, l2, balanced=True)
    outside = [(v, q.text) for v, q in kept if not q.in_scope]
    return ScopeModel(
        weights=w[1:].astype(np.float32),
        bias=float(w[0]),
        encoder=MODEL_ID,
        prototypes=np.vstack([v for v, _ in outside]),
        prototype_texts=tuple(text for v, text in outside for _ in range(len(v))),
    )


def out_of_fold(questions: Sequence[Question], folds: int, l2: float) -> tuple[Floats, Floats]:
    """Scope log-odds and closeness to out-of-scope prototypes, each from a fold that did not
    see the question."""
    logits, close = np.zeros(len(questions)), np.zeros(len(questions))
    for fold in range(folds):
        model = train_scope([q for q in questions if q.fold != fold], l2)
        for i, q in enumerate(questions):
            if q.fold == fold and q.vectors is not None:
                logits[i] = model.logit(q.vectors)
                close[i] = model.outside(q.vectors)[0]
    return logits, close


def terms_out_of_fold(questions: Sequence[Question], folds: int, l2: float) -> Floats:
    """The term classifier's scope log-odds, each from a fold that did not see the question."""
    logits = np.zeros(len(questions))
    for fold in range(folds):
        weights, bias = train_terms([q for q in questions if q.fold != fold], l2)
        for i, q in enumerate(questions):
            if q.fold == fold:
                logits[i] = parts_logit(weights, bias, q.parts)
    return logits


def log_loss(logits: Floats, y: Floats) -> float:
    p = np.clip(1 / (1 + np.exp(-logits)), 1e-6, 1 - 1e-6)
    per = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    return float(0.5 * per[y == 1].mean() + 0.5 * per[y == 0].mean())


def auc(positive: Floats, negative: Floats) -> float:
    if not len(positive) or not len(negative):
        return float("nan")
    wins = (positive[:, None] > negative[None, :]).sum() + 0.5 * (
        positive[:, None] == negative[None, :]
    ).sum()
    return float(wins / (len(positive) * len(negative)))


def held_out_positives(
    snippets: Sequence[Snippet],
    topics: dict[str, Topic],
    folds: int,
    encoder: WordLlamaEncoder,
    oof: dict[tuple[int, int], Question],
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
        index = SearchIndex(reduced, topics, encoder=encoder)
        for doc, snippet in enumerate(snippets):
            if fold >= len(snippet.questions):
                continue
            question = snippet.questions[fold]
            scored = oof[doc, fold]
            signals = dataclasses.replace(
                index.signals(question),
                scope=scored.oof,
                outside=scored.oof_outside,
                term_scope=scored.oof_terms,
            )
            features.append(signals)
            found = index.explain(question, limit=3)
            ids = [h.snippet.id for h in found.hits]
            topical = [bool(set(h.snippet.topics) & set(snippet.topics)) for h in found.hits]
            hits.append((question, ids[:1] == [snippet.id], any(topical[:1]), any(topical[:3])))
    return features, hits


def rates(index: SearchIndex, chosen: Sequence[dict[str, Any]]) -> str:
    """hit@3, abstain and false-decline of the shipped decision on a set of questions."""
    on = [c for c in chosen if c["expect"]]
    off = [c for c in chosen if not c["expect"]]
    hit3 = declined = abstained = 0
    for case in on:
        result = index.search(case["q"], limit=3)
        declined += result.declined
        hit3 += any(set(case["expect"]) & set(h.snippet.topics) for h in result.hits)
    for case in off:
        abstained += index.search(case["q"]).declined
    return (
        f"on-topic {len(on)}: hit@3 {hit3 / max(len(on), 1):.2f}, false-decline "
        f"{declined / max(len(on), 1):.2f}; must-decline {len(off)}: abstain "
        f"{abstained / max(len(off), 1):.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--knowledge", type=Path, default=ROOT / "knowledge")
    parser.add_argument("--folds", type=int, default=4)
    parser.add_argument(
        "--with-dev", action="store_true", help="add the dev set's negatives to calibration"
    )
    parser.add_argument(
        "--false-decline-budget",
        type=float,
        default=FALSE_DECLINE_BUDGET,
        help="the share of held-out positives the threshold may decline",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help=f"do not write {SCOPE_FILE.relative_to(ROOT)}"
    )
    args = parser.parse_args()

    started = time.perf_counter()
    rng = random.Random(SEED)
    knowledge = load_knowledge(args.knowledge)
    snippets = knowledge.snippets
    topics = {t.slug: t for t in knowledge.topics}
    encoder = WordLlamaEncoder()

    # The scope classifier's questions, each with a fold.
    example: dict[tuple[int, int], Question] = {}
    for doc, snippet in enumerate(snippets):
        for i, text in enumerate(snippet.questions):
            example[doc, i] = Question(text, True, i % args.folds, tuple(snippet.topics))
    scope_cases, tuning_cases = cases(OWN_SETS[0]), cases(OWN_SETS[1])
    training = [c for c in scope_cases if not c.get("holdout")]
    training += [c for c in tuning_cases if not c["expect"]]
    holdout = [c for c in scope_cases if c.get("holdout")]
    holdout += [c for c in tuning_cases if c["expect"]]
    extra = [
        Question(str(c["q"]), bool(c["expect"]), rng.randrange(args.folds), tuple(c["expect"]))
        for c in training
    ]
    scope_questions = [*example.values(), *extra]
    embed(encoder, scope_questions)
    y_scope = np.asarray([q.in_scope for q in scope_questions], dtype=np.float64)
    losses = {
        l2: log_loss(out_of_fold(scope_questions, args.folds, l2)[0], y_scope) for l2 in L2_GRID
    }
    l2 = min(losses, key=losses.__getitem__)
    logits, close = out_of_fold(scope_questions, args.folds, l2)
    for question, logit, near in zip(scope_questions, logits, close, strict=True):
        question.oof = float(np.clip(logit, -LOGIT_LIMIT, LOGIT_LIMIT))
        question.oof_outside = float(near)
    term_losses = {
        l2: log_loss(terms_out_of_fold(scope_questions, args.folds, l2), y_scope)
        for l2 in TERM_L2_GRID
    }
    term_l2 = min(term_losses, key=term_losses.__getitem__)
    for question, logit in zip(
        scope_questions, terms_out_of_fold(scope_questions, args.folds, term_l2), strict=True
    ):
        question.oof_terms = float(logit)
    term_weights, term_bias = train_terms(scope_questions, term_l2)
    final = dataclasses.replace(
        train_scope(scope_questions, l2), term_weights=term_weights, term_bias=term_bias
    )

    # The answer model's questions.
    pos, hits = held_out_positives(snippets, topics, args.folds, encoder, example)
    index = SearchIndex(snippets, topics, encoder=encoder)

    def signals(question: Question) -> Signals:
        return dataclasses.replace(
            index.signals(question.text),
            scope=question.oof,
            outside=question.oof_outside,
            term_scope=question.oof_terms,
        )

    pos += [signals(q) for q in extra if q.in_scope]
    neg = [signals(q) for q in extra if not q.in_scope]
    dev_cases = cases(SHARED_DEV)
    if args.with_dev:
        dev_negatives = [Question(str(c["q"]), False, -1) for c in dev_cases if not c["expect"]]
        embed(encoder, dev_negatives)
        for q in dev_negatives:
            assert q.vectors is not None
            q.oof = final.logit(q.vectors)
            q.oof_outside = final.outside(q.vectors)[0]
            q.oof_terms = final.term_logit(q.parts) or 0.0
        neg += [signals(q) for q in dev_negatives]
    x = np.asarray([astuple(f) for f in pos + neg], dtype=np.float64)
    y = np.r_[np.ones(len(pos)), np.zeros(len(neg))]
    used, unscoped_columns = [0, 1, 2, 3, 4, 6, 7, 8], [0, 1, 2, 6, 7]
    bias, w_lex, w_sem, w_dom, w_scope, w_out, w_product, w_elsewhere, w_terms = fit(x[:, used], y)
    model = AnswerModel(
        float(bias), float(w_lex), float(w_sem), float(w_dom), float(w_scope), float(w_out),
        float(w_product), float(w_elsewhere), float(w_terms),
    )  # fmt: skip
    unscoped = fit(x[:, unscoped_columns], y)
    lexical_only = fit(x[:, :1], y)
    chance = np.asarray([model.probability(f) for f in pos + neg])
    p_pos, p_neg = chance[y == 1], chance[y == 0]

    print(f"knowledge: {len(snippets)} snippets; scope classifier: {len(scope_questions)} "
          f"questions ({int(y_scope.sum())} in scope), L2 {l2} (cross-validated log-loss "
          + ", ".join(f"{k}: {v:.3f}" for k, v in losses.items()) + ")")  # fmt: skip
    print(f"term classifier: {len(term_weights)} terms, L2 {term_l2} (cross-validated log-loss "
          + ", ".join(f"{k}: {v:.3f}" for k, v in term_losses.items()) + ")")  # fmt: skip
    print(f"answer model: positives {len(pos)} (example questions held out in {args.folds} "
          f"folds, own on-topic questions), negatives {len(neg)} "
          f"({'own and the dev set' if args.with_dev else 'own only'})")  # fmt: skip
    print(f"held-out example questions: hit@1 (same snippet) {np.mean([h[1] for h in hits]):.2f}, "
          f"hit@1 (shared topic) {np.mean([h[2] for h in hits]):.2f}, "
          f"hit@3 (shared topic) {np.mean([h[3] for h in hits]):.2f}")  # fmt: skip
    print("AUC answerable vs must-decline (scope log-odds out of fold):")
    alone = (
        ("lexical evidence", 0),
        ("semantic similarity", 1),
        ("scope log-odds", 3),
        ("scope log-odds from the words", 8),
    )
    for label, column in alone:
        print(f"  {label + ' alone':<42}{auc(x[y == 1, column], x[y == 0, column]):.3f}")
    near = x[:, 4]
    print(f"  {'closeness to out-of-scope alone (reversed)':<42}"
          f"{auc(-near[y == 1], -near[y == 0]):.3f}")  # fmt: skip
    combinations = (
        ("lexical + semantic + vocabulary", [0, 1, 2]),
        ("  + known-word share (unused)", [0, 1, 2, 5]),
        ("  + scope log-odds", [0, 1, 2, 3]),
        ("  + closeness to out-of-scope", [0, 1, 2, 4]),
        ("  + scope and closeness", [0, 1, 2, 3, 4]),
        ("  + the career it names", [0, 1, 2, 6, 7]),
        ("  + scope from the words", [0, 1, 2, 8]),
        ("  + all but the words' scope", [0, 1, 2, 3, 4, 6, 7]),
    )
    for label, columns in combinations:
        w = fit(x[:, columns], y)
        z = x[:, columns] @ w[1:] + w[0]
        print(f"  {label:<42}{auc(z[y == 1], z[y == 0]):.3f}")
    print(f"  {'  + all (used)':<42}{auc(p_pos, p_neg):.3f}")
    print("ROC of the fused chance (threshold: share of positives answered / negatives declined):")
    for t in np.round(np.arange(0.05, 0.96, 0.05), 2):
        tpr, tnr = float((p_pos >= t).mean()), float((p_neg < t).mean())
        print(f"  {t:.2f}  answered {tpr:.3f}  declined {tnr:.3f}")
    grid = np.round(np.arange(0.01, 1.0, 0.01), 2)
    budget = args.false_decline_budget
    chosen = float(max(t for t in grid if (p_pos < t).mean() <= budget))
    print(
        f"SCOPED_MODEL = AnswerModel(bias={bias:.2f}, lexical={w_lex:.2f}, semantic={w_sem:.2f}, "
        f"domain={w_dom:.2f},\n    scope={w_scope:.2f}, outside={w_out:.2f}, "
        f"product={w_product:.2f}, elsewhere={w_elsewhere:.2f}, term_scope={w_terms:.2f})"
    )
    print(
        f"SEMANTIC_MODEL = AnswerModel(bias={unscoped[0]:.2f}, lexical={unscoped[1]:.2f}, "
        f"semantic={unscoped[2]:.2f}, domain={unscoped[3]:.2f}, product={unscoped[4]:.2f}, "
        f"elsewhere={unscoped[5]:.2f})"
    )
    print(
        f"LEXICAL_MODEL = AnswerModel(bias={lexical_only[0]:.2f}, lexical={lexical_only[1]:.2f}, "
        "semantic=0.0, domain=0.0)"
    )
    print(f"DEFAULT_ANSWER_THRESHOLD = {chosen:.2f}  (PMADVICE_ANSWER_THRESHOLD; at most "
          f"{budget:.0%} of held-out positives declined)")  # fmt: skip

    if not args.dry_run:
        write_scope(
            SCOPE_FILE,
            final,
            f"written by benchmarks/calibrate.py: logistic regression, L2 {l2} (terms: "
            f"{term_l2}), "
            f"{len(scope_questions)} questions, seed {SEED}",
        )
        print(f"wrote {SCOPE_FILE.relative_to(ROOT)}: {final.prototypes.shape[0]} prototypes")
    # The decision as it would ship, on questions no part of it was fitted on.
    shipped = WordLlamaEncoder(scope=final)
    config = RankingConfig(scoped_model=model, answer_threshold=chosen)
    trial = SearchIndex(snippets, topics, config=config, encoder=shipped)
    print(f"held out, own questions: {rates(trial, holdout)}")
    print(f"dev set: {rates(trial, dev_cases)}")
    print(f"({time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
