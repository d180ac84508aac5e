"""``padtec-exporter simulate``: serve a simulated Padtec NMS Smart API."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import msgspec

from padtec_exporter.cli.options import (
    check_listen,
    listen_option,
    logging_options,
    run,
    web_config_option,
)
from padtec_exporter.configfile import ConfigError, load_struct
from padtec_exporter.logs import setup_logging

if TYPE_CHECKING:
    from padtec_exporter.simulate import SimulatorHandle
    from padtec_exporter.simulate.config import SimulatorConfig

log = logging.getLogger(__name__)


@click.command("simulate")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help="Simulator YAML config (SimulatorConfig keys, see docs/simulator.md).",
)
@listen_option("127.0.0.1:8181", "HOST:PORT of the simulated NMS API.")
@click.option("--seed", type=int, help="Seed of the generated network and its values.")
@click.option("--sites", type=click.IntRange(0))
@click.option("--cards-per-site", type=click.IntRange(0))
@click.option("--extra-measures-per-card", type=click.IntRange(0))
@click.option(
    "--update-interval",
    "update_interval_seconds",
    type=click.FloatRange(min=0.01),
    help="Seconds between NMS+ refreshes of the values (default 30).",
)
@click.option(
    "--latency",
    "latency_seconds",
    type=click.FloatRange(min=0.0),
    help="Seconds added to every NMS API answer.",
)
@click.option("--scenario", type=click.Path(dir_okay=False), help="Fault scenario YAML.")
@click.option("--api-build", type=click.Choice(["2025-12", "2025-02"]), help="Row shapes.")
@click.option("--timezone", help="Zone of the zone-less timestamps (default UTC).")
@click.option(
    "--max-page-size", type=click.IntRange(min=1), help="Larger sizes are cut to this, silently."
)
@click.option(
    "--close-connections/--keep-alive",
    default=None,
    help="Close the connection after every response, as HTTP/1.0 servers and proxies do.",
)
@web_config_option("the control endpoint (the NMS API keeps its token auth)")
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
    setup_logging(log_format or "text", log_level or "info")
    config = _load_config(config_path, {k: v for k, v in overrides.items() if v is not None})
    check_listen(listen)
    run(_serve(config, listen, web_config))


def _load_config(path: str | None, overrides: dict[str, Any]) -> SimulatorConfig:
    """The config file (if any) with the command-line options on top; exit 1 when invalid."""
    # Imported here: the other commands need not load the simulator.
    from padtec_exporter.simulate.config import SimulatorConfig, checked

    try:
        config = load_struct(path, SimulatorConfig) if path else SimulatorConfig()
        if path and config.scenario and not Path(config.scenario).is_absolute():
            # A scenario named in the config file is found next to it.
            config.scenario = str(Path(path).resolve().parent / config.scenario)
        return checked(msgspec.structs.replace(config, **overrides), path or "options")
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


async def _serve(config: SimulatorConfig, listen: str, web_config: str | None) -> None:
    from padtec_exporter.simulate import start_simulator
    from padtec_exporter.web import serve_until_signalled

    handles: list[SimulatorHandle] = []

    async def start() -> None:
        try:
            handles.append(await start_simulator(config, listen, web_config))
        except (ConfigError, OSError) as exc:
            raise click.ClickException(str(exc)) from exc
        _started(handles[0], config)

    async def close() -> None:
        if handles:
            log.info("simulated NMS stopping")
            await handles[0].close()

    await serve_until_signalled(start, close)


def _started(handle: SimulatorHandle, config: SimulatorConfig) -> None:
    truth = handle.simulator.truth()
    log.info(
        "simulated NMS listening",
        extra={
            "fields": {
                "url": handle.url,
                "control": handle.control_url,
                "cards": truth["cards"],
                "measures": truth["measures"],
                "api_build": config.api_build,
            }
        },
    )
