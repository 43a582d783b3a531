"""The moderators' dashboard: charts, gaps, snippet standings, the funnel, the review queue.

Every change goes through the same core calls as chat (`submit_form`, `dispatch`), so it is
validated, audited and told to the member exactly as a chat command would be.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from bot.core import commands as c
from bot.core.commands import draft_from_values
from bot.core.curation import snippet_form
from bot.core.dashboard import Activity
from bot.core.models import WebRole
from bot.core.reply import Form, Reply
from bot.web_adapter.charts import Chart, Series, render
from bot.web_adapter.pages import SESSION, actor_of, context, page, requires

moderators = requires(WebRole.MODERATOR)

SNIPPET_FIELDS = ("title", "body", "topics", "questions")


def overview_charts(overview: Activity) -> list[Chart]:
    days = tuple(f"{d.day:%d %b}" for d in overview.days)
    weeks = tuple(f"{w.week:%d %b}" for w in overview.weeks)
    answered = sum(d.answered for d in overview.days)
    declined = sum(d.declined for d in overview.days)
    up = sum(d.up for d in overview.days)
    down = sum(d.down for d in overview.days)
    rate = overview.decline_rate
    nudges = overview.nudges
    platforms = tuple(n.platform for n in nudges)
    return [
        Chart(
            "questions",
            "Questions per day",
            days,
            (
                Series("answered", tuple(d.answered for d in overview.days), "s1"),
                Series("declined", tuple(d.declined for d in overview.days), "s2"),
            ),
            summary=f"Last {len(days)} days: {answered} answered, {declined} declined.",
        ),
        Chart(
            "decline-rate",
            "Decline rate",
            days,
            (Series("declined share", tuple(d.decline_rate for d in overview.days), "s2"),),
            kind="line",
            percent=True,
            summary=(
                f"{rate * 100:.0f}% of questions declined over {len(days)} days."
                if rate is not None
                else "No questions yet."
            ),
        ),
        Chart(
            "votes",
            "Votes per day",
            days,
            (
                Series("helpful", tuple(d.up for d in overview.days), "s3"),
                Series("not helpful", tuple(d.down for d in overview.days), "s4"),
            ),
            summary=f"Last {len(days)} days: {up} helpful, {down} not helpful.",
        ),
        Chart(
            "subscribers",
            "New subscribers per week",
            weeks,
            (Series("new subscribers", tuple(w.subscribers for w in overview.weeks), "s1"),),
            summary=(
                f"{sum(w.subscribers for w in overview.weeks)} new in {len(weeks)} weeks "
                "(weeks start on Monday)."
            ),
        ),
        Chart(
            "exercises",
            "Exercises done per week",
            weeks,
            (Series("done", tuple(w.done for w in overview.weeks), "s3"),),
            summary=f"{sum(w.done for w in overview.weeks)} done in {len(weeks)} weeks.",
        ),
        Chart(
            "nudges",
            "Weekly nudges by platform",
            platforms,
            (
                Series("sent", tuple(n.sent for n in nudges), "s1"),
                Series("failed", tuple(n.failed for n in nudges), "s2"),
                Series("paused now", tuple(n.paused for n in nudges), "s4"),
            ),
            kind="groups",
            summary=(
                f"Last {len(weeks)} weeks: {sum(n.sent for n in nudges)} sent, "
                f"{sum(n.failed for n in nudges)} failed; "
                f"{sum(n.paused for n in nudges)} subscriptions paused now."
                if nudges
                else "No nudges yet."
            ),
        ),
    ]


async def _nav(request: web.Request) -> dict[str, Any]:
    waiting = (await context(request).facade.dashboard.review_queue(limit=0)).waiting
    return {"waiting": waiting}


@moderators
async def overview(request: web.Request) -> web.StreamResponse:
    data = await context(request).facade.dashboard.overview()
    charts = [render(chart) for chart in overview_charts(data)]
    return page(
        request, "dashboard/overview.html", private=True, charts=charts, overview=data,
        **await _nav(request),
    )  # fmt: skip


@moderators
async def gaps(request: web.Request) -> web.StreamResponse:
    groups = await context(request).facade.dashboard.gap_groups()
    return page(request, "dashboard/gaps.html", private=True, groups=groups, **await _nav(request))


@moderators
async def snippets(request: web.Request) -> web.StreamResponse:
    standings = await context(request).facade.dashboard.snippet_standings()
    voted_down = sorted((s for s in standings if s.down), key=lambda s: (-s.down, s.up))[:10]
    return page(
        request, "dashboard/snippets.html", private=True, standings=standings,
        voted_down=voted_down, **await _nav(request),
    )  # fmt: skip


@moderators
async def funnel(request: web.Request) -> web.StreamResponse:
    steps = await context(request).facade.dashboard.funnel()
    chart = Chart(
        "funnel",
        "Members reaching each exercise",
        tuple(f"{s.order}" for s in steps),
        (
            Series("done", tuple(s.done for s in steps), "s3"),
            Series("skipped", tuple(s.skipped for s in steps), "s4"),
        ),
        summary=(
            f"{steps[0].reached if steps else 0} members recorded the first exercise; "
            f"{steps[-1].reached if steps else 0} reached the last."
        ),
    )
    return page(
        request, "dashboard/funnel.html", private=True, steps=steps, chart=render(chart),
        **await _nav(request),
    )  # fmt: skip


@moderators
async def review(request: web.Request) -> web.StreamResponse:
    return await _review_page(request)


async def _review_page(
    request: web.Request, errors: Mapping[int, str] | None = None, status: int = 200
) -> web.StreamResponse:
    queue = await context(request).facade.dashboard.review_queue()
    return page(
        request, "dashboard/review.html", status=status, private=True, queue=queue,
        errors=errors or {}, **await _nav(request),
    )  # fmt: skip


def _number(request: web.Request) -> int:
    raw = request.match_info["number"]
    if not raw.isdigit() or len(raw) > 9:
        raise web.HTTPNotFound()
    return int(raw)


@moderators
async def approve(request: web.Request) -> web.StreamResponse:
    facade = context(request).facade
    reply = await facade.dispatch(actor_of(request[SESSION]), c.Approve(_number(request)))
    return _outcome(request, reply)


@moderators
async def reject(request: web.Request) -> web.StreamResponse:
    number = _number(request)
    form = await request.post()
    values = {"reason": str(form.get("reason", ""))}
    reply = await context(request).facade.submit_form(
        actor_of(request[SESSION]), f"reject {number}", values
    )
    if reply.errors:
        return await _review_page(request, {number: reply.errors["reason"]}, status=422)
    return _outcome(request, reply)


@moderators
async def edit_suggestion(request: web.Request) -> web.StreamResponse:
    """Approve a suggestion with a moderator's changes: published, then edited (two audited
    steps, as in chat), but only once the changed text passes the same checks."""
    facade = context(request).facade
    number = _number(request)
    suggestion = await facade.dashboard.suggestion(number)
    if suggestion is None:
        raise web.HTTPNotFound()
    form = Form(
        title=f"Edit and approve #{number}",
        command=f"approve {number}",
        fields=_snippet_form().fields,
        submit_label="Approve with these changes",
    )
    if request.method == "GET":
        values = {
            "title": suggestion.title,
            "body": suggestion.body,
            "topics": ", ".join(suggestion.topics),
            "questions": suggestion.title,
        }
        return _form_page(request, form, values, {})
    values = await _posted(request)
    _, errors = facade.curation.validate(draft_from_values(values))
    if errors:
        return _form_page(request, form, values, errors, status=422)
    actor = actor_of(request[SESSION])
    approved = await facade.dispatch(actor, c.Approve(number))
    published = await facade.dashboard.suggestion(number)
    if published is None or published.snippet_id is None:
        return _outcome(request, approved)
    edited = await facade.submit_form(actor, f"edit {published.snippet_id}", values)
    return _outcome(request, edited)


def _snippet_form() -> Form:
    return snippet_form("Add a snippet", "add", submit="Publish")


@moderators
async def add_snippet(request: web.Request) -> web.StreamResponse:
    form = _snippet_form()
    if request.method == "GET":
        questions = [q for q in request.query.getall("question", []) if q.strip()][:10]
        values = {f.name: f.initial for f in form.fields}
        values["questions"] = "\n".join(q[:200] for q in questions)
        return _form_page(request, form, values, {})
    values = await _posted(request)
    reply = await context(request).facade.submit_form(actor_of(request[SESSION]), "add", values)
    if reply.errors:
        return _form_page(request, form, values, reply.errors, status=422)
    return _outcome(request, reply)


@moderators
async def edit_snippet(request: web.Request) -> web.StreamResponse:
    facade = context(request).facade
    snippet_id = request.match_info["snippet_id"]
    actor = actor_of(request[SESSION])
    opened = await facade.dispatch(actor, c.Edit(snippet_id))
    if opened.form is None:
        return _outcome(request, opened, status=404)
    if request.method == "GET":
        return _form_page(request, opened.form, {f.name: f.initial for f in opened.form.fields}, {})
    values = await _posted(request)
    reply = await facade.submit_form(actor, opened.form.command, values)
    if reply.errors:
        return _form_page(request, opened.form, values, reply.errors, status=422)
    return _outcome(request, reply)


async def _posted(request: web.Request) -> dict[str, str]:
    form = await request.post()
    return {name: str(form.get(name, "")) for name in SNIPPET_FIELDS}


def _form_page(
    request: web.Request,
    form: Form,
    values: Mapping[str, str],
    errors: Mapping[str, str],
    status: int = 200,
) -> web.StreamResponse:
    topics = context(request).facade.knowledge.topics
    return page(
        request, "dashboard/form.html", status=status, private=True, form=form,
        values=values, errors=errors, topics=topics, action=request.path, waiting=None,
    )  # fmt: skip


def _outcome(request: web.Request, reply: Reply, status: int = 200) -> web.StreamResponse:
    return page(
        request, "dashboard/outcome.html", status=status, private=True, reply=reply,
        waiting=None,
    )  # fmt: skip
