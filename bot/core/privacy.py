"""Members' data in their own hands: `mydata` hands it over, `forget` erases it; and the
masking that keeps personal details out of the anonymous unanswered-questions backlog."""

from __future__ import annotations

import dataclasses
import json
import re
import uuid
from datetime import datetime
from typing import Any

from bot.core.models import Actor, MemberData, UserRef
from bot.core.ports import Clock, Repositories
from bot.core.reply import Attachment, Button, ButtonStyle, Reply

ERASED_PLATFORM = "erased"
"""Stands in for an erased member wherever a record must survive them (votes, suggestions)."""

_MASKS = (
    # Secrets first, so the e-mail and phone rules never see half a token.
    (
        re.compile(
            r"xox[abposr]-[A-Za-z0-9-]{10,}|xapp-\d-[A-Za-z0-9-]{10,}"
            r"|[MNO][A-Za-z\d_-]{23,25}\.[A-Za-z\d_-]{6}\.[A-Za-z\d_-]{27,}"
            r"|gh[pousr]_[A-Za-z0-9]{30,}|AKIA[0-9A-Z]{16}|sk-[A-Za-z0-9_-]{20,}"
            r"|eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"  # JWTs
            r"|(?i:bearer\s+)[A-Za-z0-9._~+/=-]{16,}"
            r"|(?i:(?:password|passwd|pwd|secret|token|api[_ -]?key)\s*[:=]\s*)\S+"
            r"|\b(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{32,}\b"
        ),
        "[secret]",
    ),
    (re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"), "[email]"),
    (re.compile(r"(?<![\w/])\+?\d(?:[\s().-]*\d){7,14}(?![\w/])"), "[phone]"),
)


def mask_personal(text: str) -> str:
    """Replace secrets (tokens, keys), e-mail addresses and phone numbers with placeholders."""
    for pattern, placeholder in _MASKS:
        text = pattern.sub(placeholder, text)
    return text


def alias() -> UserRef:
    """A fresh anonymous identity for one erased member's surviving records."""
    return UserRef(ERASED_PLATFORM, "", uuid.uuid4().hex[:16])


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def member_json(data: MemberData, exported_at: datetime) -> str:
    document = {"exported_at": exported_at.isoformat(), **_plain(data)}
    return json.dumps(document, ensure_ascii=False, indent=2)


class PrivacyService:
    def __init__(self, repositories: Repositories, clock: Clock) -> None:
        self._repos = repositories
        self._clock = clock

    async def collect(self, user: UserRef) -> MemberData:
        return await self._repos.members.collect(user)

    async def mydata(self, actor: Actor) -> Reply:
        data = await self.collect(actor.user)
        now = self._clock.now()
        return Reply(
            title="Everything I store about you",
            body=(
                "Here it is as JSON: your subscription, progress, votes, suggestions and "
                "deliveries. Only you can see this. `forget` erases it; PRIVACY.md explains "
                "what is kept and why."
            ),
            attachment=Attachment("pmadvice-my-data.json", member_json(data, now)),
        )

    async def forget(self, actor: Actor, confirmed: bool) -> Reply:
        if not confirmed:
            return Reply(
                title="Erase everything about you?",
                body=(
                    "This deletes your subscription, progress, notes, links and delivery "
                    "history, and cannot be undone. Your votes and suggestions stay, with your "
                    "name taken off, so the advice others see does not change. Type "
                    "`forget confirm` or press the button to go ahead."
                ),
                buttons=(Button("Yes, erase my data", "forget confirm", ButtonStyle.DANGER),),
            )
        erased = await self._repos.members.erase(actor.user, alias())
        return Reply(
            title="Done: you're forgotten",
            body=(
                f"I erased {erased.deleted} records about you and took your name off "
                f"{erased.anonymised} others. If you use pmadvice again, you start fresh."
            ),
        )
