"""Block Kit for neutral replies: messages, modal views and forms.

Every piece of member, moderator or core text that lands in mrkdwn goes through `escape`, so
`<!channel>`, `<@U…>` and friends show as text and never notify anyone. plain_text objects
(headers, labels, input values) are not parsed by Slack and are left as written.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from bot.core.curation import MAX_TOPICS
from bot.core.models import Topic
from bot.core.reply import Button, ButtonStyle, FieldKind, Form, FormField, Reply

Block = dict[str, Any]

SECTION_TEXT_MAX = 3000
FIELD_TEXT_MAX = 2000
FIELDS_PER_SECTION = 10
HEADER_MAX = 150
BUTTON_TEXT_MAX = 75
BUTTON_VALUE_MAX = 2000
BUTTONS_PER_ACTIONS = 25
CONTEXT_TEXT_MAX = 3000
MESSAGE_BLOCKS_MAX = 50
VIEW_BLOCKS_MAX = 100
VIEW_TITLE_MAX = 24
FALLBACK_TEXT_MAX = 3000
OPTIONS_MAX = 100
OPTION_TEXT_MAX = 75
OPTION_VALUE_MAX = 150
INPUT_MAX = 3000
METADATA_MAX = 3000

ACTION_PREFIX = "pmadvice:"
RUN_ACTION = "pmadvice:run"
FORM_CALLBACK = "pmadvice:form"
RESULT_CALLBACK = "pmadvice:result"
FORM_ELEMENT = "value"
SHORTENED = "_Shortened to fit in Slack. Ask me something more specific for the rest._"


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mrkdwn(text: str) -> str:
    """The core's light markdown as Slack mrkdwn: escaped, with "- " bullets as dots."""
    lines = []
    for line in escape(text).split("\n"):
        stripped = line.lstrip()
        if stripped.startswith("- "):
            line = line[: len(line) - len(stripped)] + "• " + stripped[2:]
        lines.append(line)
    return "\n".join(lines)


def split_text(text: str, limit: int) -> list[str]:
    """Cut escaped text into pieces of at most `limit` characters at paragraph, line or word
    boundaries, never inside an `&amp;`-style entity."""
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        cut = -1
        for separator in ("\n\n", "\n", " "):
            cut = window.rfind(separator)
            if cut > limit // 2:
                break
        if cut <= 0:
            cut = limit
        amp = window.rfind("&", 0, cut)
        if amp != -1 and ";" not in window[amp:cut] and cut - amp < 6:
            cut = amp
        if cut <= 0:
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip("\n ")
    if rest.strip():
        pieces.append(rest)
    return pieces


def cap(text: str, limit: int) -> str:
    """Shorten escaped text to `limit` characters with an ellipsis."""
    if len(text) <= limit:
        return text
    return split_text(text, limit - 1)[0] + "…"


def plain(text: str, limit: int) -> Block:
    text = text.strip() or " "
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return {"type": "plain_text", "text": text, "emoji": True}


def section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def sections(text: str) -> list[Block]:
    return [section(piece) for piece in split_text(mrkdwn(text), SECTION_TEXT_MAX)]


def context(text: str) -> Block:
    return {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": cap(mrkdwn(text), CONTEXT_TEXT_MAX)}],
    }


def button(label: str, action_id: str, value: str, style: ButtonStyle) -> Block:
    element: Block = {
        "type": "button",
        "text": plain(label, BUTTON_TEXT_MAX),
        "action_id": action_id,
        "value": value[:BUTTON_VALUE_MAX],
    }
    if style != ButtonStyle.DEFAULT:
        element["style"] = style.value
    return element


def _field_blocks(reply: Reply) -> list[Block]:
    blocks: list[Block] = []
    inline: list[Block] = []

    def flush() -> None:
        for start in range(0, len(inline), FIELDS_PER_SECTION):
            blocks.append({"type": "section", "fields": inline[start : start + FIELDS_PER_SECTION]})
        inline.clear()

    for item in reply.fields:
        text = f"*{escape(item.name)}*\n{mrkdwn(item.value)}"
        if item.inline:
            inline.append({"type": "mrkdwn", "text": cap(text, FIELD_TEXT_MAX)})
            continue
        flush()
        blocks.extend(section(piece) for piece in split_text(text, SECTION_TEXT_MAX))
    flush()
    return blocks


def _attachment_blocks(reply: Reply) -> list[Block]:
    if reply.attachment is None:
        return []
    blocks: list[Block] = [context(f"`{reply.attachment.filename}`")]
    body = escape(reply.attachment.content.rstrip())
    fence = "```"
    for piece in split_text(body, SECTION_TEXT_MAX - 2 * len(fence) - 2):
        blocks.append(section(f"{fence}\n{piece}\n{fence}"))
    return blocks


def action_blocks(buttons: Sequence[Button]) -> list[Block]:
    """One actions block per 25 buttons; each button carries its command in `value`."""
    elements = [
        button(item.label, f"{RUN_ACTION}:{index}", item.command, item.style)
        for index, item in enumerate(buttons)
    ]
    return [
        {"type": "actions", "elements": elements[start : start + BUTTONS_PER_ACTIONS]}
        for start in range(0, len(elements), BUTTONS_PER_ACTIONS)
    ]


def reply_blocks(reply: Reply, max_blocks: int = MESSAGE_BLOCKS_MAX) -> list[Block]:
    """The reply as blocks, shortened (never rejected) when it would exceed `max_blocks`."""
    head: list[Block] = []
    if reply.title:
        head.append({"type": "header", "text": plain(reply.title, HEADER_MAX)})
    content: list[Block] = []
    if reply.body:
        content.extend(sections(reply.body))
    content.extend(_field_blocks(reply))
    content.extend(_attachment_blocks(reply))
    tail: list[Block] = [context(reply.context)] if reply.context.strip() else []
    tail.extend(action_blocks(reply.buttons))
    room = max_blocks - len(head) - len(tail)
    if len(content) > room:
        content = [*content[: max(room - 1, 0)], context(SHORTENED)]
    blocks = head + content + tail
    return blocks or [section(" ")]


def fallback_text(reply: Reply) -> str:
    """Notification and screen-reader text; mrkdwn, so escaped like everything else."""
    text = reply.plain_text().strip() or "pmadvice"
    return cap(escape(text), FALLBACK_TEXT_MAX)


def message(reply: Reply) -> dict[str, Any]:
    return {"text": fallback_text(reply), "blocks": reply_blocks(reply)}


def reply_view(reply: Reply, title: str = "pmadvice") -> Block:
    """A modal that shows a reply, for buttons pressed in App Home or inside a modal."""
    return {
        "type": "modal",
        "callback_id": RESULT_CALLBACK,
        "title": plain(title, VIEW_TITLE_MAX),
        "close": plain("Close", VIEW_TITLE_MAX),
        "blocks": reply_blocks(reply, VIEW_BLOCKS_MAX),
    }


def form_view(form: Form, topics: Sequence[Topic], intro: str, metadata: dict[str, str]) -> Block:
    blocks: list[Block] = sections(intro)[:3] if intro.strip() else []
    blocks.extend(_input(item, topics) for item in form.fields)
    return {
        "type": "modal",
        "callback_id": FORM_CALLBACK,
        "title": plain(form.title, VIEW_TITLE_MAX),
        "submit": plain(form.submit_label, VIEW_TITLE_MAX),
        "close": plain("Cancel", VIEW_TITLE_MAX),
        "private_metadata": json.dumps(metadata)[:METADATA_MAX],
        "blocks": blocks[:VIEW_BLOCKS_MAX],
    }


def _input(item: FormField, topics: Sequence[Topic]) -> Block:
    element: Block
    if item.kind == FieldKind.TOPICS:
        options = [_option(t.title, t.slug) for t in topics[:OPTIONS_MAX]]
        chosen = [s.strip() for s in item.initial.replace(";", ",").split(",") if s.strip()]
        element = {
            "type": "multi_static_select",
            "action_id": FORM_ELEMENT,
            "placeholder": plain("Pick topics", OPTION_TEXT_MAX),
            "options": options,
        }
        element["max_selected_items"] = MAX_TOPICS
        # In the snippet's own order: its first topic is its primary one.
        by_value = {o["value"]: o for o in options}
        initial = [by_value[slug] for slug in dict.fromkeys(chosen) if slug in by_value]
        if initial:
            element["initial_options"] = initial
    else:
        limit = max(1, min(item.max_length, INPUT_MAX))
        element = {
            "type": "plain_text_input",
            "action_id": FORM_ELEMENT,
            "multiline": item.kind == FieldKind.PARAGRAPH,
            "max_length": limit,
        }
        if item.initial:
            element["initial_value"] = item.initial[:limit]
    block: Block = {
        "type": "input",
        "block_id": item.name,
        "label": plain(item.label, 2000),
        "optional": not item.required,
        "element": element,
    }
    if item.hint:
        block["hint"] = plain(item.hint, 2000)
    return block


def _option(text: str, value: str) -> Block:
    return {"text": plain(text, OPTION_TEXT_MAX), "value": value[:OPTION_VALUE_MAX]}


def form_values(state: dict[str, Any]) -> dict[str, str]:
    """Submitted modal values by block id; multi-selects become comma-separated slugs."""
    values: dict[str, str] = {}
    for block_id, elements in state.items():
        element = elements.get(FORM_ELEMENT) if isinstance(elements, dict) else None
        if not isinstance(element, dict):
            continue
        if element.get("type") == "multi_static_select":
            chosen = element.get("selected_options") or []
            values[block_id] = ", ".join(str(o.get("value", "")) for o in chosen)
        else:
            values[block_id] = str(element.get("value") or "")
    return values


def block_errors(errors: dict[str, str], block_ids: Iterable[str]) -> dict[str, str]:
    """Map the core's field errors onto input blocks; unknown fields land on the first one."""
    ids = list(block_ids)
    mapped: dict[str, str] = {}
    for name, message_text in errors.items():
        target = name if name in ids else (ids[0] if ids else name)
        joined = f"{mapped[target]} {message_text}" if target in mapped else message_text
        mapped[target] = joined[:2000]
    return mapped
