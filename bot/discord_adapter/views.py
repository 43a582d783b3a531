"""discord.ui objects for rendered buttons and forms.

Views and modals are sent *finished* (stopped): discord.py then serialises them but does not
track them in its view store. Every press and every submit arrives at the client's
`on_interaction`, which routes by custom id (see `custom_ids`). So buttons sent weeks ago keep
working after a restart, and nothing accumulates per message sent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import discord

from bot.core.reply import FieldKind, Form
from bot.discord_adapter.custom_ids import FORM_PREFIX, CommandKeys, encode
from bot.discord_adapter.render import ButtonSpec
from bot.discord_adapter.safety import clip

MODAL_TITLE_MAX = 45
INPUT_LABEL_MAX = 45
PLACEHOLDER_MAX = 100
INPUT_VALUE_MAX = 4000
INPUTS_MAX = 5


def static_view(specs: Sequence[ButtonSpec]) -> discord.ui.View | None:
    if not specs:
        return None
    view = discord.ui.View(timeout=None)
    for spec in specs:
        view.add_item(
            discord.ui.Button(
                label=spec.label, custom_id=spec.custom_id, style=spec.style, row=spec.row
            )
        )
    view.stop()
    return view


def topics_hint(slugs: Sequence[str]) -> str:
    """As many topic slugs as fit in a placeholder, so members can type them."""
    text = "Comma-separated:"
    for index, slug in enumerate(slugs):
        addition = (" " if index == 0 else ", ") + slug
        if len(text) + len(addition) + 2 > PLACEHOLDER_MAX:
            return text + ", …"
        text += addition
    return text


def modal(
    form: Form,
    keys: CommandKeys,
    topic_slugs: Sequence[str],
    values: Mapping[str, str] | None = None,
) -> discord.ui.Modal:
    """A modal for `form`; `values` (what the member typed last time) override the initials."""
    custom_id = encode(FORM_PREFIX, form.command, keys)
    built = discord.ui.Modal(
        title=clip(form.title or "pmadvice", MODAL_TITLE_MAX), custom_id=custom_id, timeout=None
    )
    for item in form.fields[:INPUTS_MAX]:
        limit = max(1, min(item.max_length, INPUT_VALUE_MAX))
        initial = (values or {}).get(item.name, item.initial)
        hint = topics_hint(topic_slugs) if item.kind == FieldKind.TOPICS else item.hint
        built.add_item(
            discord.ui.TextInput(
                label=clip(item.label or item.name, INPUT_LABEL_MAX),
                custom_id=item.name[:100],
                style=(
                    discord.TextStyle.paragraph
                    if item.kind == FieldKind.PARAGRAPH
                    else discord.TextStyle.short
                ),
                required=item.required,
                default=initial[:limit] or None,
                max_length=limit,
                placeholder=clip(hint, PLACEHOLDER_MAX) or None,
            )
        )
    built.stop()
    return built


def submitted_values(data: object) -> dict[str, str]:
    """Text input values from a modal submit payload (old action rows or new labels)."""
    values: dict[str, str] = {}

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("type") == 4 and isinstance(node.get("custom_id"), str):
                values[node["custom_id"]] = str(node.get("value") or "")
            for key in ("components", "component"):
                walk(node.get(key))
        elif isinstance(node, list):
            for child in node:
                walk(child)

    if isinstance(data, dict):
        walk(data.get("components"))
    return values
