"""Retrieval quality on the shipped knowledge base, against the maintainers' own question set."""

from pathlib import Path

import pytest
import yaml

from bot.catalog import load_knowledge
from bot.core.ranking import SearchIndex

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def index():
    knowledge = load_knowledge(ROOT / "knowledge")
    return SearchIndex(knowledge.snippets, {t.slug: t for t in knowledge.topics})


def cases():
    return yaml.safe_load((ROOT / "tests/data/retrieval.yaml").read_text())["queries"]


def test_quality_bars(index):
    on_topic = hit1 = hit3 = off_topic = declined = 0
    for case in cases():
        result = index.search(case["q"], limit=3)
        expected = set(case["expect"])
        if not expected:
            off_topic += 1
            declined += result.declined
            continue
        on_topic += 1
        ranks = [i for i, h in enumerate(result.hits) if expected & set(h.snippet.topics)]
        hit3 += bool(ranks)
        hit1 += bool(ranks) and ranks[0] == 0
    assert hit3 / on_topic >= 0.9
    assert hit1 / on_topic >= 0.75
    assert declined / off_topic >= 0.9


@pytest.mark.parametrize(
    "query",
    [
        "whats the best pizza topping",
        "recommend a good laptop",
        "how do I fix my kubernetes cluster",
    ],
)
def test_off_topic_is_declined(index, query):
    assert index.search(query).declined


def test_scores_are_ordered_and_bounded(index):
    result = index.search("how do I build a product portfolio", limit=5)
    scores = [h.score for h in result.hits]
    assert scores == sorted(scores, reverse=True)
    assert all(0 < s <= 1.2 for s in scores)


def test_exclude_skips_seen_snippets(index):
    first = index.search("product teardown", limit=1).hits[0].snippet.id
    again = index.search("product teardown", limit=1, exclude=[first])
    assert again.hits
    assert again.hits[0].snippet.id != first


def test_feedback_is_a_gentle_prior(index):
    from bot.core.models import VoteTally

    base = index.search("product teardown", limit=2)
    second = base.hits[1].snippet.id
    boosted = SearchIndex(
        index.snippets,
        votes={second: VoteTally(up=50)},
    ).search("product teardown", limit=2)
    assert {h.snippet.id for h in boosted.hits} == {h.snippet.id for h in base.hits}
