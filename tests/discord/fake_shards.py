"""The fake Discord with shards: `/gateway/bot` recommends a shard count, IDENTIFY carries
`shard: [id, count]`, and each guild's events go only to the session running its shard
(`(guild_id >> 22) % count`; DMs to shard 0), as Discord routes them."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from tests.discord.fake_discord import FakeDiscord, Session, reply


class ShardedFakeDiscord(FakeDiscord):
    def __init__(self, shards: int = 2, **options: Any) -> None:
        super().__init__(**options)
        self.recommended_shards = shards
        self.shard_of: dict[int, tuple[int, int]] = {}
        """id(session) -> the [shard id, shard count] it identified with."""

    async def _gateway_bot(self, request: web.Request) -> web.Response:
        return reply(
            {
                "url": self.gateway_url,
                "shards": self.recommended_shards,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 999,
                    "reset_after": 0,
                    "max_concurrency": 1,
                },
            }
        )

    async def _gateway_message(self, session: Session, message: dict[str, Any]) -> None:
        if message.get("op") == 2:
            shard = message["d"].get("shard") or [0, 1]
            self.shard_of[id(session)] = (int(shard[0]), int(shard[1]))
        await super()._gateway_message(session, message)

    async def _send_dispatch(self, session: Session, event: str, data: dict[str, Any]) -> None:
        if event == "READY":  # READY names the shard the session identified as
            data = {**data, "shard": list(self.shard_of.get(id(session), (0, 1)))}
        await super()._send_dispatch(session, event, data)

    def session_for(self, guild_id: int | None) -> Session:
        live = [s for s in self.sessions if s.identified]
        owners = [
            s
            for s in live
            if (shard := self.shard_of.get(id(s), (0, 1)))
            and shard[0] == ((guild_id >> 22) % shard[1] if guild_id else 0)
        ]
        assert len(owners) == 1, f"{len(owners)} sessions run the shard of guild {guild_id}"
        return owners[0]

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        await self.connected()
        guild = data.get("guild_id")
        await self._send_dispatch(self.session_for(int(guild) if guild else None), event, data)

    def identified_shards(self) -> list[tuple[int, int]]:
        return sorted(self.shard_of[id(s)] for s in self.sessions if s.identified)
