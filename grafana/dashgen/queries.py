"""PromQL and SQL of the dashboards: metric families, firing alerts, severity ranks, targets."""

from __future__ import annotations

from grafanalib.core import (
    SqlTarget,
    Target,
)

# Datasources are template variables (datasources.py), never uids of one Grafana.
from dashgen.datasources import PROMETHEUS, STORE
from padtec_exporter.model import families as catalogue

# Measure families and the Grafana unit of each (the catalogue: model/families.py).
FAMILIES = {family.metric: family.grafana_unit for family in catalogue.MEASURES}


FAMILY_NAMES = "|".join(f.removeprefix("padtec_") for f in FAMILIES)


ANY_FAMILY = f'__name__=~"padtec_({FAMILY_NAMES})"'


FIRING = 'alertstate="firing", alertname=~"Padtec.*"'


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
