"""A member's own page: their track, what they handed in, their streak and nudge settings."""

from __future__ import annotations

from aiohttp import web

from bot.core import commands as c
from bot.core.commands import MAX_PAUSE_WEEKS, WEEKDAY_NAMES, parse_time, valid_timezone
from bot.core.models import WebRole
from bot.core.portfolio import item_key
from bot.core.reply import Reply
from bot.web_adapter.pages import (
    SESSION,
    actor_of,
    context,
    current_session,
    message,
    page,
    requires,
)

members = requires(WebRole.MEMBER)


async def _page(
    request: web.Request, reply: Reply | None = None, error: str = "", status: int = 200
) -> web.StreamResponse:
    facade = context(request).facade
    session = request[SESSION]
    view = await facade.dashboard.member(session.user, facade.progress)
    portfolio = await facade.portfolios.of(session.user) if facade.portfolios.enabled else None
    return page(
        request, "me.html", status=status, private=True, view=view, reply=reply, error=error,
        weekdays=WEEKDAY_NAMES, max_pause=MAX_PAUSE_WEEKS,
        portfolios=facade.portfolios.enabled, portfolio=portfolio, item_key=item_key,
    )  # fmt: skip


@members
async def me(request: web.Request) -> web.StreamResponse:
    return await _page(request)


@members
async def subscription(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    weekday_raw = str(form.get("weekday", ""))
    at = parse_time(str(form.get("time", "")))
    zone = valid_timezone(str(form.get("timezone", "")))
    if not weekday_raw.isdigit() or not 0 <= int(weekday_raw) <= 6:
        return await _page(request, error="Pick a day of the week.", status=422)
    if at is None:
        return await _page(request, error="Use a time like 09:30 (24-hour).", status=422)
    if zone is None:
        return await _page(
            request,
            error="Use a time zone name like Europe/London or America/New_York.",
            status=422,
        )
    command = c.Subscribe(int(weekday_raw), at, zone)
    reply = await context(request).facade.dispatch(actor_of(request[SESSION]), command)
    return await _page(request, reply)


@members
async def pause(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    weeks = str(form.get("weeks", "1"))
    if not weeks.isdigit() or not 1 <= int(weeks) <= MAX_PAUSE_WEEKS:
        return await _page(request, error=f"Pause for 1 to {MAX_PAUSE_WEEKS} weeks.", status=422)
    command = c.Pause(int(weeks))
    reply = await context(request).facade.dispatch(actor_of(request[SESSION]), command)
    return await _page(request, reply)


@members
async def resume(request: web.Request) -> web.StreamResponse:
    reply = await context(request).facade.dispatch(actor_of(request[SESSION]), c.Resume())
    return await _page(request, reply)


@members
async def publish(request: web.Request) -> web.StreamResponse:
    facade = context(request).facade
    if not facade.portfolios.enabled:
        raise web.HTTPNotFound()
    form = await request.post()
    keys = {str(value) for value in form.getall("show", [])}
    published = await facade.portfolios.publish(request[SESSION].user, keys)
    if published is None:
        done = Reply(title="Portfolio page off", body="Nothing is shown publicly now.")
    else:
        url = context(request).url(f"portfolio/{published.slug}")
        done = Reply(
            title="Portfolio page updated",
            body=f"It shows {len(published.items)} piece(s) of your work: {url}",
        )
    return await _page(request, done)


async def portfolio(request: web.Request) -> web.StreamResponse:
    """A member's public page: only the work they ticked, nothing else about them."""
    await current_session(request)
    found = await context(request).facade.portfolios.page(request.match_info["slug"])
    if found is None:
        return message(
            request, "No such page", "There's no portfolio at this address.", 404, private=False
        )
    return page(request, "portfolio.html", items=found.items)


@members
async def unsubscribe(request: web.Request) -> web.StreamResponse:
    actor = actor_of(request[SESSION])
    reply = await context(request).facade.dispatch(actor, c.Unsubscribe())
    return await _page(request, reply)
