from __future__ import annotations

import logging

import click

from padtec_exporter.cli.options import (
    check_listen,
    listen_option,
    logging_options,
    run,
    web_config_option,
)
from padtec_exporter.configfile import ConfigError, load_struct
from padtec_exporter.logs import setup_logging

log = logging.getLogger(__name__)


@click.command("notify-bridge")
@click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="Bridge YAML config (recipients, Twilio, Telegram).",
)
@listen_option(None, "HOST:PORT; overrides listen_address.")
@web_config_option("the webhook endpoints")
@logging_options
def command(
    config_path: str,
    listen: str | None,
    web_config: str | None,
    log_format: str | None,
    log_level: str | None,
) -> None:
    """Receive Alertmanager webhooks and send them as SMS, WhatsApp or Telegram messages."""
    from aiohttp import web

    from padtec_exporter.notify import Bridge, BridgeConfig
    from padtec_exporter.web import serve_app, serve_until_signalled

    setup_logging(log_format or "text", log_level or "info")
    try:
        config = load_struct(config_path, BridgeConfig)
        bridge = Bridge(config)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    address = listen or config.listen_address
    check_listen(address)

    runners: list[web.AppRunner] = []

    async def start() -> None:
        runners.append(await serve_app(bridge.app(), address, web_config))
        log.info("notify bridge listening", extra={"fields": {"address": address}})

    async def close() -> None:
        for runner in runners:
            await runner.cleanup()

    async def serve() -> None:
        await serve_until_signalled(start, close)

    run(serve())
