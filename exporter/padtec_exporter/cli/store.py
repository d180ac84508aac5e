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
from padtec_exporter.cli.store_sql import init_sql_command
from padtec_exporter.configfile import ConfigError, load_struct
from padtec_exporter.logs import setup_logging

log = logging.getLogger(__name__)


@click.group("store", invoke_without_command=True)
@click.pass_context
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help="Store YAML config (StoreConfig keys).",
)
@listen_option(None, "HOST:PORT; overrides listen_address.")
@click.option(
    "--dsn-file",
    type=click.Path(dir_okay=False),
    help="File holding the PostgreSQL DSN (else env PADTEC_STORE_DSN).",
)
@web_config_option("the receiver")
@logging_options
def command(
    ctx: click.Context,
    config_path: str | None,
    listen: str | None,
    dsn_file: str | None,
    web_config: str | None,
    log_format: str | None,
    log_level: str | None,
) -> None:
    """Receive Prometheus remote-write and Alertmanager webhooks into PostgreSQL.

    `store init-sql` prints the PostgreSQL set-up (roles, database) to run once."""
    if ctx.invoked_subcommand is not None:
        return
    import msgspec
    import psycopg
    from aiohttp import web

    from padtec_exporter.store import StoreConfig, StoreService
    from padtec_exporter.web import serve_app, serve_until_signalled

    setup_logging(log_format or "text", log_level or "info")
    try:
        config = load_struct(config_path, StoreConfig) if config_path else StoreConfig()
        if dsn_file:
            config = msgspec.structs.replace(config, dsn_file=dsn_file)
        dsn = config.dsn()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    address = listen or config.listen_address
    check_listen(address)

    async def serve() -> None:
        service = StoreService(config, dsn)
        runners: list[web.AppRunner] = []

        async def start() -> None:
            runners.append(await serve_app(service.app(), address, web_config))
            log.info("store listening", extra={"fields": {"address": address}})
            # Waits for the database; a SIGTERM meanwhile still stops the process.
            await service.start()  # raises when the schema could not be set up

        async def close() -> None:
            for runner in runners:
                await runner.cleanup()
            await service.close()

        await serve_until_signalled(start, close)

    from padtec_exporter.store.database import DatabaseRefused

    try:
        run(serve())
    except DatabaseRefused as exc:
        raise click.ClickException(
            f"store: the database refused the DSN: {exc}; check the user, password and "
            "database in the DSN (docs/install.md: `padtec-exporter store init-sql`)"
        ) from exc
    except psycopg.Error as exc:  # e.g. no right to create the schema: say so, no traceback
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise click.ClickException(f"store: database error {exc.sqlstate}: {first_line}") from exc


command.add_command(init_sql_command)
