"""The web library, the moderators' dashboard and members' own pages, served by aiohttp.

`register_web(app, facade)` adds the routes to an application (the process's one HTTP
listener); `web_application(facade)` makes a stand-alone one. Pages are rendered on the
server from the core's read models; every asset ships in this package.
"""

from __future__ import annotations

import time

from aiohttp import web
from aiohttp.typedefs import Middleware

from bot.core.facade import PmAdvice
from bot.web_adapter import dashboard, library, member, signin
from bot.web_adapter.pages import STATIC, WEB, Handler, WebContext, WebOptions

__all__ = ["WebOptions", "register_web", "web_application"]


def register_web(app: web.Application, facade: PmAdvice, options: WebOptions | None = None) -> None:
    app[WEB] = WebContext(facade, options or WebOptions())
    routes = app.router
    routes.add_get("/", library.home)
    routes.add_get("/topics/{slug}", library.topic)
    routes.add_get("/snippets/{snippet_id}", library.snippet)
    routes.add_get("/search", library.search)
    routes.add_get("/exercises", library.exercises)
    routes.add_get("/robots.txt", library.robots)
    routes.add_static("/assets/", STATIC, append_version=False)

    routes.add_get("/signin/{token}", signin.show)
    routes.add_post("/signin", signin.sign_in)
    routes.add_post("/signout", signin.sign_out)

    routes.add_get("/dashboard", dashboard.overview)
    routes.add_get("/dashboard/gaps", dashboard.gaps)
    routes.add_get("/dashboard/snippets", dashboard.snippets)
    _get_and_post(routes, "/dashboard/snippets/new", dashboard.add_snippet)
    _get_and_post(routes, "/dashboard/snippets/{snippet_id}/edit", dashboard.edit_snippet)
    routes.add_get("/dashboard/challenge", dashboard.funnel)
    routes.add_get("/dashboard/review", dashboard.review)
    routes.add_post("/dashboard/review/{number}/approve", dashboard.approve)
    routes.add_post("/dashboard/review/{number}/reject", dashboard.reject)
    _get_and_post(routes, "/dashboard/review/{number}/edit", dashboard.edit_suggestion)

    routes.add_get("/me", member.me)
    routes.add_post("/me/subscription", member.subscription)
    routes.add_post("/me/pause", member.pause)
    routes.add_post("/me/resume", member.resume)
    routes.add_post("/me/unsubscribe", member.unsubscribe)
    routes.add_post("/me/portfolio", member.publish)
    routes.add_get("/portfolio/{slug}", member.portfolio)


def _get_and_post(routes: web.UrlDispatcher, path: str, handler: Handler) -> None:
    """A form page: GET shows it, POST submits it (the handler tells them apart)."""
    routes.add_get(path, handler)
    routes.add_post(path, handler)


def web_application(facade: PmAdvice, options: WebOptions | None = None) -> web.Application:
    options = options or WebOptions()
    middlewares = [] if options.timings is None else [_timed(options.timings)]
    app = web.Application(client_max_size=64 * 1024, middlewares=middlewares)
    register_web(app, facade, options)
    return app


def _timed(timings: list[tuple[str, float]]) -> Middleware:
    """Records how long each request takes on the server, from routing to response."""

    @web.middleware
    async def timed(request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.perf_counter()
        try:
            return await handler(request)
        finally:
            timings.append((request.path, time.perf_counter() - started))

    return timed
