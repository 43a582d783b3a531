"""Which token speaks for which workspace.

Single-workspace mode has one bot token (SLACK_BOT_TOKEN) for everything. Distributed mode
installs the app through Slack's OAuth flow; each workspace's installation, with its bot token,
lives in the project's database through slack_sdk's SQLAlchemy stores on the bot's async
engine (tables created by the migrations, never by the stores themselves).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Callable
from typing import Protocol

from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger(__name__)

STATE_LIFETIME = 600
"""Seconds an install link stays valid between /slack/install and Slack's redirect."""
TOKEN_TTL = 30.0
"""Seconds a workspace's token is reused before the store is read again, so a workspace that
uninstalls is dropped by every replica within this time (at once by the one told)."""


class WorkspaceClients(Protocol):
    """A Web API client carrying the right bot token for a workspace, or None if not installed."""

    async def for_team(self, team_id: str) -> AsyncWebClient | None: ...

    async def installer(self, team_id: str) -> str | None:
        """Who installed the app in this workspace (a moderator there), if known."""
        ...

    def forget(self, team_id: str) -> None: ...


class SingleWorkspace:
    """SLACK_BOT_TOKEN: one client for whichever team asks."""

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client

    async def for_team(self, team_id: str) -> AsyncWebClient | None:
        return self.client

    async def installer(self, team_id: str) -> str | None:
        return None

    def forget(self, team_id: str) -> None:
        return None


class InstalledWorkspaces:
    """Each workspace's bot token from the installation store, sharing one HTTP session."""

    def __init__(
        self,
        store: AsyncInstallationStore,
        base: AsyncWebClient,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self._base = base
        self._clock = clock
        self._cache: dict[str, tuple[float, AsyncWebClient | None, str | None]] = {}

    async def for_team(self, team_id: str) -> AsyncWebClient | None:
        return (await self._lookup(team_id))[0]

    async def installer(self, team_id: str) -> str | None:
        return (await self._lookup(team_id))[1]

    def forget(self, team_id: str) -> None:
        self._cache.pop(team_id, None)

    async def _lookup(self, team_id: str) -> tuple[AsyncWebClient | None, str | None]:
        cached = self._cache.get(team_id)
        if cached is not None and self._clock() - cached[0] < TOKEN_TTL:
            return cached[1], cached[2]
        installation = await self.store.async_find_installation(enterprise_id=None, team_id=team_id)
        token = installation.bot_token if installation is not None else None
        installer = installation.user_id if installation is not None else None
        client = self.client_with(token) if token else None
        self._cache[team_id] = (self._clock(), client, installer)
        return client, installer

    def client_with(self, token: str) -> AsyncWebClient:
        base = self._base
        return AsyncWebClient(
            token=token,
            base_url=base.base_url,
            timeout=base.timeout,
            session=base.session,
            logger=base.logger,
            retry_handlers=[],
        )


class SignedStateStore(AsyncOAuthStateStore):
    """The database state store, with each state signed by SLACK_STATE_SECRET, so a forged or
    mangled `state` is refused before any database read."""

    def __init__(self, inner: AsyncOAuthStateStore, secret: str) -> None:
        self._inner = inner
        self._key = secret.encode()

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_issue(self, *args: object, **kwargs: object) -> str:
        state = await self._inner.async_issue(*args, **kwargs)
        return f"{state}.{self._sign(state)}"

    async def async_consume(self, state: str) -> bool:
        raw, _, signature = (state or "").rpartition(".")
        if not raw or not hmac.compare_digest(signature, self._sign(raw)):
            return False
        return await self._inner.async_consume(raw)

    def _sign(self, state: str) -> str:
        return hmac.new(self._key, state.encode(), hashlib.sha256).hexdigest()[:32]


def installation_store(client_id: str, engine: AsyncEngine) -> AsyncSQLAlchemyInstallationStore:
    return AsyncSQLAlchemyInstallationStore(client_id=client_id, engine=engine, logger=log)


def state_store(secret: str, engine: AsyncEngine) -> SignedStateStore:
    inner = AsyncSQLAlchemyOAuthStateStore(
        expiration_seconds=STATE_LIFETIME, engine=engine, logger=log
    )
    return SignedStateStore(inner, secret)
