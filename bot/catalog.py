"""Load and validate the curated knowledge base (knowledge/*.yaml) into core models.

Every problem is reported with the file, the entry and the field, so a contributor can fix a
pull request without reading Python.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)

from bot.core.models import Exercise, Knowledge, Resource, Snippet, SnippetRevision, Topic
from bot.core.validation import BODY_WORDS, looks_unsafe

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN, min_length=2, max_length=60)]
Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
M = TypeVar("M", bound=BaseModel)
E = TypeVar("E")
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=80)]

YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's C loader when PyYAML was built with it: several times faster than the pure one."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


_LINK = re.compile(r"https?:|www\.|\.(?:com|org|net|io|co)\b", re.IGNORECASE)


class ResourceEntry(_Strict):
    """A named public resource: a fact (title and author), never a link we could get wrong."""

    title: Title
    author: Line
    kind: Literal["book", "newsletter", "community", "podcast", "guide"]

    @field_validator("title", "author")
    @classmethod
    def _no_links(cls, value: str) -> str:
        if _LINK.search(value):
            raise ValueError("name the resource by title and author; no links or web addresses")
        return value


class TopicEntry(_Strict):
    slug: Slug
    title: Title
    description: str = ""
    go_deeper: Annotated[list[ResourceEntry], Field(min_length=1, max_length=2)]


class SnippetEntry(_Strict):
    id: Slug
    title: Title
    body: Annotated[str, StringConstraints(strip_whitespace=True, min_length=40, max_length=1500)]
    topics: Annotated[list[Slug], Field(min_length=1, max_length=4)]
    questions: Annotated[list[Line], Field(min_length=1, max_length=10)]
    audience: list[Slug] = []
    source: Line | None = None
    replaces: list[Slug] = []


class ExerciseEntry(_Strict):
    id: Slug
    order: Annotated[int, Field(ge=1)]
    title: Title
    prompt: Annotated[str, StringConstraints(strip_whitespace=True, min_length=40, max_length=1500)]
    deliverable: Annotated[str, StringConstraints(strip_whitespace=True, min_length=5)]
    minutes: Annotated[int, Field(ge=5, le=480)]
    topics: Annotated[list[Slug], Field(min_length=1)]
    done_when: Annotated[str, StringConstraints(strip_whitespace=True, min_length=5)]
    self_check: Annotated[list[Line], Field(min_length=3, max_length=3)]
    revision: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=40, max_length=1500)
    ]
    book_ahead: Line | None = None


@dataclass(frozen=True, slots=True)
class Problem:
    file: str
    entry: str
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.entry}" if self.entry else self.file
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )


class KnowledgeError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def load_knowledge(root: Path) -> Knowledge:
    """Read topics, snippets and exercises under `root`; raise KnowledgeError listing every problem."""
    problems: list[Problem] = []
    topics = list(_entries(root / "topics.yaml", "topics", TopicEntry, problems, root))
    snippets = [
        s
        for path in sorted((root / "snippets").glob("*.yaml"))
        for s in _entries(path, "snippets", SnippetEntry, problems, root)
    ]
    exercises = [
        e
        for path in sorted((root / "exercises").glob("*.yaml"))
        for e in _entries(path, "exercises", ExerciseEntry, problems, root)
    ]
    if not snippets and not problems:
        problems.append(Problem(_display(root / "snippets", root), "", "", "no snippets found"))
    if not exercises and not problems:
        problems.append(Problem(_display(root / "exercises", root), "", "", "no exercises found"))
    _cross_check(topics, snippets, exercises, problems)
    if problems:
        raise KnowledgeError(problems)
    return Knowledge(
        topics=tuple(
            Topic(
                t.slug,
                t.title,
                t.description.strip(),
                tuple(Resource(r.title, r.author, r.kind) for r in t.go_deeper),
            )
            for _, t in topics
        ),
        snippets=tuple(
            Snippet(
                id=s.id,
                title=s.title,
                body=reflow(s.body),
                topics=tuple(s.topics),
                questions=tuple(s.questions),
                audience=tuple(s.audience),
                source=s.source,
                replaces=tuple(s.replaces),
            )
            for _, s in snippets
        ),
        exercises=tuple(
            Exercise(
                id=e.id,
                order=e.order,
                title=e.title,
                prompt=reflow(e.prompt),
                deliverable=e.deliverable,
                minutes=e.minutes,
                topics=tuple(e.topics),
                done_when=e.done_when,
                self_check=tuple(e.self_check),
                revision=reflow(e.revision),
                book_ahead=e.book_ahead or "",
            )
            for _, e in sorted(exercises, key=lambda pair: pair[1].order)
        ),
    )


_ITEM = re.compile(r"^(?:[-*] |\d+[.)] |[A-Z][\w /-]{0,24}: )")
"""A line that starts a list item or a labelled line such as `Before:` or `After:`."""


def reflow(text: str) -> str:
    """Join hard-wrapped lines into paragraphs, keeping list items and labelled lines apart.

    Blank lines separate paragraphs. A list item or labelled line continues only onto lines
    indented under it; an unindented line after one starts a new paragraph, so a closing
    sentence can never be glued onto the last bullet or `After:` line.
    """
    paragraphs: list[str] = []
    for block in re.split(r"\n\s*\n", text.strip("\n")):
        lines: list[str] = []
        in_item = False
        for raw in block.splitlines():
            line = raw.strip()
            if not line:
                continue
            if _ITEM.match(line):
                lines.append(line)
                in_item = True
            elif not lines:
                lines.append(line)
                in_item = False
            elif in_item and not raw[0].isspace():
                paragraphs.append("\n".join(lines))
                lines = [line]
                in_item = False
            else:
                lines[-1] += " " + line
        if lines:
            paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs)


def ambiguous_lines(text: str) -> list[str]:
    """Unindented lines that directly follow a list item or labelled line.

    The reader cannot tell a wrapped item from a closing paragraph, so the shipped format
    asks for a blank line before a paragraph or a two-space indent for a continuation.
    """
    found: list[str] = []
    in_item = False
    for raw in text.strip("\n").splitlines():
        line = raw.strip()
        if not line:
            in_item = False
        elif _ITEM.match(line):
            in_item = True
        elif in_item and not raw[0].isspace():
            found.append(line)
            in_item = False
    return found


def _entries(
    path: Path, key: str, model: type[M], problems: list[Problem], root: Path
) -> Iterator[tuple[str, M]]:
    name = _display(path, root)
    try:
        data: Any = yaml.load(path.read_text(encoding="utf-8"), Loader=YAML_LOADER)
    except FileNotFoundError:
        problems.append(Problem(name, "", "", "file is missing"))
        return
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else ""
        problems.append(Problem(name, where, "", f"not valid YAML ({error.__class__.__name__})"))
        return
    if not isinstance(data, dict) or not isinstance(data.get(key), list):
        problems.append(Problem(name, "", key, f"expected a top-level `{key}:` list"))
        return
    for position, raw in enumerate(data[key], start=1):
        label = _label(raw, position)
        if not isinstance(raw, dict):
            problems.append(Problem(name, label, "", "expected a mapping of fields"))
            continue
        try:
            yield name, model.model_validate(raw)
        except ValidationError as error:
            for detail in error.errors():
                field = ".".join(str(part) for part in detail["loc"]) or "(entry)"
                problems.append(Problem(name, label, field, detail["msg"]))


def _cross_check(
    topics: list[tuple[str, TopicEntry]],
    snippets: list[tuple[str, SnippetEntry]],
    exercises: list[tuple[str, ExerciseEntry]],
    problems: list[Problem],
) -> None:
    known = {t.slug for _, t in topics}
    _unique(topics, lambda t: t.slug, "slug", problems)
    _unique(snippets, lambda s: s.id, "id", problems)
    _unique(exercises, lambda e: e.id, "id", problems)
    _unique(exercises, lambda e: str(e.order), "order", problems)
    for name, s in snippets:
        label = f"snippet {s.id!r}"
        for slug in s.topics:
            if known and slug not in known:
                problems.append(Problem(name, label, "topics", f"unknown topic {slug!r}"))
        count = len(re.findall(r"\S+", s.body))
        if not BODY_WORDS[0] <= count <= BODY_WORDS[1]:
            problems.append(
                Problem(
                    name, label, "body", f"{count} words; keep it {BODY_WORDS[0]}-{BODY_WORDS[1]}"
                )
            )
        for field, text in (("title", s.title), ("body", s.body)):
            reason = looks_unsafe(text)
            if reason:
                problems.append(Problem(name, label, field, reason))
        _check_layout(name, label, "body", s.body, problems)
    _check_aliases(snippets, problems)
    for name, e in exercises:
        label = f"exercise {e.id!r}"
        for slug in e.topics:
            if known and slug not in known:
                problems.append(Problem(name, label, "topics", f"unknown topic {slug!r}"))
        _check_layout(name, label, "prompt", e.prompt, problems)
        _check_layout(name, label, "revision", e.revision, problems)
    orders = sorted(e.order for _, e in exercises)
    if orders and orders != list(range(1, len(orders) + 1)):
        problems.append(
            Problem("exercises", "", "order", "orders must run 1, 2, 3... without gaps")
        )


def _check_layout(name: str, label: str, field: str, text: str, problems: list[Problem]) -> None:
    for line in ambiguous_lines(text):
        problems.append(
            Problem(
                name,
                label,
                field,
                f"{_short(line)!r} follows a list item or labelled line: leave a blank line "
                "before it to start a paragraph, or indent it two spaces to continue the item",
            )
        )


def _check_aliases(snippets: list[tuple[str, SnippetEntry]], problems: list[Problem]) -> None:
    """A retired id resolves to exactly one live snippet and never shadows a live id."""
    live = {s.id for _, s in snippets}
    owner: dict[str, str] = {}
    for name, s in snippets:
        label = f"snippet {s.id!r}"
        for old in s.replaces:
            if old in live:
                problems.append(
                    Problem(
                        name, label, "replaces", f"{old!r} is a live snippet id, not a retired one"
                    )
                )
            elif old in owner and owner[old] != s.id:
                problems.append(
                    Problem(
                        name, label, "replaces", f"{old!r} is already replaced by {owner[old]!r}"
                    )
                )
            owner.setdefault(old, s.id)


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _unique(entries: list[tuple[str, E]], key: Any, field: str, problems: list[Problem]) -> None:
    seen: dict[str, str] = {}
    for name, entry in entries:
        value = key(entry)
        if value in seen:
            problems.append(
                Problem(
                    name, f"{field} {value!r}", field, f"duplicate; first defined in {seen[value]}"
                )
            )
        else:
            seen[value] = name


def _label(raw: object, position: int) -> str:
    if isinstance(raw, dict):
        for key in ("id", "slug"):
            if isinstance(raw.get(key), str):
                return f"entry {position} ({raw[key]})"
    return f"entry {position}"


def _display(path: Path, root: Path) -> str:
    try:
        return str(Path(root.name) / path.relative_to(root))
    except ValueError:
        return str(path)


class _BlockDumper(yaml.SafeDumper):
    """Writes multi-line strings as `|` blocks so exported YAML reads like the shipped files."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _represent_str)


def snippet_entry(revision: SnippetRevision) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": revision.snippet_id,
        "title": revision.title,
        "body": revision.body.strip() + "\n",
        "topics": list(revision.topics),
        "questions": list(revision.questions),
    }
    if revision.source:
        entry["source"] = revision.source
    return entry


class YamlExporter:
    """Serialises chat changes in the knowledge base's own format."""

    def dump(self, snippets: list[SnippetRevision]) -> str:
        live = [snippet_entry(r) for r in snippets if not r.retired]
        retired = sorted(r.snippet_id for r in snippets if r.retired)
        text = yaml.dump(
            {"snippets": live}, Dumper=_BlockDumper, sort_keys=False, allow_unicode=True, width=100
        )
        if retired:
            text = "# retired from chat: " + ", ".join(retired) + "\n" + text
        return text


def export_to_directory(root: Path, revisions: list[SnippetRevision]) -> list[Path]:
    """Write chat changes back into the YAML files: edits in place, retirements removed, new
    snippets into snippets/community.yaml. Returns the files written."""
    latest = {r.snippet_id: r for r in revisions}
    written: list[Path] = []
    seen: set[str] = set()
    for path in sorted((root / "snippets").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        entries = data.get("snippets", [])
        changed = False
        kept: list[dict[str, Any]] = []
        for entry in entries:
            revision = latest.get(str(entry.get("id")))
            if revision is None:
                kept.append(entry)
                continue
            seen.add(revision.snippet_id)
            changed = True
            if not revision.retired:
                updated = snippet_entry(revision)
                for key in ("audience", "source", "replaces"):
                    if key in entry and key not in updated:
                        updated[key] = entry[key]
                kept.append(updated)
        if changed:
            path.write_text(_dump_entries(kept), encoding="utf-8")
            written.append(path)
    fresh = [r for r in latest.values() if r.snippet_id not in seen and not r.retired]
    if fresh:
        path = root / "snippets" / "community.yaml"
        existing = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None
        entries = list((existing or {}).get("snippets", []))
        entries.extend(snippet_entry(r) for r in sorted(fresh, key=lambda r: r.snippet_id))
        path.write_text(_dump_entries(entries), encoding="utf-8")
        if path not in written:
            written.append(path)
    return written


def _dump_entries(entries: list[dict[str, Any]]) -> str:
    return yaml.dump(
        {"snippets": entries}, Dumper=_BlockDumper, sort_keys=False, allow_unicode=True, width=100
    )
