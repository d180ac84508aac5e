"""Options and config loading shared by the commands."""

from __future__ import annotations

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
