from __future__ import annotations

import click

from padtec_exporter.cli.options import (
    check_listen,
    listen_option,
    logging_options,
    run,
    web_config_option,
)
from padtec_exporter.logs import setup_logging


@click.command("demo")
@listen_option("0.0.0.0:9787", "Where the exporter serves /metrics.")
@click.option(
    "--simulator-listen",
    default="127.0.0.1:8181",
    show_default=True,
    help="Where the simulated NMS API listens.",
)
@click.option("--sites", default=6, show_default=True, type=click.IntRange(1))
@click.option("--cards-per-site", default=8, show_default=True, type=click.IntRange(1))
@click.option("--seed", default=42, show_default=True, type=int)
@web_config_option("the exporter's endpoints")
@logging_options
def command(
    listen: str,
    simulator_listen: str,
    sites: int,
    cards_per_site: int,
    seed: int,
    web_config: str | None,
    log_format: str | None,
    log_level: str | None,
) -> None:
    """Run the NMS simulator and the exporter polling it: a living network, no NMS needed."""
    from padtec_exporter.demo import DemoOptions, run_demo  # heavy: import on use

    check_listen(listen)
    check_listen(simulator_listen, "--simulator-listen")
    setup_logging(log_format or "text", log_level or "info")
    run(
        run_demo(
            DemoOptions(
                listen=listen,
                simulator_listen=simulator_listen,
                sites=sites,
                cards_per_site=cards_per_site,
                seed=seed,
                web_config_file=web_config,
            )
        )
    )
