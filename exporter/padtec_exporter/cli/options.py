"""Options and config loading shared by the commands."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from typing import Any, TypeVar

import click

from padtec_exporter.config import ExporterConfig, load_config
from padtec_exporter.configfile import ConfigError
from padtec_exporter.web import load_web_config

F = TypeVar("F", bound=Callable[..., Any])


def logging_options(func: F) -> F:
    func = click.option(
        "--log.format",
        "--log-format",
        "log_format",
        type=click.Choice(["text", "json"]),
        help="Log as text lines or JSON objects.",
    )(func)
    func = click.option(
        "--log.level",
        "--log-level",
        "log_level",
        type=click.Choice(["debug", "info", "warning", "error"]),
        help="Minimum log level.",
    )(func)
    return func


def web_config_option(what: str) -> Callable[[F], F]:
    """``--web.config.file``: TLS and basic auth, exporter-toolkit format (docs/security.md)."""
    return click.option(
        "--web.config.file",
        "web_config",
        type=click.Path(dir_okay=False),
        callback=_checked_web_config,
        help=f"TLS/basic auth web config (exporter-toolkit format) for {what}.",
    )


def _checked_web_config(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> str | None:
    """A bad web config stops every command at once with one line naming the key."""
    if value is not None:
        try:
            load_web_config(value)
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from None
    return value


def stop_event() -> asyncio.Event:
    """An event set by SIGTERM or SIGINT (call from inside the running loop)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


def load_exporter_config(path: str | None, web_config: str | None = None) -> ExporterConfig:
    """The config, or exit 1 with a message naming the key (a bad config never starts)."""
    try:
        config = load_config(path)
        if web_config:
            config.web.config_file = web_config
        load_web_config(config.web.config_file)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    return config
