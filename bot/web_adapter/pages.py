"""What every page handler shares: templates, the signed-in session, CSRF, headers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from bot.core.facade import PmAdvice
from bot.core.models import Actor, WebRole, WebSession
from bot.core.web_access import SESSION_TTL, csrf_matches, csrf_token
from bot.web_adapter import markup

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

SESSION_COOKIE = "pmadvice_session"
SIGNIN_COOKIE = "pmadvice_signin"
CSRF_FIELD = "csrf"

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    # Sign-in URLs carry a token: never send any URL of ours onwards as a referrer.
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class WebOptions:
    public_url: str | None = None
    """`PMADVICE_PUBLIC_URL`: links become absolute, and https there means Secure cookies."""
    timings: list[tuple[str, float]] | None = None
    """When a list, (path, seconds) of each request's server-side handling is appended."""


@dataclass
class WebContext:
    facade: PmAdvice
    options: WebOptions
    templates: Environment = field(init=False)

    def __post_init__(self) -> None:
        self.templates = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(default=True, default_for_string=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.templates.filters["blocks"] = markup.blocks
        self.templates.filters["inline"] = markup.inline
        self.templates.filters["day"] = _day
        self.templates.filters["percent"] = _percent

    def url(self, path: str) -> str:
        """A link to one of our pages: absolute when a public URL is set."""
        base = (self.options.public_url or "").rstrip("/")
        return f"{base}/{path.lstrip('/')}"


WEB = web.AppKey("pmadvice_web", WebContext)
SESSION = web.RequestKey("pmadvice_web_session", WebSession)
CSRF = web.RequestKey("pmadvice_web_csrf", str)


def context(request: web.Request) -> WebContext:
    return request.app[WEB]


def _day(value: datetime | Any) -> str:
    return f"{value:%d %b %Y}" if value is not None else ""


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f}%"


def secure_request(request: web.Request) -> bool:
    public = context(request).options.public_url or ""
    return request.secure or public.startswith("https://")


def page(
    request: web.Request,
    template: str,
    status: int = 200,
    private: bool = False,
    **values: Any,
) -> web.Response:
    ctx = context(request)
    session = request.get(SESSION)
    html = ctx.templates.get_template(template).render(
        url=ctx.url,
        session=session,
        csrf=request.get(CSRF, ""),
        csrf_field=CSRF_FIELD,
        roles=WebRole,
        request_path=request.path,
        **values,
    )
    response = web.Response(text=html, status=status, content_type="text/html", charset="utf-8")
    # A signed-in page carries the session's form token (the sign-out form): never cache it.
    with_headers(response, private=private or session is not None)
    return response


R = TypeVar("R", bound=web.StreamResponse)


def with_headers(response: R, private: bool = False) -> R:
    response.headers.update(SECURITY_HEADERS)
    if private:
        response.headers["Cache-Control"] = "no-store"
    return response


def message(
    request: web.Request, title: str, body: str, status: int, private: bool = True
) -> web.Response:
    return page(request, "message.html", status=status, private=private, title=title, body=body)


async def current_session(request: web.Request) -> WebSession | None:
    token = request.cookies.get(SESSION_COOKIE, "")
    session = await context(request).facade.web.session(token)
    if session is not None:
        request[SESSION] = session
        request[CSRF] = csrf_token(token)
    return session


def requires(role: WebRole) -> Callable[[Handler], Handler]:
    """Only a signed-in session of `role`; every POST also needs the form's CSRF token."""

    def decorate(handler: Handler) -> Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            session = await current_session(request)
            if session is None or session.role != role:
                return signin_needed(request, role)
            if request.method != "GET":  # HEAD included: only GET shows a form
                form = await request.post()
                submitted = str(form.get(CSRF_FIELD, ""))
                if not csrf_matches(request.cookies.get(SESSION_COOKIE, ""), submitted):
                    return message(
                        request,
                        "This form has expired",
                        "The page was open too long or came from somewhere else, so nothing "
                        "was changed. Go back, reload the page and try again.",
                        status=403,
                    )
            return await handler(request)

        return guarded

    return decorate


def signin_needed(request: web.Request, role: WebRole) -> web.Response:
    command = "dashboard" if role == WebRole.MODERATOR else "progress"
    where = "the moderators' dashboard" if role == WebRole.MODERATOR else "your own page"
    return message(
        request,
        "Please sign in",
        f"To open {where}, send `/pmadvice {command}` to the bot in chat. It replies with a "
        "sign-in link that works once, for 15 minutes, just for you.",
        status=401,
    )


def set_session_cookie(request: web.Request, response: web.StreamResponse, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(SESSION_TTL.total_seconds()),
        path="/",
        httponly=True,
        samesite="Lax",
        secure=secure_request(request),
    )


def see_other(location: str) -> web.Response:
    """A 303 to `location` (after a form: the browser follows it with a GET)."""
    return with_headers(web.Response(status=303, headers={"Location": location}), private=True)


def actor_of(session: WebSession) -> Actor:
    return Actor(user=session.user, is_moderator=session.role == WebRole.MODERATOR)
