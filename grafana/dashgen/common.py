"""Shared pieces of the dashboards: datasources, variables, panel builders, links, thresholds."""

from __future__ import annotations

from typing import Any

from grafanalib.core import (
    Dashboard,
    DashboardLink,
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

# Datasources are template variables (datasources.py), never uids of one Grafana.
from dashgen.datasources import PROMETHEUS as PROMETHEUS
from dashgen.datasources import STORE as STORE
from padtec_exporter.model import families as catalogue

# Grafana 11 reads this schema without migrating the panels.
SCHEMA_VERSION = 39

# Measure families and the Grafana unit of each (the catalogue: model/families.py).
FAMILIES = {family.metric: family.grafana_unit for family in catalogue.MEASURES}
FAMILY_NAMES = "|".join(f.removeprefix("padtec_") for f in FAMILIES)
ANY_FAMILY = f'__name__=~"padtec_({FAMILY_NAMES})"'

UIDS = {
    "overview": "padtec-overview",
    "site": "padtec-site",
    "card": "padtec-card",
    "measurements": "padtec-measurements",
    "alarms": "padtec-alarms",
    "exporter": "padtec-exporter-health",
}

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
UP_MAPPING = [
    {
        "type": "value",
        "options": {
            "0": {"text": "DOWN", "color": "red", "index": 0},
            "1": {"text": "UP", "color": "green", "index": 1},
        },
    }
]
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
FIRING = 'alertstate="firing", alertname=~"Padtec.*"'
# Labels Prometheus adds that a table reader does not need.
NOISE_COLUMNS = ("Time", "__name__", "job", "instance", "alertstate")


def alerts(matchers: str = "") -> str:
    """Firing Padtec alerts, optionally narrowed by extra label matchers."""
    return f"ALERTS{{{FIRING}{', ' + matchers if matchers else ''}}}"


def severity_rank(metric: str, matchers: str, by: str) -> str:
    """Worst severity (3 CRITICAL, 2 MAJOR, 1 anything else) of the series of ``metric``
    selected by ``matchers``, per ``by``. NMS severities other than CRITICAL and MAJOR (MINOR,
    WARNING, UNKNOWN) rank as MINOR, as the NMS-alarm rule maps them (prometheus/README.md)."""
    ranked = [
        f'{metric}{{{matchers}, severity="CRITICAL"}} * 0 + 3',
        f'{metric}{{{matchers}, severity="MAJOR"}} * 0 + 2',
        f'{metric}{{{matchers}, severity!~"CRITICAL|MAJOR"}} * 0 + 1',
    ]
    return f"max by ({by}) ({' or '.join(ranked)})"


def site_state(matchers: str) -> str:
    """Worst state per site: 3 when a card is down or a CRITICAL alert fires, 2 MAJOR,
    1 MINOR, 0 OK (every site with cards gets a value)."""
    firing = severity_rank("ALERTS", f'{FIRING}, {matchers}, site!=""', "nms, site")
    down = f"(site:padtec_cards_down:count{{{matchers}}} > 0) * 0 + 3"
    ok = f"site:padtec_cards:count{{{matchers}}} * 0"
    return f"max by (nms, site) ({down} or {firing} or {ok})"


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
        intervalFactor=1,  # one point per pixel-sized step, not every other one
    )


def instant(expr: str, ref: str = "A") -> Target:
    """A Prometheus query evaluated once, as a table (for table panels)."""
    return prom(expr, ref=ref, instant=True, table=True)


def sql(query: str, ref: str = "A", table: bool = True) -> SqlTarget:
    return SqlTarget(
        rawSql=query,
        refId=ref,
        datasource=STORE,
        format="table" if table else "time_series",
        intervalFactor=1,
    )


def steps(*pairs: tuple[str, float | None]) -> list[Threshold]:
    return [
        Threshold(color, index, 0.0 if value is None else float(value))
        for index, (color, value) in enumerate(pairs)
    ]


# ---------------------------------------------------------------- links between dashboards


def row_value(field: str) -> str:
    """A column of the clicked table row, URL-encoded."""
    return f"${{__data.fields.{field}:percentencode}}"


def series_label(label: str) -> str:
    """A label of the clicked series, URL-encoded."""
    return f"${{__field.labels.{label}:percentencode}}"


def link(title: str, key: str, **variables: str) -> dict[str, Any]:
    """A data link to dashboard ``key`` with its variables set, keeping the time range."""
    params = "".join(f"var-{name}={value}&" for name, value in variables.items())
    uid = UIDS[key]
    return {"title": title, "url": f"/d/{uid}/{uid}?{params}${{__url_time_range}}"}


def card_link_from_row() -> dict[str, Any]:
    return link(
        "Card ${__data.fields.card_uid}",
        "card",
        nms=row_value("nms"),
        site=row_value("site"),
        card=row_value("card_uid"),
    )


def site_link_from_row() -> dict[str, Any]:
    return link("Site ${__data.fields.site}", "site", nms=row_value("nms"), site=row_value("site"))


def card_link_from_series() -> dict[str, Any]:
    return link(
        "Card ${__field.labels.card_uid}",
        "card",
        nms=series_label("nms"),
        site=series_label("site"),
        card=series_label("card_uid"),
    )


def site_link_from_series() -> dict[str, Any]:
    return link(
        "Site ${__field.labels.site}", "site", nms=series_label("nms"), site=series_label("site")
    )


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


# ---------------------------------------------------------------- panels


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
        dataSource=STORE if isinstance(targets[0], SqlTarget) else PROMETHEUS,
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
        dataSource=STORE if isinstance(targets[0], SqlTarget) else PROMETHEUS,
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


# ---------------------------------------------------------------- variables and dashboards


def query_var(
    name: str, query: str, label: str, multi: bool = False, include_all: bool = False
) -> Template:
    """A variable from a Prometheus label. "All" is the regex .*, so that PromQL ``=~``
    also keeps series without the label (alerts about the exporter carry no site) and SQL
    panels match with ``~ '^${var:regex}$'``."""
    return Template(
        allValue=".*" if include_all else None,
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


def dashboard_links() -> list[DashboardLink]:
    """Every Padtec dashboard in a menu, keeping the time range and the shared variables."""
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
        links=dashboard_links(),
        time=Time(f"now-{hours}h", "now"),
        refresh="30s",
        timezone="browser",
        graphTooltip=1,  # shared crosshair: hovering one graph marks the same time on all
        schemaVersion=SCHEMA_VERSION,
    )
