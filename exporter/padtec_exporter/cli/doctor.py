"""``padtec-exporter doctor``: check an NMS the way the exporter would use it, and report."""

from __future__ import annotations

import asyncio
import sys

import click

from padtec_exporter.cli.options import load_exporter_config, logging_options
from padtec_exporter.logs import setup_logging


@click.command("doctor")
@click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="The exporter config file (its nms entries are checked).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--nms", "only", multiple=True, help="Check only this NMS (by name); repeatable.")
@logging_options
def command(
    config_path: str,
    as_json: bool,
    only: tuple[str, ...],
    log_format: str | None,
    log_level: str | None,
) -> None:
    """Check every NMS of a config: auth, endpoints, paging, counts, API build, clock, card
    status, units, alarms; say what to put in the config. Exit 1 when collection cannot work."""
    # Imported here: the other commands need not load the doctor.
    from padtec_exporter.doctor import NmsReport, examine, render_json, render_text

    # The report says what went wrong; the client's own log lines only on request (stderr).
    setup_logging(log_format or "text", log_level or "error")
    config = load_exporter_config(config_path)
    targets = [nms for nms in config.nms if not only or nms.name in only]
    unknown = set(only) - {nms.name for nms in config.nms}
    if unknown:
        raise click.ClickException(f"{config_path}: no NMS named {', '.join(sorted(unknown))}")

    async def run() -> list[NmsReport]:
        return [await examine(config, nms) for nms in targets]

    reports = asyncio.run(run())
    click.echo((render_json if as_json else render_text)(reports), nl=False)
    sys.exit(0 if all(report.collection_works for report in reports) else 1)
