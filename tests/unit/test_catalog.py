import dataclasses
import difflib
import shutil
import subprocess
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
    plan = export_to_directory(
        knowledge_copy,
        [_revision(edited), _revision(retired, retired=True), _revision("brand-new")],
    )
    assert "snippets/community.yaml" in plan.files
    after = load_knowledge(knowledge_copy)
    by_id = {s.id: s for s in after.snippets}
    assert by_id[edited].title == "New title"
    assert retired not in by_id
    assert by_id["brand-new"].questions == ("q one",)
    assert len(after.snippets) == len(knowledge.snippets)


def _changed_lines(before: str, after: str) -> list[str]:
    diff = difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
    return [line for line in diff if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def test_export_of_one_title_changes_one_line(knowledge_copy):
    knowledge = load_knowledge(knowledge_copy)
    target = knowledge.snippets[3]
    edit = dataclasses.replace(
        _revision(target.id, title="A sharper title for this one"),
        body=target.body,
        topics=target.topics,
        questions=target.questions,
        source=target.source,
    )
    plan = export_to_directory(knowledge_copy, [edit])
    [(_, (before, after))] = plan.files.items()
    assert _changed_lines(before, after) == [
        f"-    title: {target.title}",
        "+    title: A sharper title for this one",
    ]
    assert load_knowledge(knowledge_copy)


def test_export_keeps_flow_lists_comments_and_blank_lines(knowledge_copy):
    path = knowledge_copy / "snippets" / "ops-vs-pm.yaml"
    path.write_text("# reviewed in git\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    knowledge = load_knowledge(knowledge_copy)
    first = next(s for s in knowledge.snippets if s.id == "whether-not-how")
    edit = dataclasses.replace(
        _revision(first.id),
        title=first.title,
        body=first.body + " One more sentence about judgment.",
        topics=first.topics,
        questions=first.questions,
    )
    plan = export_to_directory(knowledge_copy, [edit])
    before, after = plan.files["snippets/ops-vs-pm.yaml"]
    changed = _changed_lines(before, after)
    assert changed, "the body changed"
    assert all("whether-not-how" not in line for line in changed)
    assert len(changed) <= 4
    assert after.startswith("# reviewed in git\n")
    assert "topics: [ops-vs-pm, reframe-experience]" in after
    assert after.count("\n\n  - id:") == before.count("\n\n  - id:")
    reloaded = {s.id: s for s in load_knowledge(knowledge_copy).snippets}
    assert reloaded[first.id].body.endswith("One more sentence about judgment.")


def test_patch_applies_with_git_and_passes_the_check(knowledge_copy, tmp_path):
    knowledge = load_knowledge(knowledge_copy)
    target = knowledge.snippets[5]
    plan = YamlExporter(knowledge_copy).export(
        [_revision(target.id), _revision("brand-new"), _revision(knowledge.snippets[6].id, True)]
    )
    repo = tmp_path / "checkout"
    shutil.copytree(knowledge_copy, repo / "knowledge")
    (repo / "chat-changes.patch").write_text(plan.patch, encoding="utf-8")
    subprocess.run(["git", "apply", "chat-changes.patch"], cwd=repo, check=True)
    after = {s.id: s for s in load_knowledge(repo / "knowledge").snippets}
    assert after[target.id].title == "New title"
    assert "brand-new" in after
    assert knowledge.snippets[6].id not in after


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
