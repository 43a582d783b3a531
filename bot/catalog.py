"""Load and validate the curated knowledge base (knowledge/*.yaml) into core models.

Every problem is reported with the file, the entry and the field, so a contributor can fix a
pull request without reading Python.
"""

from __future__ import annotations

import difflib
import io
import re
import textwrap
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
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import LiteralScalarString

from bot.core.models import Exercise, Knowledge, Resource, Snippet, SnippetRevision, Topic
from bot.core.ports import Export
from bot.core.revisions import Content, content_hash
from bot.core.validation import BODY_WORDS, looks_unsafe

SHIPPED_ROOT = Path(__file__).resolve().parent.parent / "knowledge"

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


# -- Writing chat changes back ------------------------------------------------------------------
#
# ruamel.yaml's round-trip mode keeps key order, comments, flow lists and blank lines, so a
# file with one changed snippet differs from the original in that snippet's lines only.

COMMUNITY_FILE = "community.yaml"
WRAP = 90
"""Body lines are wrapped like the shipped files (the loader reflows them)."""


def _round_trip() -> YAML:
    rt = YAML()
    rt.preserve_quotes = True
    rt.width = 4096
    rt.indent(mapping=2, sequence=4, offset=2)
    return rt


def _dump(data: Any) -> str:
    out = io.StringIO()
    _round_trip().dump(data, out)
    return out.getvalue()


def _block(body: str) -> LiteralScalarString:
    lines: list[str] = []
    for line in body.strip().splitlines():
        wrapped = textwrap.wrap(line.strip(), WRAP, break_long_words=False, break_on_hyphens=False)
        lines.extend(wrapped or [""])
    block: LiteralScalarString = LiteralScalarString("\n".join(lines) + "\n")
    return block


def _rewrap(old: str, new: str) -> LiteralScalarString:
    """`new` laid out like `old`: every old line whose words survive unchanged stays as it
    was, and only the changed words are wrapped afresh, so the diff shows the edit alone."""
    old_lines = old.rstrip("\n").split("\n")
    old_words: list[str] = []
    spans: list[tuple[int, int]] = []
    for line in old_lines:
        words = line.split()
        spans.append((len(old_words), len(old_words) + len(words)))
        old_words.extend(words)
    new_words = new.split()
    same: dict[int, int] = {}
    matcher = difflib.SequenceMatcher(a=old_words, b=new_words, autojunk=False)
    for tag, i1, i2, j1, _ in matcher.get_opcodes():
        if tag == "equal":
            same.update((i1 + k, j1 + k) for k in range(i2 - i1))
    out: list[str] = []
    done = 0

    def flush(until: int) -> None:
        nonlocal done
        if until > done:
            out.extend(
                textwrap.wrap(
                    " ".join(new_words[done:until]),
                    WRAP,
                    break_long_words=False,
                    break_on_hyphens=False,
                )
            )
            done = until

    for line, (start, end) in zip(old_lines, spans, strict=True):
        if start == end:
            flush(_next_kept(spans, same, start, len(new_words), done))
            if out and out[-1]:
                out.append("")
            continue
        kept = all(k in same for k in range(start, end)) and (
            same[end - 1] - same[start] == end - 1 - start and same[start] >= done
        )
        if kept:
            flush(same[start])
            out.append(line)
            done = same[end - 1] + 1
    flush(len(new_words))
    block: LiteralScalarString = LiteralScalarString("\n".join(out).strip("\n") + "\n")
    return block


def _next_kept(
    spans: list[tuple[int, int]], same: dict[int, int], after: int, end: int, done: int
) -> int:
    """Where the next surviving old word lands in the new text (to end a paragraph there)."""
    for start, stop in spans:
        if start >= after and start < stop and start in same and same[start] >= done:
            return same[start]
    return end


def _flow(items: tuple[str, ...]) -> CommentedSeq:
    seq = CommentedSeq(items)
    seq.fa.set_flow_style()
    return seq


def _shipped(entry: Any) -> Snippet:
    """A YAML entry as the loader would read it (for comparing with a chat revision)."""
    return Snippet(
        id=str(entry.get("id")),
        title=str(entry.get("title", "")),
        body=reflow(str(entry.get("body", ""))),
        topics=tuple(str(t) for t in entry.get("topics") or ()),
        questions=tuple(str(q) for q in entry.get("questions") or ()),
        source=entry.get("source"),
    )


def _apply(entry: Any, revision: SnippetRevision) -> bool:
    """Change only the fields the revision changed; True if anything changed."""
    current = Content.of_snippet(_shipped(entry))
    changed = False
    if " ".join(current.title.split()) != " ".join(revision.title.split()):
        entry["title"] = revision.title
        changed = True
    if " ".join(current.body.split()) != " ".join(revision.body.split()):
        existing = entry.get("body")
        entry["body"] = _rewrap(str(existing), revision.body) if existing else _block(revision.body)
        changed = True
    for key in ("topics", "questions"):
        wanted = tuple(getattr(revision, key))
        if tuple(str(v) for v in entry.get(key) or ()) != wanted:
            existing = entry.get(key)
            if isinstance(existing, CommentedSeq):
                del existing[:]
                existing.extend(wanted)
            else:
                entry[key] = _flow(wanted) if key == "topics" else CommentedSeq(wanted)
            changed = True
    if revision.source and entry.get("source") != revision.source:
        entry["source"] = revision.source
        changed = True
    return changed


def _new_entry(revision: SnippetRevision) -> CommentedMap:
    entry = CommentedMap()
    entry["id"] = revision.snippet_id
    entry["title"] = revision.title
    entry["body"] = _block(revision.body)
    entry["topics"] = _flow(revision.topics)
    entry["questions"] = CommentedSeq(revision.questions)
    if revision.source:
        entry["source"] = revision.source
    return entry


@dataclass(frozen=True, slots=True)
class ExportPlan:
    """What writing chat changes into a knowledge directory would change."""

    files: dict[str, tuple[str, str]]
    """Path relative to the knowledge directory -> (text before, text after)."""
    conflicts: tuple[str, ...]
    """Snippets left out: the YAML changed after the chat change was made over it."""

    def patch(self, prefix: str = "knowledge") -> str:
        """The changes as a unified diff, applied from the folder that holds `prefix/`."""
        parts: list[str] = []
        for name, (before, after) in sorted(self.files.items()):
            path = f"{prefix}/{name}"
            header = [f"diff --git a/{path} b/{path}\n"]
            if not before:
                header.append("new file mode 100644\n")
            parts.extend(header)
            parts.extend(
                difflib.unified_diff(
                    before.splitlines(keepends=True),
                    after.splitlines(keepends=True),
                    fromfile=f"a/{path}" if before else "/dev/null",
                    tofile=f"b/{path}",
                )
            )
        return "".join(parts)


def plan_export(root: Path, revisions: list[SnippetRevision]) -> ExportPlan:
    """Chat changes in force, written over the YAML under `root`: edits in place, retirements
    removed, new snippets appended to snippets/community.yaml."""
    latest = {r.snippet_id: r for r in revisions if r.overrides}
    files: dict[str, tuple[str, str]] = {}
    conflicts: list[str] = []
    seen: set[str] = set()
    for path in sorted((root / "snippets").glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        data = _round_trip().load(text)
        entries = data.get("snippets") if isinstance(data, dict) else None
        if not isinstance(entries, list):
            continue
        changed = False
        for index in reversed(range(len(entries))):
            revision = latest.get(str(entries[index].get("id")))
            if revision is None:
                continue
            seen.add(revision.snippet_id)
            shipped = _shipped(entries[index])
            carried = not revision.retired and Content.of_revision(revision).same_text(
                Content.of_snippet(shipped)
            )
            if carried:
                continue
            if revision.base_hash is not None and revision.base_hash != content_hash(shipped):
                conflicts.append(revision.snippet_id)
                continue
            if revision.retired:
                del entries[index]
                changed = True
            else:
                changed = _apply(entries[index], revision) or changed
        if changed:
            files[path.relative_to(root).as_posix()] = (text, _dump(data))
    fresh = sorted(
        (r for r in latest.values() if r.snippet_id not in seen and not r.retired),
        key=lambda r: r.snippet_id,
    )
    if fresh:
        name = f"snippets/{COMMUNITY_FILE}"
        before, _ = files.get(name, ("", ""))
        path = root / name
        if not before and path.exists():
            before = path.read_text(encoding="utf-8")
        after = before.rstrip("\n") + "\n\n" if before.strip() else "snippets:\n"
        added = _dump({"snippets": [_new_entry(r) for r in fresh]})
        # Each new entry after one blank line, as the shipped files separate them.
        chunks = added.split("\n  - id: ")[1:]
        after += "\n".join("  - id: " + chunk.rstrip("\n") + "\n" for chunk in chunks)
        files[name] = (before, after)
    return ExportPlan(files, tuple(sorted(conflicts)))


class YamlExporter:
    """Chat changes as a patch against the knowledge base this bot loaded."""

    def __init__(self, root: Path = SHIPPED_ROOT) -> None:
        self._root = root

    def export(self, revisions: list[SnippetRevision]) -> Export:
        plan = plan_export(self._root, revisions)
        return Export(patch=plan.patch(), files=tuple(sorted(plan.files)), conflicts=plan.conflicts)


def export_to_directory(root: Path, revisions: list[SnippetRevision]) -> ExportPlan:
    """Write chat changes back into the YAML files under `root`."""
    plan = plan_export(root, revisions)
    for name, (_, after) in plan.files.items():
        (root / name).write_text(after, encoding="utf-8")
    return plan
