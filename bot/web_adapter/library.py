"""The public library: no sign-in, read-only (a search may note a gap, as chat does)."""

from __future__ import annotations

from aiohttp import web

from bot.core.presenter import decline_reply
from bot.web_adapter.pages import context, current_session, message, page, with_headers


async def home(request: web.Request) -> web.StreamResponse:
    await current_session(request)
    topics = await context(request).facade.browse.topics()
    return page(request, "home.html", topics=topics, total=sum(t.snippets for t in topics))


async def topic(request: web.Request) -> web.StreamResponse:
    await current_session(request)
    slug = request.match_info["slug"]
    found = await context(request).facade.browse.topic(slug)
    if found is None:
        return message(
            request,
            "No such topic",
            "There's no topic at this address. The library lists every topic.",
            status=404,
            private=False,
        )
    return page(request, "topic.html", topic=found.topic, snippets=found.snippets)


async def snippet(request: web.Request) -> web.StreamResponse:
    await current_session(request)
    browse = context(request).facade.browse
    snippet_id = request.match_info["snippet_id"]
    found = await browse.lookup(snippet_id)
    if found.moved_to is not None:
        raise web.HTTPMovedPermanently(context(request).url(f"snippets/{found.moved_to}"))
    if found.snippet is None:
        if found.retired:
            return message(
                request,
                "This snippet was retired",
                "A moderator retired this advice. Search the library for a fresh answer.",
                status=410,
                private=False,
            )
        return message(
            request,
            "No such snippet",
            "There's no snippet at this address. Search the library or browse the topics.",
            status=404,
            private=False,
        )
    view = await browse.page(found.snippet)
    permalink = context(request).url(f"snippets/{view.snippet.id}")
    return page(request, "snippet.html", view=view, permalink=permalink)


async def search(request: web.Request) -> web.StreamResponse:
    await current_session(request)
    facade = context(request).facade
    query = request.query.get("q", "")
    if not query.strip():
        return page(request, "search.html", query="", result=None, decline=None)
    result = await facade.browse.search(query)
    decline = decline_reply(result.query, facade.knowledge) if result.declined else None
    topics = await facade.browse.topics() if decline else []
    return page(
        request, "search.html", query=result.query, result=result, decline=decline, topics=topics
    )


async def exercises(request: web.Request) -> web.StreamResponse:
    await current_session(request)
    return page(request, "exercises.html", exercises=context(request).facade.browse.exercises)


async def robots(request: web.Request) -> web.StreamResponse:
    text = "User-agent: *\nDisallow: /search\nDisallow: /signin/\nDisallow: /dashboard\nDisallow: /me\n"
    return with_headers(web.Response(text=text, content_type="text/plain"))
