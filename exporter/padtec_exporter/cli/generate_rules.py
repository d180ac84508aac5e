from __future__ import annotations

from pathlib import Path

import click

from padtec_exporter.configfile import ConfigError


@click.command("generate-rules")
@click.option(
    "--thresholds",
    default="prometheus/thresholds.yml",
    show_default=True,
    type=click.Path(dir_okay=False, exists=True),
)
@click.option(
    "--out",
    "out_dir",
    default="prometheus/rules",
    show_default=True,
    type=click.Path(file_okay=False),
)
@click.option(
    "--for-override",
    default=None,
    help="Replace every generated 'for:' (tests use short durations).",
)
@click.option("--check", is_flag=True, help="Exit 1 if the files in --out are not up to date.")
def command(thresholds: str, out_dir: str, for_override: str | None, check: bool) -> None:
    """Turn thresholds.yml into Prometheus rule files (alerts, trends, aggregates)."""
    from padtec_exporter.rulegen import load_thresholds
    from padtec_exporter.rulegen.generate import generate_rule_files, render_rule_files

    try:
        doc = load_thresholds(thresholds)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    if check:
        stale = [
            name
            for name, text in render_rule_files(doc, for_override).items()
            if not (Path(out_dir) / name).is_file()
            or (Path(out_dir) / name).read_text(encoding="utf-8") != text
        ]
        if stale:
            raise click.ClickException(
                f"out of date: {', '.join(stale)}; run "
                "`padtec-exporter generate-rules` and commit the result"
            )
        click.echo("rule files are up to date")
        return
    for path in generate_rule_files(doc, Path(out_dir), for_override):
        click.echo(f"wrote {path}")
