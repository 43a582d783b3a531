import shutil
from pathlib import Path

import pytest
import yaml

from bot.catalog import KnowledgeError, YamlExporter, export_to_directory, load_knowledge
from bot.core.models import SnippetRevision, UserRef
from tests.support.factories import BODY, START

ROOT = Path(__file__).resolve().parents[2]
REQUIRED_TOPICS = [
    "ops-vs-pm", "why-pm", "reframe-experience", "transferable-skills", "user-research",
    "portfolio", "networking", "interviews", "getting-started", "internal-transfer", "metrics",
    "tradeoffs", "pm-responsibilities", "product-ops", "pm-vs-product-ops", "mindset", "strategy",
]  # fmt: skip


@pytest.fixture
def knowledge_copy(tmp_path):
    target = tmp_path / "knowledge"
    shutil.copytree(ROOT / "knowledge", target)
    return target


def test_shipped_knowledge_is_valid_and_complete():
    knowledge = load_knowledge(ROOT / "knowledge")
    assert len(knowledge.snippets) >= 70
    assert len(knowledge.exercises) >= 12
    for slug in REQUIRED_TOPICS:
        assert sum(slug in s.topics for s in knowledge.snippets) >= 3, slug
    for snippet in knowledge.snippets:
        assert 40 <= len(snippet.body.split()) <= 160, snippet.id
        assert snippet.questions, snippet.id
    assert [e.order for e in knowledge.exercises] == list(range(1, len(knowledge.exercises) + 1))


def _edit(path: Path, change):
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def test_errors_name_file_entry_and_field(knowledge_copy):
    path = next((knowledge_copy / "snippets").glob("*.yaml"))
    first_id = yaml.safe_load(path.read_text())["snippets"][0]["id"]

    def break_it(data):
        data["snippets"][0]["topics"] = ["no-such-topic"]
        del data["snippets"][1]["title"]

    _edit(path, break_it)
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(knowledge_copy)
    text = str(caught.value)
    assert (
        f"knowledge/snippets/{path.name}: snippet '{first_id}': topics: unknown topic 'no-such-topic'"
        in text
    )
    assert f"knowledge/snippets/{path.name}: entry 2" in text
    assert "title: Field required" in text


def test_duplicate_ids_and_bad_yaml_are_reported(knowledge_copy):
    path = next((knowledge_copy / "snippets").glob("*.yaml"))
    _edit(path, lambda data: data["snippets"].append(dict(data["snippets"][0])))
    (knowledge_copy / "snippets" / "broken.yaml").write_text("snippets: [\n  - id: x\n")
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(knowledge_copy)
    text = str(caught.value)
    assert "duplicate; first defined in" in text
    assert "broken.yaml" in text
    assert "not valid YAML" in text


def test_mentions_in_yaml_are_rejected(knowledge_copy):
    path = next((knowledge_copy / "snippets").glob("*.yaml"))
    _edit(
        path, lambda data: data["snippets"][0].update(body=data["snippets"][0]["body"] + " @here")
    )
    with pytest.raises(KnowledgeError, match="whole channel"):
        load_knowledge(knowledge_copy)


def _revision(snippet_id, retired=False, title="New title"):
    return SnippetRevision(
        snippet_id=snippet_id,
        revision=1,
        title=title,
        body=BODY,
        topics=("networking",),
        questions=("q one",),
        retired=retired,
        author=UserRef("console", "local", "M"),
        at=START,
    )


def test_export_round_trips_into_the_files(knowledge_copy):
    knowledge = load_knowledge(knowledge_copy)
    edited, retired = knowledge.snippets[0].id, knowledge.snippets[1].id
    written = export_to_directory(
        knowledge_copy,
        [_revision(edited), _revision(retired, retired=True), _revision("brand-new")],
    )
    assert knowledge_copy / "snippets" / "community.yaml" in written
    after = load_knowledge(knowledge_copy)
    by_id = {s.id: s for s in after.snippets}
    assert by_id[edited].title == "New title"
    assert retired not in by_id
    assert by_id["brand-new"].questions == ("q one",)
    assert len(after.snippets) == len(knowledge.snippets)


def test_yaml_exporter_output_loads_back():
    text = YamlExporter().dump([_revision("a-b"), _revision("c-d", retired=True)])
    data = yaml.safe_load(text)
    assert [s["id"] for s in data["snippets"]] == ["a-b"]
    assert text.startswith("# retired from chat: c-d")


EVAL_TOPICS = ROOT.parent / "shared" / "eval" / "topics.yaml"


def test_every_topic_names_resources_and_every_evaluated_topic_exists():
    knowledge = load_knowledge(ROOT / "knowledge")
    for topic in knowledge.topics:
        assert 1 <= len(topic.go_deeper) <= 2, topic.slug
        assert all(r.title and r.author for r in topic.go_deeper), topic.slug
    if EVAL_TOPICS.exists():
        wanted = yaml.safe_load(EVAL_TOPICS.read_text())["topics"]
        assert set(wanted) <= {t.slug for t in knowledge.topics}


def test_the_shipped_track_checks_itself_and_revises():
    track = load_knowledge(ROOT / "knowledge").exercises
    for exercise in track:
        assert len(exercise.self_check) == 3, exercise.id
        assert exercise.revision, exercise.id
        assert exercise.revision != exercise.prompt, exercise.id
    assert "target" in track[0].title.lower()
    assert "capstone" in track[-1].title.lower()
    # Every exercise that needs other people is flagged, so the week before can warn.
    assert sum(bool(x.book_ahead) for x in track) >= 4


def test_retired_ids_resolve_to_a_live_snippet():
    knowledge = load_knowledge(ROOT / "knowledge")
    live = {s.id for s in knowledge.snippets}
    assert knowledge.aliases
    assert set(knowledge.aliases.values()) <= live
    assert not set(knowledge.aliases) & live


def test_an_alias_must_not_shadow_a_live_id_or_be_claimed_twice(knowledge_copy):
    path = knowledge_copy / "snippets" / "discovery.yaml"
    data = yaml.safe_load(path.read_text())
    first, second, third = data["snippets"][:3]
    first["replaces"] = [second["id"], "gone-snippet"]
    third["replaces"] = ["gone-snippet"]
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(knowledge_copy)
    text = str(caught.value)
    assert f"snippet '{first['id']}': replaces: '{second['id']}' is a live snippet id" in text
    assert f"snippet '{third['id']}': replaces: 'gone-snippet' is already replaced by" in text


def test_exercises_need_three_self_check_questions_and_topics_need_named_resources(
    knowledge_copy,
):
    track = knowledge_copy / "exercises" / "track.yaml"
    _edit(track, lambda data: data["exercises"][0].update(self_check=["Only one?"]))
    topics = knowledge_copy / "topics.yaml"

    def add_link(data):
        data["topics"][0]["go_deeper"][0]["title"] = "Read it at https://example.com/book"
        del data["topics"][1]["go_deeper"]

    _edit(topics, add_link)
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(knowledge_copy)
    text = str(caught.value)
    assert "self_check: List should have at least 3 items" in text
    assert "no links or web addresses" in text
    assert "go_deeper: Field required" in text


def test_exporting_an_edit_keeps_the_ids_a_snippet_absorbed(knowledge_copy):
    knowledge = load_knowledge(knowledge_copy)
    absorber = next(s for s in knowledge.snippets if s.replaces)
    export_to_directory(knowledge_copy, [_revision(absorber.id)])
    after = {s.id: s for s in load_knowledge(knowledge_copy).snippets}
    assert after[absorber.id].title == "New title"
    assert after[absorber.id].replaces == absorber.replaces
