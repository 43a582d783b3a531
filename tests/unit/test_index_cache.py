"""The on-disk cache of the parsed knowledge base and the built search index."""

import os
import shutil
from pathlib import Path

import pytest

from bot.catalog import load_knowledge
from bot.core.models import VoteTally
from bot.core.ranking import Analyzer, RankingConfig, SearchIndex
from bot.embedding import WordLlamaEncoder
from bot.index_cache import FOLDER, CachedBuilder, cached_knowledge

ROOT = Path(__file__).resolve().parents[2]
KNOWLEDGE = load_knowledge(ROOT / "knowledge")
TOPICS = {t.slug: t for t in KNOWLEDGE.topics}
ENCODER = WordLlamaEncoder()


class CountingBuilder:
    """The real index builder, counting how often it really builds."""

    def __init__(self) -> None:
        self.builds = 0

    def __call__(self, *args, **kwargs) -> SearchIndex:
        self.builds += 1
        return SearchIndex(*args, **kwargs)


def build(cache_dir: Path, builder: CountingBuilder, votes=None, threshold=0.7) -> SearchIndex:
    """As the library calls its index factory: a fresh analyzer every time."""
    cached = CachedBuilder(builder, cache_dir)
    return cached(
        KNOWLEDGE.snippets,
        TOPICS,
        votes or {},
        config=RankingConfig(answer_threshold=threshold),
        analyzer=Analyzer(),
        encoder=ENCODER,
    )


def questions() -> list[str]:
    picked = [q for s in KNOWLEDGE.snippets[::7] for q in s.questions[:1]]
    return [*picked, "how do I write a PRD", "best pizza in town", "wat is a roadmp"]


def entries(cache_dir: Path, kind: str) -> list[Path]:
    return sorted((cache_dir / FOLDER).glob(f"{kind}-*.pickle"))


def test_a_cached_index_answers_exactly_as_a_freshly_built_one(tmp_path):
    builder = CountingBuilder()
    fresh = build(tmp_path, builder)
    cached = build(tmp_path, builder)
    assert builder.builds == 1
    assert cached is not fresh
    for query in questions():
        assert cached.search(query, limit=5) == fresh.search(query, limit=5)
        assert cached.explain(query, limit=3) == fresh.explain(query, limit=3)
    # The collaborators are the caller's, not copies.
    assert cached.semantic is not None
    assert cached.semantic.encoder is ENCODER


def test_votes_and_ranking_settings_are_part_of_the_key(tmp_path):
    builder = CountingBuilder()
    build(tmp_path, builder)
    voted = build(tmp_path, builder, votes={KNOWLEDGE.snippets[0].id: VoteTally(up=5)})
    build(tmp_path, builder, threshold=0.5)
    assert builder.builds == 3
    fresh = SearchIndex(
        KNOWLEDGE.snippets,
        TOPICS,
        {KNOWLEDGE.snippets[0].id: VoteTally(up=5)},
        config=RankingConfig(answer_threshold=0.7),
        encoder=ENCODER,
    )
    query = KNOWLEDGE.snippets[0].questions[0]
    assert voted.search(query) == fresh.search(query)


def test_a_corrupt_or_truncated_entry_is_ignored_and_rebuilt(tmp_path):
    builder = CountingBuilder()
    fresh = build(tmp_path, builder)
    [entry] = entries(tmp_path, "index")
    whole = entry.read_bytes()
    for damaged in (b"garbage", whole[: len(whole) // 2], whole[:40] + b"x" * 100):
        entry.write_bytes(damaged)
        again = build(tmp_path, builder)
        assert again.search("how do I write a PRD") == fresh.search("how do I write a PRD")
    assert builder.builds == 4
    assert build(tmp_path, builder) is not None
    assert builder.builds == 4  # the last rebuild was written back whole


def test_an_unusable_cache_folder_is_harmless(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    builder = CountingBuilder()
    first = build(blocker / "cache", builder)
    second = build(blocker / "cache", builder)
    assert builder.builds == 2
    assert first.search("how do I write a PRD") == second.search("how do I write a PRD")


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX permissions")
def test_a_folder_others_can_write_to_is_never_read(tmp_path):
    builder = CountingBuilder()
    build(tmp_path, builder)
    (tmp_path / FOLDER).chmod(0o777)
    build(tmp_path, builder)
    assert builder.builds == 2
    (tmp_path / FOLDER).chmod(0o700)
    [entry] = entries(tmp_path, "index")
    entry.chmod(0o666)
    build(tmp_path, builder)
    assert builder.builds == 3


def test_old_entries_are_pruned(tmp_path):
    builder = CountingBuilder()
    for threshold in (0.1, 0.2, 0.3, 0.4, 0.5):
        build(tmp_path, builder, threshold=threshold)
    assert len(entries(tmp_path, "index")) == 3


def test_a_knowledge_edit_invalidates_the_parsed_knowledge(tmp_path):
    root = tmp_path / "knowledge"
    shutil.copytree(ROOT / "knowledge", root)
    parsed: list[Path] = []

    def parse(path: Path):
        parsed.append(path)
        return load_knowledge(path)

    first = cached_knowledge(root, tmp_path / "cache", parse)
    again = cached_knowledge(root, tmp_path / "cache", parse)
    assert len(parsed) == 1
    assert again == first == KNOWLEDGE
    target = sorted((root / "snippets").glob("*.yaml"))[0]
    old_title = next(s.title for s in first.snippets if s.id in target.read_text())
    target.write_text(target.read_text().replace(old_title, "A title edited since"))
    edited = cached_knowledge(root, tmp_path / "cache", parse)
    assert len(parsed) == 2
    assert "A title edited since" in {s.title for s in edited.snippets}
    assert cached_knowledge(root, tmp_path / "cache", parse) == edited
    assert len(parsed) == 2
