"""Direct messages to members: the weekly nudges and moderation notices.

Delivery rules, in Discord's terms:
- The DM channel id is cached per member (discord.py keeps only 128 private channels).
- Every message carries a `nonce` with `enforce_nonce`, derived from the member and the
  content, so a retry of the same nudge within Discord's nonce window returns the message
  already created instead of a second one.
- A pacer keeps this bot under Discord's global limit of 50 requests a second (48/s by
  default, PMADVICE_DISCORD_DM_RATE; divide it when several processes share one token).
- 429s are *honoured* inside discord.py: it sleeps for the `retry_after` Discord sends and
  retries the same request (same nonce), holding back every request on a global 429. A
  rate limit *surfaces* as `SendOutcome.rate_limited(retry_after)` only when discord.py gives
  up: a `retry_after` above the client's `max_ratelimit_timeout` (30 s), five 429s in a row,
  or a 429 without a `Via` header (a Cloudflare ban). Either way the pacer sees every 429
  (through aiohttp tracing), waits as asked and slows down, so a herd of retries doesn't
  run this bot into Discord's invalid-request limit.
- 50007 (the member doesn't accept DMs from us) and other "this will never work" answers are
  permanent and never retried, so we stay far from Discord's invalid-request limit.
- 40003 ("opening direct messages too fast") and the anti-spam 403s are about this bot's pace,
  never the member: every DM waits (a minute, doubling while Discord keeps refusing, up to an
  hour), the pace is halved, and the nudge is retried later. Nobody is paused for them.
- 5xx and timeouts are transient: the nudge scheduler tries again later.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import aiohttp
import discord

from bot.core.models import Platform, UserRef
from bot.core.ports import SendOutcome
from bot.core.reply import Reply
from bot.discord_adapter.custom_ids import CommandKeys
from bot.discord_adapter.interactions import send_kwargs
from bot.discord_adapter.render import render

log = logging.getLogger(__name__)

PACE = 48.0
"""What this messenger allows itself by default, a little under Discord's global 50/s."""
SEND_TIMEOUT = 30.0
IN_FLIGHT = 10
"""DM requests on the wire at once: enough for 48/s at Discord's latency, and a small herd
when a 429 makes every request in flight retry together."""
NONCE_MAX = 25
DEFAULT_RETRY_AFTER = 5.0
SLOW_DOWN_WAIT = 60.0
SLOW_DOWN_MAX = 3600.0

PERMANENT_CODES = {
    10013: "unknown user",
    50007: "the member doesn't accept direct messages from this bot",
    50033: "invalid recipient",
    50278: "no server in common with the member any more",
}

SLOW_DOWN_CODES = {
    40003: "Discord says this bot is opening direct messages too fast",
    20026: "Discord's anti-spam system has flagged this bot",
    20016: "Discord's slowmode rate limit",
    20028: "Discord's write rate limit",
    20029: "Discord's write rate limit",
}
"""Answers about this bot's pace, not about the member: slow down and retry later."""


class Pacer:
    """Spaces requests evenly across every caller (no bursts), at most `rate` a second.

    It adapts like TCP: a 429 holds everything for the wait Discord asked for; repeated 429s
    (three within a second, so one unlucky request doesn't count) cut the rate by a quarter,
    at most once a second; each success adds back a two-thousandth of the ceiling. Two
    processes sharing a token thus settle near half the limit each instead of trading 429s.
    """

    def __init__(self, rate: float, clock: Callable[[], float] | None = None) -> None:
        self.ceiling = rate
        self.rate = rate
        self._clock = clock
        self._next = 0.0
        self._last_cut = -1.0
        self._recent: deque[float] = deque(maxlen=3)

    def _now(self) -> float:
        return self._clock() if self._clock else asyncio.get_running_loop().time()

    async def wait(self) -> None:
        now = self._now()
        slot = max(now, self._next)
        self._next = slot + 1.0 / self.rate
        if slot > now:
            await asyncio.sleep(slot - now)

    def hold(self, seconds: float) -> None:
        """Send nothing for `seconds` (Discord asked us to wait)."""
        self._next = max(self._next, self._now() + seconds)

    def limited(self, retry_after: float) -> None:
        now = self._now()
        self._recent.append(now)
        repeated = len(self._recent) == 3 and now - self._recent[0] < 1.0
        if repeated and now - self._last_cut >= 1.0:
            self._last_cut = now
            self.rate = max(self.ceiling / 10, self.rate * 0.75)
        self.hold(retry_after)

    def succeeded(self) -> None:
        self.rate = min(self.ceiling, self.rate + self.ceiling / 2000)

    def slow_down(self) -> None:
        """Discord flagged our pace (not a 429): halve it; it recovers as sends succeed."""
        self.rate = max(self.ceiling / 10, self.rate / 2)


class DiscordMessenger:
    """Implements `bot.core.ports.Messenger` for Discord members."""

    def __init__(
        self,
        client: Callable[[], discord.Client | None],
        keys: CommandKeys,
        pace: float = PACE,
        timeout: float = SEND_TIMEOUT,
        channel_cache: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._keys = keys
        self._pacer = Pacer(pace)
        self._timeout = timeout
        self._capacity = channel_cache
        self._channels: OrderedDict[int, int] = OrderedDict()
        self._creating: dict[int, asyncio.Future[int]] = {}
        self._in_flight = asyncio.Semaphore(IN_FLIGHT)
        self._clock = clock
        self._slow_until = 0.0
        self._slow_wait = SLOW_DOWN_WAIT

    @property
    def rate(self) -> float:
        """The pace DMs currently go out at, requests a second (lower after 429s)."""
        return self._pacer.rate

    async def send(self, user: UserRef, reply: Reply) -> SendOutcome:
        if user.platform != Platform.DISCORD.value:
            return SendOutcome.permanent("not a Discord member")
        if not user.user_id.isdigit():
            return SendOutcome.permanent("not a Discord user id")
        client = self._client()
        if client is None or client.is_closed():
            return SendOutcome.transient("not connected to Discord")
        waiting = self._slow_until - self._clock()
        if waiting > 0:
            return SendOutcome.rate_limited(waiting, "slowing down direct messages")
        try:
            async with asyncio.timeout(self._timeout):
                outcome = await self._deliver(client, int(user.user_id), reply)
            self._slow_wait = SLOW_DOWN_WAIT
            return outcome
        except TimeoutError:
            return SendOutcome.transient("Discord did not answer in time")
        except discord.RateLimited as limited:
            return SendOutcome.rate_limited(limited.retry_after)
        except discord.HTTPException as error:
            return self._classify(error)
        except (aiohttp.ClientError, OSError) as error:
            return SendOutcome.transient(f"network error: {type(error).__name__}")

    async def _deliver(self, client: discord.Client, user_id: int, reply: Reply) -> SendOutcome:
        messages = render(reply, self._keys)
        channel_id = await self._channel(client, user_id)
        last_id = ""
        for index, message in enumerate(messages):
            kwargs = send_kwargs(message)
            kwargs["nonce"] = nonce(user_id, index, kwargs, reply.delivery_key)
            channel = client.get_partial_messageable(channel_id, type=discord.ChannelType.private)
            async with self._in_flight:
                await self._pacer.wait()
                sent = await channel.send(**kwargs)
            last_id = str(sent.id)
        return SendOutcome.sent(last_id)

    async def _channel(self, client: discord.Client, user_id: int) -> int:
        cached = self._channels.get(user_id)
        if cached is not None:
            self._channels.move_to_end(user_id)
            return cached
        pending = self._creating.get(user_id)
        if pending is not None:  # another send to this member is already opening it
            return await asyncio.shield(pending)
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._creating[user_id] = future
        try:
            async with self._in_flight:
                await self._pacer.wait()
                channel = await client.create_dm(discord.Object(id=user_id))
        except BaseException as error:
            # Waiters get an ordinary error (a timed-out opener must not cancel them).
            reason = error if isinstance(error, Exception) else ConnectionError("interrupted")
            future.set_exception(reason)
            future.exception()  # retrieved here; each waiter re-raises it itself
            raise
        else:
            future.set_result(channel.id)
        finally:
            del self._creating[user_id]
        self._channels[user_id] = channel.id
        while len(self._channels) > self._capacity:
            self._channels.popitem(last=False)
        return channel.id

    def trace(self) -> aiohttp.TraceConfig:
        """For the client's `http_trace`: shows the pacer every answer discord.py gets, so the
        429s it retries on its own slow this messenger down too."""
        config = aiohttp.TraceConfig()
        config.on_request_end.append(self._on_response)
        return config

    async def _on_response(
        self,
        session: aiohttp.ClientSession,
        context: SimpleNamespace,
        params: aiohttp.TraceRequestEndParams,
    ) -> None:
        response = params.response
        if response.status == 429:
            self._pacer.limited(_seconds(response.headers.get("Retry-After")))
        elif response.status < 400:
            self._pacer.succeeded()

    def _classify(self, error: discord.HTTPException) -> SendOutcome:
        code, status = error.code, error.status
        if status == 429:
            return SendOutcome.rate_limited(_retry_after(error), "rate limited by Discord")
        if code in SLOW_DOWN_CODES or (status == 403 and code not in PERMANENT_CODES):
            return self._slow_down(SLOW_DOWN_CODES.get(code, "Discord refused (403)"), code)
        if code in PERMANENT_CODES:
            return SendOutcome.permanent(f"{PERMANENT_CODES[code]} ({code})")
        if status >= 500:
            return SendOutcome.transient(f"Discord server error {status}")
        if status == 401:
            log.error("Discord rejected the bot token while sending a DM")
            return SendOutcome.transient("Discord rejected the bot token")
        return SendOutcome.permanent(f"Discord refused the message ({status}, code {code})")

    def _slow_down(self, why: str, code: int) -> SendOutcome:
        wait = self._slow_wait
        self._slow_wait = min(wait * 2, SLOW_DOWN_MAX)
        self._slow_until = max(self._slow_until, self._clock() + wait)
        self._pacer.slow_down()
        log.warning(
            "%s (code %s): direct messages pause for %.0f s and go out at %.1f/s after",
            why,
            code,
            wait,
            self._pacer.rate,
        )
        return SendOutcome.rate_limited(wait, f"{why} (code {code})")


def nonce(user_id: int, index: int, kwargs: dict[str, Any], key: str = "") -> str:
    """Stable for the same message to the same member, so retries are deduplicated. A weekly
    nudge's delivery key decides it alone: a re-send after a crash carries the same nonce even
    if the member's progress (and so the text) changed in between."""
    if key:
        return hashlib.sha256(f"{key}:{index}".encode()).hexdigest()[:NONCE_MAX]
    digest = hashlib.sha256(f"{user_id}:{index}".encode())
    for embed in kwargs.get("embeds", []):
        digest.update(repr(sorted(embed.to_dict().items())).encode())
    view = kwargs.get("view")
    if view is not None:
        digest.update(repr(view.to_components()).encode())
    return digest.hexdigest()[:NONCE_MAX]


def _retry_after(error: discord.HTTPException) -> float:
    """discord.py keeps no body for a 429 it gave up on; Discord sends the wait as a header."""
    response = getattr(error, "response", None)
    return _seconds(response.headers.get("Retry-After") if response is not None else None)


def _seconds(header: str | None) -> float:
    try:
        return max(float(header), 0.0) if header is not None else DEFAULT_RETRY_AFTER
    except ValueError:
        return DEFAULT_RETRY_AFTER
