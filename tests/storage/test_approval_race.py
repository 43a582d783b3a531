"""Two moderators approve two suggestions with the same title at the same moment, through
two bot processes (two engines, two caches) on one database: both are published, under
distinct ids."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.catalog import YamlExporter
from bot.core.facade import PmAdvice
from bot.core.models import SuggestionStatus
from bot.storage.engine import create_engine
from bot.storage.repositories import build_repositories
from tests.support.factories import BODY, KNOWLEDGE, member
from tests.support.fakes import FakeClock

DRAFT = f"Twin title | {BODY} | networking | how do twins network"


async def test_racing_approvals_of_twin_titles_both_publish(
    database_url: str, engine: AsyncEngine
) -> None:
    clock = FakeClock()
    second = create_engine(database_url)
    try:
        bots = [
            PmAdvice(KNOWLEDGE, build_repositories(e, clock), clock, YamlExporter(), {})
            for e in (engine, second)
        ]
        for author in ("S1", "S2"):
            assert "#" in (await bots[0].handle(member(author), f"suggest {DRAFT}")).body
        for bot in bots:
            await bot.library.state()  # each process has its own, soon stale, view of ids

        replies = await asyncio.gather(
            bots[0].handle(member("M1", moderator=True), "approve 1"),
            bots[1].handle(member("M2", moderator=True), "approve 2"),
        )

        assert [r.title for r in replies] == ["Approved", "Approved"]
        repositories = build_repositories(engine, clock)
        decided = [await repositories.suggestions.get(n) for n in (1, 2)]
        assert all(s is not None and s.status == SuggestionStatus.APPROVED for s in decided)
        ids = {s.snippet_id for s in decided if s is not None}
        assert ids == {"twin-title", "twin-title-2"}
        latest = {r.snippet_id: r for r in await repositories.revisions.latest()}
        assert latest["twin-title"].questions == ("how do twins network",)
    finally:
        await second.dispose()
