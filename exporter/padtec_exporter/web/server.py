"""Bind an aiohttp application to HOST:PORT with the web config applied."""

from __future__ import annotations

import time

from aiohttp import web
from aiohttp.typedefs import Middleware

from padtec_exporter.configfile import ConfigError
from padtec_exporter.web.auth import BasicAuth, Handler
from padtec_exporter.web.config import (
    WebServerConfig,
    load_web_config,
    peer_sans,
    ssl_context,
)


def parse_listen_address(listen: str) -> tuple[str, int]:
    """``"0.0.0.0:9787"``, ``":9787"`` or ``"[::1]:9787"`` → (host, port)."""
    host, sep, port = listen.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ConfigError(f"listen address '{listen}': expected HOST:PORT")
    host = host.strip("[]") or "0.0.0.0"
    return host, int(port)


class RateLimiter:
    """exporter-toolkit's ``rate_limit``: a token bucket of ``burst`` tokens, one more every
    ``interval``; a request without a token gets 429."""

    def __init__(self, burst: int, interval: float) -> None:
        self._burst = max(burst, 1)
        self._interval = interval
        self._tokens = float(self._burst)
        self._last = time.monotonic()

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        now = time.monotonic()
        self._tokens = min(self._burst, self._tokens + (now - self._last) / self._interval)
        self._last = now
        if self._tokens < 1:
            return web.Response(status=429, text="Too Many Requests\n")
        self._tokens -= 1
        return await handler(request)


def _allowed_sans_middleware(allowed: list[str]) -> Middleware:
    wanted = set(allowed)

    @web.middleware
    async def check(request: web.Request, handler: Handler) -> web.StreamResponse:
        transport = request.transport
        peercert = transport.get_extra_info("peercert") if transport is not None else None
        if not peer_sans(peercert) & wanted:
            return web.Response(status=403, text="client certificate SAN not allowed\n")
        return await handler(request)

    return check


async def serve_app(
    app: web.Application,
    listen: str,
    web_config: WebServerConfig | str | None = None,
    *,
    access_log: bool = False,
    shutdown_timeout: float = 5.0,
) -> web.AppRunner:
    """Start serving ``app``; the caller keeps the runner and calls ``runner.cleanup()`` to stop.

    Basic auth, when configured, guards every path (middlewares run before the app's own).
    Request bodies are never inflated by aiohttp (``Content-Encoding: gzip/deflate`` would
    otherwise be decompressed without bound before a handler sees them): handlers get the
    bytes as sent and refuse encodings they do not know.
    """
    config = web_config if isinstance(web_config, WebServerConfig) else load_web_config(web_config)
    guards: list[Middleware] = []
    limit = config.rate_limit
    if limit.interval_seconds() > 0:
        guards.append(RateLimiter(limit.burst, limit.interval_seconds()).middleware)
    tls = config.tls_server_config
    if tls is not None and tls.client_allowed_sans is not None:
        guards.append(_allowed_sans_middleware(tls.client_allowed_sans))
    if config.basic_auth_users:
        auth = BasicAuth(config.basic_auth_users)
        guards.append(auth.middleware)

        async def close_auth(_: web.Application) -> None:
            auth.close()

        app.on_cleanup.append(close_auth)
    app.middlewares[0:0] = guards
    headers = dict(config.http_server_config.headers)
    if headers:

        async def add_headers(_: web.Request, response: web.StreamResponse) -> None:
            response.headers.update(headers)

        app.on_response_prepare.append(add_headers)
    host, port = parse_listen_address(listen)
    options: dict[str, object] = {
        "handle_signals": False,
        "shutdown_timeout": shutdown_timeout,
        "auto_decompress": False,
    }
    if not access_log:
        options["access_log"] = None
    runner = web.AppRunner(app, **options)  # type: ignore[arg-type]
    await runner.setup()
    site = web.TCPSite(runner, host, port, ssl_context=ssl_context(config))
    await site.start()
    return runner
