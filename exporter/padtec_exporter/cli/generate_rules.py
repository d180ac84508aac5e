from __future__ import annotations

import subprocess
import sys
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
    "--tests-out",
    default="prometheus/tests",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Where the generated promtool tests go (empty: none).",
)
@click.option(
    "--dashboards",
    default="grafana/generate.py",
    show_default=True,
    help="Dashboard generator to run too (they draw the thresholds); skipped when absent.",
)
@click.option(
    "--for-override",
    default=None,
    help="Replace every generated 'for:' (tests use short durations).",
)
@click.option("--check", is_flag=True, help="Exit 1 if the generated files are not up to date.")
def command(
    thresholds: str,
    out_dir: str,
    tests_out: str,
    dashboards: str,
    for_override: str | None,
    check: bool,
) -> None:
    """Turn thresholds.yml into everything derived from it: Prometheus rule files (alerts,
    trends, aggregates), their promtool tests and the dashboards' threshold lines."""
    from padtec_exporter.rulegen import load_thresholds
    from padtec_exporter.rulegen.generate import render_rule_files
    from padtec_exporter.rulegen.testcases import render_test_files

    try:
        doc = load_thresholds(thresholds)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    files = {Path(out_dir) / n: t for n, t in render_rule_files(doc, for_override).items()}
    if tests_out and for_override is None:
        rules_dir = Path(out_dir).resolve()
        try:
            relative = rules_dir.relative_to(Path(tests_out).resolve().parent)
            rules_ref = f"../{relative}"
        except ValueError:
            rules_ref = str(rules_dir)
        files |= {Path(tests_out) / n: t for n, t in render_test_files(doc, rules_ref).items()}
    if check:
        stale = [
            str(path)
            for path, text in files.items()
            if not path.is_file() or path.read_text(encoding="utf-8") != text
        ]
        if stale:
            raise click.ClickException(
                f"out of date: {', '.join(stale)}; run "
                "`padtec-exporter generate-rules` and commit the result"
            )
        click.echo("rule and test files are up to date")
    else:
        for path, text in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            click.echo(f"wrote {path}")
    _dashboards(dashboards, check)


def _dashboards(script: str, check: bool) -> None:
    """Run the dashboard generator (a repository checkout has it; an installed exporter not)."""
    if not script or not Path(script).is_file():
        return
    run = subprocess.run(
        [sys.executable, script, *(["--check"] if check else [])],
        capture_output=True,
        text=True,
        check=False,
    )
    click.echo((run.stdout + run.stderr).strip())
    if run.returncode != 0:
        raise click.ClickException(f"{script} failed (exit {run.returncode})")
