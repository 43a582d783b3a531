"""What the core reports for operators to count, as a port: the edges decide where it goes."""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol


class NudgeOutcome(StrEnum):
    SENT = "sent"
    RETRIED = "retried"
    FAILED = "failed"
    RECONCILED = "reconciled"
    """Found already delivered after an interrupted send, so not sent again."""


class Telemetry(Protocol):
    def question(self, answered: bool, seconds: float) -> None:
        """A member's question was answered with a snippet, or declined."""

    def vote(self, helpful: bool) -> None: ...

    def suggestion(self) -> None: ...

    def nudge(self, platform: str, outcome: NudgeOutcome) -> None: ...

    def claim_lag(self, seconds: float) -> None:
        """How long after it came due a nudge was claimed for sending."""

    def index_built(self, snippets: int, seconds: float) -> None: ...


class NoTelemetry:
    """Counts nothing (tests, one-shot commands)."""

    def question(self, answered: bool, seconds: float) -> None:
        pass

    def vote(self, helpful: bool) -> None:
        pass

    def suggestion(self) -> None:
        pass

    def nudge(self, platform: str, outcome: NudgeOutcome) -> None:
        pass

    def claim_lag(self, seconds: float) -> None:
        pass

    def index_built(self, snippets: int, seconds: float) -> None:
        pass


NO_TELEMETRY: Telemetry = NoTelemetry()
