"""Links between the dashboards (data links from rows and series, the dashboard menu) and the
variables they set."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from grafanalib.core import (
    DashboardLink,
    Template,
)

from dashgen.datasources import PROMETHEUS

UIDS = {
    "overview": "padtec-overview",
    "site": "padtec-site",
    "card": "padtec-card",
    "measurements": "padtec-measurements",
    "alarms": "padtec-alarms",
    "exporter": "padtec-exporter-health",
}


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


def card_link(title: str, value: Callable[[str], str]) -> dict[str, Any]:
    """A data link to the card dashboard; ``value`` reads a field of the clicked row or series."""
    return link(
        f"Card {title}", "card", nms=value("nms"), site=value("site"), card=value("card_uid")
    )


def site_link(title: str, value: Callable[[str], str]) -> dict[str, Any]:
    return link(f"Site {title}", "site", nms=value("nms"), site=value("site"))


def card_link_from_row() -> dict[str, Any]:
    return card_link("${__data.fields.card_uid}", row_value)


def site_link_from_row() -> dict[str, Any]:
    return site_link("${__data.fields.site}", row_value)


def card_link_from_series() -> dict[str, Any]:
    return card_link("${__field.labels.card_uid}", series_label)


def site_link_from_series() -> dict[str, Any]:
    return site_link("${__field.labels.site}", series_label)


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
