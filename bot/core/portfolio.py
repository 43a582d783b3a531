"""Members' optional public portfolio pages: the handed-in work they choose to show.

Off unless the admin turns it on. A page shows only the entries the member ticked, with the
exercise they answer, and nothing else about them: no name, no platform, no id.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from bot.core.models import Exercise, Knowledge, Portfolio, ProgressEntry, UserRef
from bot.core.ports import Clock, Repositories

SLUG_BYTES = 12


def item_key(entry: ProgressEntry) -> str:
    return f"{entry.round}:{entry.exercise_id}"


@dataclass(frozen=True, slots=True)
class PortfolioPage:
    items: tuple[tuple[Exercise, ProgressEntry], ...]


class Portfolios:
    def __init__(
        self, knowledge: Knowledge, repositories: Repositories, clock: Clock, enabled: bool
    ) -> None:
        self._exercises = {x.id: x for x in knowledge.exercises}
        self._repos = repositories
        self._clock = clock
        self.enabled = enabled

    async def _handed_in(self, user: UserRef) -> list[ProgressEntry]:
        entries = await self._repos.progress.list_for(user)
        return [e for e in entries if (e.link or e.note) and e.exercise_id in self._exercises]

    async def of(self, user: UserRef) -> Portfolio | None:
        return await self._repos.web.portfolio(user)

    async def publish(self, user: UserRef, keys: set[str]) -> Portfolio | None:
        """Show exactly `keys` (of the member's own handed-in entries); none unpublishes."""
        own = {item_key(e) for e in await self._handed_in(user)}
        shown = frozenset(keys & own)
        if not shown:
            await self._repos.web.delete_portfolio(user)
            return None
        existing = await self._repos.web.portfolio(user)
        slug = existing.slug if existing else secrets.token_urlsafe(SLUG_BYTES)
        portfolio = Portfolio(user, slug, shown, self._clock.now())
        await self._repos.web.save_portfolio(portfolio)
        return portfolio

    async def page(self, slug: str) -> PortfolioPage | None:
        if not self.enabled:
            return None
        portfolio = await self._repos.web.portfolio_at(slug)
        if portfolio is None:
            return None
        entries = await self._handed_in(portfolio.user)
        chosen = [e for e in entries if item_key(e) in portfolio.items]
        if not chosen:
            return None
        return PortfolioPage(tuple((self._exercises[e.exercise_id], e) for e in chosen))
