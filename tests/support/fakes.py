"""The in-memory repositories now ship in `bot.storage.memory` and the clock in `bot.testing`."""

from bot.storage.memory import (
    FakeAudit,
    FakeDeliveries,
    FakeDelivery,
    FakeFeedback,
    FakeFlood,
    FakeMembers,
    FakeProgress,
    FakeRevisions,
    FakeSubscriptions,
    FakeSuggestions,
    FakeUnanswered,
    fake_repositories,
)
from bot.testing import FakeClock

__all__ = [
    "FakeAudit",
    "FakeClock",
    "FakeDeliveries",
    "FakeDelivery",
    "FakeFeedback",
    "FakeFlood",
    "FakeMembers",
    "FakeProgress",
    "FakeRevisions",
    "FakeSubscriptions",
    "FakeSuggestions",
    "FakeUnanswered",
    "fake_repositories",
]
