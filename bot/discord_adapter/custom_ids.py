"""Component and modal custom ids that carry the core command they run.

A button's id is `pmadvice:<command>` (Discord allows 100 characters), so a press needs no
server-side state and works after a restart. Longer commands get a short stable key
(`pmadvice:#<hash>`) remembered in memory.

Earlier versions tagged buttons sent by DM with a guild (`pmadvice@<guild>:<command>`). Members
are no longer kept per guild, but such ids still decode (the tag is ignored), so buttons in DMs
sent before an upgrade keep working.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from dataclasses import dataclass

CUSTOM_ID_MAX = 100
BUTTON_PREFIX = "pmadvice"
FORM_PREFIX = "pmform"
_PATTERN = re.compile(r"^(?P<kind>pmadvice|pmform)(?:@[0-9]{1,20})?:(?P<body>.+)$", re.DOTALL)
_KEY_MARK = "#"


@dataclass(frozen=True, slots=True)
class Decoded:
    kind: str
    """`pmadvice` for a button, `pmform` for a modal."""
    command: str | None
    """None when the id carried a key this process no longer remembers."""


class CommandKeys:
    """Remembers commands too long for a custom id, under a short key derived from them."""

    def __init__(self, capacity: int = 20_000) -> None:
        self._capacity = capacity
        self._commands: OrderedDict[str, str] = OrderedDict()

    def key_for(self, command: str) -> str:
        key = hashlib.sha256(command.encode()).hexdigest()[:24]
        self._commands[key] = command
        self._commands.move_to_end(key)
        while len(self._commands) > self._capacity:
            self._commands.popitem(last=False)
        return key

    def command_for(self, key: str) -> str | None:
        return self._commands.get(key)


def encode(kind: str, command: str, keys: CommandKeys) -> str:
    head = f"{kind}:"
    plain = head + command
    if len(plain) <= CUSTOM_ID_MAX and not command.startswith(_KEY_MARK):
        return plain
    return head + _KEY_MARK + keys.key_for(command)


def decode(custom_id: str, keys: CommandKeys) -> Decoded | None:
    """What a custom id asks for, or None when it is not one of ours."""
    match = _PATTERN.match(custom_id)
    if match is None:
        return None
    body = match["body"]
    command = keys.command_for(body[1:]) if body.startswith(_KEY_MARK) else body
    return Decoded(match["kind"], command)
