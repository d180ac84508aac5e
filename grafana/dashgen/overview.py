"""Network overview: is the network healthy, and where is it not?"""

from __future__ import annotations

from grafanalib.core import Dashboard

from dashgen.common import (
    ALERTS,
    Layout,
    dashboard,
    nms_var,
    prom,
    stat,
    steps,
    table,
)

DROP = (
    'max_over_time(padtec_power_dbm{nms=~"$nms", measure_key=~"7255|8001", '
    'measure_subkey="0"}[1h]) - padtec_power_dbm{nms=~"$nms", measure_key=~"7255|8001", '
    'measure_subkey="0"}'
)


def build() -> Dashboard:
    at = Layout()
    ok_red = steps(("green", None), ("red", 1))
    panels = [
        stat(
            "Cards",
            prom('sum(site:padtec_cards:count{nms=~"$nms"})'),
            "none",
            at(4, 4),
            steps(("blue", None)),
        ),
        stat(
            "Cards not up",
            prom('sum(site:padtec_cards_down:count{nms=~"$nms"})'),
            "none",
            at(4, 4),
            ok_red,
        ),
        stat(
            "Critical alerts",
            prom(f'count({ALERTS[:-1]}, severity="CRITICAL"}}) or vector(0)'),
            "none",
            at(4, 4),
            ok_red,
        ),
        stat(
            "Major alerts",
            prom(f'count({ALERTS[:-1]}, severity="MAJOR"}}) or vector(0)'),
            "none",
            at(4, 4),
            steps(("green", None), ("orange", 1)),
        ),
        stat(
            "Minor alerts",
            prom(f'count({ALERTS[:-1]}, severity="MINOR"}}) or vector(0)'),
            "none",
            at(4, 4),
            steps(("green", None), ("yellow", 1)),
        ),
        stat(
            "NMS reachable",
            prom('min(padtec_nms_up{nms=~"$nms"})'),
            "bool_yes_no",
            at(4, 4),
            steps(("red", None), ("green", 1)),
        ),
        table(
            "Sites: worst state first",
            [
                prom(
                    'sum by (nms, site) (site:padtec_cards:count{nms=~"$nms"})',
                    ref="A",
                    instant=True,
                    table=True,
                ),
                prom(
                    'sum by (nms, site) (site:padtec_cards_down:count{nms=~"$nms"})',
                    ref="B",
                    instant=True,
                    table=True,
                ),
                prom(
                    'sum by (nms, site) (site:padtec_nms_alarms_active:count{nms=~"$nms"}) '
                    'or sum by (nms, site) (site:padtec_cards:count{nms=~"$nms"}) * 0',
                    ref="C",
                    instant=True,
                    table=True,
                ),
                prom(
                    'sum by (nms, site) (count by (nms, site, card_uid) (ALERTS{alertstate="firing",'
                    ' severity=~"CRITICAL|MAJOR", nms=~"$nms"})) or sum by (nms, site) '
                    '(site:padtec_cards:count{nms=~"$nms"}) * 0',
                    ref="D",
                    instant=True,
                    table=True,
                ),
            ],
            at(12, 12),
            "Cards, cards not up, active NMS alarms and cards with a CRITICAL or MAJOR "
            "alert, per site. Click a site for its dashboard.",
            transformations=[
                {"id": "merge", "options": {}},
                {
                    "id": "organize",
                    "options": {
                        "excludeByName": {"Time": True},
                        "renameByName": {
                            "Value #A": "cards",
                            "Value #B": "not up",
                            "Value #C": "NMS alarms",
                            "Value #D": "cards alerting",
                        },
                    },
                },
                {"id": "sortBy", "options": {"sort": [{"field": "cards alerting", "desc": True}]}},
            ],
        ),
        table(
            "Top degraded spans (input power drop over 1 h, dB)",
            [
                prom(f"topk(10, {DROP})", instant=True, table=True),
            ],
            at(12, 6),
            "Largest fall of amplifier line input or transponder line Rx power from "
            "its 1 h maximum. Alerts at 3 dB (PadtecOpticalPowerDrop).",
        ),
        table(
            "Lowest OSNR (dB)",
            [
                prom('bottomk(10, padtec_osnr_db{nms=~"$nms"})', instant=True, table=True),
            ],
            at(12, 6),
            "Transponders closest to the 15 dB OSNR threshold.",
        ),
        table(
            "Firing alerts",
            [prom(ALERTS, instant=True, table=True)],
            at(24, 8),
            "Every Padtec alert firing now, from Prometheus.",
        ),
    ]
    return dashboard(
        "overview",
        "Padtec / Network overview",
        "Every site's worst state, cards by status, alerts by severity.",
        panels,
        [nms_var()],
    )
