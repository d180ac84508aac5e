from __future__ import annotations

import click

from padtec_exporter.cli.options import load_exporter_config


@click.command("check-config")
@click.argument("config_path", type=click.Path(dir_okay=False))
def command(config_path: str) -> None:
    """Validate an exporter config file: exit 0 when usable, 1 with the reason otherwise."""
    config = load_exporter_config(config_path)
    names = ", ".join(f"{n.name} ({n.base_url})" for n in config.nms)
    click.echo(f"{config_path}: OK; NMS: {names}; listen {config.web.listen_address}")
