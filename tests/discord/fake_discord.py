"""A fake Discord on 127.0.0.1: enough REST and gateway for the real discord.py client.

REST (under /api/v10): the bot user, application info, /gateway/bot, slash-command sync with
schema validation, interaction callbacks, webhook follow-ups and edits, DM channel creation and
channel messages (JSON or multipart, with `enforce_nonce`). The gateway speaks HELLO, IDENTIFY,
READY, heartbeats, RESUME, and dispatches whatever the test sends (INTERACTION_CREATE built by
the helpers at the bottom).

Everything is recorded. Tests await what they expect with `wait_for`, bounded by a timeout, and
never sleep. The fake can also misbehave on purpose: fail a route, refuse DMs (50007), or answer
429 the way Discord does (`retry_after`, `global`, `Retry-After`, `Via`), including a global
limit of N requests per second.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from aiohttp import WSMsgType, web

TOKEN = "MTAwMDAwMDAwMDAwMDAwMDAx.FAKE00.fake-discord-token-for-tests-0000"
APPLICATION_ID = 1_100_000_000_000_000_001
BOT_ID = 1_100_000_000_000_000_002
GUILD_ID = 1_200_000_000_000_000_001
CHANNEL_ID = 1_200_000_000_000_000_002
ATTACHMENT_LIMIT = 25 * 1024 * 1024
JSON = "application/json"
"""discord.py decodes a body as JSON only when the Content-Type is exactly this."""

T = TypeVar("T")
BODY = web.RequestKey("body", object)

_snowflakes = itertools.count(1_300_000_000_000_000_000)


def snowflake() -> int:
    return next(_snowflakes)


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


# -- payload helpers ------------------------------------------------------------------------------


def user_payload(
    user_id: int, name: str = "member", global_name: str | None = None, bot: bool = False
) -> dict[str, Any]:
    return {
        "id": str(user_id),
        "username": name,
        "discriminator": "0",
        "global_name": global_name,
        "avatar": None,
        "bot": bot,
        "public_flags": 0,
    }


BOT_USER = user_payload(BOT_ID, "pmadvice", "pmadvice", bot=True)


def member_payload(
    user: dict[str, Any], roles: Iterable[int] = (), permissions: int = 0
) -> dict[str, Any]:
    return {
        "user": user,
        "roles": [str(r) for r in roles],
        "joined_at": "2025-01-01T00:00:00+00:00",
        "deaf": False,
        "mute": False,
        "flags": 0,
        "pending": False,
        "nick": None,
        "avatar": None,
        "premium_since": None,
        "permissions": str(permissions),
    }


def guild_channel(channel_id: int, guild_id: int) -> dict[str, Any]:
    return {
        "id": str(channel_id),
        "type": 0,
        "guild_id": str(guild_id),
        "name": "career-switchers",
        "position": 0,
        "permission_overwrites": [],
        "nsfw": False,
        "parent_id": None,
        "topic": None,
        "rate_limit_per_user": 0,
        "flags": 0,
    }


def dm_channel(channel_id: int, recipient: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(channel_id),
        "type": 1,
        "last_message_id": None,
        "recipients": [recipient],
        "flags": 0,
    }


@dataclass
class Where:
    """Who is interacting and where: a guild channel (with roles and permissions) or a DM."""

    user_id: int = 1_400_000_000_000_000_001
    name: str = "alex"
    global_name: str | None = "Alex"
    guild_id: int | None = GUILD_ID
    channel_id: int = CHANNEL_ID
    roles: tuple[int, ...] = ()
    permissions: int = 0

    def user(self) -> dict[str, Any]:
        return user_payload(self.user_id, self.name, self.global_name)


def interaction_payload(
    kind: int, data: dict[str, Any], where: Where, message: dict[str, Any] | None = None
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": str(snowflake()),
        "application_id": str(APPLICATION_ID),
        "type": kind,
        "data": data,
        "token": f"itoken-{snowflake()}",
        "version": 1,
        "locale": "en-US",
        "app_permissions": "0",
        "entitlements": [],
        "authorizing_integration_owners": {"0": str(where.guild_id or 0)},
        "attachment_size_limit": ATTACHMENT_LIMIT,
        "channel_id": str(where.channel_id),
    }
    if where.guild_id is not None:
        payload["guild_id"] = str(where.guild_id)
        payload["guild_locale"] = "en-US"
        payload["guild"] = {"id": str(where.guild_id), "locale": "en-US", "features": []}
        payload["channel"] = guild_channel(where.channel_id, where.guild_id)
        payload["member"] = member_payload(where.user(), where.roles, where.permissions)
        payload["context"] = 0
    else:
        payload["channel"] = dm_channel(where.channel_id, where.user())
        payload["user"] = where.user()
        payload["context"] = 1
    if message is not None:
        payload["message"] = message
    return payload


def component_data(custom_id: str) -> dict[str, Any]:
    return {"custom_id": custom_id, "component_type": 2}


# -- command schema -------------------------------------------------------------------------------

_NAME = re.compile(r"^[-_\w]{1,32}$")
OPTION_TYPES = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}


class SchemaError(Exception):
    pass


def validate_commands(commands: list[dict[str, Any]]) -> None:
    """The checks Discord applies to a bulk overwrite, as far as this bot can trip them."""
    if len(commands) > 100:
        raise SchemaError("too many commands")
    names = [c.get("name") for c in commands]
    if len(set(names)) != len(names):
        raise SchemaError("duplicate command names")
    for command in commands:
        if command.get("type", 1) in (2, 3):  # user and message context-menu commands
            name = command.get("name")
            _check(isinstance(name, str) and 1 <= len(name) <= 32, "bad context-menu name")
            _check(not command.get("description"), "context-menu commands have no description")
            continue
        _check_named(command, "command")
        if command.get("type", 1) == 1:
            _check_options(command.get("options", []), depth=0)
        if _command_length(command) > 4000:
            raise SchemaError(f"{command['name']}: over 4000 characters in all")
        perms = command.get("default_member_permissions")
        if perms is not None and not str(perms).isdigit():
            raise SchemaError("default_member_permissions must be a number string")


def _check_named(item: dict[str, Any], what: str) -> None:
    name = item.get("name", "")
    if not isinstance(name, str) or not _NAME.match(name) or name != name.lower():
        raise SchemaError(f"{what} name {name!r} is invalid")
    description = item.get("description", "")
    if not isinstance(description, str) or not 1 <= len(description) <= 100:
        raise SchemaError(f"{what} {name}: description must be 1-100 characters")


def _check_options(options: list[dict[str, Any]], depth: int) -> None:
    if len(options) > 25:
        raise SchemaError("more than 25 options")
    names = [o.get("name") for o in options]
    if len(set(names)) != len(names):
        raise SchemaError("duplicate option names")
    seen_optional = False
    for option in options:
        _check_named(option, "option")
        kind = option.get("type")
        if kind not in OPTION_TYPES:
            raise SchemaError(f"option {option['name']}: bad type {kind}")
        if kind in (1, 2):
            if (kind == 2 and depth > 0) or (kind == 1 and depth > 1):
                raise SchemaError("subcommands nest too deep")
            _check_options(option.get("options", []), depth + 1)
            continue
        if option.get("required"):
            if seen_optional:
                raise SchemaError(f"required option {option['name']} after an optional one")
        else:
            seen_optional = True
        choices = option.get("choices") or []
        if len(choices) > 25:
            raise SchemaError(f"option {option['name']}: more than 25 choices")
        if choices and option.get("autocomplete"):
            raise SchemaError(f"option {option['name']}: choices and autocomplete together")
        for choice in choices:
            if not 1 <= len(str(choice.get("name", ""))) <= 100:
                raise SchemaError("choice name must be 1-100 characters")
        for bound in ("min_length", "max_length"):
            if bound in option and not 0 <= int(option[bound]) <= 6000:
                raise SchemaError(f"option {option['name']}: {bound} out of range")


def _check(condition: bool, problem: str) -> None:
    if not condition:
        raise SchemaError(problem)


def validate_message(payload: dict[str, Any]) -> None:
    """Discord's message limits: a bot that breaches one gets a 400 and the member nothing."""
    _check(len(payload.get("content") or "") <= 2000, "content over 2000")
    embeds = payload.get("embeds") or []
    _check(len(embeds) <= 10, "more than 10 embeds")
    total = 0
    for embed in embeds:
        title, description = embed.get("title") or "", embed.get("description") or ""
        footer = (embed.get("footer") or {}).get("text") or ""
        author = (embed.get("author") or {}).get("name") or ""
        fields = embed.get("fields") or []
        _check(len(title) <= 256, "embed title over 256")
        _check(len(description) <= 4096, "embed description over 4096")
        _check(len(footer) <= 2048, "embed footer over 2048")
        _check(len(author) <= 256, "embed author over 256")
        _check(len(fields) <= 25, "more than 25 fields")
        for item in fields:
            _check(1 <= len(item.get("name") or "") <= 256, "field name not 1-256")
            _check(1 <= len(item.get("value") or "") <= 1024, "field value not 1-1024")
        _check(bool(title or description or fields or footer or author), "empty embed")
        total += len(title) + len(description) + len(footer) + len(author)
        total += sum(len(f["name"]) + len(f["value"]) for f in fields)
    _check(total <= 6000, "embeds over 6000 characters in all")
    rows = payload.get("components") or []
    _check(len(rows) <= 5, "more than 5 component rows")
    seen: set[str] = set()
    for row in rows:
        buttons = row.get("components") or []
        _check(row.get("type") == 1 and 1 <= len(buttons) <= 5, "a row needs 1-5 buttons")
        for button in buttons:
            _check(1 <= len(button.get("label") or "") <= 80, "button label not 1-80")
            custom_id = button.get("custom_id") or ""
            _check(1 <= len(custom_id) <= 100, "custom_id not 1-100")
            _check(custom_id not in seen, "duplicate custom_id")
            seen.add(custom_id)
    mentions = payload.get("allowed_mentions")
    if mentions is not None:
        _check(set(mentions) <= {"parse", "users", "roles", "replied_user"}, "bad allowed_mentions")


def validate_modal(data: dict[str, Any]) -> None:
    _check(1 <= len(data.get("title") or "") <= 45, "modal title not 1-45")
    _check(1 <= len(data.get("custom_id") or "") <= 100, "modal custom_id not 1-100")
    rows = data.get("components") or []
    _check(1 <= len(rows) <= 5, "a modal needs 1-5 inputs")
    for row in rows:
        item = row["components"][0] if row.get("type") == 1 else row.get("component", {})
        if row.get("type") == 18:
            _check(1 <= len(row.get("label") or "") <= 45, "label text not 1-45")
        if item.get("type") == 3:
            _check(row.get("type") == 18, "a select in a modal must sit in a label")
            validate_select(item)
            continue
        _check(item.get("type") == 4, "only text inputs and string selects here")
        if row.get("type") == 1:
            _check(1 <= len(item.get("label") or "") <= 45, "input label not 1-45")
        _check(len(item.get("placeholder") or "") <= 100, "placeholder over 100")
        _check(len(item.get("value") or "") <= 4000, "input value over 4000")
        limit = item.get("max_length", 4000)
        _check(1 <= limit <= 4000 and len(item.get("value") or "") <= limit, "bad max_length")


def validate_select(item: dict[str, Any]) -> None:
    options = item.get("options") or []
    _check(1 <= len(options) <= 25, "a select needs 1-25 options")
    for option in options:
        _check(1 <= len(option.get("label") or "") <= 100, "option label not 1-100")
        _check(1 <= len(option.get("value") or "") <= 100, "option value not 1-100")
    low, high = item.get("min_values", 1), item.get("max_values", 1)
    _check(0 <= low <= high <= len(options), "bad min_values/max_values")
    defaults = [o for o in options if o.get("default")]
    _check(len(defaults) <= high, "more defaults than max_values")
    _check(len(item.get("placeholder") or "") <= 150, "placeholder over 150")


def modal_inputs(modal: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A modal's inputs by custom id, whether in action rows or labels."""
    found = {}
    for row in modal.get("components") or []:
        item = row["components"][0] if row.get("type") == 1 else row.get("component", {})
        found[item["custom_id"]] = item
    return found


def shown_values(modal: dict[str, Any]) -> dict[str, str]:
    """What a member sees filled in: text values, and a select's preselected options."""
    values = {}
    for name, item in modal_inputs(modal).items():
        if item.get("type") == 3:
            values[name] = ",".join(o["value"] for o in item["options"] if o.get("default"))
        else:
            values[name] = str(item.get("value") or "")
    return values


def modal_submit_data(modal: dict[str, Any], values: dict[str, str]) -> dict[str, Any]:
    """A MODAL_SUBMIT's data for `modal` filled in with `values`: text inputs carry a value,
    select menus the chosen option values (given comma-separated)."""
    rows = []
    for row in modal.get("components") or []:
        item = row["components"][0] if row.get("type") == 1 else row.get("component", {})
        name = item.get("custom_id")
        if name not in values:
            continue
        if item.get("type") == 3:
            chosen = [v.strip() for v in values[name].split(",") if v.strip()]
            rows.append({"type": 18, "component": {"type": 3, "custom_id": name,
                                                   "values": chosen}})  # fmt: skip
        else:
            rows.append(
                {"type": 1, "components": [{"type": 4, "custom_id": name, "value": values[name]}]}
            )
    return {"custom_id": modal["custom_id"], "components": rows}


def validate_choices(data: dict[str, Any]) -> None:
    choices = data.get("choices") or []
    _check(len(choices) <= 25, "more than 25 choices")
    for choice in choices:
        _check(1 <= len(choice.get("name") or "") <= 100, "choice name not 1-100")
        _check(1 <= len(str(choice.get("value") or "")) <= 100, "choice value not 1-100")


def invalid_body(problem: str) -> web.Response:
    return reply({"message": "Invalid Form Body", "code": 50035, "errors": {"_": problem}}, 400)


def _command_length(item: dict[str, Any]) -> int:
    total = len(item.get("name", "")) + len(item.get("description", ""))
    for choice in item.get("choices") or []:
        total += len(str(choice.get("name", ""))) + len(str(choice.get("value", "")))
    for option in item.get("options") or []:
        total += _command_length(option)
    return total


# -- records --------------------------------------------------------------------------------------


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    headers: dict[str, str]
    at: float
    status: int = 0


@dataclass
class Callback:
    interaction_id: str
    type: int
    data: dict[str, Any]
    at: float


@dataclass
class Interaction:
    payload: dict[str, Any]
    sent_at: float
    callbacks: list[Callback] = field(default_factory=list)
    original: dict[str, Any] | None = None
    followups: list[dict[str, Any]] = field(default_factory=list)
    edits: list[dict[str, Any]] = field(default_factory=list)

    @property
    def id(self) -> str:
        return str(self.payload["id"])

    @property
    def token(self) -> str:
        return str(self.payload["token"])


@dataclass
class Failure:
    method: str
    path: re.Pattern[str]
    status: int
    body: Any
    headers: dict[str, str]
    times: int


@dataclass
class Session:
    ws: web.WebSocketResponse
    identified: bool = False
    seq: int = 0
    session_id: str = ""
    heartbeats: int = 0


class FakeDiscord:
    def __init__(
        self,
        token: str = TOKEN,
        global_limit: int | None = None,
        window: float = 1.0,
        via_header: bool = True,
    ) -> None:
        self.token = token
        self.gateway_token: str | None = None
        """When set, IDENTIFY expects this instead of `token` (REST keeps accepting `token`)."""
        self.global_limit = global_limit
        self.window = window
        self.via_header = via_header
        self.requests: list[Request] = []
        self.commands: dict[str, list[dict[str, Any]]] = {}
        """Synced commands by scope: "global" or a guild id."""
        self.interactions: dict[str, Interaction] = {}
        self.messages: dict[str, list[dict[str, Any]]] = defaultdict(list)
        """Channel id -> messages created there (DMs, interaction responses, follow-ups)."""
        self.dm_channels: dict[str, str] = {}
        self.blocked_dm_users: set[str] = set()
        self.files: dict[str, bytes] = {}
        self.sessions: list[Session] = []
        self.identifies = 0
        self.rate_limited = 0
        self.invalid: list[str] = []
        """Bodies the fake rejected as Discord would (50035); a correct bot causes none."""
        self._failures: list[Failure] = []
        self._recent: deque[float] = deque()
        self._nonces: dict[tuple[str, str], dict[str, Any]] = {}
        self._messages_by_id: dict[str, dict[str, Any]] = {}
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> FakeDiscord:
        app = web.Application(middlewares=[self._middleware])
        app.router.add_get("/gateway", self._gateway)
        api = "/api/v10"
        routes = [
            ("GET", "/users/@me", self._me),
            ("GET", "/oauth2/applications/@me", self._application),
            ("GET", "/gateway", self._gateway_url),
            ("GET", "/gateway/bot", self._gateway_bot),
            ("PUT", "/applications/{app}/commands", self._sync),
            ("PUT", "/applications/{app}/guilds/{guild}/commands", self._sync),
            ("GET", "/applications/{app}/commands", self._list_commands),
            ("GET", "/applications/{app}/guilds/{guild}/commands", self._list_commands),
            ("POST", "/interactions/{id}/{token}/callback", self._callback),
            ("POST", "/webhooks/{app}/{token}", self._followup),
            ("PATCH", "/webhooks/{app}/{token}/messages/{message}", self._edit_webhook_message),
            ("GET", "/webhooks/{app}/{token}/messages/{message}", self._get_webhook_message),
            ("POST", "/users/@me/channels", self._open_dm),
            ("POST", "/channels/{channel}/messages", self._create_message),
        ]
        for method, path, handler in routes:
            app.router.add_route(method, api + path, handler)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        assert server.sockets
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        return self

    async def stop(self) -> None:
        for session in list(self.sessions):
            await session.ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeDiscord:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    # -- misbehaviour ---------------------------------------------------------------------------

    def fail(
        self,
        method: str,
        path: str,
        status: int,
        body: Any = None,
        headers: dict[str, str] | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next `times` requests matching `path` (a regex) with this status."""
        self._failures.append(
            Failure(method, re.compile(path), status, body, dict(headers or {}), times)
        )

    def rate_limit(
        self, method: str, path: str, retry_after: float, is_global: bool = False, times: int = 1
    ) -> None:
        body = {
            "message": "You are being rate limited.",
            "retry_after": retry_after,
            "global": is_global,
            "code": 0,
        }
        self.fail(method, path, 429, body, self._limit_headers(retry_after, is_global), times)

    def _limit_headers(self, retry_after: float, is_global: bool) -> dict[str, str]:
        headers = {"Retry-After": f"{retry_after:.3f}", "X-RateLimit-Scope": "user"}
        if is_global:
            headers["X-RateLimit-Global"] = "true"
            headers["X-RateLimit-Scope"] = "global"
        if self.via_header:
            headers["Via"] = "1.1 google"
        return headers

    # -- waiting --------------------------------------------------------------------------------

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait_for(self, probe: Callable[[], T | None], within: float = 5.0) -> T:
        """The first non-None, non-False value of `probe()`, re-checked on every change."""

        async def until() -> T:
            async with self._changed:
                while True:
                    value = probe()
                    if value is not None and value is not False:
                        return value
                    await self._changed.wait()

        return await asyncio.wait_for(until(), within)

    # -- HTTP plumbing --------------------------------------------------------------------------

    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if request.path == "/gateway":
            return await handler(request)
        body = await self._read_body(request)
        record = Request(
            request.method,
            request.path.removeprefix("/api/v10"),
            dict(request.query),
            body,
            {k: v for k, v in request.headers.items() if k.lower() != "authorization"},
            time.perf_counter(),
        )
        self.requests.append(record)
        request[BODY] = body
        try:
            response = await self._gatekeep(request, record)
            if response is None:
                response = await handler(request)
        except web.HTTPException as error:
            response = error
        record.status = response.status
        await self._notify()
        return response

    async def _read_body(self, request: web.Request) -> Any:
        if request.content_type == "multipart/form-data":
            form: dict[str, Any] = {"files": []}
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                if part.name == "payload_json":
                    form["payload_json"] = json.loads(await part.text())  # type: ignore[union-attr]
                else:
                    content = await part.read()  # type: ignore[union-attr]
                    form["files"].append(
                        {"name": part.name, "filename": part.filename, "content": content}
                    )  # type: ignore[union-attr]
            return form
        if request.can_read_body:
            text = await request.text()
            return json.loads(text) if text else None
        return None

    async def _gatekeep(self, request: web.Request, record: Request) -> web.Response | None:
        path = record.path
        exempt = path.startswith(("/interactions/", "/webhooks/"))
        if not exempt and request.headers.get("Authorization") != f"Bot {self.token}":
            return reply({"message": "401: Unauthorized", "code": 0}, 401)
        for failure in self._failures:
            if failure.times > 0 and failure.method == request.method and failure.path.search(path):
                failure.times -= 1
                if failure.status == 429:
                    self.rate_limited += 1
                return reply(failure.body, failure.status, failure.headers)
        if self.global_limit is not None and not exempt:
            now = time.monotonic()
            while self._recent and now - self._recent[0] >= self.window:
                self._recent.popleft()
            if len(self._recent) >= self.global_limit:
                self.rate_limited += 1
                retry_after = max(self.window - (now - self._recent[0]), 0.001)
                body = {
                    "message": "You are being rate limited.",
                    "retry_after": round(retry_after, 3),
                    "global": True,
                    "code": 0,
                }
                return reply(body, 429, self._limit_headers(retry_after, True))
            self._recent.append(now)
        return None

    # -- REST: identity -------------------------------------------------------------------------

    async def _me(self, request: web.Request) -> web.Response:
        return reply(BOT_USER)

    async def _application(self, request: web.Request) -> web.Response:
        return reply(
            {
                "id": str(APPLICATION_ID),
                "name": "pmadvice",
                "icon": None,
                "description": "Advice for ops people moving into product",
                "rpc_origins": [],
                "bot_public": True,
                "bot_require_code_grant": False,
                "owner": user_payload(1_000_000_000_000_000_009, "owner"),
                "summary": "",
                "verify_key": "0" * 64,
                "team": None,
                "flags": 0,
                "bot": BOT_USER,
            }
        )

    async def _gateway_url(self, request: web.Request) -> web.Response:
        return reply({"url": self.gateway_url})

    async def _gateway_bot(self, request: web.Request) -> web.Response:
        return reply(
            {
                "url": self.gateway_url,
                "shards": 1,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 999,
                    "reset_after": 0,
                    "max_concurrency": 1,
                },
            }
        )

    # -- REST: commands -------------------------------------------------------------------------

    async def _sync(self, request: web.Request) -> web.Response:
        if request.match_info["app"] != str(APPLICATION_ID):
            return reply({"message": "Unknown Application", "code": 10002}, 404)
        commands = request[BODY]
        try:
            validate_commands(commands)
        except SchemaError as error:
            body = {"message": "Invalid Form Body", "code": 50035, "errors": {"_": str(error)}}
            return reply(body, 400)
        scope = request.match_info.get("guild", "global")
        stored = []
        for command in commands:
            item = dict(command)
            item.update(
                id=str(snowflake()),
                application_id=str(APPLICATION_ID),
                version=str(snowflake()),
                type=command.get("type", 1),
            )
            item.setdefault("options", [])
            item.setdefault("description", "")  # context-menu commands come back with ""
            item.setdefault("nsfw", False)
            item.setdefault("default_member_permissions", None)
            if scope != "global":
                item["guild_id"] = scope
            stored.append(item)
        self.commands[scope] = stored
        return reply(stored)

    async def _list_commands(self, request: web.Request) -> web.Response:
        return reply(self.commands.get(request.match_info.get("guild", "global"), []))

    def command(self, name: str, guild_id: int | None = GUILD_ID) -> dict[str, Any]:
        """A synced command, looked up in the guild first, then globally."""
        for scope in (str(guild_id), "global"):
            for item in self.commands.get(scope, []):
                if item["name"] == name:
                    return item
        raise KeyError(f"/{name} was never synced")

    # -- REST: interactions ---------------------------------------------------------------------

    async def _callback(self, request: web.Request) -> web.Response:
        interaction = self.interactions.get(request.match_info["id"])
        if interaction is None or interaction.token != request.match_info["token"]:
            return reply({"message": "Unknown interaction", "code": 10062}, 404)
        if interaction.callbacks:
            body = {"message": "Interaction has already been acknowledged.", "code": 40060}
            return reply(body, 400)
        payload, files = self._payload(request)
        kind = int(payload["type"])
        data = dict(payload.get("data") or {})
        try:
            if kind in (4, 7):
                validate_message(data)
            elif kind == 9:
                validate_modal(data)
            elif kind == 8:
                validate_choices(data)
        except SchemaError as error:
            return self._reject(str(error))
        interaction.callbacks.append(Callback(interaction.id, kind, data, time.perf_counter()))
        answer: dict[str, Any] = {
            "interaction": {
                "id": interaction.id,
                "type": interaction.payload["type"],
                "response_message_loading": kind == 5,
                "response_message_ephemeral": bool(data.get("flags", 0) & 64),
            }
        }
        if kind in (4, 5):
            flags = int(data.get("flags", 0)) | (128 if kind == 5 else 0)
            message = self._message(
                interaction.payload["channel_id"],
                {**data, "flags": flags},
                files,
                interaction_id=interaction.id,
            )
            interaction.original = message
            answer["interaction"]["response_message_id"] = message["id"]
            answer["resource"] = {"type": kind, "message": message}
        elif kind == 7 and interaction.payload.get("message"):
            message = self._messages_by_id.get(str(interaction.payload["message"]["id"]))
            if message is not None:
                message.update({k: v for k, v in data.items() if k != "flags"})
        return reply(answer)

    def _reject(self, problem: str) -> web.Response:
        self.invalid.append(problem)
        return invalid_body(problem)

    def _payload(self, request: web.Request) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        body = request[BODY]
        if not isinstance(body, dict):
            return {}, []
        return body.get("payload_json", body), body.get("files", [])

    def _interaction_for(self, request: web.Request) -> Interaction | None:
        if request.match_info["app"] != str(APPLICATION_ID):
            return None
        token = request.match_info["token"]
        return next((i for i in self.interactions.values() if i.token == token), None)

    async def _followup(self, request: web.Request) -> web.Response:
        interaction = self._interaction_for(request)
        if interaction is None or not interaction.callbacks:
            return reply({"message": "Unknown Webhook", "code": 10015}, 404)
        payload, files = self._payload(request)
        try:
            validate_message(payload)
        except SchemaError as error:
            return self._reject(str(error))
        original = interaction.original
        if original is not None and original["flags"] & 128:
            # The first follow-up after a "thinking" deferral replaces the placeholder.
            self._apply_edit(original, payload, files)
            original["flags"] &= ~128
            interaction.edits.append(payload)
            return reply(original)
        message = self._message(
            interaction.payload["channel_id"], payload, files, interaction_id=interaction.id
        )
        interaction.followups.append(message)
        return reply(message)

    async def _edit_webhook_message(self, request: web.Request) -> web.Response:
        interaction = self._interaction_for(request)
        if interaction is None:
            return reply({"message": "Unknown Webhook", "code": 10015}, 404)
        target = request.match_info["message"]
        message = (
            interaction.original if target == "@original" else self._messages_by_id.get(target)
        )
        if message is None:
            return reply({"message": "Unknown Message", "code": 10008}, 404)
        payload, files = self._payload(request)
        try:
            validate_message(payload)
        except SchemaError as error:
            return self._reject(str(error))
        self._apply_edit(message, payload, files)
        message["flags"] &= ~128
        interaction.edits.append(payload)
        return reply(message)

    async def _get_webhook_message(self, request: web.Request) -> web.Response:
        interaction = self._interaction_for(request)
        if interaction is None or interaction.original is None:
            return reply({"message": "Unknown Message", "code": 10008}, 404)
        return reply(interaction.original)

    # -- REST: DMs and messages -----------------------------------------------------------------

    async def _open_dm(self, request: web.Request) -> web.Response:
        recipient = str(request[BODY]["recipient_id"])
        channel_id = self.dm_channels.get(recipient)
        if channel_id is None:
            channel_id = str(snowflake())
            self.dm_channels[recipient] = channel_id
        return reply(dm_channel(int(channel_id), user_payload(int(recipient))))

    def dm_recipient(self, channel_id: str) -> str | None:
        return next((u for u, c in self.dm_channels.items() if c == channel_id), None)

    async def _create_message(self, request: web.Request) -> web.Response:
        channel_id = request.match_info["channel"]
        recipient = self.dm_recipient(channel_id)
        if recipient is not None and recipient in self.blocked_dm_users:
            body = {"message": "Cannot send messages to this user", "code": 50007}
            return reply(body, 403)
        payload, files = self._payload(request)
        try:
            validate_message(payload)
            _check(len(str(payload.get("nonce") or "")) <= 25, "nonce over 25 characters")
        except SchemaError as error:
            return self._reject(str(error))
        nonce = payload.get("nonce")
        if nonce is not None and payload.get("enforce_nonce"):
            existing = self._nonces.get((channel_id, str(nonce)))
            if existing is not None:
                return reply(existing)
        message = self._message(channel_id, payload, files)
        if nonce is not None and payload.get("enforce_nonce"):
            self._nonces[(channel_id, str(nonce))] = message
        return reply(message)

    def _message(
        self,
        channel_id: str,
        payload: dict[str, Any],
        files: list[dict[str, Any]],
        interaction_id: str | None = None,
    ) -> dict[str, Any]:
        message: dict[str, Any] = {
            "id": str(snowflake()),
            "channel_id": str(channel_id),
            "author": BOT_USER,
            "content": payload.get("content") or "",
            "timestamp": now_iso(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": payload.get("embeds") or [],
            "components": payload.get("components") or [],
            "pinned": False,
            "type": 0 if interaction_id is None else 20,
            "flags": int(payload.get("flags") or 0),
            "allowed_mentions": payload.get("allowed_mentions"),
        }
        if payload.get("nonce") is not None:
            message["nonce"] = payload["nonce"]
        if interaction_id is not None:
            message["application_id"] = str(APPLICATION_ID)
            message["webhook_id"] = str(APPLICATION_ID)
            message["interaction_id"] = interaction_id
        self._attach(message, files)
        self.messages[str(channel_id)].append(message)
        self._messages_by_id[message["id"]] = message
        return message

    def _attach(self, message: dict[str, Any], files: list[dict[str, Any]]) -> None:
        for upload in files:
            attachment_id = str(snowflake())
            self.files[attachment_id] = upload["content"]
            message["attachments"].append(
                {
                    "id": attachment_id,
                    "filename": upload["filename"],
                    "size": len(upload["content"]),
                    "url": f"http://127.0.0.1:{self.port}/attachments/{attachment_id}",
                    "proxy_url": f"http://127.0.0.1:{self.port}/attachments/{attachment_id}",
                }
            )

    def _apply_edit(
        self, message: dict[str, Any], payload: dict[str, Any], files: list[dict[str, Any]]
    ) -> None:
        for key in ("content", "embeds", "components", "allowed_mentions"):
            if key in payload:
                message[key] = (
                    payload[key] if payload[key] is not None else ("" if key == "content" else [])
                )
        message["edited_timestamp"] = now_iso()
        if files:
            message["attachments"] = []
            self._attach(message, files)

    # -- gateway --------------------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        session = Session(ws)
        self.sessions.append(session)
        await ws.send_json({"op": 10, "d": {"heartbeat_interval": 45_000}})
        try:
            async for frame in ws:
                if frame.type != WSMsgType.TEXT:
                    continue
                message = json.loads(frame.data)
                await self._gateway_message(session, message)
        finally:
            self.sessions.remove(session)
            await self._notify()
        return ws

    async def _gateway_message(self, session: Session, message: dict[str, Any]) -> None:
        op = message.get("op")
        if op == 1:
            session.heartbeats += 1
            await session.ws.send_json({"op": 11})
        elif op == 2:
            if message["d"].get("token") != (self.gateway_token or self.token):
                await session.ws.close(code=4004, message=b"Authentication failed.")
                return
            self.identifies += 1
            session.identified = True
            session.session_id = f"session-{snowflake()}"
            await self._send_dispatch(
                session,
                "READY",
                {
                    "v": 10,
                    "user": BOT_USER,
                    "guilds": [],
                    "session_id": session.session_id,
                    "resume_gateway_url": self.gateway_url,
                    "application": {"id": str(APPLICATION_ID), "flags": 0},
                    "private_channels": [],
                    "relationships": [],
                    "shard": [0, 1],
                },
            )
        elif op == 6:
            session.identified = True
            session.session_id = message["d"].get("session_id", "")
            await self._send_dispatch(session, "RESUMED", {})
        await self._notify()

    async def _send_dispatch(self, session: Session, event: str, data: dict[str, Any]) -> None:
        session.seq += 1
        await session.ws.send_json({"op": 0, "t": event, "s": session.seq, "d": data})

    async def connected(self, within: float = 5.0) -> Session:
        return await self.wait_for(
            lambda: next((s for s in self.sessions if s.identified), None), within
        )

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        session = await self.connected()
        live = [s for s in self.sessions if s.identified]
        assert len(live) == 1, f"{len(live)} bots are connected; a test should run one at a time"
        await self._send_dispatch(session, event, data)

    # -- driving interactions -------------------------------------------------------------------

    async def send_interaction(self, payload: dict[str, Any]) -> Interaction:
        interaction = Interaction(payload, time.perf_counter())
        self.interactions[interaction.id] = interaction
        await self.dispatch("INTERACTION_CREATE", payload)
        return interaction

    async def answered(self, interaction: Interaction, within: float = 5.0) -> Callback:
        return await self.wait_for(
            lambda: interaction.callbacks[0] if interaction.callbacks else None, within
        )

    async def settled(self, interaction: Interaction, within: float = 5.0) -> dict[str, Any]:
        """The interaction's visible answer once it is no longer "thinking"."""

        def probe() -> dict[str, Any] | None:
            original = interaction.original
            if original is not None and not original["flags"] & 128:
                return original
            return None

        return await self.wait_for(probe, within)

    def slash_data(
        self,
        group: str,
        sub: str,
        options: dict[str, Any],
        focused: str | None = None,
        guild_id: int | None = GUILD_ID,
    ) -> dict[str, Any]:
        """INTERACTION_CREATE data for `/group sub option:value`, typed from the synced schema."""
        command = self.command(group, guild_id)
        schema = next(o for o in command["options"] if o["name"] == sub)
        types = {o["name"]: o["type"] for o in schema.get("options", [])}
        typed = []
        for name, value in options.items():
            item: dict[str, Any] = {"name": name, "type": types[name], "value": value}
            if name == focused:
                item["focused"] = True
            typed.append(item)
        return {
            "id": command["id"],
            "name": group,
            "type": 1,
            "options": [{"type": 1, "name": sub, "options": typed}],
        }

    def all_outgoing(self) -> list[tuple[str, dict[str, Any]]]:
        """Every message body the bot sent or edited: (where, payload)."""
        out: list[tuple[str, dict[str, Any]]] = []
        for record in self.requests:
            body = record.body
            if not isinstance(body, dict):
                continue
            payload = body.get("payload_json", body)
            if record.path.endswith("/callback"):
                if payload.get("type") in (4, 7):
                    out.append((record.path, payload.get("data") or {}))
            elif record.method in ("POST", "PATCH") and (
                "/messages" in record.path or record.path.startswith("/webhooks/")
            ):
                out.append((record.path, payload))
        return out


def reply(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    merged = {"Content-Type": JSON, **(headers or {})}
    return web.Response(status=status, body=json.dumps(body).encode(), headers=merged)
