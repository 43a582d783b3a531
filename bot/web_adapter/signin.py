"""Signing in with a one-time link, and signing out.

Opening the link shows a page with a button; only pressing it spends the link. Chat apps
fetch links to preview them, and a preview must not use up a member's sign-in. The button's
form is tied to this browser by a random value kept in a cookie and in the form.
"""

from __future__ import annotations

import hmac
import secrets

from aiohttp import web

from bot.core.models import WebRole
from bot.core.web_access import LinkState, csrf_matches
from bot.web_adapter.pages import (
    CSRF_FIELD,
    SESSION_COOKIE,
    SIGNIN_COOKIE,
    context,
    current_session,
    message,
    page,
    secure_request,
    see_other,
    set_session_cookie,
)

REFUSED = {
    LinkState.USED: (
        "This link was already used",
        "Each sign-in link works once. Ask the bot for a new one in chat.",
    ),
    LinkState.EXPIRED: (
        "This link has expired",
        "Sign-in links work for 15 minutes. Ask the bot for a new one in chat.",
    ),
    LinkState.UNKNOWN: (
        "This link doesn't work",
        "It may be incomplete; copy the whole link, or ask the bot for a new one in chat.",
    ),
}


def _refused(request: web.Request, state: LinkState) -> web.Response:
    title, body = REFUSED.get(state, REFUSED[LinkState.UNKNOWN])
    return message(request, title, body, status=403 if state == LinkState.USED else 410)


async def show(request: web.Request) -> web.StreamResponse:
    token = request.match_info["token"]
    state = await context(request).facade.web.link_state(token)
    if state != LinkState.VALID:
        return _refused(request, state)
    nonce = secrets.token_urlsafe(24)
    response = page(request, "signin.html", private=True, token=token, nonce=nonce)
    response.set_cookie(
        SIGNIN_COOKIE,
        nonce,
        max_age=15 * 60,
        path="/signin",
        httponly=True,
        samesite="Strict",
        secure=secure_request(request),
    )
    return response


async def sign_in(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    token, nonce = str(form.get("token", "")), str(form.get(CSRF_FIELD, ""))
    expected = request.cookies.get(SIGNIN_COOKIE, "")
    if not nonce or not expected or not hmac.compare_digest(nonce, expected):
        return message(
            request,
            "Please open your link again",
            "This sign-in form didn't come from your link in this browser, so nothing "
            "happened. Open the link from chat again.",
            status=403,
        )
    outcome = await context(request).facade.web.redeem(token)
    if isinstance(outcome, LinkState):
        return _refused(request, outcome)
    target = "dashboard" if outcome.session.role == WebRole.MODERATOR else "me"
    response = see_other(context(request).url(target))
    set_session_cookie(request, response, outcome.token)
    response.del_cookie(SIGNIN_COOKIE, path="/signin")
    return response


async def sign_out(request: web.Request) -> web.StreamResponse:
    session = await current_session(request)
    token = request.cookies.get(SESSION_COOKIE, "")
    form = await request.post()
    if session is None or not csrf_matches(token, str(form.get(CSRF_FIELD, ""))):
        return message(request, "Nothing to sign out of", "You're not signed in here.", 400)
    await context(request).facade.web.sign_out(token)
    response = see_other(context(request).url("/"))
    response.del_cookie(SESSION_COOKIE, path="/")
    return response
