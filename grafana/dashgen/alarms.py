"""What fired when: alerts and NMS alarms over time, by severity and site, and the history
kept in the store."""

from __future__ import annotations

from typing import Any

from grafanalib.core import Dashboard, Panel

from dashgen.links import card_link_from_series, nms_var, site_var
from dashgen.panels import (
    SEVERITY_COLOURS,
    SEVERITY_TEXT_MAPPING,
    Layout,
    coloured_column,
    column,
    dashboard,
    linked_columns,
    organize,
    state_timeline,
    table,
    timeseries,
)
from dashgen.queries import FIRING, alerts, instant, prom, severity_rank, sql

# Alerts about the exporter or an NMS carry no site: "All" (.*) keeps them, a chosen site not.
SEL = 'nms=~"$nms", site=~"$site"'
SQL_SEL = "coalesce(nms, '') ~ '^${nms:regex}$' AND coalesce(site, '') ~ '^${site:regex}$'"


def severity_colours() -> list[dict[str, Any]]:
    """Series named after a severity get its colour."""
    return [
        column(name, ("color", {"mode": "fixed", "fixedColor": colour}))
        for name, colour in SEVERITY_COLOURS.items()
    ]


def counts(at: Layout) -> list[Panel]:
    return [
        timeseries(
            "Firing alerts by severity",
            [prom(f"count by (severity) ({alerts(SEL)})", "{{severity}}")],
            "none",
            at(8, 8),
            overrides=severity_colours(),
            stacked=True,
        ),
        timeseries(
            "Active NMS alarms by severity",
            [
                prom(
                    f"sum by (severity) (site:padtec_nms_alarms_active:count{{{SEL}}})",
                    "{{severity}}",
                )
            ],
            "none",
            at(8, 8),
            overrides=severity_colours(),
            stacked=True,
        ),
        timeseries(
            "Active NMS alarms by site",
            [prom(f"sum by (site) (site:padtec_nms_alarms_active:count{{{SEL}}})", "{{site}}")],
            "none",
            at(8, 8),
            stacked=True,
        ),
    ]


def timeline(title: str, expr: str, legend: str, height: int, at: Layout, about: str) -> Panel:
    return state_timeline(
        title,
        f"{about} Colour: the severity. Click a lane to open its card.",
        prom(expr, legend),
        at(24, height),
        card_link_from_series(),
    )


def timelines(at: Layout) -> list[Panel]:
    return [
        timeline(
            "Alert timeline",
            severity_rank("ALERTS", f"{FIRING}, {SEL}", "alertname, nms, site, card_uid"),
            "{{alertname}} @ {{site}} {{card_uid}}",
            10,
            at,
            "Each Padtec alert that fired in the time range, per card.",
        ),
        timeline(
            "NMS alarm timeline",
            severity_rank("padtec_nms_alarm_active", SEL, "alarm_name, nms, site, card_uid"),
            "{{alarm_name}} @ {{site}} {{card_uid}}",
            8,
            at,
            "Each alarm the equipment raised in the time range (WARNING and UNKNOWN shown as "
            "MINOR).",
        ),
    ]


def tables(at: Layout) -> list[Panel]:
    history = (
        "SELECT starts_at AS time, ends_at, status, severity, alertname, nms, site, card_uid, "
        "summary, acknowledged_by, acknowledged_at FROM alarms "
        f"WHERE $__timeFilter(starts_at) AND {SQL_SEL} ORDER BY starts_at DESC LIMIT 1000"
    )
    return [
        table(
            "Active NMS alarms",
            [instant(f"padtec_nms_alarm_active{{{SEL}}}")],
            at(12, 9),
            "Alarms the equipment raises, active now. Click a site or card to open it.",
            organize(
                hide=("Value",),
                first=("severity", "site", "card_uid", "alarm_name", "alarm_group", "port"),
            ),
            overrides=[
                coloured_column("severity", SEVERITY_TEXT_MAPPING),
                *linked_columns(),
            ],
        ),
        table(
            "Alarm history (store)",
            [sql(history)],
            at(12, 9),
            "Every alert Alertmanager sent, from the store (kept a year after clearing): "
            "ACTIVE, CLEARED or ACKNOWLEDGED (silenced) with who and when. Click a site or "
            "card to open it.",
            overrides=[
                coloured_column("severity", SEVERITY_TEXT_MAPPING),
                *linked_columns(),
            ],
        ),
    ]


def build() -> Dashboard:
    at = Layout()
    panels = [*counts(at), *timelines(at), *tables(at)]
    return dashboard(
        "alarms",
        "Padtec / Alarms",
        "What fired when: alerts and NMS alarms over time by severity and site, and the "
        "alarm history of the store.",
        panels,
        [nms_var(), site_var(multi=True)],
        hours=24,
    )
