"""``padtec-exporter check-config``: what will break at run time, before it runs.

Exporter, store, bridge and simulator configs (``--kind``, else detected from the keys): the
structure (keys, types, enum values), listen addresses, secret files readable and environment
variables set (never their values), literal secrets warned about, and with ``--connect`` the
store's database reachable with its DSN.
"""

from __future__ import annotations

from typing import Any

import click

from padtec_exporter.config import literal_secrets, load_config, secret_problems
from padtec_exporter.configfile import ConfigError, load_struct, load_yaml
from padtec_exporter.web import load_web_config, parse_listen_address

KINDS = ("exporter", "store", "bridge", "simulator")
# Keys only one kind of config has (for detection).
_MARKERS = {
    "exporter": {"nms", "collect", "units", "web", "log"},
    "store": {"dsn_file", "dsn_env", "retention", "backend", "metrics", "jobs_interval_seconds"},
    "bridge": {"twilio", "telegram", "sms_recipients", "whatsapp_recipients", "max_message_chars"},
    "simulator": {"seed", "sites", "cards_per_site", "scenario", "api_build", "static_tokens"},
}
STORE_BACKENDS = ("auto", "postgresql", "timescaledb")
SEVERITIES = ("CRITICAL", "MAJOR", "MINOR", "WARNING", "UNKNOWN")


class Report:
    """What the checks found: errors make the exit code 1, warnings do not."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.warnings: list[str] = []
        self.summary = ""


@click.command("check-config")
@click.argument("config_path", type=click.Path(dir_okay=False))
@click.option(
    "--kind",
    type=click.Choice(KINDS),
    help="Which component the file configures (default: detected from its keys).",
)
@click.option(
    "--offline",
    is_flag=True,
    help="Check the file alone, not the secret files and environment variables it names "
    "(for a config meant for another machine, e.g. in CI).",
)
@click.option(
    "--connect",
    is_flag=True,
    help="Store: also connect to the database with the DSN (reachable, credentials accepted).",
)
def command(config_path: str, kind: str | None, offline: bool, connect: bool) -> None:
    """Check a config file: exit 0 when it will work, 1 with every reason otherwise."""
    report = Report()
    try:
        kind = kind or detect_kind(config_path)
        CHECKS[kind](config_path, report, offline=offline, connect=connect)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    for warning in report.warnings:
        click.echo(f"warning: {config_path}: {warning}", err=True)
    if report.errors:
        for error in report.errors[:-1]:
            click.echo(f"Error: {config_path}: {error}", err=True)
        raise click.ClickException(f"{config_path}: {report.errors[-1]}")
    note = " (secrets not checked: --offline)" if offline else ""
    click.echo(f"{config_path}: OK ({kind}); {report.summary}{note}")


def detect_kind(path: str) -> str:
    data: Any = load_yaml(path)
    if data == {}:
        raise ConfigError(f"{path}: the file is empty")
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of keys at the top level")
    found = [kind for kind, keys in _MARKERS.items() if keys & set(data)]
    if len(found) != 1:
        raise ConfigError(
            f"{path}: cannot tell which config this is; give --kind {'|'.join(KINDS)}"
        )
    return found[0]


def check_exporter(path: str, report: Report, *, offline: bool, connect: bool) -> None:
    config = load_config(path)
    load_web_config(config.web.config_file)
    report.warnings += literal_secrets(config)
    if not offline:
        report.errors += secret_problems(config)
    names = ", ".join(f"{n.name} ({n.base_url})" for n in config.nms)
    report.summary = f"NMS: {names}; listen {config.web.listen_address}"


def check_store(path: str, report: Report, *, offline: bool, connect: bool) -> None:
    from padtec_exporter.store import StoreConfig

    config = load_struct(path, StoreConfig)
    _check_listen(config.listen_address, report)
    if config.backend not in STORE_BACKENDS:
        report.errors.append(
            f"key 'backend': {config.backend!r} is not valid; valid values: "
            + ", ".join(STORE_BACKENDS)
        )
    dsn = None
    if not offline:
        try:
            dsn = config.dsn()
        except ConfigError as exc:
            report.errors.append(str(exc))
    if connect and dsn is not None:
        problem = database_problem(dsn)
        if problem:
            report.errors.append(problem)
    report.summary = f"listen {config.listen_address}; backend {config.backend}"
    if connect and dsn is not None and not report.errors:
        report.summary += "; database reachable"


def database_problem(dsn: str) -> str | None:
    """None when the DSN connects, else one line (password never shown)."""
    import asyncio

    import psycopg

    from padtec_exporter.store.database import Database, DatabaseRefused, DatabaseUnavailable

    async def probe() -> None:
        db = Database(dsn, size=1)
        try:
            async with db.connection() as conn:
                await conn.execute("SELECT 1")
        finally:
            await db.close()

    try:
        asyncio.run(probe())
    except DatabaseRefused as exc:
        return f"the database refused the DSN: {exc}; check user, password and database"
    except DatabaseUnavailable as exc:
        return f"database not reachable: {exc}; is PostgreSQL running and listening there?"
    except psycopg.Error as exc:
        return f"database error: {str(exc).splitlines()[0] if str(exc) else exc}"
    return None


def check_bridge(path: str, report: Report, *, offline: bool, connect: bool) -> None:
    from padtec_exporter.notify import BridgeConfig

    config = load_struct(path, BridgeConfig)
    _check_listen(config.listen_address, report)
    if config.twilio is None and config.telegram is None:
        report.errors.append("no channel: configure twilio (SMS, WhatsApp) or telegram")
    if not offline:
        for read in (
            config.twilio and config.twilio.auth_token,
            config.telegram and config.telegram.bot_token,
        ):
            if read:
                try:
                    read()
                except ConfigError as exc:
                    report.errors.append(str(exc))
    for key in ("sms_recipients", "whatsapp_recipients"):
        for severity in getattr(config, key):
            if severity.upper() not in SEVERITIES:
                report.errors.append(
                    f"key '{key}.{severity}': not a severity; valid values: "
                    + ", ".join(SEVERITIES)
                )
    channels = [c for c in ("twilio", "telegram") if getattr(config, c) is not None]
    report.summary = f"listen {config.listen_address}; channels: {', '.join(channels) or 'none'}"


def check_simulator(path: str, report: Report, *, offline: bool, connect: bool) -> None:
    from padtec_exporter.simulate.config import SimulatorConfig, checked

    config = checked(load_struct(path, SimulatorConfig), path)
    report.summary = f"{config.sites} sites x {config.cards_per_site} cards"


def _check_listen(address: str, report: Report) -> None:
    try:
        parse_listen_address(address)
    except ConfigError:
        report.errors.append(f"key 'listen_address': {address!r} is not HOST:PORT")


CHECKS = {
    "exporter": check_exporter,
    "store": check_store,
    "bridge": check_bridge,
    "simulator": check_simulator,
}
