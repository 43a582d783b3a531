"""The scope signals: what they are trained on, and how the decision does on questions that no
part of it was fitted on (`holdout: true` in tests/data/scope.yaml, and the on-topic questions of
tests/data/retrieval.yaml, which calibration never uses)."""

from pathlib import Path

import numpy as np
import pytest
import yaml

from bot.catalog import load_knowledge
from bot.core.lexical import Analyzer
from bot.core.query import question_part
from bot.core.ranking import SearchIndex
from bot.core.scope import LOGIT_LIMIT, NEAREST, ScopeModel, bag_logit, closeness
from bot.core.text import normalise_question
from bot.embedding import MODEL_ID, SCOPE_FILE, WordLlamaEncoder, read_scope

ROOT = Path(__file__).resolve().parents[2]
KNOWLEDGE = load_knowledge(ROOT / "knowledge")
TOPICS = {t.slug: t for t in KNOWLEDGE.topics}
SCOPE_CASES = yaml.safe_load((ROOT / "tests/data/scope.yaml").read_text())["queries"]
TUNING_CASES = yaml.safe_load((ROOT / "tests/data/retrieval.yaml").read_text())["queries"]
SHARED_DEV = ROOT.parent / "shared/eval/queries-dev.yaml"


@pytest.fixture(scope="module")
def index():
    return SearchIndex(KNOWLEDGE.snippets, TOPICS, encoder=WordLlamaEncoder())


def rates(index, cases):
    on = [c for c in cases if c["expect"]]
    off = [c for c in cases if not c["expect"]]
    hit3 = declined = 0
    for case in on:
        result = index.search(case["q"], limit=3)
        declined += result.declined
        hit3 += any(set(case["expect"]) & set(h.snippet.topics) for h in result.hits)
    abstained = sum(index.search(case["q"]).declined for case in off)
    return hit3 / max(len(on), 1), declined / max(len(on), 1), abstained / max(len(off), 1)


def test_held_out_questions_meet_the_bars(index):
    held = [c for c in SCOPE_CASES if c.get("holdout")]
    assert len([c for c in held if not c["expect"]]) >= 50
    _, _, abstain = rates(index, held)
    assert abstain >= 0.85
    on_topic = [c for c in held if c["expect"]] + [c for c in TUNING_CASES if c["expect"]]
    hit3, false_decline, _ = rates(index, on_topic)
    assert hit3 >= 0.88
    assert false_decline <= 0.08


def test_the_shipped_classifier_reads_this_encoder_and_our_own_questions():
    model = read_scope(SCOPE_FILE)
    assert model is not None
    assert model.encoder == MODEL_ID
    assert model.weights.shape == (256,)
    assert len(model.prototypes) == len(model.prototype_texts)
    assert np.allclose(np.linalg.norm(model.prototypes, axis=1), 1, atol=1e-2)
    trained = {c["q"] for c in SCOPE_CASES + TUNING_CASES if not c["expect"]}
    held = {c["q"] for c in SCOPE_CASES if c.get("holdout")}
    assert set(model.prototype_texts) <= trained
    assert not set(model.prototype_texts) & held


def test_own_questions_copy_neither_snippets_nor_the_shared_dev_set():
    ours = {normalise_question(c["q"]) for c in SCOPE_CASES}
    examples = {normalise_question(q) for s in KNOWLEDGE.snippets for q in s.questions}
    assert not ours & examples
    if SHARED_DEV.exists():
        dev = yaml.safe_load(SHARED_DEV.read_text())["queries"]
        assert not ours & {normalise_question(c["q"]) for c in dev}


def test_closeness_is_the_mean_over_the_nearest_prototypes_of_the_best_view():
    prototypes = np.eye(5, dtype=np.float32)
    near = np.asarray([[1, 0, 0, 0, 0]], dtype=np.float32)
    close, nearest = closeness(prototypes, near)
    assert nearest == 0
    assert close == pytest.approx(1 / NEAREST)
    # A long message is judged by its most in-scope view: the whole or its question part.
    two_views = np.vstack([near, np.zeros((1, 5), dtype=np.float32)])
    assert closeness(prototypes, two_views)[0] == pytest.approx(0.0)


def test_explain_shows_the_scope_signals(index):
    trap = index.explain("how do I retrain as a paramedic after years running a depot")
    assert trap.scope is not None
    assert trap.nearest_outside
    on_topic = index.explain("how do I move into product management after years running a depot")
    assert on_topic.scope is not None
    assert on_topic.scope > trap.scope
    assert on_topic.answered


@pytest.mark.parametrize(
    ("elsewhere", "product"),
    [
        (
            "ten years on a customer service desk, how do i move into marketing",
            "ten years on a customer service desk, how do i move into product management",
        ),
        (
            "dispatcher wanting to become a data scientist, where do i start",
            "dispatcher wanting to become a product manager, where do i start",
        ),
    ],
)
def test_twin_questions_differ_by_the_career_they_aim_at(index, elsewhere, product):
    """Averaged word vectors barely tell these apart; the named destination does."""
    assert index.search(elsewhere).declined
    assert not index.search(product).declined
    assert index.explain(elsewhere).aim.other_career


def test_the_word_classifier_scales_known_terms_to_unit_length():
    weights = {"pm": 2.0, "cv": 1.0, "haiku": -3.0}
    assert bag_logit(weights, -0.5, ["pm", "cv", "pm", "unknown"]) == pytest.approx(
        -0.5 + 3.0 / np.sqrt(2)
    )
    assert bag_logit(weights, -0.5, ["unknown"]) == -0.5


def test_the_word_scope_is_the_best_part_and_clipped():
    blank = ScopeModel(np.zeros(2, np.float32), 0.0, "m", np.zeros((0, 2), np.float32), ())
    assert blank.term_logit([["pm"]]) is None
    model = ScopeModel(
        np.zeros(2, np.float32), 0.0, "m", np.zeros((0, 2), np.float32), (),
        term_weights={"pm": 3.0, "haiku": -20.0}, term_bias=0.0,
    )  # fmt: skip
    assert model.term_logit([["haiku"], ["pm"]]) == pytest.approx(3.0)
    assert model.term_logit([["haiku"]]) == -LOGIT_LIMIT


def test_the_shipped_word_classifier_knows_only_words_of_our_own_questions():
    model = read_scope(SCOPE_FILE)
    assert model is not None
    assert len(model.term_weights) > 500
    analyzer = Analyzer()
    texts = [q for s in KNOWLEDGE.snippets for q in s.questions]
    texts += [c["q"] for c in SCOPE_CASES if not c.get("holdout")]
    texts += [c["q"] for c in TUNING_CASES if not c["expect"]]
    ours: set[str] = set()
    for text in texts:
        for part in (text, question_part(text)):
            if part:
                ours.update(analyzer.surface(part))
    assert set(model.term_weights) <= ours
    weights = model.term_weights
    assert weights["portfolio"] > 0
    assert weights["haiku"] < 0
