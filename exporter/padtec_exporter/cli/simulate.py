from __future__ import annotations

import asyncio
import logging
import signal
from typing import Any

import click
import msgspec

from padtec_exporter.cli.options import logging_options
from padtec_exporter.configfile import ConfigError, load_struct
from padtec_exporter.logs import setup_logging

log = logging.getLogger(__name__)


@click.command("simulate")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help="Simulator YAML config (SimulatorConfig keys).",
)
@click.option("--listen", default="127.0.0.1:8181", show_default=True, help="HOST:PORT.")
@click.option("--seed", type=int)
@click.option("--sites", type=click.IntRange(1))
@click.option("--cards-per-site", type=click.IntRange(1))
@click.option("--extra-measures-per-card", type=click.IntRange(0))
@click.option(
    "--update-interval",
    "update_interval_seconds",
    type=click.FloatRange(min=0.01),
    help="Seconds between NMS+ refreshes of the values.",
)
@click.option(
    "--latency",
    "latency_seconds",
    type=click.FloatRange(min=0.0),
    help="Delay added to every API request.",
)
@click.option("--scenario", type=click.Path(dir_okay=False), help="Fault scenario YAML.")
@click.option("--api-build", type=click.Choice(["2025-12", "2025-02"]))
@click.option(
    "--web.config.file",
    "web_config",
    type=click.Path(dir_okay=False),
    help="TLS/basic auth web config for the API and control endpoints.",
)
@logging_options
def command(
    config_path: str | None,
    listen: str,
    web_config: str | None,
    log_format: str | None,
    log_level: str | None,
    **overrides: Any,
) -> None:
    """Serve a simulated Padtec NMS Smart API with a living network and scriptable faults."""
    from padtec_exporter.simulate import SimulatorConfig, start_simulator

    setup_logging(log_format or "text", log_level or "info")
    try:
        config = load_struct(config_path, SimulatorConfig) if config_path else SimulatorConfig()
        given = {k: v for k, v in overrides.items() if v is not None}
        config = msgspec.structs.replace(config, **given)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        try:
            handle = await start_simulator(config, listen, web_config)
        except (ConfigError, OSError) as exc:
            raise click.ClickException(str(exc)) from exc
        truth = handle.simulator.truth()
        log.info(
            "simulated NMS listening",
            extra={
                "fields": {
                    "url": handle.url,
                    "cards": truth["cards"],
                    "measures": truth["measures"],
                }
            },
        )
        await stop.wait()
        await handle.close()

    asyncio.run(run())
