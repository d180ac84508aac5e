"""One site: its cards, their status and key measurements."""

from __future__ import annotations

from grafanalib.core import Dashboard

from dashgen.common import (
    Layout,
    band,
    dashboard,
    nms_var,
    prom,
    site_var,
    stat,
    steps,
    table,
    thresholds,
    timeseries,
)

SEL = 'nms=~"$nms", site="$site"'


def build() -> Dashboard:
    at = Layout()
    limits = thresholds()
    panels = [
        stat(
            "Cards",
            prom(f"count(padtec_card_info{{{SEL}}})"),
            "none",
            at(6, 4),
            steps(("blue", None)),
        ),
        stat(
            "Cards not up",
            prom(f"count(padtec_card_up{{{SEL}}} == 0) or vector(0)"),
            "none",
            at(6, 4),
            steps(("green", None), ("red", 1)),
        ),
        stat(
            "Active NMS alarms",
            prom(f"count(padtec_nms_alarm_active{{{SEL}}}) or vector(0)"),
            "none",
            at(6, 4),
            steps(("green", None), ("orange", 1)),
        ),
        stat(
            "Oldest measurement age",
            prom(f"max(time() - padtec_card_last_update_timestamp_seconds{{{SEL}}})"),
            "s",
            at(6, 4),
            steps(("green", None), ("orange", 300)),
        ),
        table(
            "Cards",
            [
                prom(f"padtec_card_info{{{SEL}}}", ref="A", instant=True, table=True),
                prom(f"padtec_card_up{{{SEL}}}", ref="B", instant=True, table=True),
            ],
            at(24, 9),
            "Inventory of the site with the NMS status (1 = up). Click a card.",
            transformations=[
                {"id": "merge", "options": {}},
                {
                    "id": "organize",
                    "options": {
                        "excludeByName": {
                            "Time": True,
                            "Value #A": True,
                            "__name__": True,
                            "job": True,
                            "instance": True,
                        },
                        "renameByName": {"Value #B": "up"},
                    },
                },
            ],
        ),
        timeseries(
            "Pump power",
            [prom(f'padtec_power_dbm{{{SEL}, measure_key="7260"}}', "{{card_uid}}")],
            "dBm",
            at(12, 8),
            band(limits["pump_power"]["min"], limits["pump_power"]["max"]),
        ),
        timeseries(
            "Input power (amplifier line in, transponder line Rx)",
            [
                prom(
                    f'padtec_power_dbm{{{SEL}, measure_key=~"7255|8001", measure_subkey="0"}}',
                    "{{card_uid}} {{measure}}",
                )
            ],
            "dBm",
            at(12, 8),
            band(limits["input_power"]["min"]),
        ),
        timeseries(
            "OSNR",
            [prom(f"padtec_osnr_db{{{SEL}}}", "{{card_uid}}")],
            "dB",
            at(12, 8),
            band(limits["osnr"]["min"]),
        ),
        timeseries(
            "Board temperature",
            [prom(f"padtec_temperature_celsius{{{SEL}}}", "{{card_uid}}")],
            "celsius",
            at(12, 8),
            band(high=limits["board_temperature"]["max"]),
        ),
    ]
    return dashboard(
        "site",
        "Padtec / Site",
        "Cards of one site, their status and key measurements.",
        panels,
        [nms_var(), site_var()],
    )
