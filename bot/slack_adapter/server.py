"""HTTP mode: `POST /slack/events`, mounted on the process's HTTP listener (bot.http_listener)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.slack_adapter.verification import RequestVerifier

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"


def register_events(app: web.Application, bolt: AsyncApp, verifier: RequestVerifier) -> None:
    """Add Slack's events endpoint to `app` (the listener's; its body limit is 1 MiB)."""

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

    app.router.add_post(EVENTS_PATH, events)
