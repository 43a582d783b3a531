"""Every subcommand, declared once: what it is called, its grammar, who may run it, and what runs.

`SPECS` is the one table. The parser, `help`, the moderator check, the Slack Home refresh, the
Discord command tree, the console and the README's command table all read it, so a command
declared here exists everywhere and a command missing here exists nowhere.

The first word picks the subcommand; anything that is not a subcommand is a question, and so is
a command that takes no arguments followed by more words ("skip level meetings with my
director"). Bad arguments become a `Usage` with a specific, friendly message instead of an
exception, so a state-changing command never runs on a guess.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import time
from enum import StrEnum
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Generic, TypeVar
from zoneinfo import available_timezones

from bot.core.history import history_reply, revert_reply
from bot.core.models import Actor, WebRole
from bot.core.reply import Reply
from bot.core.text import clean_input
from bot.core.validation import LINK_MAX, NOTE_MAX, QUERY_MAX, REASON_MAX

if TYPE_CHECKING:
    from bot.core.services import Services

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
class ApproveEdited:
    """A suggestion as the moderator polished it in the form, to approve (None: the form)."""

    suggestion_id: int
    draft: Draft | None = None


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
class About:
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
class Dashboard:
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
    | Retire | Review | Approve | ApproveEdited | Reject | Gaps | Stats | Export | About | History | Revert
    | MyData | Forget | Remind | Dashboard | Usage
)  # fmt: skip

Grammar = Callable[[str], "Command"]
"""Turns the words after a subcommand's name into a command (or a `Usage`)."""

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
    spec = spec_named(head)
    command = spec.parse(rest) if spec is not None else QUESTION
    return _ask(text) if command is QUESTION else command


def _ask(rest: str) -> Command:
    if not rest:
        return Usage(
            "Ask me something after `ask`, e.g. `ask how do I reframe my ops wins`.", "ask"
        )
    if len(rest) > QUERY_MAX:
        rest = rest[:QUERY_MAX]
    return Ask(rest)


def _more(rest: str) -> Command:
    count, _, query = rest.partition(" ")
    if rest and not count.isdigit():
        return QUESTION
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
    if " " in rest:
        return QUESTION
    found = _snippet_id(rest, "show", "whether-not-how")
    return found if isinstance(found, Usage) else ShowSnippet(found)


def _share(rest: str) -> Command:
    if " " in rest:
        return QUESTION
    found = _snippet_id(rest, "share", "whether-not-how")
    return found if isinstance(found, Usage) else Share(found)


def _vote(rest: str) -> Command:
    parts = rest.split()
    if len(parts) > 2:
        return QUESTION
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
        return _subscribe_usage(token)
    if merged and weekday is None and at is None and zone is None:
        return _subscribe_usage(merged[-1])
    return Subscribe(weekday, at, zone)


def _subscribe_usage(token: str) -> Usage:
    return Usage(
        f"I didn't understand {token[:30]!r}. Try `subscribe [day] [HH:MM] [time zone]`, "
        "e.g. `subscribe tuesday 08:30 Europe/Berlin`.",
        "subscribe",
    )


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
    if " " in rest and "|" not in rest:
        return QUESTION
    draft = _drafted(rest.split(" ", 1)[1].strip() if " " in rest else "", "edit")
    return draft if isinstance(draft, Usage) else Edit(found, draft)


def _retire(rest: str) -> Command:
    if " " in rest:
        return QUESTION
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
    return QUESTION


def _approve(rest: str) -> Command:
    head, _, tail = rest.strip().partition(" ")
    tail = tail.strip()
    if tail and tail.lower() != "edit" and "|" not in tail:
        return QUESTION
    number = _suggestion_id(head, "approve")
    if isinstance(number, Usage):
        return number
    if tail.lower() == "edit":
        return Approve(number, edit=True)
    draft = _drafted(tail, "approve")
    return draft if isinstance(draft, Usage) else Approve(number, draft)


def _publish(rest: str) -> Command:
    if " " in rest.strip():
        return QUESTION
    number = _suggestion_id(rest.strip(), "publish")
    return number if isinstance(number, Usage) else ApproveEdited(number)


def _history(rest: str) -> Command:
    if " " in rest:
        return QUESTION
    found = _snippet_id(rest, "history", "whether-not-how")
    return found if isinstance(found, Usage) else History(found)


def _revert(rest: str) -> Command:
    words = rest.split()
    usage = Usage(
        "`revert` needs a snippet id and a revision from `history`, e.g. "
        "`revert whether-not-how r1` (or `git` for the YAML version).",
        "revert",
    )
    if len(words) > 2:
        return QUESTION
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
    return QUESTION


def _remind(rest: str) -> Command:
    word = rest.strip().lower()
    if word in {"on", "off"}:
        return Remind(word == "on")
    if not word:
        return Usage(
            "`remind off` stops the mid-week reminder; `remind on` brings it back.", "remind"
        )
    return QUESTION


def _reject(rest: str) -> Command:
    head, _, reason = rest.partition(" ")
    number = _suggestion_id(head, "reject")
    if isinstance(number, Usage):
        return number
    return Reject(number, reason.strip()[:NOTE_MAX] or None)


# -- the table --------------------------------------------------------------------------------


class Audience(StrEnum):
    MEMBER = "member"
    MODERATOR = "moderator"


class ArgKind(StrEnum):
    """What an argument is, so each platform can offer the right input for it."""

    DRAFT = "draft"
    """A snippet typed inline as `Title | advice | topics`; platforms with forms use the form."""
    QUESTION = "question"
    """Free words asked as a question (Discord autocompletes snippet titles)."""
    TEXT = "text"
    """Free words kept as they are (a note, a reason)."""
    COUNT = "count"
    """A whole number from `low` to `high`."""
    WEEKDAY = "weekday"
    TIME = "time"
    TIMEZONE = "timezone"
    TOPIC = "topic"
    SNIPPET = "snippet"
    """A snippet id (autocompleted from titles and ids)."""


@dataclass(frozen=True, slots=True)
class Arg:
    name: str
    kind: ArgKind
    description: str
    required: bool = False
    low: int = 1
    high: int = 100
    """Largest value (COUNT) or longest text (everything else)."""
    default: int | None = None
    choices: tuple[str, ...] = ()
    """The only words it takes (platforms offer them as a pick list)."""
    example: str = ""
    """A typical value, for help and tests, when the kind alone does not suggest one."""


C = TypeVar("C")
Handler = Callable[["Services", Actor, C], Awaitable[Reply]]
FromForm = Callable[[C, Mapping[str, str]], "Command | Reply"]


@dataclass(frozen=True)
class CommandSpec(Generic[C]):
    """One subcommand: everything any part of the bot needs to know about it."""

    name: str
    command: type[C]
    run: Handler[C]
    """What it does, given the services, the member and the parsed command."""
    summary: str
    """The help line; also the Discord description (so 100 characters at most)."""
    usage: str = ""
    """How it is typed, e.g. `pause [weeks]`; the name alone when empty."""
    args: tuple[Arg, ...] = ()
    """Its arguments, in the order they are typed; Discord shows them as typed options."""
    grammar: Grammar | None = None
    """How the words after the name are read; None means the command takes no arguments, so
    any words after it make the whole line a question."""
    audience: Audience = Audience.MEMBER
    changes_home: bool = False
    """Whether the member's home view (Slack App Home) must be shown again after it runs."""
    form: FromForm[C] | None = None
    """How a submitted form rebuilds the command (when the command opens a form)."""
    needs_profile: Callable[[C], bool] | None = None
    """Whether the platform must look up the member's profile (name, time zone) first."""
    public: bool = False
    """Whether its answer is posted for the channel, not only to the member."""
    listed: bool = True
    """Offered as a subcommand everywhere (help, Discord); False for the words buttons use."""
    aliases: tuple[str, ...] = ()
    example: str = field(default="", compare=False)

    def parse(self, rest: str) -> Command:
        if self.grammar is not None:
            return self.grammar(rest)
        return self.command() if not rest else QUESTION  # type: ignore[return-value]

    @property
    def moderator_only(self) -> bool:
        return self.audience is Audience.MODERATOR

    @property
    def takes_free_text(self) -> bool:
        return any(a.kind in {ArgKind.QUESTION, ArgKind.TEXT, ArgKind.DRAFT} for a in self.args)

    @property
    def typed(self) -> str:
        return self.usage or self.name


QUESTION = Usage("")
"""Returned by a grammar to say "these words are a question, not this command"."""


def _bare_or(command: Command, *phrases: str) -> Grammar:
    """No arguments, but a few exact phrases that mean the same (`skip this week`)."""

    def grammar(rest: str) -> Command:
        return command if not rest or rest.lower() in phrases else QUESTION

    return grammar


def _review_form(command: Reject, values: Mapping[str, str]) -> Command | Reply:
    reason = values.get("reason", "").strip()
    if not reason:
        message = "Please write a short reason; the member will see it."
        return Reply(title="Almost there", body=message, errors={"reason": message})
    return Reject(command.suggestion_id, reason)


def draft_from_values(values: Mapping[str, str]) -> Draft:
    """A snippet form's fields as a draft (validated later by the service)."""
    topics = re.split(r"[,;\n]", values.get("topics", ""))
    questions = re.split(r"[;\n]", values.get("questions", ""))
    return Draft(
        title=values.get("title", ""),
        body=values.get("body", ""),
        topics=tuple(t.strip().lower() for t in topics if t.strip()),
        questions=tuple(q.strip() for q in questions if q.strip()),
    )


def _wants_zone(command: Subscribe) -> bool:
    return command.timezone is None


def _always(command: object) -> bool:
    return True


_SNIPPET = Arg(
    "snippet", ArgKind.SNIPPET, "The snippet's id (shown under every answer)", True, high=60
)
_NUMBER = Arg("number", ArgKind.COUNT, "The suggestion's number, e.g. 12", True, high=999_999_999)
_DRAFT = Arg("draft", ArgKind.DRAFT, "Title | what to do, why, an example | topic, topic")
_QUESTION = Arg("question", ArgKind.QUESTION, "e.g. how do I talk about my supply chain work",
               True, high=QUERY_MAX)  # fmt: skip
_SKIPPED = Arg("seen", ArgKind.COUNT, "How many answers were already shown", True, 0, 50)
_UP_DOWN = Arg("value", ArgKind.TEXT, "up or down", True, high=4)
_MOD = Audience.MODERATOR

SPECS = (
    CommandSpec(
        "ask", Ask, lambda s, a, cmd: s.advice.ask(cmd.query, cmd.offset),
        "Ask a question in your own words", "ask <question>",
        args=(_QUESTION,),
        grammar=lambda rest: _ask(rest),
    ),
    CommandSpec("help", Help, lambda s, a, cmd: s.help(a), "How to use pmadvice", aliases=("?",)),
    CommandSpec("about", About, lambda s, a, cmd: s.advice.about(),
                "The version, how much advice I hold, and what I keep about you"),
    CommandSpec("topics", ListTopics, lambda s, a, cmd: s.advice.topics(),
                "List the topics I have advice on"),
    CommandSpec(
        "topic", ShowTopic, lambda s, a, cmd: s.advice.topic(cmd.slug),
        "Show the advice on one topic", "topic <name>",
        args=(Arg("name", ArgKind.TOPIC, "The topic, e.g. portfolio", True),), grammar=_topic,
    ),
    CommandSpec("show", ShowSnippet, lambda s, a, cmd: s.advice.show(cmd.snippet_id),
                "Show one snippet", "show <id>", args=(_SNIPPET,), grammar=_show, listed=False),
    CommandSpec("more", Ask, lambda s, a, cmd: s.advice.ask(cmd.query, cmd.offset),
                "Another answer to a question", "more <n> <question>", args=(_SKIPPED, _QUESTION), grammar=_more,
                listed=False),
    CommandSpec("vote", Vote, lambda s, a, cmd: s.advice.vote(a, cmd.snippet_id, cmd.value),
                "Rate a snippet", "vote <id> up|down", args=(_SNIPPET, _UP_DOWN), grammar=_vote, listed=False),
    CommandSpec("share", Share,
                lambda s, a, cmd: _with_permalink(s, cmd.snippet_id, s.advice.share(a, cmd.snippet_id)),
                "Post a snippet for the channel", "share <id>", args=(_SNIPPET,), grammar=_share, public=True,
                needs_profile=_always, listed=False),
    CommandSpec(
        "subscribe", Subscribe, lambda s, a, cmd: s.progress.subscribe(a, cmd),
        "Get one portfolio exercise by DM every week", "subscribe [day] [HH:MM] [time zone]",
        args=(
            Arg("day", ArgKind.WEEKDAY, "Which day (default Monday)"),
            Arg("time", ArgKind.TIME, "Your local time, 24-hour HH:MM (default 09:00)", high=10),
            Arg("timezone", ArgKind.TIMEZONE,
                "Your time zone, e.g. Europe/London (Discord doesn't tell me)", high=64),
        ),
        grammar=_subscribe, changes_home=True, needs_profile=_wants_zone,
        example="subscribe tue 08:30 Europe/Berlin",
    ),
    CommandSpec(
        "pause", Pause, lambda s, a, cmd: s.progress.pause(a, cmd),
        "Take a break from the weekly nudges", "pause [weeks]",
        args=(Arg("weeks", ArgKind.COUNT, f"How many weeks, 1 to {MAX_PAUSE_WEEKS} (default 1)",
                  high=MAX_PAUSE_WEEKS, default=1),),
        grammar=_pause, changes_home=True,
    ),
    CommandSpec("resume", Resume, lambda s, a, cmd: s.progress.resume(a),
                "Start the weekly nudges again after a pause", changes_home=True),
    CommandSpec("unsubscribe", Unsubscribe, lambda s, a, cmd: s.progress.unsubscribe(a),
                "Stop the weekly nudges (your progress is kept)", changes_home=True),
    CommandSpec("challenge", Challenge, lambda s, a, cmd: s.progress.challenge(a),
                "This week's portfolio exercise"),
    CommandSpec(
        "done", Done, lambda s, a, cmd: s.progress.done(a, cmd),
        "Mark this week's exercise done", "done [link or note]",
        args=(Arg("link_or_note", ArgKind.TEXT,
                  "A link to what you made, or a one-line reflection", high=NOTE_MAX),),
        grammar=_done, changes_home=True,
    ),
    CommandSpec("skip", Skip, lambda s, a, cmd: s.progress.skip(a), "Skip this week's exercise",
                grammar=_bare_or(Skip(), "this week"), changes_home=True),
    CommandSpec("restart", Restart, lambda s, a, cmd: s.progress.restart(a),
                "A review round with revision prompts once the track is finished", changes_home=True),
    CommandSpec("progress", Progress,
                lambda s, a, cmd: _with_own_page(s, a, s.progress.progress(a)),
                "Your progress through the exercises"),
    CommandSpec(
        "suggest", Suggest, lambda s, a, cmd: s.review.suggest(a, cmd.draft),
        "Suggest a snippet for the moderators to review", args=(_DRAFT,),
        grammar=lambda rest: _suggest(rest), changes_home=True,
        form=lambda cmd, values: Suggest(draft_from_values(values)),
    ),
    CommandSpec(
        "add", Add, lambda s, a, cmd: s.curation.add(a, cmd.draft), "Write a new snippet", args=(_DRAFT,),
        grammar=lambda rest: _add(rest), audience=_MOD, changes_home=True,
        form=lambda cmd, values: Add(draft_from_values(values)),
    ),
    CommandSpec(
        "edit", Edit, lambda s, a, cmd: s.curation.edit(a, cmd.snippet_id, cmd.draft),
        "Edit a snippet", "edit <id>", args=(_SNIPPET,), grammar=_edit, audience=_MOD,
        changes_home=True, form=lambda cmd, values: Edit(cmd.snippet_id, draft_from_values(values)),
    ),
    CommandSpec(
        "retire", Retire, lambda s, a, cmd: s.curation.retire(a, cmd.snippet_id),
        "Retire a snippet so it no longer appears in answers", "retire <id>", args=(_SNIPPET,),
        grammar=_retire, audience=_MOD, changes_home=True,
    ),
    CommandSpec("review", Review, lambda s, a, cmd: s.review.review(),
                "The suggestions waiting for review", grammar=_review, audience=_MOD),
    CommandSpec(
        "approve", Approve,
        lambda s, a, cmd: s.review.approve(a, cmd.suggestion_id, cmd.draft, cmd.edit),
        "Publish a suggestion from the review queue (`edit`: polish it first)",
        "approve <number> [edit]", args=(_NUMBER,), grammar=_approve, audience=_MOD,
        changes_home=True,
    ),
    CommandSpec(
        "publish", ApproveEdited,
        lambda s, a, cmd: s.review.approve(a, cmd.suggestion_id, cmd.draft, cmd.draft is None),
        "Approve a suggestion after polishing it in a form", "publish <number>",
        args=(_NUMBER,), grammar=_publish, audience=_MOD, changes_home=True, listed=False,
        form=lambda cmd, values: ApproveEdited(cmd.suggestion_id, draft_from_values(values)),
    ),
    CommandSpec(
        "reject", Reject, lambda s, a, cmd: s.review.reject(a, cmd.suggestion_id, cmd.reason),
        "Decline a suggestion and tell the member why", "reject <number> <reason>",
        args=(_NUMBER, Arg("reason", ArgKind.TEXT, "Shown to the member", True, high=REASON_MAX)),
        grammar=_reject, audience=_MOD, changes_home=True, form=_review_form,
    ),
    CommandSpec("gaps", Gaps, lambda s, a, cmd: s.reports.gaps(),
                "Questions I couldn't answer in the last 30 days", audience=_MOD),
    CommandSpec("stats", Stats, lambda s, a, cmd: s.reports.stats(), "Usage numbers",
                audience=_MOD),
    CommandSpec("export", Export, lambda s, a, cmd: s.reports.export(),
                "Snippets changed from chat, as a patch to commit", audience=_MOD),
    CommandSpec(
        "history", History,
        lambda s, a, cmd: _history_reply(s, cmd.snippet_id),
        "A snippet's revisions, newest first, with short diffs", "history <id>",
        args=(_SNIPPET,), grammar=_history, audience=_MOD,
    ),
    CommandSpec(
        "revert", Revert,
        lambda s, a, cmd: _revert_reply(s, a, cmd.snippet_id, cmd.target),
        "Restore a revision as a new one (undoes a retire too)", "revert <id> <rN|git>",
        args=(_SNIPPET, Arg("revision", ArgKind.TEXT, "From history, e.g. r2; git for the YAML",
                            True, high=12, example="r1")),
        grammar=_revert, audience=_MOD, changes_home=True,
    ),
    CommandSpec("mydata", MyData, lambda s, a, cmd: s.privacy.mydata(a),
                "Everything I store about you, as a JSON file only you see"),
    CommandSpec("forget", Forget, lambda s, a, cmd: s.privacy.forget(a, cmd.confirmed),
                "Erase what I store about you (asks first)", grammar=_forget, changes_home=True),
    CommandSpec(
        "remind", Remind, lambda s, a, cmd: s.progress.remind(a, cmd.on),
        "Mid-week reminders when the week's exercise is still open", "remind on|off",
        args=(Arg("setting", ArgKind.TEXT, "on or off", True, high=3, choices=("on", "off")),),
        grammar=_remind, changes_home=True,
    ),
    CommandSpec("dashboard", Dashboard, lambda s, a, cmd: s.web.link(a, WebRole.MODERATOR),
                "A private one-time link to the moderators' web dashboard", audience=_MOD),
)  # fmt: skip


async def _history_reply(services: Services, snippet_id: str) -> Reply:
    return history_reply(await services.history.history(snippet_id), snippet_id)


async def _revert_reply(services: Services, actor: Actor, snippet_id: str, target: str) -> Reply:
    return revert_reply(await services.history.revert(actor, snippet_id, target))


async def _with_permalink(services: Services, snippet_id: str, reply: Awaitable[Reply]) -> Reply:
    return services.web.with_permalink(snippet_id, await reply)


async def _with_own_page(services: Services, actor: Actor, reply: Awaitable[Reply]) -> Reply:
    return await services.web.with_own_page(actor, await reply)


_BY_NAME: dict[str, CommandSpec[Any]] = {
    word: spec for spec in SPECS for word in (spec.name, *spec.aliases)
}
_BY_TYPE: dict[type[Any], CommandSpec[Any]] = {}
for _spec in SPECS:
    _BY_TYPE.setdefault(_spec.command, _spec)


def spec_named(word: str) -> CommandSpec[Any] | None:
    return _BY_NAME.get(word.lower())


def spec_of(command: Command) -> CommandSpec[Any] | None:
    """The declaration behind a parsed command (None for the menu and usage errors)."""
    return _BY_TYPE.get(type(command))


def listed(audience: Audience | None = None) -> tuple[CommandSpec[Any], ...]:
    """The subcommands offered to members (and moderators), in declaration order."""
    return tuple(s for s in SPECS if s.listed and (audience is None or s.audience is audience))


def needs_profile(command: Command) -> bool:
    """Whether a platform should look the member's profile (name, time zone) up first."""
    spec = spec_of(command)
    return spec is not None and spec.needs_profile is not None and spec.needs_profile(command)
