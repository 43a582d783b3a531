"""discord.ui objects for rendered buttons and forms.

Views and modals are sent *finished* (stopped): discord.py then serialises them but does not
track them in its view store. Every press and every submit arrives at the client's
`on_interaction`, which routes by custom id (see `custom_ids`). So buttons sent weeks ago keep
working after a restart, and nothing accumulates per message sent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import discord

from bot.core.curation import MAX_TOPICS
from bot.core.reply import FieldKind, Form
from bot.discord_adapter.custom_ids import FORM_PREFIX, CommandKeys, encode
from bot.discord_adapter.render import ButtonSpec
from bot.discord_adapter.safety import clip

MODAL_TITLE_MAX = 45
INPUT_LABEL_MAX = 45
PLACEHOLDER_MAX = 100
INPUT_VALUE_MAX = 4000
INPUTS_MAX = 5
SELECT_OPTIONS_MAX = 25
OPTION_MAX = 100


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
    topic_slugs: Sequence[str] | Mapping[str, str],
    values: Mapping[str, str] | None = None,
) -> discord.ui.Modal:
    """A modal for `form`; `values` (what the member typed last time) override the initials.

    `topic_slugs` are the topics a TOPICS field offers (slug -> title when titles are known):
    a select menu of them when they fit in one (25 options), else a text input to type slugs.
    """
    custom_id = encode(FORM_PREFIX, form.command, keys)
    built = discord.ui.Modal(
        title=clip(form.title or "pmadvice", MODAL_TITLE_MAX), custom_id=custom_id, timeout=None
    )
    titles = dict(topic_slugs) if isinstance(topic_slugs, Mapping) else {s: s for s in topic_slugs}
    for item in form.fields[:INPUTS_MAX]:
        limit = max(1, min(item.max_length, INPUT_VALUE_MAX))
        initial = (values or {}).get(item.name, item.initial)
        if item.kind == FieldKind.TOPICS and 0 < len(titles) <= SELECT_OPTIONS_MAX:
            built.add_item(_topic_select(item.name, item.label, item.required, titles, initial))
            continue
        hint = topics_hint(list(titles)) if item.kind == FieldKind.TOPICS else item.hint
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


def _topic_select(
    name: str, label: str, required: bool, titles: Mapping[str, str], initial: str
) -> discord.ui.Label[discord.ui.View]:
    chosen = {s.strip() for s in initial.replace(";", ",").split(",") if s.strip()}
    options = [
        discord.SelectOption(label=clip(title or slug, OPTION_MAX), value=slug[:OPTION_MAX],
                             default=slug in chosen)
        for slug, title in titles.items()
    ]  # fmt: skip
    select: discord.ui.Select[discord.ui.View] = discord.ui.Select(
        custom_id=name[:100],
        options=options,
        min_values=1 if required else 0,
        max_values=min(MAX_TOPICS, len(options)),
        placeholder=f"Pick up to {min(MAX_TOPICS, len(options))}",
        required=required,
    )
    return discord.ui.Label(text=clip(label or name, INPUT_LABEL_MAX), component=select)


def submitted_values(data: object) -> dict[str, str]:
    """Values from a modal submit payload: text inputs (in old action rows or labels) and
    select menus (the chosen values, comma-separated like a typed list)."""
    values: dict[str, str] = {}

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("type") == 4 and isinstance(node.get("custom_id"), str):
                values[node["custom_id"]] = str(node.get("value") or "")
            elif node.get("type") == 3 and isinstance(node.get("custom_id"), str):
                chosen = node.get("values") or []
                values[node["custom_id"]] = ",".join(str(v) for v in chosen)
            for key in ("components", "component"):
                walk(node.get(key))
        elif isinstance(node, list):
            for child in node:
                walk(child)

    if isinstance(data, dict):
        walk(data.get("components"))
    return values
