"""Options and config loading shared by the commands."""

from __future__ import annotations

import asyncio
import errno
import functools
import socket
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import click

from padtec_exporter.config import ExporterConfig, load_config, secret_problems
from padtec_exporter.configfile import ConfigError
from padtec_exporter.web import load_web_config, parse_listen_address

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


def listen_option(default: str | None, help: str) -> Callable[[F], F]:
    """``--web.listen-address`` on every server; the old ``--listen`` stays as a hidden alias.
    The command receives one ``listen`` argument."""

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def merged(*args: Any, listen: str | None, listen_alias: str | None, **kwargs: Any) -> Any:
            return func(*args, listen=listen_alias or listen, **kwargs)

        wrapped = click.option("--listen", "listen_alias", hidden=True)(merged)
        wrapped = click.option(
            "--web.listen-address",
            "listen",
            default=default,
            show_default=default is not None,
            help=help,
        )(wrapped)
        return wrapped  # type: ignore[return-value]

    return decorate


def check_listen(address: str, option: str = "--web.listen-address") -> None:
    """Exit 1 with one line when ``address`` is not HOST:PORT or cannot be bound now (port in
    use, no such local address), before anything is started."""
    try:
        host, port = parse_listen_address(address)
    except ConfigError as exc:
        raise click.ClickException(
            f"{option} {address!r}: expected HOST:PORT with a port 0-65535, e.g. 127.0.0.1:9787"
        ) from exc
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise click.ClickException(
            f"{option} {address}: unknown host {host!r} ({exc.strerror})"
        ) from exc
    family, kind, proto, _, sockaddr = infos[0]
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as aiohttp does
        try:
            sock.bind(sockaddr)
        except OSError as exc:
            raise click.ClickException(listen_failure(address, exc, option)) from exc


def listen_failure(address: str, exc: OSError, option: str = "--web.listen-address") -> str:
    """One line for a failed bind, with the likely fix."""
    if exc.errno == errno.EADDRINUSE:
        port = address.rpartition(":")[2]
        return (
            f"cannot listen on {address}: address already in use (is it already running? "
            f"`ss -ltnp 'sport = :{port}'` shows who); stop it or choose another {option}"
        )
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"cannot listen on {address}: no such address on this machine; check {option}"
    if exc.errno == errno.EACCES:
        return f"cannot listen on {address}: permission denied (ports below 1024 need root)"
    return f"cannot listen on {address}: {exc.strerror or exc}"


def run(main: Coroutine[Any, Any, None]) -> None:
    """``asyncio.run(main)``; a mistake that surfaces only once running (a config error, a
    bind lost to a race) still ends in one line and exit 1, not a traceback."""
    try:
        asyncio.run(main)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    except OSError as exc:
        if exc.errno not in (errno.EADDRINUSE, errno.EADDRNOTAVAIL, errno.EACCES):
            raise
        raise click.ClickException(f"cannot listen: {exc.strerror or exc}") from exc


def load_exporter_config(path: str | None, web_config: str | None = None) -> ExporterConfig:
    """The config, or exit 1 with a message naming the key (a bad config never starts): also
    secret files that cannot be read and environment variables that are not set."""
    if path is None:
        raise click.ClickException(
            "no config: give --config FILE or set PADTEC_EXPORTER_CONFIG "
            "(example: deploy/exporter/config.yml; `padtec-exporter demo` needs none)"
        )
    try:
        config = load_config(path)
        if web_config:
            config.web.config_file = web_config
        load_web_config(config.web.config_file)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    problems = secret_problems(config)
    if problems:
        raise click.ClickException(f"{path}: {problems[0]}")
    return config
