"""What a running bot is made of, shared by the composition root and the platform adapters.

Adapters import these types from here, never from `bot.app`, so they stay independent of
storage (which only the composition root wires in).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.facade import PmAdvice
from bot.core.models import Knowledge
from bot.core.ports import Clock, DeliveryRepository, Messenger, Repositories
from bot.settings import Settings


class StartupError(Exception):
    """A platform cannot start: a missing or malformed setting, named in the message."""


@dataclass
class Runtime:
    settings: Settings
    knowledge: Knowledge
    engine: AsyncEngine
    repositories: Repositories
    facade: PmAdvice
    clock: Clock
    deliveries: DeliveryRepository


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


PlatformFactory = Callable[[Runtime, dict[str, Any]], Awaitable[PlatformService]]
