"""A platform-neutral reply that every adapter renders in its own idiom.

Text in a reply is plain text with light markdown (`*bold*`, `_italic_`, "- " bullets). Adapters
escape it for their platform; the core never emits platform markup.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Visibility(enum.StrEnum):
    PRIVATE = "private"
    """Only the asking member sees it (Slack ephemeral, Discord ephemeral, console)."""
    CHANNEL = "channel"
    """Posted for the whole channel, e.g. a shared snippet."""


class ButtonStyle(enum.StrEnum):
    DEFAULT = "default"
    PRIMARY = "primary"
    DANGER = "danger"


@dataclass(frozen=True, slots=True)
class Button:
    """A button whose press runs `command` as if the member had typed it after /pmadvice."""

    label: str
    command: str
    style: ButtonStyle = ButtonStyle.DEFAULT


@dataclass(frozen=True, slots=True)
class ReplyField:
    name: str
    value: str
    inline: bool = True


class FieldKind(enum.StrEnum):
    LINE = "line"
    PARAGRAPH = "paragraph"
    TOPICS = "topics"


@dataclass(frozen=True, slots=True)
class FormField:
    name: str
    label: str
    kind: FieldKind = FieldKind.LINE
    required: bool = True
    initial: str = ""
    max_length: int = 3000
    hint: str = ""


@dataclass(frozen=True, slots=True)
class Form:
    """A form to collect structured input (a Slack modal, a Discord modal, console prompts).

    Adapters hand the submitted values back with `PmAdvice.submit_form(actor, command, values)`.
    """

    title: str
    command: str
    fields: tuple[FormField, ...]
    submit_label: str = "Submit"


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content: str


@dataclass(frozen=True, slots=True)
class Reply:
    title: str = ""
    body: str = ""
    fields: tuple[ReplyField, ...] = ()
    buttons: tuple[Button, ...] = ()
    context: str = ""
    """A small footnote line: topics, source, a hint."""
    visibility: Visibility = Visibility.PRIVATE
    form: Form | None = None
    shared_by: str = ""
    """Display name of the member who shared a snippet to the channel."""
    attachment: Attachment | None = None
    errors: dict[str, str] = field(default_factory=dict)
    """Form field name -> what is wrong with it, for inline validation in modals."""
    delivery_key: str = ""
    """A direct message's own marker (a weekly nudge's delivery), carried with it where the
    platform allows (Slack message metadata, Discord nonce) so a re-send can be detected."""

    @property
    def is_error(self) -> bool:
        return bool(self.errors)

    def plain_text(self) -> str:
        """A plain rendering for notifications, logs of replies and simple adapters."""
        parts = [p for p in (self.title, self.body) if p]
        parts.extend(f"{f.name}: {f.value}" for f in self.fields)
        if self.context:
            parts.append(self.context)
        return "\n".join(parts)


SORRY = Reply(
    title="Something went wrong on my side",
    body=(
        "Sorry, I couldn't save that; please try again in a minute. If it keeps happening, "
        "tell a moderator."
    ),
)
"""The one apology every platform shows when something fails on our side."""
