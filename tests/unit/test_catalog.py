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
