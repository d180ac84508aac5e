"""The doctor's report: readable text (one line per check, details indented), or JSON."""

from __future__ import annotations

from typing import Any

import msgspec
import yaml

from padtec_exporter.doctor.checks import NmsReport

_MARK = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL", "info": "info"}


def suggested_config(reports: list[NmsReport]) -> str:
    """The config keys the checks recommend, as YAML to paste (empty when none)."""
    out: list[str] = []
    changed = [r for r in reports if r.nms_settings]
    if changed:
        out.append("nms:")
        for report in changed:
            out.append(f"  - name: {_scalar(report.name)}  # merge into this NMS's entry")
            for key, value in report.nms_settings.items():
                out.append(f"    {key}: {_scalar(value)}")
    rules = [
        (rule, note)
        for r in reports
        for rule, note in zip(r.unit_rules, r.unit_comments, strict=True)
    ]
    if rules:
        out.append("units:")
        for rule, note in rules:
            out.append(f"  # {note}")
            inner = ", ".join(f"{k}: {_scalar(v)}" for k, v in rule.items())
            out.append(f"  - {{{inner}}}")
    return "\n".join(out)


def _scalar(value: Any) -> str:
    return (
        str(yaml.safe_dump(value, default_flow_style=True, width=1000))
        .strip()
        .removesuffix("\n...")
        .strip()
    )


def render_text(reports: list[NmsReport]) -> str:
    lines: list[str] = []
    for report in reports:
        lines.append(f"NMS {report.name!r} at {report.url}")
        for check in report.checks:
            lines.append(f"  {_MARK[check.status]}  {check.name:<12} {check.summary}")
            lines.extend(f"{'':20}{detail}" for detail in check.lines)
        lines.append("")
    snippet = suggested_config(reports)
    if snippet:
        lines.append("Suggested config (paste into the exporter config, then check-config):")
        lines.extend(f"  {line}" for line in snippet.splitlines())
    else:
        lines.append("Suggested config: none; the config fits what the NMS serves.")
    lines.append("")
    lines.append(verdict(reports))
    return "\n".join(lines) + "\n"


def verdict(reports: list[NmsReport]) -> str:
    broken = [r.name for r in reports if not r.collection_works]
    warnings = sum(1 for r in reports for c in r.checks if c.status == "warn")
    if broken:
        return f"Result: collection cannot work for {', '.join(broken)} (see FAIL above)"
    tail = f" ({warnings} warning{'s' if warnings != 1 else ''})" if warnings else ""
    return f"Result: collection can work{tail}"


def render_json(reports: list[NmsReport]) -> str:
    doc = {
        "ok": all(r.collection_works for r in reports),
        "nms": [
            {
                "name": r.name,
                "url": r.url,
                "collection_works": r.collection_works,
                "checks": [
                    {
                        "name": c.name,
                        "status": c.status,
                        "summary": c.summary,
                        "details": c.lines,
                        "data": c.data,
                    }
                    for c in r.checks
                ],
                "suggested": {"nms": r.nms_settings, "units": r.unit_rules},
            }
            for r in reports
        ],
        "suggested_config": suggested_config(reports),
    }
    return msgspec.json.encode(doc).decode() + "\n"
