"""Bind an aiohttp application to HOST:PORT with the web config applied."""

from __future__ import annotations

from aiohttp import web

from padtec_exporter.configfile import ConfigError
from padtec_exporter.web.auth import BasicAuth
from padtec_exporter.web.config import WebServerConfig, load_web_config, ssl_context


def parse_listen_address(listen: str) -> tuple[str, int]:
    """``"0.0.0.0:9787"``, ``":9787"`` or ``"[::1]:9787"`` → (host, port)."""
    host, sep, port = listen.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ConfigError(f"listen address '{listen}': expected HOST:PORT")
    host = host.strip("[]") or "0.0.0.0"
    return host, int(port)


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
    """
    config = web_config if isinstance(web_config, WebServerConfig) else load_web_config(web_config)
    if config.basic_auth_users:
        app.middlewares.insert(0, BasicAuth(config.basic_auth_users).middleware)
    host, port = parse_listen_address(listen)
    if access_log:
        runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=shutdown_timeout)
    else:
        runner = web.AppRunner(
            app, handle_signals=False, shutdown_timeout=shutdown_timeout, access_log=None
        )
    await runner.setup()
    site = web.TCPSite(runner, host, port, ssl_context=ssl_context(config))
    await site.start()
    return runner
