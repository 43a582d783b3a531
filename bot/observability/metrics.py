"""Prometheus metrics, one registry per process, named `pmadvice_*` (docs/operations.md)."""

from __future__ import annotations

import platform

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info

from bot import __version__
from bot.core.telemetry import NudgeOutcome

LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
LAG_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 21600)


class PrometheusTelemetry:
    """The core's `Telemetry` port, recorded into Prometheus metrics."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.questions = Counter(
            "pmadvice_questions",
            "Questions members asked, by outcome (answered with a snippet, or declined).",
            ["outcome"],
            registry=r,
        )
        self.answer_seconds = Histogram(
            "pmadvice_answer_seconds",
            "Time to rank and compose the reply to a question.",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.votes = Counter(
            "pmadvice_votes", "Helpful / not helpful votes on snippets.", ["vote"], registry=r
        )
        self.suggestions = Counter(
            "pmadvice_suggestions", "Snippet suggestions sent to the review queue.", registry=r
        )
        self.nudges = Counter(
            "pmadvice_nudges",
            "Weekly nudges by platform and outcome (sent, retried, failed, reconciled).",
            ["platform", "outcome"],
            registry=r,
        )
        self.claim_lag_seconds = Histogram(
            "pmadvice_nudge_claim_lag_seconds",
            "How long after coming due a nudge was claimed for sending.",
            buckets=LAG_BUCKETS,
            registry=r,
        )
        self.index_snippets = Gauge(
            "pmadvice_index_snippets", "Snippets in the live search index.", registry=r
        )
        self.index_rebuild_seconds = Histogram(
            "pmadvice_index_rebuild_seconds",
            "Time to rebuild the search index (off the event loop).",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        build = Info("pmadvice_build", "The running version.", registry=r)
        build.info({"version": __version__, "python": platform.python_version()})
        for outcome in ("answered", "declined"):
            self.questions.labels(outcome=outcome)

    def question(self, answered: bool, seconds: float) -> None:
        self.questions.labels(outcome="answered" if answered else "declined").inc()
        self.answer_seconds.observe(seconds)

    def vote(self, helpful: bool) -> None:
        self.votes.labels(vote="helpful" if helpful else "not_helpful").inc()

    def suggestion(self) -> None:
        self.suggestions.inc()

    def nudge(self, platform: str, outcome: NudgeOutcome) -> None:
        self.nudges.labels(platform=platform, outcome=outcome.value).inc()

    def claim_lag(self, seconds: float) -> None:
        self.claim_lag_seconds.observe(max(seconds, 0.0))

    def index_built(self, snippets: int, seconds: float) -> None:
        self.index_snippets.set(snippets)
        self.index_rebuild_seconds.observe(seconds)
