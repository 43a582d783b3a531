"""HTTP mode: `POST /slack/events` and `GET /healthz` on aiohttp, sharing the bot's event loop."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.slack_adapter.verification import RequestVerifier

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
MAX_BODY = 1024 * 1024


def build_web_app(
    bolt: AsyncApp, verifier: RequestVerifier, ready: Callable[[], bool]
) -> web.Application:
    async def events(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        problem = verifier.problem(request.headers, body)
        if problem is not None:
            log.info("rejected a request to %s: %s", EVENTS_PATH, problem)
            return web.json_response({"error": "invalid request"}, status=401)
        headers: dict[str, str | Sequence[str]] = {}
        for name in request.headers:
            headers[name.lower()] = request.headers.getall(name)
        bolt_request = AsyncBoltRequest(
            body=body.decode("utf-8"), query=request.query_string, headers=headers
        )
        return await to_aiohttp_response(await bolt.async_dispatch(bolt_request))

    async def health(request: web.Request) -> web.StreamResponse:
        if ready():
            return web.json_response({"status": "ok"})
        return web.json_response({"status": "starting"}, status=503)

    app = web.Application(client_max_size=MAX_BODY)
    app.router.add_post(EVENTS_PATH, events)
    app.router.add_get(HEALTH_PATH, health)
    return app
