"""The ``padtec-exporter`` command: one click group, one module per sub-command.

Modules here only parse options and call into the rooms (collect, expose, simulate, store, ...).
"""

from __future__ import annotations

import platform

import click

from padtec_exporter import __version__
from padtec_exporter.cli.check_config import command as check_config_command
from padtec_exporter.cli.demo import command as demo_command
from padtec_exporter.cli.doctor import command as doctor_command
from padtec_exporter.cli.generate_rules import command as generate_rules_command
from padtec_exporter.cli.notify_bridge import command as notify_bridge_command
from padtec_exporter.cli.serve import command as serve_command
from padtec_exporter.cli.simulate import command as simulate_command
from padtec_exporter.cli.store import command as store_command
from padtec_exporter.cli.version import command as version_command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(
    __version__,
    "--version",
    "-V",
    prog_name="padtec-exporter",
    message=f"%(prog)s %(version)s (python {platform.python_version()})",
)
def main() -> None:
    """Padtec DWDM network monitoring: exporter, NMS simulator and companions."""


main.add_command(version_command)
main.add_command(serve_command)
main.add_command(check_config_command)
main.add_command(doctor_command)
main.add_command(demo_command)
main.add_command(simulate_command)
main.add_command(generate_rules_command)
main.add_command(notify_bridge_command)
main.add_command(store_command)
