"""The terminal adapter: the whole command set with no tokens, interactive or scripted.

Interactive: type commands (with or without `/pmadvice`), press a button by typing its number,
fill forms field by field. Scripted (stdin is not a terminal): one command a line, each reply
printed, so it can be piped and tested.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TextIO

from rich.console import Console
from rich.panel import Panel
from rich.text import Text

from bot.core.models import Actor, Platform, UserRef
from bot.core.ports import SendOutcome
from bot.core.reply import FieldKind, Form, Reply, Visibility

Handle = Callable[[Actor, str], Awaitable[Reply]]
SubmitForm = Callable[[Actor, str, dict[str, str]], Awaitable[Reply]]

CONSOLE_WORKSPACE = "local"
# A link is matched first and kept whole: sign-in tokens contain "_", which must not turn part
# of the link into italics (and lose the underscores).
_INLINE = re.compile(r"(https?://[^\s<>\"'`]+|\*[^*\n]+\*|_[^_\n]+_|`[^`\n]+`)")
EXIT_WORDS = {"quit", "exit", ":q"}


def terminal() -> Console:
    """A rich console that wraps to the terminal, or not at all when output is piped."""
    console = Console(highlight=False)
    if not console.is_terminal:
        console = Console(highlight=False, soft_wrap=True, width=10_000)
    return console


def console_user(user_id: str) -> UserRef:
    return UserRef(Platform.CONSOLE.value, CONSOLE_WORKSPACE, user_id)


def styled(text: str) -> Text:
    """Light markdown (*bold*, _italic_, `code`) as rich styles; never parsed as rich markup."""
    out = Text()
    for part in _INLINE.split(text):
        if not part:
            continue
        if part.startswith(("http://", "https://")):
            out.append(part, style="underline")
        elif part.startswith("*") and part.endswith("*") and len(part) > 2:
            out.append(part[1:-1], style="bold")
        elif part.startswith("_") and part.endswith("_") and len(part) > 2:
            out.append(part[1:-1], style="italic")
        elif part.startswith("`") and part.endswith("`") and len(part) > 2:
            out.append(part[1:-1], style="cyan")
        else:
            out.append(part)
    return out


def render(reply: Reply) -> Text:
    """A reply as terminal text: title, body, fields, context, numbered buttons."""
    text = Text()
    if reply.visibility == Visibility.CHANNEL:
        text.append("[posted to the channel]\n", style="magenta")
    if reply.title:
        text.append(reply.title + "\n", style="bold underline")
    if reply.body:
        text.append_text(styled(reply.body))
        text.append("\n")
    for item in reply.fields:
        text.append(f"{item.name}: ", style="bold")
        text.append_text(styled(item.value))
        text.append("\n")
    if reply.attachment is not None:
        text.append(f"--- {reply.attachment.filename} ---\n", style="dim")
        text.append(reply.attachment.content.rstrip() + "\n")
        text.append("---\n", style="dim")
    if reply.context:
        text.append_text(styled(reply.context))
        text.stylize("dim", len(text) - len(reply.context), len(text))
        text.append("\n")
    for number, button in enumerate(reply.buttons, start=1):
        text.append(f"[{number}] {button.label}", style="green")
        text.append(f"  ({button.command})\n", style="dim")
    if reply.form is not None:
        names = ", ".join(f.name for f in reply.form.fields)
        text.append(f"(form: {reply.form.title}; fields: {names})\n", style="yellow")
    return text


@dataclass
class ConsoleSession:
    """One member at a terminal."""

    handle: Handle
    submit_form: SubmitForm
    actor: Actor
    console: Console = field(default_factory=lambda: terminal())
    last_reply: Reply | None = None

    def show(self, reply: Reply) -> None:
        body = render(reply)
        if self.console.is_terminal:
            self.console.print(Panel(body, expand=False, border_style="blue"))
        else:
            self.console.print(body, end="")
            self.console.print("")

    async def run_line(self, line: str, interactive: bool) -> None:
        line = line.strip()
        if not line:
            return
        if line.isdigit() and self.last_reply and 1 <= int(line) <= len(self.last_reply.buttons):
            line = self.last_reply.buttons[int(line) - 1].command
        reply = await self.handle(self.actor, line)
        if reply.form is not None and interactive:
            self.show(reply)
            reply = await self._fill(reply.form)
        self.last_reply = reply
        self.show(reply)

    async def _fill(self, form: Form) -> Reply:
        self.console.print(Text(f"{form.title}: blank line keeps the value shown; Ctrl-D cancels"))
        values: dict[str, str] = {}
        for item in form.fields:
            prompt = f"{item.label}"
            if item.hint:
                prompt += f" ({item.hint})"
            if item.kind == FieldKind.PARAGRAPH:
                prompt += ", end with an empty line"
            if item.initial:
                self.console.print(Text(f"  current: {item.initial}", style="dim"))
            self.console.print(Text(prompt + ":", style="bold"))
            try:
                typed = await _off_loop(_read_field, item.kind == FieldKind.PARAGRAPH)
                values[item.name] = typed or item.initial
            except EOFError:
                return Reply(body="Cancelled; nothing was saved.")
        return await self.submit_form(self.actor, form.command, values)

    async def run(self, stream: TextIO) -> None:
        interactive = stream.isatty()
        if interactive:
            self.console.print(
                Text(
                    "pmadvice console. Ask a question, or type `help`. "
                    "Numbers press buttons; `quit` leaves.",
                    style="bold",
                )
            )
        while True:
            if interactive:
                try:
                    line = await _off_loop(input, "/pmadvice ")
                except EOFError:
                    break
            else:
                line = await _off_loop(stream.readline)
                if not line:
                    break
            if line.strip().lower() in EXIT_WORDS:
                break
            await self.run_line(line, interactive)


async def _off_loop(read: Callable[..., str], *args: object) -> str:
    """Wait for input in a daemon thread: the event loop keeps serving (signals, the nudge
    tick, the HTTP listener), and a stop does not hang on a read that never returns."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[str] = loop.create_future()

    def settle(result: str | None, error: BaseException | None) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result or "")

    def reader() -> None:
        try:
            result, error = read(*args), None
        except BaseException as exc:  # handed to the loop, e.g. EOFError
            result, error = None, exc
        with contextlib.suppress(RuntimeError):  # the loop has already closed
            loop.call_soon_threadsafe(settle, result, error)

    threading.Thread(target=reader, name="console-input", daemon=True).start()
    return await future


def _read_field(paragraph: bool) -> str:
    if not paragraph:
        return input("> ").strip()
    lines: list[str] = []
    while True:
        line = input("> ")
        if not line.strip():
            break
        lines.append(line)
    return "\n".join(lines).strip()


class ConsoleMessenger:
    """Delivers a direct message to a console member by printing it."""

    def __init__(self, console: Console | None = None) -> None:
        self._console = console or terminal()
        self.sent = 0

    async def send(self, user: UserRef, reply: Reply) -> SendOutcome:
        if user.platform != Platform.CONSOLE.value:
            return SendOutcome.permanent("not a console member")
        self.sent += 1
        header = Text(f"[direct message to {user.user_id}]\n", style="magenta")
        self._console.print(header + render(reply), end="")
        return SendOutcome.sent(f"console-{self.sent}")
