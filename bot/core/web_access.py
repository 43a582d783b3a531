"""Signing in to the web pages: one-time links sent in chat, then a browser session.

Only hashes of tokens are stored, so a copy of the database opens no session. A link works
once, for 15 minutes, for the member it was sent to; the session it opens carries that
member and role. The CSRF token of a form is derived from the session token, so it needs no
storage and is worthless without the cookie it belongs to.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from bot.core.models import Actor, UserRef, WebLink, WebRole, WebSession
from bot.core.ports import Clock, WebAccessRepository
from bot.core.presenter import moderators_only_reply
from bot.core.reply import Reply, Visibility

LINK_TTL = timedelta(minutes=15)
SESSION_TTL = timedelta(hours=8)
PURGE_AFTER = timedelta(days=1)
"""Expired links and sessions are kept this long (so "expired" can be told from "unknown")."""
TOKEN_BYTES = 32


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def csrf_token(session_token: str) -> str:
    """The form token for a session: an HMAC of a fixed label keyed by the session token."""
    return hmac.new(session_token.encode("utf-8"), b"pmadvice-csrf", hashlib.sha256).hexdigest()


def csrf_matches(session_token: str, submitted: str) -> bool:
    return hmac.compare_digest(csrf_token(session_token), submitted)


class LinkState(enum.StrEnum):
    VALID = "valid"
    USED = "used"
    EXPIRED = "expired"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class SignedIn:
    token: str
    """The raw session token, for the cookie; never stored."""
    session: WebSession


class WebAccess:
    def __init__(self, repository: WebAccessRepository, clock: Clock) -> None:
        self._repo = repository
        self._clock = clock

    async def issue_link(self, user: UserRef, role: WebRole) -> str:
        """A new one-time token for `user`; the caller turns it into a URL."""
        now = self._clock.now()
        await self._repo.purge(now - PURGE_AFTER)
        token = secrets.token_urlsafe(TOKEN_BYTES)
        await self._repo.add_link(WebLink(hash_token(token), user, role, now, now + LINK_TTL))
        return token

    async def link_state(self, token: str) -> LinkState:
        """What the link would do, without using it (link previews must not spend it)."""
        link = await self._repo.find_link(hash_token(token))
        if link is None:
            return LinkState.UNKNOWN
        if link.used_at is not None:
            return LinkState.USED
        if self._clock.now() >= link.expires_at:
            return LinkState.EXPIRED
        return LinkState.VALID

    async def redeem(self, token: str) -> SignedIn | LinkState:
        """Spend the link and open a session, or say why not."""
        now = self._clock.now()
        link = await self._repo.redeem_link(hash_token(token), now)
        if link is None:
            state = await self.link_state(token)
            return LinkState.USED if state == LinkState.VALID else state
        session_token = secrets.token_urlsafe(TOKEN_BYTES)
        session = WebSession(
            hash_token(session_token), link.user, link.role, now, now + SESSION_TTL
        )
        await self._repo.add_session(session)
        return SignedIn(session_token, session)

    async def session(self, token: str) -> WebSession | None:
        if not token:
            return None
        return await self._repo.find_session(hash_token(token), self._clock.now())

    async def sign_out(self, token: str) -> None:
        await self._repo.end_session(hash_token(token))


class WebLinks:
    """Where this bot's web pages are, once known: `PMADVICE_PUBLIC_URL`, or the address the
    local listener serves on. None while no process serves them."""

    def __init__(self, base: str | None = None, public: str | None = None) -> None:
        self.base = base.rstrip("/") if base else None
        self.public = public.rstrip("/") if public else None
        """`PMADVICE_PUBLIC_URL`: only links there may be posted for a whole channel."""

    def url(self, path: str) -> str | None:
        return None if self.base is None else f"{self.base}/{path.lstrip('/')}"

    def snippet(self, snippet_id: str) -> str | None:
        """A snippet's public permalink; None without a public address."""
        return None if self.public is None else f"{self.public}/snippets/{snippet_id}"

    def sign_in(self, token: str) -> str | None:
        return self.url(f"signin/{token}")


class WebSignIn:
    """The chat side of the web pages: `dashboard` and the link under `progress`."""

    def __init__(self, access: WebAccess, links: WebLinks) -> None:
        self._access = access
        self._links = links

    async def link(self, actor: Actor, role: WebRole) -> Reply:
        if role == WebRole.MODERATOR and not actor.is_moderator:
            return moderators_only_reply()
        if self._links.base is None:
            return sign_in_reply(None, role)
        token = await self._access.issue_link(actor.user, role)
        return sign_in_reply(self._links.sign_in(token), role)

    async def with_own_page(self, actor: Actor, reply: Reply) -> Reply:
        """`reply` with a one-time link to the member's own page, when pages are served."""
        if self._links.base is None:
            return reply
        token = await self._access.issue_link(actor.user, WebRole.MEMBER)
        line = f"Your own page, with your notes and settings: {self._links.sign_in(token)}"
        note = "(a one-time link, for 15 minutes)"
        return dataclasses.replace(reply, body=f"{reply.body}\n\n{line} {note}".strip())

    def with_permalink(self, snippet_id: str, reply: Reply) -> Reply:
        """A snippet shared to a channel links to its page, when the pages are public."""
        url = self._links.snippet(snippet_id)
        if url is None or reply.visibility != Visibility.CHANNEL:
            return reply
        return dataclasses.replace(reply, context=f"{reply.context} · {url}".strip(" ·"))


def sign_in_reply(url: str | None, role: WebRole) -> Reply:
    page = "the moderators' dashboard" if role == WebRole.MODERATOR else "your own page"
    if url is None:
        return Reply(
            title="The web pages are off",
            body=(
                "This bot isn't serving its web pages, so there is no link to send. An admin "
                "can turn them on with `PMADVICE_HTTP_PORT` (and `PMADVICE_PUBLIC_URL`)."
            ),
        )
    return Reply(
        title="Your sign-in link",
        body=(
            f"Open {page}: {url}\nThe link is just for you: it works once, within 15 "
            "minutes. Please don't forward it."
        ),
        visibility=Visibility.PRIVATE,
    )
