"""The process's one HTTP listener: health, readiness and metrics, plus whatever is mounted.

Every mode can serve it (`PMADVICE_HTTP_PORT`): Slack's HTTP mode mounts `/slack/events` on it,
the web pages mount theirs, and an orchestrator probes `/healthz` (the process is alive) and
`/readyz` (it can do its job now: database reachable, platform connected, knowledge loaded).
`/metrics` is Prometheus' text format; with a token configured it asks for it as a bearer.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

log = logging.getLogger(__name__)

Register = Callable[[web.Application], None]
ReadinessCheck = Callable[[], bool]

HEALTH_PATH = "/healthz"
READY_PATH = "/readyz"
METRICS_PATH = "/metrics"
MAX_BODY = 1024 * 1024


class ListenError(Exception):
    """The listener could not bind; the message names the setting to change."""


class HttpListener:
    def __init__(
        self,
        host: str,
        port: int,
        *,
        registry: CollectorRegistry | None = None,
        metrics_token: str | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self._registry = registry
        self._token = metrics_token
        self._checks: dict[str, ReadinessCheck] = {}
        self._registers: list[Register] = []
        self._runner: web.AppRunner | None = None

    def mount(self, register: Register) -> None:
        """Add routes; call before `start()`."""
        if self._runner is not None:
            raise RuntimeError("mount routes before the listener starts")
        self._registers.append(register)

    def add_readiness_check(self, name: str, check: ReadinessCheck) -> None:
        self._checks[name] = check

    def readiness(self) -> dict[str, bool]:
        results: dict[str, bool] = {}
        for name, check in self._checks.items():
            try:
                results[name] = bool(check())
            except Exception:
                log.exception("readiness check %s failed", name)
                results[name] = False
        return results

    @property
    def bound_port(self) -> int | None:
        """The port actually listened on (useful with port 0)."""
        if self._runner is None:
            return None
        for site in self._runner.sites:
            server = getattr(site, "_server", None)
            for sock in getattr(server, "sockets", None) or ():
                return int(sock.getsockname()[1])
        return None

    def application(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_get(HEALTH_PATH, self._health)
        app.router.add_get(READY_PATH, self._ready)
        app.router.add_get(METRICS_PATH, self._metrics)
        for register in self._registers:
            register(app)
        return app

    async def start(self) -> None:
        # No access log: probes every few seconds would drown everything else.
        runner = web.AppRunner(self.application(), handle_signals=False, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        try:
            await site.start()
        except OSError as error:
            await runner.cleanup()
            raise ListenError(
                f"PMADVICE_HTTP_PORT: could not listen on {self.host}:{self.port} "
                f"({error.strerror}); pick a free port (or set PMADVICE_HTTP_HOST)."
            ) from None
        self._runner = runner
        log.info("HTTP listener on %s:%s", self.host, self.bound_port)

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def _health(self, request: web.Request) -> web.StreamResponse:
        return web.json_response({"status": "ok"})

    async def _ready(self, request: web.Request) -> web.StreamResponse:
        checks = self.readiness()
        ready = all(checks.values())
        body = {"status": "ready" if ready else "not ready", "checks": checks}
        return web.json_response(body, status=200 if ready else 503)

    async def _metrics(self, request: web.Request) -> web.StreamResponse:
        if self._token is not None and not _bearer_matches(request, self._token):
            return web.json_response(
                {"error": "unauthorized"},
                status=401,
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
        if self._registry is None:
            return web.Response(status=404, text="no metrics in this process\n")
        body = generate_latest(self._registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def _bearer_matches(request: web.Request, token: str) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())
