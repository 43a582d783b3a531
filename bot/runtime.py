"""What a running bot is made of, shared by the composition root and the platform adapters.

Adapters import these types from here, never from `bot.app`, so they stay independent of
storage (which only the composition root wires in).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.models import Knowledge
from bot.core.ports import Clock, DeliveryRepository, Messenger, Repositories
from bot.settings import Settings

if TYPE_CHECKING:  # one-shot commands such as `search` never build the facade
    from bot.core.facade import PmAdvice


class StartupError(Exception):
    """A platform cannot start: a missing or malformed setting, named in the message."""


class PlatformContext(Protocol):
    """All a platform adapter is given: the facade (which also takes its messenger, see
    `PmAdvice.register_messenger`), the clock, the moderators named in the settings, and the
    database engine for adapter-owned tables."""

    @property
    def facade(self) -> PmAdvice: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def moderator_ids(self) -> frozenset[str]: ...

    @property
    def engine(self) -> AsyncEngine:
        """The database, for the few tables an adapter owns through a library (Slack's
        installation and OAuth state stores) or for its own bookkeeping (`adapter_state`)."""
        ...


@dataclass
class Runtime:
    """What the composition root builds; adapters see it only as a `PlatformContext`."""

    settings: Settings
    knowledge: Knowledge
    engine: AsyncEngine
    repositories: Repositories
    facade: PmAdvice
    clock: Clock
    deliveries: DeliveryRepository

    @property
    def moderator_ids(self) -> frozenset[str]:
        return frozenset(self.settings.moderator_ids)


class PlatformService(Protocol):
    """A running connection to one chat platform, built by its adapter package."""

    platform: str
    messenger: Messenger

    async def start(self) -> None:
        """Connect or start serving; return once ready to take commands."""
        ...

    async def stop(self) -> None: ...


class BackgroundService(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...


PlatformFactory = Callable[[PlatformContext, dict[str, Any]], Awaitable[PlatformService]]
