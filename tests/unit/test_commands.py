from datetime import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core import commands as c


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", c.Menu()),
        ("   ", c.Menu()),
        ("/pmadvice", c.Menu()),
        ("help", c.Help()),
        ("HELP", c.Help()),
        ("topics", c.ListTopics()),
        ("topic portfolio", c.ShowTopic("portfolio")),
        ("topic Product Ops", c.ShowTopic("product-ops")),
        ("show whether-not-how", c.ShowSnippet("whether-not-how")),
        ("vote whether-not-how up", c.Vote("whether-not-how", 1)),
        ("vote whether-not-how down", c.Vote("whether-not-how", -1)),
        ("share whether-not-how", c.Share("whether-not-how")),
        ("challenge", c.Challenge()),
        ("done", c.Done()),
        ("done https://example.com/x", c.Done(link="https://example.com/x")),
        (
            "done https://example.com/x wrote it up",
            c.Done(link="https://example.com/x", note="wrote it up"),
        ),
        ("done talked to three users", c.Done(note="talked to three users")),
        ("skip", c.Skip()),
        ("skip this week", c.Skip()),
        ("progress", c.Progress()),
        ("pause", c.Pause(1)),
        ("pause 3", c.Pause(3)),
        ("pause 2 weeks", c.Pause(2)),
        ("resume", c.Resume()),
        ("unsubscribe", c.Unsubscribe()),
        ("restart", c.Restart()),
        ("suggest", c.Suggest()),
        ("add", c.Add()),
        ("edit whether-not-how", c.Edit("whether-not-how")),
        ("retire whether-not-how", c.Retire("whether-not-how")),
        ("review", c.Review()),
        ("approve 3", c.Approve(3)),
        ("review approve #3", c.Approve(3)),
        ("reject 3 already covered", c.Reject(3, "already covered")),
        ("reject 3", c.Reject(3)),
        ("gaps", c.Gaps()),
        ("stats", c.Stats()),
        ("export", c.Export()),
        ("more 2 portfolio ideas", c.Ask("portfolio ideas", offset=2)),
    ],
)
def test_subcommands(text, expected):
    assert c.parse(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "how do I talk about my supply chain work",
        "what is product ops",
        "help me pick between product ops and PM",
        "topics for a portfolio",
        "progress reports for stakeholders",
    ],
)
def test_anything_else_is_a_question(text):
    assert c.parse(text) == c.Ask(text)


def test_ask_prefix_and_slash_prefix():
    assert c.parse("/pmadvice ask what is product ops") == c.Ask("what is product ops")
    assert c.parse("/pmadvice what is product ops") == c.Ask("what is product ops")


@pytest.mark.parametrize(
    ("text", "weekday", "at", "zone"),
    [
        ("subscribe", None, None, None),
        ("subscribe tue 08:30 Europe/Berlin", 1, time(8, 30), "Europe/Berlin"),
        ("subscribe Friday 18:00", 4, time(18, 0), None),
        ("subscribe 9am", None, time(9, 0), None),
        ("subscribe 9:30 pm america/new_york", None, time(21, 30), "America/New_York"),
        ("subscribe on monday at 07:05 in UTC", 0, time(7, 5), "UTC"),
    ],
)
def test_subscribe_arguments(text, weekday, at, zone):
    assert c.parse(text) == c.Subscribe(weekday, at, zone)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("subscribe 25:99", "isn't a time"),
        ("subscribe 12:60", "isn't a time"),
        ("subscribe 13pm", "isn't a time"),
        ("subscribe Mars/Olympus", "don't know the time zone"),
        ("subscribe funday", "didn't understand"),
        ("pause forever", "number of weeks"),
        ("pause 0", "1 to 12 weeks"),
        ("pause 52", "1 to 12 weeks"),
        ("edit", "needs a snippet id"),
        ("edit Not!", "isn't a snippet id"),
        ("retire", "needs a snippet id"),
        ("approve", "suggestion number"),
        ("vote x sideways", "up or down"),
        ("ask", "Ask me something"),
        ("add only a title", "Title |"),
    ],
)
def test_bad_arguments_get_specific_help(text, fragment):
    result = c.parse(text)
    assert isinstance(result, c.Usage)
    assert fragment in result.message


def test_inline_draft():
    result = c.parse("add Teardowns | Pick an app you use weekly. | portfolio, ops-vs-pm | q1; q2")
    assert result == c.Add(
        c.Draft(
            "Teardowns", "Pick an app you use weekly.", ("portfolio", "ops-vs-pm"), ("q1", "q2")
        )
    )


def test_oversized_input_is_capped():
    result = c.parse("x" * 10_000)
    assert isinstance(result, c.Ask)
    assert len(result.query) <= 500


def test_control_and_zero_width_characters_are_removed():
    assert c.parse("he\u200blp") == c.Help()
    assert c.parse("topics\x00") == c.ListTopics()


@given(st.text(max_size=300))
def test_parse_never_raises_and_always_returns_a_command(text):
    result = c.parse(text)
    assert isinstance(result, c.Command)


@given(st.binary(max_size=200))
def test_binary_looking_input(data):
    assert isinstance(c.parse(data.decode("latin-1")), c.Command)


@given(st.integers(0, 30), st.integers(0, 99))
def test_times_are_validated(hour, minute):
    result = c.parse(f"subscribe {hour}:{minute:02d}")
    if hour <= 23 and minute <= 59:
        assert result == c.Subscribe(at=time(hour, minute))
    else:
        assert isinstance(result, c.Usage)
