from __future__ import annotations

import click

from padtec_exporter.cli.options import (
    check_listen,
    listen_option,
    load_exporter_config,
    logging_options,
    run,
    web_config_option,
)
from padtec_exporter.logs import setup_logging


@click.command("serve")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    envvar="PADTEC_EXPORTER_CONFIG",
    help="Exporter YAML config (env PADTEC_EXPORTER_CONFIG).",
)
@listen_option(None, "HOST:PORT; overrides web.listen_address.")
@web_config_option("the exporter's endpoints")
@logging_options
def command(
    config_path: str | None,
    listen: str | None,
    web_config: str | None,
    log_format: str | None,
    log_level: str | None,
) -> None:
    """Poll the NMS(s) of the config and serve Prometheus metrics."""
    from padtec_exporter.exporter import Exporter, run_until_stopped  # heavy: import on use

    config = load_exporter_config(config_path, web_config)
    check_listen(listen or config.web.listen_address)
    setup_logging(log_format or config.log.format, log_level or config.log.level)
    run(run_until_stopped(Exporter(config, config_path), listen))
