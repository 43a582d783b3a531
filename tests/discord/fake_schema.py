"""What Discord would reject: command, message, modal and autocomplete schemas, checked on every request."""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import web

from tests.discord.fake_payloads import JSON

# -- command schema -------------------------------------------------------------------------------

_NAME = re.compile(r"^[-_\w]{1,32}$")
OPTION_TYPES = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}


class SchemaError(Exception):
    pass


def validate_commands(commands: list[dict[str, Any]]) -> None:
    """The checks Discord applies to a bulk overwrite, as far as this bot can trip them."""
    if len(commands) > 100:
        raise SchemaError("too many commands")
    names = [c.get("name") for c in commands]
    if len(set(names)) != len(names):
        raise SchemaError("duplicate command names")
    for command in commands:
        if command.get("type", 1) in (2, 3):  # user and message context-menu commands
            name = command.get("name")
            _check(isinstance(name, str) and 1 <= len(name) <= 32, "bad context-menu name")
            _check(not command.get("description"), "context-menu commands have no description")
            continue
        _check_named(command, "command")
        if command.get("type", 1) == 1:
            _check_options(command.get("options", []), depth=0)
        if _command_length(command) > 4000:
            raise SchemaError(f"{command['name']}: over 4000 characters in all")
        perms = command.get("default_member_permissions")
        if perms is not None and not str(perms).isdigit():
            raise SchemaError("default_member_permissions must be a number string")


def _check_named(item: dict[str, Any], what: str) -> None:
    name = item.get("name", "")
    if not isinstance(name, str) or not _NAME.match(name) or name != name.lower():
        raise SchemaError(f"{what} name {name!r} is invalid")
    description = item.get("description", "")
    if not isinstance(description, str) or not 1 <= len(description) <= 100:
        raise SchemaError(f"{what} {name}: description must be 1-100 characters")


def _check_options(options: list[dict[str, Any]], depth: int) -> None:
    if len(options) > 25:
        raise SchemaError("more than 25 options")
    names = [o.get("name") for o in options]
    if len(set(names)) != len(names):
        raise SchemaError("duplicate option names")
    seen_optional = False
    for option in options:
        _check_named(option, "option")
        kind = option.get("type")
        if kind not in OPTION_TYPES:
            raise SchemaError(f"option {option['name']}: bad type {kind}")
        if kind in (1, 2):
            if (kind == 2 and depth > 0) or (kind == 1 and depth > 1):
                raise SchemaError("subcommands nest too deep")
            _check_options(option.get("options", []), depth + 1)
            continue
        if option.get("required"):
            if seen_optional:
                raise SchemaError(f"required option {option['name']} after an optional one")
        else:
            seen_optional = True
        choices = option.get("choices") or []
        if len(choices) > 25:
            raise SchemaError(f"option {option['name']}: more than 25 choices")
        if choices and option.get("autocomplete"):
            raise SchemaError(f"option {option['name']}: choices and autocomplete together")
        for choice in choices:
            if not 1 <= len(str(choice.get("name", ""))) <= 100:
                raise SchemaError("choice name must be 1-100 characters")
        for bound in ("min_length", "max_length"):
            if bound in option and not 0 <= int(option[bound]) <= 6000:
                raise SchemaError(f"option {option['name']}: {bound} out of range")


def _check(condition: bool, problem: str) -> None:
    if not condition:
        raise SchemaError(problem)


def validate_message(payload: dict[str, Any]) -> None:
    """Discord's message limits: a bot that breaches one gets a 400 and the member nothing."""
    _check(len(payload.get("content") or "") <= 2000, "content over 2000")
    embeds = payload.get("embeds") or []
    _check(len(embeds) <= 10, "more than 10 embeds")
    total = 0
    for embed in embeds:
        title, description = embed.get("title") or "", embed.get("description") or ""
        footer = (embed.get("footer") or {}).get("text") or ""
        author = (embed.get("author") or {}).get("name") or ""
        fields = embed.get("fields") or []
        _check(len(title) <= 256, "embed title over 256")
        _check(len(description) <= 4096, "embed description over 4096")
        _check(len(footer) <= 2048, "embed footer over 2048")
        _check(len(author) <= 256, "embed author over 256")
        _check(len(fields) <= 25, "more than 25 fields")
        for item in fields:
            _check(1 <= len(item.get("name") or "") <= 256, "field name not 1-256")
            _check(1 <= len(item.get("value") or "") <= 1024, "field value not 1-1024")
        _check(bool(title or description or fields or footer or author), "empty embed")
        total += len(title) + len(description) + len(footer) + len(author)
        total += sum(len(f["name"]) + len(f["value"]) for f in fields)
    _check(total <= 6000, "embeds over 6000 characters in all")
    rows = payload.get("components") or []
    _check(len(rows) <= 5, "more than 5 component rows")
    seen: set[str] = set()
    for row in rows:
        buttons = row.get("components") or []
        _check(row.get("type") == 1 and 1 <= len(buttons) <= 5, "a row needs 1-5 buttons")
        for button in buttons:
            _check(1 <= len(button.get("label") or "") <= 80, "button label not 1-80")
            custom_id = button.get("custom_id") or ""
            _check(1 <= len(custom_id) <= 100, "custom_id not 1-100")
            _check(custom_id not in seen, "duplicate custom_id")
            seen.add(custom_id)
    mentions = payload.get("allowed_mentions")
    if mentions is not None:
        _check(set(mentions) <= {"parse", "users", "roles", "replied_user"}, "bad allowed_mentions")


def validate_modal(data: dict[str, Any]) -> None:
    _check(1 <= len(data.get("title") or "") <= 45, "modal title not 1-45")
    _check(1 <= len(data.get("custom_id") or "") <= 100, "modal custom_id not 1-100")
    rows = data.get("components") or []
    _check(1 <= len(rows) <= 5, "a modal needs 1-5 inputs")
    for row in rows:
        item = row["components"][0] if row.get("type") == 1 else row.get("component", {})
        if row.get("type") == 18:
            _check(1 <= len(row.get("label") or "") <= 45, "label text not 1-45")
        if item.get("type") == 3:
            _check(row.get("type") == 18, "a select in a modal must sit in a label")
            validate_select(item)
            continue
        _check(item.get("type") == 4, "only text inputs and string selects here")
        if row.get("type") == 1:
            _check(1 <= len(item.get("label") or "") <= 45, "input label not 1-45")
        _check(len(item.get("placeholder") or "") <= 100, "placeholder over 100")
        _check(len(item.get("value") or "") <= 4000, "input value over 4000")
        limit = item.get("max_length", 4000)
        _check(1 <= limit <= 4000 and len(item.get("value") or "") <= limit, "bad max_length")


def validate_select(item: dict[str, Any]) -> None:
    options = item.get("options") or []
    _check(1 <= len(options) <= 25, "a select needs 1-25 options")
    for option in options:
        _check(1 <= len(option.get("label") or "") <= 100, "option label not 1-100")
        _check(1 <= len(option.get("value") or "") <= 100, "option value not 1-100")
    low, high = item.get("min_values", 1), item.get("max_values", 1)
    _check(0 <= low <= high <= len(options), "bad min_values/max_values")
    defaults = [o for o in options if o.get("default")]
    _check(len(defaults) <= high, "more defaults than max_values")
    _check(len(item.get("placeholder") or "") <= 150, "placeholder over 150")


def validate_choices(data: dict[str, Any]) -> None:
    choices = data.get("choices") or []
    _check(len(choices) <= 25, "more than 25 choices")
    for choice in choices:
        _check(1 <= len(choice.get("name") or "") <= 100, "choice name not 1-100")
        _check(1 <= len(str(choice.get("value") or "")) <= 100, "choice value not 1-100")


def invalid_body(problem: str) -> web.Response:
    return reply({"message": "Invalid Form Body", "code": 50035, "errors": {"_": problem}}, 400)


def _command_length(item: dict[str, Any]) -> int:
    total = len(item.get("name", "")) + len(item.get("description", ""))
    for choice in item.get("choices") or []:
        total += len(str(choice.get("name", ""))) + len(str(choice.get("value", "")))
    for option in item.get("options") or []:
        total += _command_length(option)
    return total


def reply(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    merged = {"Content-Type": JSON, **(headers or {})}
    return web.Response(status=status, body=json.dumps(body).encode(), headers=merged)
