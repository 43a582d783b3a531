"""Block Kit rendering: limits, splitting, buttons, forms and escaping (no I/O)."""

from __future__ import annotations

import json
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.models import Topic
from bot.core.reply import (
    Attachment,
    Button,
    ButtonStyle,
    FieldKind,
    Form,
    FormField,
    Reply,
    ReplyField,
    Visibility,
)
from bot.slack_adapter import render
from tests.slack.fake_slack import message_problems, view_problems
from tests.slack.markup import assert_no_live_markup

HOSTILE = ["<!channel>", "<!here>", "<!everyone>", "<@U0ADMIN01>", "<!subteam^S0MODS|@mods>",
           "<#C0GENERAL1|general>", "<https://evil.example|click>", "a & b", "&lt;!here&gt;"]  # fmt: skip
TOPICS = (Topic("portfolio", "Portfolio"), Topic("interviews", "Interviews"))


def unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def test_escape_neutralises_every_mention_form() -> None:
    for hostile in HOSTILE:
        escaped = render.escape(hostile)
        assert "<" not in escaped
        assert ">" not in escaped
        assert unescape(escaped) == hostile


def test_a_reply_renders_header_sections_fields_context_and_buttons() -> None:
    reply = Reply(
        title="Tell the outcome, not the process",
        body="Do this:\n- write the *result*\n- then the _how_",
        fields=(ReplyField("Deliverable", "One line"), ReplyField("Done", "When", inline=False)),
        buttons=(
            Button("👍 Helpful", "vote x up"),
            Button("Share", "share x", ButtonStyle.PRIMARY),
        ),
        context="Portfolio | id: x",
    )
    blocks = render.reply_blocks(reply)
    assert [b["type"] for b in blocks] == [
        "header",
        "section",
        "section",
        "section",
        "context",
        "actions",
    ]
    assert "• write the *result*" in blocks[1]["text"]["text"]
    buttons = blocks[-1]["elements"]
    assert [b["value"] for b in buttons] == ["vote x up", "share x"]
    assert all(b["action_id"].startswith("pmadvice:") for b in buttons)
    assert buttons[1]["style"] == "primary"
    assert "style" not in buttons[0]
    assert message_problems(render.message(reply)) == []


def test_long_text_is_split_never_rejected() -> None:
    body = "\n\n".join(f"Paragraph {i} " + "word & <tag> " * 120 for i in range(80))
    reply = Reply(title="T" * 400, body=body, context="c" * 5000)
    payload = render.message(reply)
    assert message_problems(payload) == []
    assert len(payload["blocks"]) == render.MESSAGE_BLOCKS_MAX
    assert payload["blocks"][-2]["elements"][0]["text"] == render.SHORTENED
    view = render.reply_view(reply)
    assert view_problems(view) == []
    assert len(view["blocks"]) <= render.VIEW_BLOCKS_MAX
    assert len(payload["blocks"][0]["text"]["text"]) <= 150


def test_many_fields_and_buttons_respect_block_limits() -> None:
    reply = Reply(
        fields=tuple(ReplyField(f"F{i}", "v" * 2500) for i in range(30)),
        buttons=tuple(Button(f"B{i} " + "x" * 100, f"show s{i}") for i in range(30)),
    )
    payload = render.message(reply)
    assert message_problems(payload) == []
    actions = [b for b in payload["blocks"] if b["type"] == "actions"]
    assert [len(a["elements"]) for a in actions] == [25, 5]


def test_buttons_render_one_to_one_with_their_commands() -> None:
    # The core offers "Reject #n" itself; the adapter adds no buttons of its own.
    blocks = render.action_blocks(
        [
            Button("Approve #7", "approve 7", ButtonStyle.PRIMARY),
            Button("Reject #7", "reject 7", ButtonStyle.DANGER),
        ]
    )
    approve, reject = blocks[0]["elements"]
    assert (approve["value"], approve["style"]) == ("approve 7", "primary")
    assert (reject["value"], reject["style"]) == ("reject 7", "danger")
    assert all(e["action_id"].startswith(render.RUN_ACTION) for e in (approve, reject))


def test_attachment_becomes_code_blocks_within_limits() -> None:
    content = "\n".join(f"- id: snippet-{i}\n  title: A & <B>" for i in range(600))
    payload = render.message(
        Reply(title="Export", attachment=Attachment("community.yaml", content))
    )
    assert message_problems(payload) == []
    assert "```" in json.dumps(payload["blocks"])
    assert_no_live_markup(payload)


def test_channel_visibility_keeps_attribution_in_context() -> None:
    reply = Reply(title="T", body="B", context="Shared by <!channel> · Portfolio",
                  visibility=Visibility.CHANNEL, shared_by="<!channel>")  # fmt: skip
    payload = render.message(reply)
    assert "Shared by &lt;!channel&gt;" in payload["blocks"][-1]["elements"][0]["text"]
    assert_no_live_markup(payload)


def test_form_view_maps_field_kinds_and_prefills() -> None:
    form = Form(
        title="Edit a-very-long-snippet-identifier",
        command="edit a-very-long-snippet-identifier",
        fields=(
            FormField("title", "Title", initial="Old <title>", max_length=80, hint="One idea"),
            FormField("body", "Advice", FieldKind.PARAGRAPH, initial="x" * 5000, max_length=1500),
            FormField("topics", "Topics", FieldKind.TOPICS, initial="portfolio, nope"),
            FormField("questions", "Questions", FieldKind.PARAGRAPH, required=False),
        ),
    )
    view = render.form_view(
        form, TOPICS, "Intro <!here>", {"command": form.command, "channel": "C1"}
    )
    assert view_problems(view) == []
    inputs = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
    assert inputs["title"]["element"]["initial_value"] == "Old <title>"  # plain text, not escaped
    assert inputs["body"]["element"]["multiline"] is True
    assert len(inputs["body"]["element"]["initial_value"]) == 1500
    topics = inputs["topics"]["element"]
    assert topics["type"] == "multi_static_select"
    assert [o["value"] for o in topics["initial_options"]] == ["portfolio"]
    assert inputs["questions"]["optional"] is True
    assert json.loads(view["private_metadata"])["command"] == form.command
    assert_no_live_markup(view)


def test_form_values_and_errors_round_trip() -> None:
    state = {
        "title": {"value": {"type": "plain_text_input", "value": "T"}},
        "questions": {"value": {"type": "plain_text_input", "value": None}},
        "topics": {"value": {"type": "multi_static_select",
                             "selected_options": [{"value": "a"}, {"value": "b"}]}},
    }  # fmt: skip
    assert render.form_values(state) == {"title": "T", "questions": "", "topics": "a, b"}
    mapped = render.block_errors({"title": "Too short.", "draft": "Odd."}, ["title", "body"])
    assert mapped == {"title": "Too short. Odd."}


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab <>&!@^|#:;\n-*_`")), max_size=7000))
def test_any_text_renders_safely_and_completely(text: str) -> None:
    reply = Reply(title=text[:200], body=text, fields=(ReplyField(text[:50] or "n", text[:3000]),),
                  context=text[:400], buttons=(Button(text[:80] or "b", text[:3000] or "help"),))  # fmt: skip
    payload = render.message(reply)
    assert message_problems(payload) == []
    assert_no_live_markup(payload)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab &<>\n")), max_size=5000), st.integers(20, 400))
def test_split_keeps_every_word_and_every_entity_whole(text: str, limit: int) -> None:
    escaped = render.escape(text)
    pieces = render.split_text(escaped, limit)
    assert all(len(p) <= limit for p in pieces)
    for piece in pieces:
        assert re.search(r"&(?!amp;|lt;|gt;)", piece) is None, piece
    assert "".join(unescape("".join(pieces)).split()) == "".join(text.split())
