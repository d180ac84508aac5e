"""Regenerate grafana/dashboards/*.json from the Python in grafana/dashgen/.

.venv/bin/python grafana/generate.py           # write
.venv/bin/python grafana/generate.py --check   # exit 1 if the committed JSON is stale
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from grafanalib._gen import DashboardEncoder

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from dashgen import alarms, card, exporter, measurements, overview, site  # noqa: E402
from dashgen.datasources import add_datasource_plumbing  # noqa: E402

OUT = HERE / "dashboards"
BUILDERS = {
    "overview": overview.build,
    "site": site.build,
    "card": card.build,
    "measurements": measurements.build,
    "alarms": alarms.build,
    "exporter-health": exporter.build,
}


def render() -> dict[str, str]:
    """File name → JSON text of every dashboard, stable byte for byte."""
    out = {}
    for name, build in BUILDERS.items():
        data = json.loads(json.dumps(build().auto_panel_ids().to_json_data(), cls=DashboardEncoder))
        text = json.dumps(
            add_datasource_plumbing(_grafana_fixes(data)),
            sort_keys=True,
            indent=2,
            ensure_ascii=False,
        )
        out[f"padtec-{name}.json"] = text + "\n"
    return out


def _grafana_fixes(node: Any) -> Any:
    """Spots where grafanalib's JSON is not what Grafana expects: the base threshold step
    is written as the string "null" (Grafana wants null), panels without thresholds get
    no step at all (Grafana wants the base step), and a variable without a default gets a
    ``current`` of nulls (Grafana's schema wants text and value, or no ``current``)."""
    if isinstance(node, dict):
        current = node.get("current")
        if isinstance(current, dict) and current.get("value") is None and "query" in node:
            node = {k: v for k, v in node.items() if k != "current"}
        if node.get("value") == "null" and "color" in node:
            node["value"] = None
        if node.get("mode") == "absolute" and node.get("steps") == []:
            node["steps"] = [{"color": "green", "value": None}]
        return {k: _grafana_fixes(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_grafana_fixes(v) for v in node]
    return node


def main(argv: list[str]) -> int:
    files = render()
    if "--check" in argv:
        stale = [
            n
            for n, t in files.items()
            if not (OUT / n).is_file() or (OUT / n).read_text(encoding="utf-8") != t
        ]
        if stale:
            print(f"out of date: {', '.join(stale)}; run grafana/generate.py", file=sys.stderr)
            return 1
        print("dashboards are up to date")
        return 0
    OUT.mkdir(exist_ok=True)
    for name, text in files.items():
        (OUT / name).write_text(text, encoding="utf-8")
        print(f"wrote {OUT / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
