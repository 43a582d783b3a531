"""HTTP mode: `POST /slack/events` (and, when distributed, the OAuth install routes), mounted on
the process's HTTP listener (bot.http_listener).

Checks run in this order, before slack-bolt sees a request:
1. Slack's unsigned `ssl_check=1` ping is answered 200 and goes no further; nothing else
   unsigned is accepted.
2. The signature (`verification.RequestVerifier`): 401 when it fails.
3. A signature already seen inside the five-minute window is a replay: 401, nothing runs.
4. A signed body that is not what Slack sends (bad JSON, not an object) is 400, never a 500.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.slack_adapter.replay import SIGNATURE_WINDOW, SeenOnce
from bot.slack_adapter.verification import RequestVerifier

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
SIGNATURE_HEADERS = ("X-Slack-Signature", "X-Slack-Request-Timestamp")


def is_ssl_check(headers: Mapping[str, str], body: bytes) -> bool:
    """Slack's certificate check: an unsigned form post carrying `ssl_check=1`."""
    if any(name in headers for name in SIGNATURE_HEADERS):
        return False
    try:
        form = dict(parse_qsl(body.decode("ascii"), keep_blank_values=True))
    except (UnicodeDecodeError, ValueError):
        return False
    return form.get("ssl_check") == "1"


def body_problem(body: str, content_type: str | None) -> str | None:
    """Why a signed body is not something Slack sends, or None; safe to log."""
    kind = (content_type or "").split(";")[0].strip().lower()
    try:
        if kind == "application/json" or body.lstrip().startswith("{"):
            parsed: Any = json.loads(body)
        else:
            form = dict(parse_qsl(body, keep_blank_values=True, strict_parsing=bool(body)))
            parsed = json.loads(form["payload"]) if "payload" in form else form
    except (ValueError, KeyError):
        return "body is neither JSON nor a form"
    if not isinstance(parsed, dict):
        return "body is not an object"
    return None


def register_events(
    app: web.Application,
    bolt: AsyncApp,
    verifier: RequestVerifier,
    seen: SeenOnce | None = None,
) -> None:
    """Add Slack's routes to `app` (the listener's; its body limit is 1 MiB): the events
    endpoint, and the OAuth install routes when the app is distributed."""
    signatures = seen or SeenOnce(SIGNATURE_WINDOW)

    async def events(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        if is_ssl_check(request.headers, body):
            return web.Response(status=200)
        problem = verifier.problem(request.headers, body)
        if problem is None and not signatures.first(request.headers["X-Slack-Signature"]):
            problem = "a signature seen before (replayed request)"
        if problem is not None:
            log.info("rejected a request to %s: %s", EVENTS_PATH, problem)
            return web.json_response({"error": "invalid request"}, status=401)
        text = body.decode("utf-8")  # the verifier has checked it decodes
        malformed = body_problem(text, request.content_type)
        if malformed is not None:
            log.info("rejected a signed request to %s: %s", EVENTS_PATH, malformed)
            return web.json_response({"error": "malformed request"}, status=400)
        bolt_request = AsyncBoltRequest(
            body=text, query=request.query_string, headers=_headers(request)
        )
        return await to_aiohttp_response(await bolt.async_dispatch(bolt_request))

    async def oauth(request: web.Request) -> web.StreamResponse:
        flow = bolt.oauth_flow
        if flow is None:
            raise web.HTTPNotFound()
        bolt_request = AsyncBoltRequest(
            body="", query=request.query_string, headers=_headers(request)
        )
        if request.path == INSTALL_PATH:
            response = await flow.handle_installation(bolt_request)
        else:
            response = await flow.handle_callback(bolt_request)
        return await to_aiohttp_response(response)

    app.router.add_post(EVENTS_PATH, events)
    if bolt.oauth_flow is not None:
        app.router.add_get(INSTALL_PATH, oauth)
        app.router.add_get(REDIRECT_PATH, oauth)


def _headers(request: web.Request) -> dict[str, str | Sequence[str]]:
    headers: dict[str, str | Sequence[str]] = {}
    for name in request.headers:
        headers[name.lower()] = request.headers.getall(name)
    return headers
