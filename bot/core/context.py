"""Which request or delivery the current task is working on, for log lines.

Set where the work starts (a member's command, one nudge's delivery); the log filter reads
them. Tasks inherit a copy, so concurrent requests never see each other's ids.
"""

from __future__ import annotations

import uuid
from contextvars import ContextVar

current_request: ContextVar[str] = ContextVar("current_request", default="")
current_delivery: ContextVar[str] = ContextVar("current_delivery", default="")


def new_request_id() -> str:
    value = uuid.uuid4().hex[:16]
    current_request.set(value)
    return value
