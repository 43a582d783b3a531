"""Every declared command, typed the way a member would: the same list for every platform."""

from __future__ import annotations

from typing import Any

from bot.core.commands import Arg, ArgKind, CommandSpec, listed
from bot.core.models import Knowledge
from bot.core.reply import SORRY

NOT_RUN = {
    "I have nothing good on that yet",  # read as a question
    "That's for moderators",
    "That didn't work",
    SORRY.title,
}
"""Titles that would mean a declared command did not run as that command."""


def example(arg: Arg, knowledge: Knowledge) -> Any:
    if arg.example or arg.choices:
        return arg.example or arg.choices[0]
    values: dict[ArgKind, Any] = {
        ArgKind.QUESTION: "how do I build a portfolio",
        ArgKind.TEXT: "a short note",
        ArgKind.COUNT: max(arg.low, 1),
        ArgKind.WEEKDAY: "tue",
        ArgKind.TIME: "08:30",
        ArgKind.TIMEZONE: "Europe/Berlin",
        ArgKind.TOPIC: knowledge.topics[0].slug,
        ArgKind.SNIPPET: knowledge.snippets[0].id,
    }
    return values[arg.kind]


def example_options(spec: CommandSpec[Any], knowledge: Knowledge) -> dict[str, Any]:
    """The required arguments, by name (Discord options)."""
    return {a.name: example(a, knowledge) for a in spec.args if a.required}


def example_text(spec: CommandSpec[Any], knowledge: Knowledge) -> str:
    """The command as typed after /pmadvice, with its required arguments."""
    return " ".join([spec.name, *(str(v) for v in example_options(spec, knowledge).values())])


def opens_form(spec: CommandSpec[Any]) -> bool:
    """Commands that answer with a form when typed with only their required arguments."""
    return spec.form is not None and not any(
        a.required and a.kind is ArgKind.TEXT for a in spec.args
    )


def commands() -> tuple[CommandSpec[Any], ...]:
    return listed()
