"""Alerts and NMS alarms over time, by severity and site."""

from __future__ import annotations

from grafanalib.core import Dashboard, StateTimeline

from dashgen.common import (
    ALERTS,
    PROMETHEUS,
    Layout,
    dashboard,
    nms_var,
    prom,
    sql,
    table,
    timeseries,
)


def build() -> Dashboard:
    at = Layout()
    panels = [
        timeseries(
            "Firing alerts by severity",
            [prom(f"count by (severity) ({ALERTS})", "{{severity}}")],
            "none",
            at(12, 8),
        ),
        timeseries(
            "Active NMS alarms by severity",
            [
                prom(
                    'sum by (severity) (site:padtec_nms_alarms_active:count{nms=~"$nms"})',
                    "{{severity}}",
                )
            ],
            "none",
            at(12, 8),
        ),
        StateTimeline(
            title="Alert timeline",
            targets=[prom(f"count by (alertname, site) ({ALERTS})", "{{alertname}} @ {{site}}")],
            gridPos=at(24, 10),
            dataSource=PROMETHEUS,
        ),
        table(
            "Active NMS alarms",
            [prom('padtec_nms_alarm_active{nms=~"$nms"}', instant=True, table=True)],
            at(12, 9),
        ),
        table(
            "Alarm history (store)",
            [
                sql(
                    "SELECT starts_at AS time, ends_at, status, severity, alertname, site, card_uid, "
                    "summary, acknowledged_by FROM alarms WHERE $__timeFilter(starts_at) "
                    "ORDER BY starts_at DESC LIMIT 500"
                )
            ],
            at(12, 9),
            "From the store: ACTIVE, CLEARED or ACKNOWLEDGED (silenced) with who and when.",
        ),
    ]
    return dashboard(
        "alarms",
        "Padtec / Alarms",
        "Alerts and NMS alarms over time.",
        panels,
        [nms_var()],
        hours=24,
    )
