"""Serving the web pages on their own aiohttp site (until the process's shared listener)."""

from __future__ import annotations

import logging

from aiohttp import web

from bot.core.facade import PmAdvice
from bot.web_adapter import WebOptions, web_application

log = logging.getLogger(__name__)


class WebServerError(Exception):
    """The web pages cannot be served (e.g. the port is taken); the message says why."""


class WebServer:
    """Starts and stops an aiohttp site for the web pages; a background service."""

    def __init__(
        self, facade: PmAdvice, host: str, port: int, options: WebOptions | None = None
    ) -> None:
        self.facade = facade
        self.host = host
        self.port = port
        self.options = options or WebOptions()
        self._runner: web.AppRunner | None = None

    @property
    def address(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        runner = web.AppRunner(web_application(self.facade, self.options), access_log=None)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.host, self.port)
            await site.start()
        except OSError as error:
            await runner.cleanup()
            raise WebServerError(
                f"Cannot serve the web pages on {self.host}:{self.port}: {error.strerror or error}. "
                "Set PMADVICE_HTTP_PORT to a free port."
            ) from None
        if self.port == 0:  # an ephemeral port: learn which
            sockets = [s for s in runner.addresses if isinstance(s, tuple)]
            if sockets:
                self.port = int(sockets[0][1])
        self._runner = runner
        self.facade.web_links.base = self.options.public_url or self.address
        log.info("web pages served on %s", self.address)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
