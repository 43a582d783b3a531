"""The command table: every command is declared once, and the declaration is honoured."""

from __future__ import annotations

import re
import typing
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core import commands as c
from bot.core.presenter import commands_markdown, help_reply

README = Path(__file__).resolve().parents[2] / "README.md"
NOT_DECLARED = {c.Menu, c.Usage}
"""The empty line and a usage error are answers of the parser, not subcommands."""

QUESTION_WORDS = (
    "level", "meetings", "with", "my", "director", "tips", "for", "moving", "from", "ops",
    "to", "product", "me", "newsletter", "question", "how", "do", "i", "talk", "about",
    "resume", "stakeholders", "roadmap", "a", "the", "interview", "manager", "career",
)  # fmt: skip
words = st.lists(st.sampled_from(QUESTION_WORDS), min_size=2, max_size=8).map(" ".join)


def test_every_command_type_has_exactly_one_declaration():
    declared = [spec.command for spec in c.SPECS if spec.name != "more"]
    assert len(declared) == len(set(declared))
    assert set(typing.get_args(c.Command)) - NOT_DECLARED == set(declared)


def test_names_and_aliases_are_unique_lowercase_words():
    names = [word for spec in c.SPECS for word in (spec.name, *spec.aliases)]
    assert len(names) == len(set(names))
    assert all(re.fullmatch(r"[a-z?]+", name) for name in names)


@pytest.mark.parametrize("spec", c.SPECS, ids=lambda s: s.name)
def test_a_declaration_fits_every_platform(spec: c.CommandSpec[typing.Any]):
    assert 1 <= len(spec.summary) <= 100  # a Discord description
    assert spec.typed.split(" ", 1)[0] == spec.name
    for arg in spec.args:
        assert re.fullmatch(r"[a-z_]{1,32}", arg.name)
        assert 1 <= len(arg.description) <= 100


@pytest.mark.parametrize("spec", [s for s in c.SPECS if not s.args], ids=lambda s: s.name)
def test_a_command_without_arguments_parses_from_its_name_alone(spec):
    assert c.parse(spec.name) == spec.command()
    assert c.parse(spec.name.upper()) == spec.command()


@pytest.mark.parametrize(
    "text",
    [
        "resume tips for moving from ops to product",
        "skip level meetings with my director",
        "unsubscribe me from this newsletter question",
        "restart my career in product",
        "retire early from ops and move to product",
        "share my ops wins with a hiring manager",
        "show me how to write a PRD",
        "review my resume please",
        "progress reports for stakeholders",
    ],
)
def test_questions_that_start_with_a_command_word_are_questions(text):
    assert c.parse(text) == c.Ask(text)


@given(st.sampled_from([s for s in c.SPECS if not s.args]), words)
def test_any_argument_free_command_followed_by_words_is_a_question(spec, tail):
    text = f"{spec.name} {tail}"
    assert c.parse(text) == c.Ask(text)


@given(st.sampled_from([s for s in c.SPECS if s.changes_home]), words)
def test_a_state_changing_command_never_runs_on_a_guess(spec, tail):
    """Words that are not its arguments never run it: a question, or a usage hint."""
    result = c.parse(f"{spec.name} {tail}")
    if spec.takes_free_text:
        assert isinstance(result, spec.command | c.Usage | c.Ask)
    else:
        assert not isinstance(result, spec.command)


def test_help_lists_every_listed_command_for_its_audience():
    member, moderator = help_reply(moderator=False).body, help_reply(moderator=True).body
    for spec in c.listed():
        if spec.name == "ask":
            continue
        assert f"`{spec.typed}`" in moderator
        assert (f"`{spec.typed}`" in member) is (not spec.moderator_only)


def test_the_readme_command_table_matches_the_declarations():
    text = README.read_text(encoding="utf-8")
    block = text.split("<!-- commands:", 1)[1].split("-->", 1)[1].split("<!-- /commands -->")[0]
    assert block.strip() == commands_markdown(), (
        "README.md's command table is out of date; paste the output of "
        "`python -c 'from bot.core.presenter import commands_markdown; print(commands_markdown())'`"
    )
