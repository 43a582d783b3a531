"""Parse what a member typed after /pmadvice into a command.

The first word picks the subcommand; anything that is not a subcommand is a question. Bad
arguments become a `Usage` with a specific, friendly message instead of an exception.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import time
from functools import lru_cache
from zoneinfo import available_timezones

from bot.core.text import clean_input
from bot.core.validation import LINK_MAX, NOTE_MAX, QUERY_MAX

INPUT_MAX = 4000

WEEKDAYS = {
    "mon": 0, "monday": 0, "mondays": 0,
    "tue": 1, "tues": 1, "tuesday": 1, "tuesdays": 1,
    "wed": 2, "weds": 2, "wednesday": 2, "wednesdays": 2,
    "thu": 3, "thur": 3, "thurs": 3, "thursday": 3, "thursdays": 3,
    "fri": 4, "friday": 4, "fridays": 4,
    "sat": 5, "saturday": 5, "saturdays": 5,
    "sun": 6, "sunday": 6, "sundays": 6,
}  # fmt: skip
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MAX_PAUSE_WEEKS = 12


@dataclass(frozen=True, slots=True)
class Draft:
    """Snippet fields as typed in chat or submitted from a form; validated by the service."""

    title: str
    body: str
    topics: tuple[str, ...]
    questions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Menu:
    pass


@dataclass(frozen=True, slots=True)
class Help:
    pass


@dataclass(frozen=True, slots=True)
class Ask:
    query: str
    offset: int = 0
    """How many of the best matches the member has already seen (the "another" button)."""


@dataclass(frozen=True, slots=True)
class ListTopics:
    pass


@dataclass(frozen=True, slots=True)
class ShowTopic:
    slug: str


@dataclass(frozen=True, slots=True)
class ShowSnippet:
    snippet_id: str


@dataclass(frozen=True, slots=True)
class Vote:
    snippet_id: str
    value: int


@dataclass(frozen=True, slots=True)
class Share:
    snippet_id: str


@dataclass(frozen=True, slots=True)
class Subscribe:
    weekday: int | None = None
    at: time | None = None
    timezone: str | None = None


@dataclass(frozen=True, slots=True)
class Pause:
    weeks: int = 1


@dataclass(frozen=True, slots=True)
class Resume:
    pass


@dataclass(frozen=True, slots=True)
class Unsubscribe:
    pass


@dataclass(frozen=True, slots=True)
class Challenge:
    pass


@dataclass(frozen=True, slots=True)
class Done:
    link: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Skip:
    pass


@dataclass(frozen=True, slots=True)
class Restart:
    pass


@dataclass(frozen=True, slots=True)
class Progress:
    pass


@dataclass(frozen=True, slots=True)
class Suggest:
    draft: Draft | None = None


@dataclass(frozen=True, slots=True)
class Add:
    draft: Draft | None = None


@dataclass(frozen=True, slots=True)
class Edit:
    snippet_id: str
    draft: Draft | None = None


@dataclass(frozen=True, slots=True)
class Retire:
    snippet_id: str


@dataclass(frozen=True, slots=True)
class Review:
    pass


@dataclass(frozen=True, slots=True)
class Approve:
    suggestion_id: int
    draft: Draft | None = None
    """The suggestion as the moderator edited it before approving."""
    edit: bool = False
    """Show the suggestion in a form to edit before approving."""


@dataclass(frozen=True, slots=True)
class Reject:
    suggestion_id: int
    reason: str | None = None
    """None asks for a form to write the reason in."""


@dataclass(frozen=True, slots=True)
class Gaps:
    pass


@dataclass(frozen=True, slots=True)
class Stats:
    pass


@dataclass(frozen=True, slots=True)
class Export:
    pass


@dataclass(frozen=True, slots=True)
class History:
    snippet_id: str


@dataclass(frozen=True, slots=True)
class Revert:
    snippet_id: str
    target: str
    """A revision label (`r2`) or `git` for the YAML version."""


@dataclass(frozen=True, slots=True)
class MyData:
    pass


@dataclass(frozen=True, slots=True)
class Forget:
    confirmed: bool = False


@dataclass(frozen=True, slots=True)
class Remind:
    on: bool


@dataclass(frozen=True, slots=True)
class Usage:
    """The member typed a known subcommand with arguments it cannot use."""

    message: str
    command: str = ""


Command = (
    Menu | Help | Ask | ListTopics | ShowTopic | ShowSnippet | Vote | Share | Subscribe | Pause
    | Resume | Unsubscribe | Challenge | Done | Skip | Restart | Progress | Suggest | Add | Edit
    | Retire | Review | Approve | Reject | Gaps | Stats | Export | History | Revert | MyData
    | Forget | Remind | Usage
)  # fmt: skip

_Handler = Callable[[str], "Command"]

MODERATOR_COMMANDS = (
    Add, Edit, Retire, Review, Approve, Reject, Gaps, Stats, Export, History, Revert
)  # fmt: skip

_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_TIME = re.compile(r"^(\d{1,2})(?::(\d{2}))?\s*(am|pm)?$", re.IGNORECASE)
_URL = re.compile(r"^https?://\S+$", re.IGNORECASE)


def parse(text: str) -> Command:
    """Turn the text after /pmadvice into a command. Never raises."""
    text = clean_input(text, INPUT_MAX)
    if text.lower().startswith("/pmadvice"):
        text = text[len("/pmadvice") :].strip()
    if not text:
        return Menu()
    head, _, rest = text.partition(" ")
    rest = rest.strip()
    word = head.lower()
    if word == "ask":
        return _ask(rest)
    handler = _HANDLERS.get(word)
    command = handler(rest) if handler is not None else _FALLTHROUGH
    return _ask(text) if command is _FALLTHROUGH else command


def _ask(rest: str) -> Command:
    if not rest:
        return Usage(
            "Ask me something after `ask`, e.g. `ask how do I reframe my ops wins`.", "ask"
        )
    if len(rest) > QUERY_MAX:
        rest = rest[:QUERY_MAX]
    return Ask(rest)


def _bare(command: Command) -> _Handler:
    """A command that takes no arguments; followed by words, it was really a question."""

    def handler(rest: str) -> Command:
        return command if not rest else _FALLTHROUGH

    return handler


def _ignoring_args(command: Command) -> _Handler:
    def handler(rest: str) -> Command:
        return command

    return handler


def _more(rest: str) -> Command:
    count, _, query = rest.partition(" ")
    if not count.isdigit() or not query.strip():
        return Usage("`more` needs a number and a question, e.g. `more 1 portfolio ideas`.", "more")
    return Ask(query.strip()[:QUERY_MAX], offset=min(int(count), 50))


def _snippet_id(rest: str, verb: str, example: str) -> str | Usage:
    word = rest.split(" ", 1)[0].strip().lower() if rest else ""
    if not word:
        return Usage(f"`{verb}` needs a snippet id, e.g. `{verb} {example}`.", verb)
    if not _ID.match(word) or len(word) > 60:
        return Usage(
            f"{word[:40]!r} isn't a snippet id. Ids look like `{example}`; "
            "you can see one under any answer.",
            verb,
        )
    return word


def _topic(rest: str) -> Command:
    slug = rest.strip().lower().replace(" ", "-")
    if not slug:
        return Usage("Which topic? Try `topics` to see them all, then `topic portfolio`.", "topic")
    return ShowTopic(slug[:60])


def _show(rest: str) -> Command:
    found = _snippet_id(rest, "show", "whether-not-how")
    return found if isinstance(found, Usage) else ShowSnippet(found)


def _share(rest: str) -> Command:
    found = _snippet_id(rest, "share", "whether-not-how")
    return found if isinstance(found, Usage) else Share(found)


def _vote(rest: str) -> Command:
    parts = rest.split()
    if len(parts) != 2 or parts[1].lower() not in {"up", "down", "+1", "-1"}:
        return Usage("`vote` needs a snippet id and up or down, e.g. `vote whether-not-how up`.")
    found = _snippet_id(parts[0], "vote", "whether-not-how")
    if isinstance(found, Usage):
        return found
    return Vote(found, 1 if parts[1].lower() in {"up", "+1"} else -1)


def parse_time(word: str) -> time | None:
    match = _TIME.match(word.strip())
    if not match:
        return None
    hour, minute, meridiem = int(match[1]), int(match[2] or 0), (match[3] or "").lower()
    if meridiem:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if meridiem == "pm" else 0)
    elif match[2] is None:
        return None
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


@lru_cache(maxsize=1)
def _zones_by_lowercase() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


def valid_timezone(name: str) -> str | None:
    """The canonical IANA name for `name` (case-insensitive), or None if there is no such zone."""
    candidate = name.strip()
    if candidate.upper() in {"UTC", "GMT", "Z"}:
        return "UTC"
    return _zones_by_lowercase().get(candidate.lower())


def _subscribe(rest: str) -> Command:
    weekday: int | None = None
    at: time | None = None
    zone: str | None = None
    tokens = rest.split()
    # "9:30 am" arrives as two words
    merged: list[str] = []
    for token in tokens:
        if token.lower() in {"am", "pm"} and merged:
            merged[-1] += token
        else:
            merged.append(token)
    for token in merged:
        lowered = token.lower().strip(",")
        if lowered in {"on", "at", "in"}:
            continue
        if lowered in WEEKDAYS:
            weekday = WEEKDAYS[lowered]
            continue
        if re.match(r"^\d", lowered):
            parsed = parse_time(lowered)
            if parsed is None:
                return Usage(
                    f"{token[:20]!r} isn't a time I understand. Use 24-hour HH:MM like `09:30` "
                    "or `18:00`, or `9am`.",
                    "subscribe",
                )
            at = parsed
            continue
        if "/" in token or lowered in {"utc", "gmt"}:
            found = valid_timezone(token)
            if found is None:
                return Usage(
                    f"I don't know the time zone {token[:64]!r}. Use an IANA name like "
                    "`Europe/London`, `America/New_York` or `Asia/Kolkata`.",
                    "subscribe",
                )
            zone = found
            continue
        return Usage(
            f"I didn't understand {token[:30]!r}. Try `subscribe [day] [HH:MM] [time zone]`, "
            "e.g. `subscribe tuesday 08:30 Europe/Berlin`.",
            "subscribe",
        )
    return Subscribe(weekday, at, zone)


def _pause(rest: str) -> Command:
    words = rest.lower().split()
    if not words:
        return Pause(1)
    count = words[0]
    if not count.isdigit() or (len(words) > 1 and words[1] not in {"week", "weeks", "w"}):
        return Usage(
            f"`pause` takes a number of weeks, e.g. `pause 2`. Up to {MAX_PAUSE_WEEKS}.", "pause"
        )
    weeks = int(count)
    if not 1 <= weeks <= MAX_PAUSE_WEEKS:
        return Usage(
            f"I can pause for 1 to {MAX_PAUSE_WEEKS} weeks. For longer, `unsubscribe` and come "
            "back whenever you like; your progress stays.",
            "pause",
        )
    return Pause(weeks)


def _done(rest: str) -> Command:
    if not rest:
        return Done()
    first, _, remainder = rest.partition(" ")
    if _URL.match(first):
        if len(first) > LINK_MAX:
            return Usage(f"That link is too long; keep it under {LINK_MAX} characters.", "done")
        note = remainder.strip() or None
        link: str | None = first
    else:
        link, note = None, rest
    if note is not None and len(note) > NOTE_MAX:
        return Usage(
            f"Your note is {len(note)} characters; please keep it under {NOTE_MAX}.", "done"
        )
    return Done(link=link, note=note)


def parse_draft(text: str) -> Draft | Usage:
    """`Title | body | topic, topic | question; question` as typed in chat."""
    parts = [p.strip() for p in text.split("|")]
    if len(parts) < 3:
        return Usage(
            "Write it as `Title | what to do, why, an example | topic-one, topic-two` "
            "(optionally `| question; question`), or use the form.",
        )
    topics = tuple(t.strip().lower() for t in parts[2].replace(";", ",").split(",") if t.strip())
    questions = tuple(q.strip() for q in "|".join(parts[3:]).split(";") if q.strip())
    return Draft(title=parts[0], body=parts[1], topics=topics, questions=questions)


def _drafted(rest: str, verb: str) -> Draft | Usage | None:
    if not rest:
        return None
    draft = parse_draft(rest)
    if isinstance(draft, Usage):
        return Usage(draft.message, verb)
    return draft


def _suggest(rest: str) -> Command:
    draft = _drafted(rest, "suggest")
    return draft if isinstance(draft, Usage) else Suggest(draft)


def _add(rest: str) -> Command:
    draft = _drafted(rest, "add")
    return draft if isinstance(draft, Usage) else Add(draft)


def _edit(rest: str) -> Command:
    found = _snippet_id(rest, "edit", "whether-not-how")
    if isinstance(found, Usage):
        return found
    draft = _drafted(rest.split(" ", 1)[1].strip() if " " in rest else "", "edit")
    return draft if isinstance(draft, Usage) else Edit(found, draft)


def _retire(rest: str) -> Command:
    found = _snippet_id(rest, "retire", "whether-not-how")
    return found if isinstance(found, Usage) else Retire(found)


def _suggestion_id(word: str, verb: str) -> int | Usage:
    word = word.lstrip("#")
    if not word.isdigit() or len(word) > 9:
        return Usage(f"`{verb}` needs a suggestion number, e.g. `{verb} 12`. See `review`.", verb)
    return int(word)


def _review(rest: str) -> Command:
    if not rest:
        return Review()
    action, _, tail = rest.partition(" ")
    if action.lower() == "approve":
        return _approve(tail.strip())
    if action.lower() == "reject":
        return _reject(tail.strip())
    return Usage("Use `review`, `review approve <number>` or `review reject <number> <reason>`.")


def _approve(rest: str) -> Command:
    head, _, tail = rest.partition(" ")
    number = _suggestion_id(head, "approve")
    if isinstance(number, Usage):
        return number
    tail = tail.strip()
    if tail.lower() == "edit":
        return Approve(number, edit=True)
    draft = _drafted(tail, "approve")
    return draft if isinstance(draft, Usage) else Approve(number, draft)


def _history(rest: str) -> Command:
    found = _snippet_id(rest, "history", "whether-not-how")
    return found if isinstance(found, Usage) else History(found)


def _revert(rest: str) -> Command:
    words = rest.split()
    usage = Usage(
        "`revert` needs a snippet id and a revision from `history`, e.g. "
        "`revert whether-not-how r1` (or `git` for the YAML version).",
        "revert",
    )
    if len(words) != 2:
        return usage
    found = _snippet_id(words[0], "revert", "whether-not-how")
    if isinstance(found, Usage):
        return found
    target = words[1].lower()
    if target != "git" and not re.fullmatch(r"r?\d{1,6}", target):
        return usage
    return Revert(found, target if target == "git" else "r" + target.lstrip("r"))


def _forget(rest: str) -> Command:
    word = rest.strip().lower()
    if not word:
        return Forget()
    if word in {"confirm", "yes"}:
        return Forget(confirmed=True)
    return _FALLTHROUGH


def _remind(rest: str) -> Command:
    word = rest.strip().lower()
    if word in {"on", "off"}:
        return Remind(word == "on")
    if not word:
        return Usage(
            "`remind off` stops the mid-week reminder; `remind on` brings it back.", "remind"
        )
    return _FALLTHROUGH


def _reject(rest: str) -> Command:
    head, _, reason = rest.partition(" ")
    number = _suggestion_id(head, "reject")
    if isinstance(number, Usage):
        return number
    return Reject(number, reason.strip()[:NOTE_MAX] or None)


_FALLTHROUGH = Usage("")

_HANDLERS: dict[str, _Handler] = {
    "help": _bare(Help()),
    "?": _bare(Help()),
    "topics": _bare(ListTopics()),
    "topic": _topic,
    "show": _show,
    "more": _more,
    "vote": _vote,
    "share": _share,
    "subscribe": _subscribe,
    "pause": _pause,
    "resume": _ignoring_args(Resume()),
    "unsubscribe": _ignoring_args(Unsubscribe()),
    "challenge": _bare(Challenge()),
    "done": _done,
    "skip": _ignoring_args(Skip()),
    "restart": _ignoring_args(Restart()),
    "progress": _bare(Progress()),
    "suggest": _suggest,
    "add": _add,
    "edit": _edit,
    "retire": _retire,
    "review": _review,
    "approve": _approve,
    "reject": _reject,
    "gaps": _bare(Gaps()),
    "stats": _bare(Stats()),
    "export": _bare(Export()),
    "history": _history,
    "revert": _revert,
    "mydata": _bare(MyData()),
    "forget": _forget,
    "remind": _remind,
}
