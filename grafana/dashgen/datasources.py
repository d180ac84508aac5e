"""Datasource plumbing: the dashboards name no datasource uid of ours, so they import into any
Grafana.

Panels, targets and variables point at a datasource *template variable* (``${datasource}`` for
Prometheus, ``${store}`` for the PostgreSQL store). Each variable's default is an import input
(``${DS_PROMETHEUS}``, ``${DS_PADTEC_STORE}``): Grafana's import dialog asks for those (listed in
``__inputs``) and writes the chosen uid in their place. A provisioned dashboard is not imported:
its variables fall back to the default (or only) datasource of their type, no prompt.
"""

from __future__ import annotations

from typing import Any

# Oldest Grafana that reads these dashboards: the PostgreSQL plugin id
# grafana-postgresql-datasource exists from 10.2.3 on, schemaVersion 39 from 10.3/10.4.
MIN_GRAFANA = "10.4.0"

PROMETHEUS_TYPE = "prometheus"
STORE_TYPE = "grafana-postgresql-datasource"
PROMETHEUS = {"type": PROMETHEUS_TYPE, "uid": "${datasource}"}
STORE = {"type": STORE_TYPE, "uid": "${store}"}

# Per datasource type: its template variable, the import input and the dialog's texts.
_SOURCES = {
    PROMETHEUS_TYPE: {
        "variable": "datasource",
        "input": "DS_PROMETHEUS",
        "label": "Prometheus",
        "description": "The Prometheus that scrapes the padtec exporter and holds its rules.",
        "plugin_name": "Prometheus",
    },
    STORE_TYPE: {
        "variable": "store",
        "input": "DS_PADTEC_STORE",
        "label": "Padtec store",
        "description": "The store's PostgreSQL/TimescaleDB (read-only user grafana_reader).",
        "plugin_name": "PostgreSQL",
    },
}
_PANEL_NAMES = {
    "histogram": "Histogram",
    "stat": "Stat",
    "state-timeline": "State timeline",
    "table": "Table",
    "timeseries": "Time series",
}


def _used_types(node: Any) -> set[str]:
    """The datasource types referenced anywhere in ``node``."""
    found: set[str] = set()
    if isinstance(node, dict):
        ds = node.get("datasource")
        if isinstance(ds, dict) and ds.get("type") in _SOURCES:
            found.add(ds["type"])
        for value in node.values():
            found |= _used_types(value)
    elif isinstance(node, list):
        for value in node:
            found |= _used_types(value)
    return found


def _variable(ds_type: str) -> dict[str, Any]:
    source = _SOURCES[ds_type]
    token = "${" + source["input"] + "}"
    return {
        "current": {"selected": False, "text": source["label"], "value": token},
        "hide": 0,
        "includeAll": False,
        "label": source["label"],
        "multi": False,
        "name": source["variable"],
        "options": [],
        "query": ds_type,
        "refresh": 1,
        "regex": "",
        "skipUrlSync": False,
        "type": "datasource",
    }


def add_datasource_plumbing(data: dict[str, Any]) -> dict[str, Any]:
    """The dashboard JSON with its datasource variables (first, in a stable order),
    ``__inputs`` and ``__requires``."""
    used = sorted(_used_types(data), key=list(_SOURCES).index)
    data["templating"]["list"] = [*map(_variable, used), *data["templating"]["list"]]
    data["__inputs"] = [
        {
            "name": _SOURCES[t]["input"],
            "label": _SOURCES[t]["label"],
            "description": _SOURCES[t]["description"],
            "type": "datasource",
            "pluginId": t,
            "pluginName": _SOURCES[t]["plugin_name"],
        }
        for t in used
    ]
    panel_types = sorted({p["type"] for p in data["panels"]})
    data["__requires"] = [
        {"type": "grafana", "id": "grafana", "name": "Grafana", "version": MIN_GRAFANA},
        *(
            {"type": "datasource", "id": t, "name": _SOURCES[t]["plugin_name"], "version": "1.0.0"}
            for t in used
        ),
        *(
            {"type": "panel", "id": p, "name": _PANEL_NAMES.get(p, p), "version": ""}
            for p in panel_types
        ),
    ]
    return data
