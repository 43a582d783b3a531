"""Who is asking: moderator status (checked on every request), time zone and display name."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core import commands as c
from bot.core.models import Actor, Platform, UserRef
from bot.slack_adapter.errors import describe
from bot.slack_adapter.workspaces import SingleWorkspace, WorkspaceClients

log = logging.getLogger(__name__)

GROUP_TTL = 5.0
"""Seconds a moderator group's membership is reused. Short, so that a change Slack reports to
one replica (`subteam_members_changed`) reaches every other replica within this time too."""
PROFILE_TTL = 600.0
PROFILE_CACHE_SIZE = 5_000


@dataclass(frozen=True, slots=True)
class Profile:
    display_name: str
    timezone: str | None


class Directory:
    """Moderators: the global ids and group (one workspace), plus per workspace the ids and
    groups configured for it and whoever installed the app there."""

    def __init__(
        self,
        clients: WorkspaceClients | AsyncWebClient,
        moderator_ids: frozenset[str],
        moderator_group: str | None,
        clock: Callable[[], float] = time.monotonic,
        workspace_moderators: dict[str, frozenset[str]] | None = None,
    ) -> None:
        self._clients = SingleWorkspace(clients) if isinstance(clients, AsyncWebClient) else clients
        self._moderator_ids = moderator_ids
        self._group = moderator_group
        self._per_team = workspace_moderators or {}
        self._clock = clock
        self._groups: dict[tuple[str, str], tuple[float, frozenset[str]]] = {}
        self._group_lock = asyncio.Lock()
        self._profiles: dict[tuple[str, str], tuple[float, Profile | None]] = {}

    async def actor(
        self, team_id: str, user_id: str, fallback_name: str = "", text: str = ""
    ) -> Actor:
        """The Actor for one request; `text` is the command, to fetch only what it needs."""
        profile: Profile | None = None
        if text and c.needs_profile(c.parse(text)):
            profile = await self.profile(user_id, team_id)
        return Actor(
            user=UserRef(Platform.SLACK.value, team_id, user_id),
            is_moderator=await self.is_moderator(user_id, team_id),
            display_name=(profile.display_name if profile else "") or fallback_name,
            timezone=profile.timezone if profile else None,
        )

    async def is_moderator(self, user_id: str, team_id: str = "") -> bool:
        configured = self._per_team.get(team_id, frozenset())
        if user_id in self._moderator_ids or user_id in configured:
            return True
        groups = [g for g in configured if g.startswith("S")]
        if self._group is not None:
            groups.append(self._group)
        for group in groups:
            if user_id in await self._group_users(team_id, group):
                return True
        return bool(team_id) and user_id == await self._clients.installer(team_id)

    def forget_group(self, group_id: str, team_id: str = "") -> None:
        """Drop cached membership when Slack says a moderator group changed."""
        for key in [k for k in self._groups if k[1] == group_id]:
            del self._groups[key]

    @property
    def group_cache_empty(self) -> bool:
        return not self._groups

    async def _group_users(self, team_id: str, group: str) -> frozenset[str]:
        async with self._group_lock:
            cached = self._groups.get((team_id, group))
            if cached is not None and self._clock() - cached[0] < GROUP_TTL:
                return cached[1]
            client = await self._clients.for_team(team_id)
            if client is None:
                return frozenset()
            try:
                response = await client.usergroups_users_list(usergroup=group)
            except (SlackApiError, aiohttp.ClientError, TimeoutError) as error:
                # Fail closed, and ask again on the next request rather than caching the failure.
                log.warning("could not read the moderator user group: %s", describe(error))
                return frozenset()
            members = frozenset(str(u) for u in response.get("users") or [])
            self._groups[(team_id, group)] = (self._clock(), members)
            return members

    async def profile(self, user_id: str, team_id: str = "") -> Profile | None:
        cached = self._profiles.get((team_id, user_id))
        if cached is not None and self._clock() - cached[0] < PROFILE_TTL:
            return cached[1]
        client = await self._clients.for_team(team_id)
        if client is None:
            return None
        try:
            response = await client.users_info(user=user_id)
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as error:
            log.warning("users.info failed: %s", describe(error))
            return None
        user = response.get("user") or {}
        details = user.get("profile") or {}
        name = details.get("display_name") or details.get("real_name") or user.get("name") or ""
        zone = user.get("tz") or None
        profile = Profile(display_name=str(name), timezone=str(zone) if zone else None)
        if len(self._profiles) >= PROFILE_CACHE_SIZE:
            self._profiles.clear()
        self._profiles[(team_id, user_id)] = (self._clock(), profile)
        return profile
