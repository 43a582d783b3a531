"""Bodies render the way they were laid out: a closing sentence never joins a list item."""

import re
from pathlib import Path

import pytest
import yaml

from bot.catalog import KnowledgeError, load_knowledge, reflow

ROOT = Path(__file__).resolve().parents[2] / "knowledge"
ITEM = re.compile(r"^(?:[-*] |\d+[.)] |[A-Z][\w /-]{0,24}: )")


def _raw_texts() -> list[tuple[str, str]]:
    texts = []
    for path in sorted((ROOT / "snippets").glob("*.yaml")):
        for entry in yaml.safe_load(path.read_text(encoding="utf-8"))["snippets"]:
            texts.append((entry["id"], entry["body"]))
    for path in sorted((ROOT / "exercises").glob("*.yaml")):
        for entry in yaml.safe_load(path.read_text(encoding="utf-8"))["exercises"]:
            texts.append((entry["id"], entry["prompt"]))
            texts.append((entry["id"] + " (revision)", entry.get("revision", "")))
    return texts


def _items_as_written(raw: str) -> list[str]:
    """Each list item or labelled line with only the lines indented under it."""
    items: list[list[str]] = []
    open_item = False
    for line in raw.splitlines():
        if ITEM.match(line):
            items.append([line.strip()])
            open_item = True
        elif open_item and line[:1].isspace() and line.strip():
            items[-1].append(line.strip())
        else:
            open_item = False
    return [" ".join(parts) for parts in items]


def _rendered_items(text: str) -> list[str]:
    return [line for line in text.splitlines() if ITEM.match(line)]


@pytest.mark.parametrize(("entry", "raw"), _raw_texts(), ids=lambda value: str(value)[:40])
def test_no_shipped_line_is_glued(entry, raw):
    # A glued line is a rendered item longer than the item as written: it swallowed the
    # sentence after it. Every rendered item must be exactly its written lines joined.
    assert _rendered_items(reflow(raw)) == _items_as_written(raw), entry


def test_every_shipped_snippet_renders_closing_paragraphs_apart():
    knowledge = load_knowledge(ROOT)
    raw = dict(_raw_texts())
    for snippet in knowledge.snippets:
        assert _rendered_items(snippet.body) == _items_as_written(raw[snippet.id]), snippet.id


def test_closing_sentence_after_a_bullet_starts_a_paragraph():
    raw = (
        "Cheap tests:\n"
        "- Fake door: a button for a feature that does not exist yet\n"
        "- Wizard of Oz: automate the front, do the back manually\n"
        "Ops people are good at the manual versions.\n"
    )
    assert reflow(raw).splitlines()[-2:] == ["", "Ops people are good at the manual versions."]


def test_closing_sentence_after_an_after_line_starts_a_paragraph():
    raw = 'Before: "Ran dispatch."\nAfter: "Halved the wait for\n  3,000 weekly orders."\nOnly use numbers you can defend.\n'
    assert reflow(raw) == (
        'Before: "Ran dispatch."\nAfter: "Halved the wait for 3,000 weekly orders."\n\n'
        "Only use numbers you can defend."
    )


def test_prose_still_joins_and_indented_continuations_stay_with_their_item():
    raw = "One idea\nwrapped over lines.\n- a bullet that\n  wraps\n- next\n"
    assert reflow(raw) == "One idea wrapped over lines.\n- a bullet that wraps\n- next"


def test_check_rejects_a_line_that_could_be_glued(tmp_path):
    import shutil

    target = tmp_path / "knowledge"
    shutil.copytree(ROOT, target)
    path = target / "snippets" / "discovery.yaml"
    data = yaml.safe_load(path.read_text())
    first = data["snippets"][0]
    first["body"] = first["body"].rstrip() + "\n- one more step\nA closing line that could glue.\n"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(target)
    assert (
        f"snippet '{first['id']}': body: 'A closing line that could glue.' follows a list"
        in str(caught.value)
    )
