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

log = logging.getLogger(__name__)

GROUP_TTL = 60.0
PROFILE_TTL = 600.0
PROFILE_CACHE_SIZE = 5_000


@dataclass(frozen=True, slots=True)
class Profile:
    display_name: str
    timezone: str | None


class Directory:
    def __init__(
        self,
        client: AsyncWebClient,
        moderator_ids: frozenset[str],
        moderator_group: str | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._moderator_ids = moderator_ids
        self._group = moderator_group
        self._clock = clock
        self._group_members: frozenset[str] = frozenset()
        self._group_fetched_at: float | None = None
        self._group_lock = asyncio.Lock()
        self._profiles: dict[str, tuple[float, Profile | None]] = {}

    async def actor(
        self, team_id: str, user_id: str, fallback_name: str = "", text: str = ""
    ) -> Actor:
        """The Actor for one request; `text` is the command, to fetch only what it needs."""
        profile: Profile | None = None
        if text and c.needs_profile(c.parse(text)):
            profile = await self.profile(user_id)
        return Actor(
            user=UserRef(Platform.SLACK.value, team_id, user_id),
            is_moderator=await self.is_moderator(user_id),
            display_name=(profile.display_name if profile else "") or fallback_name,
            timezone=profile.timezone if profile else None,
        )

    async def is_moderator(self, user_id: str) -> bool:
        if user_id in self._moderator_ids:
            return True
        if self._group is None:
            return False
        return user_id in await self._group_users(self._group)

    def forget_group(self, group_id: str) -> None:
        """Drop cached membership when Slack says the moderator group changed."""
        if group_id == self._group:
            self._group_fetched_at = None

    @property
    def group_cache_empty(self) -> bool:
        return self._group_fetched_at is None

    async def _group_users(self, group: str) -> frozenset[str]:
        async with self._group_lock:
            fetched = self._group_fetched_at
            if fetched is not None and self._clock() - fetched < GROUP_TTL:
                return self._group_members
            try:
                response = await self._client.usergroups_users_list(usergroup=group)
            except (SlackApiError, aiohttp.ClientError, TimeoutError) as error:
                # Fail closed, and ask again on the next request rather than caching the failure.
                log.warning("could not read the moderator user group: %s", describe(error))
                return frozenset()
            self._group_members = frozenset(str(u) for u in response.get("users") or [])
            self._group_fetched_at = self._clock()
            return self._group_members

    async def profile(self, user_id: str) -> Profile | None:
        cached = self._profiles.get(user_id)
        if cached is not None and self._clock() - cached[0] < PROFILE_TTL:
            return cached[1]
        try:
            response = await self._client.users_info(user=user_id)
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
        self._profiles[user_id] = (self._clock(), profile)
        return profile
