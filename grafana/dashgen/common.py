"""Shared pieces of the dashboards: datasources, variables, panel builders, thresholds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from grafanalib.core import (
    Dashboard,
    DashboardLink,
    GridPos,
    SqlTarget,
    Stat,
    Table,
    Target,
    Template,
    Templating,
    Threshold,
    Time,
    TimeSeries,
)

REPO = Path(__file__).resolve().parents[2]
PROMETHEUS = {"type": "prometheus", "uid": "prometheus"}
STORE = {"type": "grafana-postgresql-datasource", "uid": "padtec-store"}
ALERTS = 'ALERTS{alertstate="firing", alertname=~"Padtec.*"}'
MEASURE_FAMILIES = [
    "padtec_power_dbm",
    "padtec_osnr_db",
    "padtec_gain_db",
    "padtec_temperature_celsius",
    "padtec_current_amperes",
    "padtec_voltage_volts",
    "padtec_power_watts",
    "padtec_ber_ratio",
    "padtec_measure_value",
]
UNITS = {
    "padtec_power_dbm": "dBm",
    "padtec_osnr_db": "dB",
    "padtec_gain_db": "dB",
    "padtec_temperature_celsius": "celsius",
    "padtec_current_amperes": "amp",
    "padtec_voltage_volts": "volt",
    "padtec_power_watts": "watt",
    "padtec_ber_ratio": "sci",
    "padtec_measure_value": "none",
}
UIDS = {
    "overview": "padtec-overview",
    "site": "padtec-site",
    "card": "padtec-card",
    "measurements": "padtec-measurements",
    "alarms": "padtec-alarms",
    "exporter": "padtec-exporter-health",
}


def thresholds() -> dict[str, dict[str, float]]:
    """Default bounds of each threshold rule, from the file operators edit."""
    doc = yaml.safe_load((REPO / "prometheus" / "thresholds.yml").read_text())
    return {
        rule["name"]: {k: float(rule[k]) for k in ("min", "max") if k in rule}
        for rule in doc["rules"]
    }


class Layout:
    """Places panels left to right, top to bottom, on Grafana's 24-column grid."""

    def __init__(self) -> None:
        self.x = self.y = self.row_height = 0

    def __call__(self, w: int, h: int) -> GridPos:
        if self.x + w > 24:
            self.x, self.y, self.row_height = 0, self.y + self.row_height, 0
        pos = GridPos(h=h, w=w, x=self.x, y=self.y)
        self.x += w
        self.row_height = max(self.row_height, h)
        return pos


def prom(
    expr: str, legend: str = "", ref: str = "A", instant: bool = False, table: bool = False
) -> Target:
    return Target(
        expr=expr,
        legendFormat=legend,
        refId=ref,
        datasource=PROMETHEUS,
        instant=instant,
        format="table" if table else "time_series",
    )


def sql(query: str, ref: str = "A", table: bool = True) -> SqlTarget:
    return SqlTarget(
        rawSql=query, refId=ref, datasource=STORE, format="table" if table else "time_series"
    )


def steps(*pairs: tuple[str, float | None]) -> list[Threshold]:
    return [
        Threshold(color, index, 0.0 if value is None else float(value))
        for index, (color, value) in enumerate(pairs)
    ]


def band(low: float | None = None, high: float | None = None) -> list[Threshold]:
    """Red outside [low, high], green inside: drawn as lines and areas on time series."""
    out: list[tuple[str, float | None]] = [("red" if low is not None else "green", None)]
    if low is not None:
        out.append(("green", low))
    if high is not None:
        out.append(("red", high))
    return steps(*out)


def timeseries(
    title: str,
    targets: list[Any],
    unit: str,
    pos: GridPos,
    limits: list[Threshold] | None = None,
    description: str = "",
) -> TimeSeries:
    return TimeSeries(
        title=title,
        targets=targets,
        unit=unit,
        gridPos=pos,
        dataSource=STORE if isinstance(targets[0], SqlTarget) else PROMETHEUS,
        description=description,
        thresholds=limits or [],
        thresholdsStyleMode="line+area" if limits else "off",
        legendDisplayMode="table",
        legendPlacement="right",
        legendCalcs=["lastNotNull", "min", "max"],
    )


def stat(
    title: str, target: Any, unit: str, pos: GridPos, limits: list[Threshold], description: str = ""
) -> Stat:
    return Stat(
        title=title,
        targets=[target],
        format=unit,
        gridPos=pos,
        dataSource=PROMETHEUS,
        thresholds=limits,
        colorMode="background",
        reduceCalc="lastNotNull",
        description=description,
    )


def table(
    title: str,
    targets: list[Any],
    pos: GridPos,
    description: str = "",
    transformations: list[dict[str, Any]] | None = None,
) -> Table:
    return Table(
        title=title,
        targets=targets,
        gridPos=pos,
        description=description,
        dataSource=STORE if isinstance(targets[0], SqlTarget) else PROMETHEUS,
        transformations=transformations or [],
    )


def query_var(
    name: str, query: str, label: str, multi: bool = False, include_all: bool = False
) -> Template:
    return Template(
        name=name,
        label=label,
        query=query,
        dataSource=PROMETHEUS,
        type="query",
        refresh=2,
        multi=multi,
        includeAll=include_all,
        sort=1,
    )


def nms_var() -> Template:
    return query_var(
        "nms", "label_values(padtec_card_info, nms)", "NMS", multi=True, include_all=True
    )


def site_var(multi: bool = False) -> Template:
    return query_var(
        "site",
        'label_values(padtec_card_info{nms=~"$nms"}, site)',
        "Site",
        multi=multi,
        include_all=multi,
    )


def links() -> list[DashboardLink]:
    return [
        DashboardLink(
            title="Padtec",
            type="dashboards",
            tags=["padtec"],
            asDropdown=True,
            keepTime=True,
            includeVars=True,
        )
    ]


def dashboard(
    key: str,
    title: str,
    description: str,
    panels: list[Any],
    variables: list[Template],
    hours: int = 6,
) -> Dashboard:
    return Dashboard(
        title=title,
        uid=UIDS[key],
        description=description,
        tags=["padtec"],
        panels=panels,
        templating=Templating(list=variables),
        links=links(),
        time=Time(f"now-{hours}h", "now"),
        refresh="30s",
        timezone="browser",
    )
