"""Any measure across cards: history, distribution, hourly and daily aggregates, years."""

from __future__ import annotations

from grafanalib.core import Dashboard, Histogram, Template

from dashgen.common import (
    MEASURE_FAMILIES,
    PROMETHEUS,
    Layout,
    dashboard,
    nms_var,
    prom,
    query_var,
    site_var,
    sql,
    table,
    timeseries,
)

SEL = 'nms=~"$nms", site=~"$site", measure="$measure"'


def build() -> Dashboard:
    at = Layout()
    family = Template(
        name="family",
        label="Family",
        type="custom",
        query=",".join(MEASURE_FAMILIES),
        default=MEASURE_FAMILIES[0],
    )
    measure = query_var(
        "measure", 'label_values({__name__="$family", nms=~"$nms"}, measure)', "Measure"
    )
    panels = [
        timeseries(
            "$measure by card",
            [prom(f"$family{{{SEL}}}", "{{site}} {{card_uid}} {{port}}")],
            "",
            at(24, 9),
        ),
        Histogram(
            title="Distribution now",
            targets=[prom(f"$family{{{SEL}}}", instant=True)],
            gridPos=at(12, 8),
            dataSource=PROMETHEUS,
            description="Spread of the current values across cards.",
        ),
        timeseries(
            "Hourly min / avg / max (all cards)",
            [
                prom(f"min(card_measure:$family:min_1h{{{SEL}}})", "min", ref="A"),
                prom(f"avg(card_measure:$family:avg_1h{{{SEL}}})", "avg", ref="B"),
                prom(f"max(card_measure:$family:max_1h{{{SEL}}})", "max", ref="C"),
            ],
            "",
            at(12, 8),
            description="From the card_measure:*_1h recording rules.",
        ),
        timeseries(
            "Daily min / max per card (store, years)",
            [
                sql(
                    "SELECT d.bucket AS time, s.card_uid || ' min' AS metric, d.min AS value "
                    "FROM measurements_daily d JOIN series s ON s.id = d.series_id "
                    "WHERE $__timeFilter(d.bucket) AND s.metric = '$family' AND s.measure = '$measure' "
                    "UNION ALL "
                    "SELECT d.bucket, s.card_uid || ' max', d.max FROM measurements_daily d "
                    "JOIN series s ON s.id = d.series_id "
                    "WHERE $__timeFilter(d.bucket) AND s.metric = '$family' AND s.measure = '$measure' "
                    "ORDER BY 1",
                    table=False,
                )
            ],
            "",
            at(12, 8),
            description="From PostgreSQL/TimescaleDB: use long time ranges here.",
        ),
        table(
            "Hourly aggregates (store)",
            [
                sql(
                    "SELECT h.bucket AS time, s.site, s.card_uid, h.min, h.avg, h.max, h.count "
                    "FROM measurements_hourly h JOIN series s ON s.id = h.series_id "
                    "WHERE $__timeFilter(h.bucket) AND s.metric = '$family' AND s.measure = '$measure' "
                    "ORDER BY h.bucket DESC LIMIT 500"
                )
            ],
            at(12, 8),
        ),
    ]
    return dashboard(
        "measurements",
        "Padtec / Measurements",
        "Any measure across cards: history, distribution and aggregates for long ranges.",
        panels,
        [nms_var(), site_var(multi=True), family, measure],
        hours=24,
    )
