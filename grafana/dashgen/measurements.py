"""Any measure across cards: history, distribution, hourly and daily aggregates, years.

A measure belongs to one family (padtec_power_dbm, ...), and the family fixes the unit. Grafana
cannot take a unit from a variable, so every query labels its series with the family (a
``[power_dbm]`` suffix in the legend) and one field override per family sets the unit.
"""

from __future__ import annotations

from typing import Any

from grafanalib.core import Dashboard, Histogram, Panel

from dashgen.datasources import PROMETHEUS
from dashgen.links import card_link_from_series, nms_var, query_var, site_var
from dashgen.panels import Layout, dashboard, table, timeseries
from dashgen.queries import ANY_FAMILY, FAMILIES, FAMILY_NAMES, prom, sql

SEL = 'nms=~"$nms", site=~"$site", measure="$measure", port=~"$port"'
SQL_SEL = (
    "s.nms ~ '^${nms:regex}$' AND s.site ~ '^${site:regex}$' AND s.measure = '$measure' "
    "AND coalesce(s.port, '') ~ '^${port:regex}$'"
)


def family_labelled(selector: str, prefix: str = "padtec_", suffix: str = "") -> str:
    """``selector`` with a ``family`` label (power_dbm, ...) cut out of the metric name."""
    pattern = f"{prefix}(.+){suffix}"
    return f'label_replace({selector}, "family", "$1", "__name__", "{pattern}")'


def unit_by_family() -> list[dict[str, Any]]:
    """Field overrides: a series whose name ends in ``[power_dbm]`` is in dBm, and so on."""
    return [
        {
            "matcher": {"id": "byRegexp", "options": f"/\\[{family.removeprefix('padtec_')}\\]$/"},
            "properties": [{"id": "unit", "value": unit}],
        }
        for family, unit in FAMILIES.items()
    ]


def current() -> str:
    return family_labelled(f"{{{ANY_FAMILY}, {SEL}}}")


def aggregate(how: str, window: str) -> str:
    """``how`` (min, avg, max) of the card_measure recording rules of ``window`` (1h, 1d)
    over the selected cards."""
    rule = f'{{__name__=~"card_measure:padtec_({FAMILY_NAMES}):{how}_{window}", {SEL}}}'
    labelled = family_labelled(rule, "card_measure:padtec_", f":{how}_{window}")
    return f"{how} by (family) ({labelled})"


def aggregates(title: str, window: str, pos: Any, description: str) -> Panel:
    return timeseries(
        title,
        [
            prom(aggregate(how, window), f"{how} [{{{{family}}}}]", ref=how)
            for how in ("min", "avg", "max")
        ],
        "none",
        pos,
        description=description,
        overrides=unit_by_family(),
    )


def store_daily(pos: Any) -> Panel:
    family = "'[' || replace(s.metric, 'padtec_', '') || ']'"
    rows = "FROM measurements_daily d JOIN series s ON s.id = d.series_id"
    where = f"WHERE $__timeFilter(d.bucket) AND {SQL_SEL}"
    query = (
        f"SELECT d.bucket AS time, s.card_uid || ' ' || coalesce(s.port, '') || ' min ' || "
        f"{family} AS metric, d.min AS value {rows} {where} "
        f"UNION ALL SELECT d.bucket, s.card_uid || ' ' || coalesce(s.port, '') || ' max ' || "
        f"{family}, d.max {rows} {where} ORDER BY 1"
    )
    return timeseries(
        "Daily min / max per card (store, years)",
        [sql(query, table=False)],
        "none",
        pos,
        description="From PostgreSQL/TimescaleDB (measurements_daily, kept 3 years): use "
        "long time ranges here.",
        overrides=unit_by_family(),
    )


def store_hourly(pos: Any) -> Panel:
    query = (
        "SELECT h.bucket AS time, s.site, s.card_uid, s.port, "
        "replace(s.metric, 'padtec_', '') AS family, h.min, h.avg, h.max, h.count "
        "FROM measurements_hourly h JOIN series s ON s.id = h.series_id "
        f"WHERE $__timeFilter(h.bucket) AND {SQL_SEL} "
        "ORDER BY h.bucket DESC, s.site, s.card_uid LIMIT 1000"
    )
    return table(
        "Hourly aggregates (store)",
        [sql(query)],
        pos,
        "From PostgreSQL/TimescaleDB (measurements_hourly, kept 1 year); the unit is the "
        "family's (power_dbm: dBm, osnr_db: dB, temperature_celsius: °C, ...).",
    )


def build() -> Dashboard:
    at = Layout()
    measure = query_var(
        "measure",
        f'label_values({{{ANY_FAMILY}, nms=~"$nms", site=~"$site"}}, measure)',
        "Measure",
    )
    port = query_var(
        "port",
        f'label_values({{{ANY_FAMILY}, nms=~"$nms", site=~"$site", measure="$measure"}}, port)',
        "Port",
        multi=True,
        include_all=True,
    )
    panels = [
        timeseries(
            "$measure by card",
            [prom(current(), "{{site}} {{card_uid}} {{port}} [{{family}}]")],
            "none",
            at(24, 9),
            description="Every selected card's value over time. Click a series to open its card.",
            overrides=unit_by_family(),
            data_links=[card_link_from_series()],
        ),
        Histogram(
            title="Distribution now",
            description="How the current values spread across the selected cards.",
            targets=[prom(current(), "{{site}} {{card_uid}} {{port}} [{{family}}]", instant=True)],
            gridPos=at(8, 8),
            dataSource=PROMETHEUS,
            combine=True,
            overrides=unit_by_family(),
            maxDataPoints=None,
            extraJson={"fieldConfig": {"defaults": {"unit": "none"}}},
        ),
        aggregates(
            "Hourly min / avg / max",
            "1h",
            at(8, 8),
            "From the card_measure:*_1h recording rules (Prometheus, 30 days).",
        ),
        aggregates(
            "Daily min / avg / max",
            "1d",
            at(8, 8),
            "From the card_measure:*_1d recording rules (Prometheus, 30 days); the store "
            "below keeps years.",
        ),
        store_daily(at(12, 8)),
        store_hourly(at(12, 8)),
    ]
    return dashboard(
        "measurements",
        "Padtec / Measurements",
        "How one measure behaves across cards and over months: history, distribution, "
        "hourly and daily aggregates, years from the store.",
        panels,
        [nms_var(), site_var(multi=True), measure, port],
        hours=24,
    )
