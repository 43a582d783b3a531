"""Turn domain objects into neutral replies. Wording lives here, in one place."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core.commands import Audience, listed
from bot.core.models import Correction, Exercise, Knowledge, Snippet, Topic
from bot.core.reply import Button, ButtonStyle, Reply, ReplyField, Visibility

BAR_FULL = "▓"
BAR_EMPTY = "░"


def snippet_reply(
    snippet: Snippet,
    knowledge: Knowledge,
    related: Sequence[Snippet] = (),
    query: str | None = None,
    offset: int = 0,
    corrections: Sequence[Correction] = (),
) -> Reply:
    buttons = [Button(_short(r.title, 60), f"show {r.id}") for r in related[:2]]
    if query:
        buttons.append(Button("Another answer", f"more {offset + 1} {query}"))
    buttons.extend(
        [
            Button("👍 Helpful", f"vote {snippet.id} up"),
            Button("👎 Not helpful", f"vote {snippet.id} down"),
            Button("Share to channel", f"share {snippet.id}", ButtonStyle.PRIMARY),
        ]
    )
    return Reply(
        title=snippet.title,
        body=snippet.body.strip(),
        buttons=tuple(buttons),
        context=_with_hint(
            did_you_mean(query or "", corrections), snippet_context(snippet, knowledge)
        ),
    )


def did_you_mean(query: str, corrections: Sequence[Correction]) -> str:
    """'Did you mean "product teardown"?' when typos in the question were read as other words."""
    if not corrections or not query:
        return ""
    fixed = query
    for correction in corrections:
        pattern = re.compile(rf"\b{re.escape(correction.typed)}\b", re.IGNORECASE)
        fixed = pattern.sub(correction.meant, fixed)
    if fixed == query:
        fixed = ", ".join(c.meant for c in corrections)
    return f'Did you mean "{_short(fixed, 120)}"?'


def _with_hint(hint: str, context: str) -> str:
    return f"{hint} | {context}" if hint else context


def snippet_context(snippet: Snippet, knowledge: Knowledge) -> str:
    names = [_topic_name(slug, knowledge) for slug in snippet.topics]
    parts = [" · ".join(names)]
    if snippet.source:
        parts.append(f"Source: {snippet.source}")
    parts.append(f"id: {snippet.id}")
    return " | ".join(p for p in parts if p)


def shared_snippet_reply(snippet: Snippet, knowledge: Knowledge, shared_by: str) -> Reply:
    who = shared_by or "A member"
    return Reply(
        title=snippet.title,
        body=snippet.body.strip(),
        context=f"Shared by {who} · {snippet_context(snippet, knowledge)}",
        visibility=Visibility.CHANNEL,
        shared_by=who,
    )


def decline_reply(
    query: str, knowledge: Knowledge, corrections: Sequence[Correction] = ()
) -> Reply:
    return Reply(
        title="I have nothing good on that yet",
        body=(
            "I'd rather say so than hand you a weak match. I've noted the question so the "
            "moderators can fill the gap. Here is what I do know about:"
        ),
        fields=tuple(ReplyField(t.title, f"`topic {t.slug}`") for t in knowledge.topics[:25]),
        buttons=(
            Button("All topics", "topics"),
            Button("Suggest a snippet", "suggest"),
        ),
        context=_with_hint(did_you_mean(query, corrections), f'You asked: "{_short(query, 120)}"'),
    )


def topics_reply(knowledge: Knowledge, counts: dict[str, int]) -> Reply:
    lines = [
        f"- *{t.title}* (`topic {t.slug}`, {counts.get(t.slug, 0)} snippets)"
        for t in knowledge.topics
    ]
    return Reply(
        title="Topics",
        body="\n".join(lines),
        context="Or just ask a question: `/pmadvice how do I explain my ops work to a PM?`",
    )


def topic_reply(topic: Topic, snippets: Sequence[Snippet]) -> Reply:
    lines = [f"- {s.title}" for s in snippets[:20]]
    body = topic.description + ("\n\n" if topic.description else "") + "\n".join(lines)
    reading = [f"{r.title} by {r.author} ({r.kind})" for r in topic.go_deeper]
    return Reply(
        title=topic.title,
        body=body,
        fields=(ReplyField("Go deeper", "\n".join(reading), inline=False),) if reading else (),
        buttons=tuple(Button(_short(s.title, 60), f"show {s.id}") for s in snippets[:5]),
        context=f"{len(snippets)} snippets on this topic",
    )


def exercise_reply(
    exercise: Exercise,
    progress_line: str,
    heading: str = "This week's exercise",
    round_number: int = 1,
    upcoming: Exercise | None = None,
) -> Reply:
    """An exercise as sent or shown; a review round shows the revision prompt, and a heads-up
    names what to book now when next week's exercise needs other people."""
    fields = [
        ReplyField("Deliverable", exercise.deliverable),
        ReplyField("Time", minutes_text(exercise.minutes)),
        ReplyField("Done looks like", exercise.done_when, inline=False),
    ]
    if upcoming is not None and upcoming.book_ahead:
        fields.append(
            ReplyField(
                "Heads-up for next week",
                f"Next week is *{upcoming.title}*, which needs other people, so "
                f"{upcoming.book_ahead}",
                inline=False,
            )
        )
    return Reply(
        title=f"{heading}: {exercise.title}",
        body=exercise.prompt_for(round_number).strip(),
        fields=tuple(fields),
        buttons=(
            Button("Mark done", "done", ButtonStyle.PRIMARY),
            Button("Skip", "skip"),
            Button("Pause a week", "pause 1"),
        ),
        context=progress_line,
    )


def round_heading(round_number: int) -> str:
    return "This week's exercise" if round_number <= 1 else f"Review round {round_number}"


def self_check_text(exercise: Exercise) -> str:
    """The three questions a member asks themselves once an exercise is done."""
    if not exercise.self_check:
        return ""
    lines = "\n".join(f"{n}. {q}" for n, q in enumerate(exercise.self_check, start=1))
    return f"*Check yourself before you move on:*\n{lines}"


def finished_reply(total: int, progress: str) -> Reply:
    """The track is behind the member: offer a review round or a stop."""
    return Reply(
        title="You've finished the whole track 🎉",
        body=(
            f"All {total} exercises are behind you. A review round (`restart`) gives each one "
            "a revision prompt: improve the piece with what you have learned since, rather "
            "than start again. Or shall I stop the weekly nudges (`unsubscribe`)?"
        ),
        buttons=(
            Button("Start a review round", "restart", ButtonStyle.PRIMARY),
            Button("Stop nudges", "unsubscribe"),
        ),
        context=progress,
    )


def progress_bar(done: int, total: int) -> str:
    total = max(total, 1)
    filled = min(done, total)
    return BAR_FULL * filled + BAR_EMPTY * (total - filled)


def progress_line(done: int, total: int, streak: int) -> str:
    return f"{done}/{total} {progress_bar(done, total)} streak {streak}"


def local_time(at: datetime | None, zone: str) -> str:
    """A moment in the member's own time zone, the same in chat and on the home screen."""
    if at is None:
        return "not scheduled"
    local = at.astimezone(ZoneInfo(zone))
    return f"{local:%A %d %B, %H:%M} {zone}"


def minutes_text(minutes: int) -> str:
    if minutes < 60:
        return f"about {minutes} min"
    hours, rest = divmod(minutes, 60)
    return f"about {hours} h {rest} min" if rest else f"about {hours} h"


def _topic_name(slug: str, knowledge: Knowledge) -> str:
    topic = knowledge.topic(slug)
    return topic.title if topic else slug


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def reminder_reply(exercise: Exercise, progress: str) -> Reply:
    """The mid-week nudge for a member whose exercise of the week is still open."""
    return Reply(
        title=f"Mid-week reminder: {exercise.title}",
        body=(
            f"This week's exercise is still open: {exercise.deliverable.rstrip('.')}. "
            f"It takes {minutes_text(exercise.minutes)}; a rough version counts."
        ),
        buttons=(
            Button("Mark done", "done", ButtonStyle.PRIMARY),
            Button("Skip this one", "skip"),
            Button("No more reminders", "remind off"),
        ),
        context=progress + " · `remind off` stops these",
    )


ASK_ANYTHING = (
    "*Ask anything* about moving from operations into product: "
    "`/pmadvice how do I talk about my supply chain work`"
)


def help_lines(audience: Audience) -> list[str]:
    return [
        f"- `{spec.typed}`: {spec.summary}" + (f", e.g. `{spec.example}`" if spec.example else "")
        for spec in listed(audience)
        if spec.name != "ask"
    ]


def help_reply(moderator: bool) -> Reply:
    body = "\n".join([ASK_ANYTHING, *help_lines(Audience.MEMBER)])
    if moderator:
        body += "\n\n*Moderators*\n" + "\n".join(help_lines(Audience.MODERATOR))
    return Reply(title="How to use pmadvice", body=body)


def menu_reply() -> Reply:
    return Reply(
        title="Hi! I'm pmadvice",
        body=(
            "I help people moving from operations into product management. Ask me a "
            "question in your own words, browse the topics, or take on a weekly portfolio "
            "exercise."
        ),
        buttons=(
            Button("Browse topics", "topics"),
            Button("This week's exercise", "challenge"),
            Button("My progress", "progress"),
            Button("Help", "help"),
        ),
    )


def usage_reply(message: str) -> Reply:
    return Reply(title="Not quite", body=message, buttons=(Button("Help", "help"),))


def moderators_only_reply() -> Reply:
    return Reply(
        title="That's for moderators",
        body=(
            "Only community moderators can change snippets or see the queues. You can "
            "`suggest` a snippet and a moderator will review it."
        ),
        buttons=(Button("Suggest a snippet", "suggest"),),
    )


def form_expired_reply() -> Reply:
    return Reply(body="That form has expired. Please start again from the command.")


def commands_markdown() -> str:
    """The README's command table, generated from the declarations."""
    rows = ["| command | who | what it does |", "|---|---|---|"]
    rows.append("| *any question* | everyone | " + ANY_QUESTION + " |")
    rows.append("| (nothing) | everyone | a menu |")
    rows += [
        f"| `{spec.typed}` | {'moderators' if spec.moderator_only else 'everyone'} "
        f"| {spec.summary} |"
        for spec in listed()
    ]
    return "\n".join(rows)


ANY_QUESTION = 'the best-matching snippet, two related ones, 👍/👎, "another", "share to channel"'


def about_reply(release: str, snippets: int, topics: int, exercises: int) -> Reply:
    return Reply(
        title=f"pmadvice {release}",
        body=(
            f"I hold {snippets} snippets of advice on {topics} topics, and a track of "
            f"{exercises} portfolio exercises."
        ),
        fields=(
            ReplyField(
                "What I keep about you",
                "Your chat id and name, your weekly-exercise subscription (day, time, time "
                "zone), your progress with the links and notes you add to `done`, your votes, "
                "and what you suggest. Questions I couldn't answer are kept without your name, "
                "with e-mail addresses, phone numbers and tokens masked, so the moderators can "
                "fill the gap. `mydata` sends you all of it; `forget` erases it.",
                inline=False,
            ),
        ),
        buttons=(Button("Help", "help"),),
    )
