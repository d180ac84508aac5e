"""The exporter's landing page: per NMS, what the last runs did (in the spirit of blackbox
exporter's debug page). Plain HTML, no script; it shows no secret (no token, no password)."""

from __future__ import annotations

import html
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from padtec_exporter.collect.runlog import JobState


@dataclass
class NmsStatus:
    name: str
    base_url: str
    cards: int
    measures: int
    alarms: int
    # Series per metric family (e.g. power_dbm: 120).
    families: dict[str, int] = field(default_factory=dict)
    # Newest measurement time minus now: far from 0 hints at a clock or time-zone offset.
    newest_measure_offset_seconds: float | None = None
    jobs: dict[str, JobState] = field(default_factory=dict)


def without_userinfo(url: str) -> str:
    """``base_url`` as shown: a ``user:password@`` in it is not for a page."""
    parts = urlsplit(url)
    return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()


def family_counts(families: list[str]) -> dict[str, int]:
    return dict(sorted(Counter(families).items()))


def _ago(at: float | None, now: float) -> str:
    return "never" if at is None else f"{now - at:.0f} s ago"


def _job_rows(jobs: dict[str, JobState], now: float) -> str:
    rows = []
    for job, state in jobs.items():
        result = {None: "-", True: "ok", False: "FAILED"}[state.last_ok]
        streak = f"{state.streak} failed in a row" if state.streak else ""
        rows.append(
            "<tr>"
            + "".join(
                f"<td>{html.escape(str(cell))}</td>"
                for cell in (
                    job,
                    _ago(state.last_run_at, now),
                    result,
                    f"{state.last_duration_seconds:.2f} s",
                    _ago(state.last_success_at, now),
                    f"{state.runs} / {state.failures}",
                    streak,
                    state.last_error if state.last_ok is False else "",
                )
            )
            + "</tr>"
        )
    return "\n".join(rows)


def render_status(
    version: str, ready: str, nms: list[NmsStatus], telemetry_path: str, now: float | None = None
) -> str:
    now = time.time() if now is None else now
    path = html.escape(telemetry_path)
    sections = []
    for item in nms:
        offset = (
            "no measurement yet"
            if item.newest_measure_offset_seconds is None
            else f"{item.newest_measure_offset_seconds:+.0f} s"
        )
        families = ", ".join(f"{html.escape(k)}: {v}" for k, v in item.families.items()) or "none"
        sections.append(
            f"""<h2>NMS {html.escape(item.name)}</h2>
<p>{html.escape(item.base_url)}: {item.cards} cards, {item.measures} measures,
{item.alarms} active alarms. Newest measurement time minus now: {offset} (far from 0: check
the NMS clock and <code>timezone</code>).</p>
<p>Series per family: {families}</p>
<table border="1" cellpadding="3">
<tr><th>job</th><th>last run</th><th>result</th><th>duration</th><th>last success</th>
<th>runs / failed</th><th>streak</th><th>last error</th></tr>
{_job_rows(item.jobs, now)}
</table>"""
        )
    body = "\n".join(sections) or "<p>No NMS configured.</p>"
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Padtec exporter</title></head>
<body><h1>Padtec exporter</h1>
<p>Version {html.escape(version)}. {html.escape(ready)}</p>
<ul>
<li><a href="{path}">{path}</a>: metrics</li>
<li><a href="/healthz">/healthz</a>: liveness</li>
<li><a href="/readyz">/readyz</a>: readiness (first inventory done, or why not)</li>
<li>POST /-/reload: reload the configuration</li>
</ul>
{body}
</body></html>
"""
