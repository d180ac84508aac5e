"""Panel builders, the grid layout, value mappings and the dashboard itself."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from grafanalib.core import (
    Dashboard,
    GridPos,
    SqlTarget,
    Stat,
    StateTimeline,
    Table,
    Target,
    Template,
    Templating,
    Threshold,
    Time,
    TimeSeries,
)

from dashgen.datasources import PROMETHEUS, STORE
from dashgen.links import UIDS, card_link_from_row, dashboard_links, site_link_from_row

# Grafana 11 reads this schema without migrating the panels.
SCHEMA_VERSION = 39


def value_mapping(*values: tuple[str, str, str]) -> list[dict[str, Any]]:
    """A Grafana value mapping: each (value, text, colour), in order."""
    options = {
        value: {"text": text, "color": colour, "index": index}
        for index, (value, text, colour) in enumerate(values)
    }
    return [{"type": "value", "options": options}]


def datasource(targets: Sequence[Target | SqlTarget]) -> dict[str, str]:
    """The store for SQL targets, else Prometheus."""
    return STORE if isinstance(targets[0], SqlTarget) else PROMETHEUS


# Severity as a number, so that "worst" is a max(): colours and texts of each rank.
SEVERITY_RANKS = {"CRITICAL": 3, "MAJOR": 2, "MINOR": 1}


SEVERITY_COLOURS = {"CRITICAL": "red", "MAJOR": "orange", "MINOR": "yellow"}


STATE_MAPPING = [
    {
        "type": "value",
        "options": {
            "0": {"text": "OK", "color": "green", "index": 0},
            **{
                str(rank): {"text": name, "color": SEVERITY_COLOURS[name], "index": rank}
                for name, rank in SEVERITY_RANKS.items()
            },
        },
    }
]


UP_MAPPING = value_mapping(("0", "DOWN", "red"), ("1", "UP", "green"))
SEVERITY_TEXT_MAPPING = [
    {
        "type": "value",
        "options": {
            name: {"color": colour, "index": index}
            for index, (name, colour) in enumerate(
                [*SEVERITY_COLOURS.items(), ("WARNING", "yellow"), ("UNKNOWN", "yellow")]
            )
        },
    }
]


# Labels Prometheus adds that a table reader does not need.
NOISE_COLUMNS = ("Time", "__name__", "job", "instance", "alertstate")


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


def steps(*pairs: tuple[str, float | None]) -> list[Threshold]:
    return [
        Threshold(color, index, 0.0 if value is None else float(value))
        for index, (color, value) in enumerate(pairs)
    ]


def column(name: str, *properties: tuple[str, Any]) -> dict[str, Any]:
    """A field override for the table column (or series) called ``name``."""
    return {
        "matcher": {"id": "byName", "options": name},
        "properties": [{"id": key, "value": value} for key, value in properties],
    }


def linked_columns(site: bool = True, card: bool = True) -> list[dict[str, Any]]:
    """Overrides making the site and card_uid columns open their dashboards."""
    out = []
    if site:
        out.append(column("site", ("links", [site_link_from_row()])))
    if card:
        out.append(column("card_uid", ("links", [card_link_from_row()])))
    return out


def coloured_column(name: str, mapping: list[dict[str, Any]]) -> dict[str, Any]:
    """A column shown as coloured cells with texts from ``mapping``."""
    return column(
        name,
        ("mappings", mapping),
        ("custom.cellOptions", {"type": "color-background"}),
    )


def organize(
    rename: dict[str, str] | None = None,
    hide: tuple[str, ...] = (),
    first: tuple[str, ...] = (),
) -> list[dict[str, Any]]:
    """Drop Prometheus' bookkeeping columns (and ``hide``), rename the others, put the
    columns ``first`` (original names) at the left."""
    return [
        {
            "id": "organize",
            "options": {
                "excludeByName": dict.fromkeys((*NOISE_COLUMNS, *hide), True),
                "renameByName": rename or {},
                "indexByName": {name: index for index, name in enumerate(first)},
            },
        }
    ]


def merge_then_organize(
    rename: dict[str, str] | None = None,
    hide: tuple[str, ...] = (),
    first: tuple[str, ...] = (),
) -> list[dict[str, Any]]:
    """One table row per label set out of several instant queries."""
    return [{"id": "merge", "options": {}}, *organize(rename, hide, first)]


def timeseries(
    title: str,
    targets: list[Any],
    unit: str,
    pos: GridPos,
    limits: list[Threshold] | None = None,
    description: str = "",
    overrides: list[dict[str, Any]] | None = None,
    data_links: list[dict[str, Any]] | None = None,
    stacked: bool = False,
    log_scale: bool = False,
) -> TimeSeries:
    """A graph; ``limits`` are drawn as dashed lines (thresholds of the whole panel)."""
    panel = TimeSeries(
        title=title,
        targets=targets,
        unit=unit,
        gridPos=pos,
        dataSource=datasource(targets),
        description=description,
        thresholds=limits or [],
        thresholdsStyleMode="dashed" if limits else "off",
        legendDisplayMode="table",
        legendPlacement="right",
        legendCalcs=["lastNotNull", "min", "max"],
        overrides=overrides or [],
        stacking={"mode": "normal", "group": "A"} if stacked else {},
        fillOpacity=40 if stacked else 0,
        scaleDistributionType="log" if log_scale else "linear",
        scaleDistributionLog=10 if log_scale else 2,
        tooltipMode="multi",
        maxDataPoints=None,
    )
    if data_links:
        panel.extraJson = {"fieldConfig": {"defaults": {"links": data_links}}}
    return panel


def state_timeline(
    title: str, description: str, target: Target, pos: GridPos, link: dict[str, Any]
) -> StateTimeline:
    """Lanes coloured by state (STATE_MAPPING); a click on a lane follows ``link``."""
    return StateTimeline(
        title=title,
        description=description,
        targets=[target],
        gridPos=pos,
        dataSource=PROMETHEUS,
        mappings=STATE_MAPPING,
        showValue="never",
        mergeValues=True,
        maxDataPoints=None,
        extraJson={"fieldConfig": {"defaults": {"unit": "none", "links": [link]}}},
    )


def stat(
    title: str,
    target: Any,
    unit: str,
    pos: GridPos,
    limits: list[Threshold],
    description: str = "",
    mappings: list[dict[str, Any]] | None = None,
) -> Stat:
    return Stat(
        title=title,
        targets=[target],
        format=unit,
        gridPos=pos,
        dataSource=PROMETHEUS,
        thresholds=limits,
        colorMode="background",
        graphMode="none",
        reduceCalc="lastNotNull",
        description=description,
        mappings=mappings or [],
        noValue="no data",
        maxDataPoints=None,
    )


def table(
    title: str,
    targets: list[Any],
    pos: GridPos,
    description: str = "",
    transformations: list[dict[str, Any]] | None = None,
    unit: str = "none",
    overrides: list[dict[str, Any]] | None = None,
    limits: list[Threshold] | None = None,
) -> Table:
    """A table; numeric cells use ``unit`` and, when given, are coloured by ``limits``."""
    panel = Table(
        title=title,
        targets=targets,
        gridPos=pos,
        description=description,
        dataSource=datasource(targets),
        transformations=transformations or [],
        unit=unit,
        overrides=overrides or [],
        filterable=True,
        maxDataPoints=None,
    )
    if limits:
        panel.thresholds = limits
        panel.extraJson = {
            "fieldConfig": {"defaults": {"custom": {"cellOptions": {"type": "color-text"}}}}
        }
    return panel


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
        links=dashboard_links(),
        time=Time(f"now-{hours}h", "now"),
        refresh="30s",
        timezone="browser",
        graphTooltip=1,  # shared crosshair: hovering one graph marks the same time on all
        schemaVersion=SCHEMA_VERSION,
    )
