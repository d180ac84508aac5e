from __future__ import annotations

import platform

import click

from padtec_exporter import __version__


@click.command("version")
def command() -> None:
    """Print the version of padtec-exporter and of Python."""
    click.echo(f"padtec-exporter {__version__} (python {platform.python_version()})")
