"""Rendering a neutral Reply for Discord: limits, splitting, escaping, custom ids, modals."""

from __future__ import annotations

import logging

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.reply import (
    Attachment,
    Button,
    ButtonStyle,
    FieldKind,
    Form,
    FormField,
    Reply,
    ReplyField,
)
from bot.discord_adapter import render as r
from bot.discord_adapter.custom_ids import CommandKeys, decode, encode
from bot.discord_adapter.safety import PING, RedactingFilter, clip, safe_text
from bot.discord_adapter.views import modal, static_view, submitted_values, topics_hint
from tests.discord.conftest import MENTION_VECTORS

mentiony = st.text(
    alphabet=st.sampled_from(
        [
            *list("@everyonhr<>!&01 9*_`\n"),
            "\u200b",
            "\u200d",
            "\u2060",
            "\ufeff",
            "\xad",
            "é",
            "👍",
        ]
    ),
    max_size=300,
)


def _strings(message: r.Outgoing) -> list[str]:
    return r.all_text(message)


def test_every_mention_vector_is_made_inert():
    for vector in MENTION_VECTORS:
        out = safe_text(f"hi {vector} there")
        assert not PING.search(out), (vector, out)


@given(mentiony)
def test_no_text_can_ping_after_escaping(text):
    assert not PING.search(safe_text(text))


def test_escaping_keeps_ordinary_text():
    assert safe_text("Email me at ana@example.com, *bold* stays") == (
        "Email me at ana@example.com, *bold* stays"
    )


replies = st.builds(
    Reply,
    title=mentiony,
    body=st.text(max_size=9000) | mentiony,
    fields=st.lists(
        st.builds(ReplyField, name=st.text(max_size=300), value=st.text(max_size=1500)),
        max_size=40,
    ).map(tuple),
    buttons=st.lists(
        st.builds(
            Button,
            label=st.text(max_size=120),
            command=st.text(min_size=1, max_size=180),
            style=st.sampled_from(list(ButtonStyle)),
        ),
        max_size=40,
    ).map(tuple),
    context=st.text(max_size=2500) | mentiony,
    shared_by=mentiony,
)


@settings(max_examples=150, deadline=None)
@given(replies)
def test_any_reply_fits_discord_limits(reply):
    keys = CommandKeys()
    messages = r.render(reply, keys)
    assert messages
    for message in messages:
        assert len(message.embeds) == 1
        for embed in message.embeds:
            assert len(embed) <= r.EMBED_TOTAL_MAX
            assert len(embed.title or "") <= r.TITLE_MAX
            assert len(embed.description or "") <= r.DESCRIPTION_MAX
            assert len(embed.fields) <= r.FIELDS_MAX
            for item in embed.fields:
                assert 1 <= len(item.name or "") <= r.FIELD_NAME_MAX
                assert 1 <= len(item.value or "") <= r.FIELD_VALUE_MAX
            assert len(embed.footer.text or "") <= r.FOOTER_MAX
            assert len(embed.author.name or "") <= r.AUTHOR_MAX
            assert embed.title or embed.description or embed.fields or embed.footer.text
        assert len(message.content or "") <= r.CONTENT_MAX
        for text in _strings(message):
            assert not PING.search(text)
    for message in messages[:-1]:
        assert not message.buttons
    specs = messages[-1].buttons
    assert len(specs) <= r.BUTTONS_MAX
    assert len({s.custom_id for s in specs}) == len(specs)
    for spec in specs:
        assert 1 <= len(spec.label) <= r.LABEL_MAX
        assert len(spec.custom_id) <= 100
        assert spec.row == specs.index(spec) // 5
        decoded = decode(spec.custom_id, keys)
        assert decoded is not None
        assert decoded.command is not None
    view = static_view(specs)
    if view is not None:
        rows = view.to_components()
        assert len(rows) <= 5
        assert all(len(row["components"]) <= 5 for row in rows)


def test_a_long_reply_is_split_with_buttons_last_and_file_first():
    reply = Reply(
        title="Long",
        body="\n".join(f"Line {n}: " + "word " * 40 for n in range(120)),
        fields=tuple(ReplyField(f"F{n}", "value " * 30) for n in range(30)),
        buttons=(Button("Next", "help"),),
        context="the end",
        attachment=Attachment("a.yaml", "x: 1\n"),
    )
    messages = r.render(reply, CommandKeys())
    assert len(messages) >= 3
    assert messages[0].embeds[0].title == "Long"
    assert messages[0].attachment is not None
    assert all(m.attachment is None for m in messages[1:])
    assert messages[-1].buttons
    assert messages[-1].embeds[0].footer.text == "the end"
    text = "\n".join(m.embeds[0].description or "" for m in messages)
    assert "Line 0:" in text
    assert "Line 119:" in text
    assert sum(len(m.embeds[0].fields) for m in messages) == 30


def test_core_markdown_becomes_discord_markdown():
    messages = r.render(
        Reply(body="A *bold* move, _italic_, `code`", context="*x* `topic y`"), CommandKeys()
    )
    embed = messages[0].embeds[0]
    assert embed.description == "A **bold** move, _italic_, `code`"
    assert embed.footer.text == "x topic y"


def test_removing_markdown_cannot_rebuild_a_mention():
    sneaky = "@*everyone* @`here` @_everyone_ <@*123456789012345678*>"
    [message] = r.render(Reply(title=sneaky, body=sneaky, context=sneaky), CommandKeys())
    for text in r.all_text(message):
        assert not PING.search(text), text


def test_an_empty_reply_still_renders_something_discord_accepts():
    [message] = r.render(Reply(), CommandKeys())
    assert message.embeds[0].description


def test_shared_replies_are_attributed():
    [message] = r.render(Reply(title="T", body="B", shared_by="@everyone"), CommandKeys())
    assert message.embeds[0].author.name == "Shared by @\u200beveryone"


def test_custom_ids_carry_the_command_or_a_stable_key():
    keys = CommandKeys()
    assert encode("pmadvice", "vote some-id up", keys) == "pmadvice:vote some-id up"
    long = "more 1 " + "how do I explain my ops work " * 5
    custom_id = encode("pmadvice", long, keys)
    assert len(custom_id) <= 100
    assert custom_id.startswith("pmadvice:#")
    assert encode("pmadvice", long, CommandKeys()) == custom_id  # stable across processes
    assert decode(custom_id, keys).command == long  # type: ignore[union-attr]
    assert decode(custom_id, CommandKeys()).command is None  # type: ignore[union-attr]
    assert decode("someone-elses-button", keys) is None


def test_guild_tagged_ids_from_earlier_versions_still_decode():
    # Buttons sent by DM before members stopped being kept per guild carry `@<guild>`.
    keys = CommandKeys()
    long = "more 1 " + "how do I explain my ops work " * 5
    key = encode("pmadvice", long, keys).removeprefix("pmadvice:")
    for old, kind, command in [
        ("pmadvice@42:done", "pmadvice", "done"),
        ("pmform@1234567890123456789:reject 3", "pmform", "reject 3"),
        (f"pmadvice@42:{key}", "pmadvice", long),
    ]:
        decoded = decode(old, keys)
        assert decoded is not None
        assert (decoded.kind, decoded.command) == (kind, command)
    assert decode("pmadvice@not-a-guild:done", keys) is None


def test_button_labels_are_trimmed_and_duplicates_dropped():
    items = (Button("x" * 200, "help"), Button("again", "help"), Button("", "topics"))
    specs = r.buttons(items, CommandKeys())
    assert [len(s.label) for s in specs] == [80, 4]
    assert specs[1].label == "Open"


def _form(fields: int) -> Form:
    return Form(
        title="A very long form title that Discord would reject outright",
        command="suggest",
        fields=tuple(
            FormField(
                f"f{n}",
                "A label that is definitely longer than forty-five characters",
                FieldKind.TOPICS if n == 2 else FieldKind.PARAGRAPH,
                initial="z" * 200,
                max_length=100,
            )
            for n in range(fields)
        ),
    )


def test_topics_are_a_select_menu_when_they_fit_in_one():
    titles = {f"topic-{n}": f"Topic number {n}" for n in range(25)}
    built = modal(_form(3), CommandKeys(), titles, values={"f2": "topic-3,topic-7"})
    label = built.to_dict()["components"][2]
    assert label["type"] == 18
    select = label["component"]
    assert select["type"] == 3
    assert len(select["options"]) == 25
    assert [o["value"] for o in select["options"] if o.get("default")] == ["topic-3", "topic-7"]
    assert select["max_values"] == 4


def test_modals_fit_discord_limits():
    slugs = [f"topic-number-{n}" for n in range(30)]  # too many for one select: typed instead
    built = modal(_form(7), CommandKeys(), slugs, values={"f1": "typed before"})
    payload = built.to_dict()
    assert len(payload["title"]) <= 45
    inputs = [c["components"][0] for c in payload["components"]]
    assert len(inputs) == 5
    for item in inputs:
        assert len(item["label"]) <= 45
        assert len(item.get("value", "")) <= item["max_length"] == 100
        assert len(item.get("placeholder", "")) <= 100
    assert inputs[1]["value"] == "typed before"
    assert inputs[2]["placeholder"].startswith("Comma-separated: topic-number-0")
    assert payload["custom_id"] == "pmform:suggest"


def test_topics_hint_lists_what_fits():
    hint = topics_hint(["portfolio", "interviews"])
    assert hint == "Comma-separated: portfolio, interviews"
    assert len(topics_hint([f"slug-{n}" for n in range(50)])) <= 100


def test_modal_values_are_read_from_rows_and_labels():
    data = {
        "components": [
            {"type": 1, "components": [{"type": 4, "custom_id": "title", "value": "T"}]},
            {"type": 18, "component": {"type": 4, "custom_id": "body", "value": "B"}},
        ]
    }
    assert submitted_values(data) == {"title": "T", "body": "B"}


def test_clip_keeps_words_whole():
    assert clip("one two three", 9) == "one two…"
    assert clip("short", 9) == "short"


def test_redaction_removes_tokens_from_log_records():
    secret = "MTAw.SECRET.TOKEN"
    redactor = RedactingFilter([secret])
    record = logging.LogRecord(
        "discord.http",
        logging.DEBUG,
        __file__,
        1,
        "POST %s with %s",
        ("https://x/api/v10/webhooks/1/itoken-abc/messages", {"token": "itoken-abc", "t": secret}),
        None,
    )
    assert redactor.filter(record)
    message = record.getMessage()
    assert secret not in message
    assert "itoken-abc" not in message
    assert "/webhooks/1/[redacted]" in message
