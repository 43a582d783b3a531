"""A fake Discord on 127.0.0.1: enough REST and gateway for the real discord.py client.

REST (under /api/v10): the bot user, application info, /gateway/bot, slash-command sync with
schema validation, interaction callbacks, webhook follow-ups and edits, DM channel creation and
channel messages (JSON or multipart, with `enforce_nonce`). The gateway speaks HELLO, IDENTIFY,
READY, heartbeats, RESUME, and dispatches whatever the test sends (INTERACTION_CREATE built by
`fake_payloads`). Payload builders, the schema checks and the records live in their own modules
(`fake_payloads`, `fake_schema`, `fake_records`) and are re-exported here.

Everything is recorded. Tests await what they expect with `wait_for`, bounded by a timeout, and
never sleep. The fake can also misbehave on purpose: fail a route, refuse DMs (50007), answer
429 the way Discord does (`retry_after`, `global`, `Retry-After`, `Via`), including a global
limit of N requests per second, or `hold` a route's requests unanswered.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import WSMsgType, web

from tests.discord.fake_payloads import (  # noqa: F401  (re-exported for the tests)
    APPLICATION_ID,
    ATTACHMENT_LIMIT,
    BODY,
    BOT_ID,
    BOT_USER,
    CHANNEL_ID,
    GUILD_ID,
    JSON,
    TOKEN,
    T,
    Where,
    component_data,
    dm_channel,
    guild_channel,
    interaction_payload,
    member_payload,
    modal_inputs,
    modal_submit_data,
    now_iso,
    shown_values,
    snowflake,
    user_payload,
)
from tests.discord.fake_records import Callback, Failure, Interaction, Request, Session
from tests.discord.fake_schema import (
    SchemaError,
    _check,
    invalid_body,
    reply,
    validate_choices,
    validate_commands,
    validate_message,
    validate_modal,
)


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
        self._held: list[tuple[str, re.Pattern[str], asyncio.Event]] = []
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
        self.release()
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

    def hold(self, method: str, path: str) -> None:
        """Record the requests matching `path` (a regex) but answer none of them until
        `release` (or `stop`): a request the bot has in flight for as long as the test wants."""
        self._held.append((method, re.compile(path), asyncio.Event()))

    def release(self) -> None:
        for _, _, gate in self._held:
            gate.set()
        self._held.clear()

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
        for method, path, gate in list(self._held):
            if method == request.method and path.search(record.path):
                await self._notify()  # the request is seen while it is held
                await gate.wait()
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
