"""One card: inventory, status, every measurement over time with thresholds, its alarms."""

from __future__ import annotations

from grafanalib.core import Dashboard

from dashgen.common import (
    ALERTS,
    UNITS,
    Layout,
    band,
    dashboard,
    nms_var,
    prom,
    query_var,
    site_var,
    stat,
    steps,
    table,
    thresholds,
    timeseries,
)

SEL = 'nms=~"$nms", card_uid="$card"'


def build() -> Dashboard:
    at = Layout()
    limits = thresholds()
    power_band = band(limits["pump_power"]["min"], limits["pump_power"]["max"])
    panels = [
        stat(
            "NMS status",
            prom(f"padtec_card_up{{{SEL}}}"),
            "bool_on_off",
            at(6, 4),
            steps(("red", None), ("green", 1)),
            "cardIsUp as the NMS reports it.",
        ),
        stat(
            "Last measurement",
            prom(f"time() - padtec_card_last_update_timestamp_seconds{{{SEL}}}"),
            "s",
            at(6, 4),
            steps(("green", None), ("orange", 300)),
            "Age of the newest measurement.",
        ),
        stat(
            "Status refreshed",
            prom(f"time() - padtec_card_status_timestamp_seconds{{{SEL}}}"),
            "s",
            at(6, 4),
            steps(("blue", None)),
            "Age of the NMS's cardUpdate; it can lag measurements by hours.",
        ),
        stat(
            "Firing alerts",
            prom(f'count({ALERTS[:-1]}, card_uid="$card"}}) or vector(0)'),
            "none",
            at(6, 4),
            steps(("green", None), ("red", 1)),
        ),
        table(
            "Inventory", [prom(f"padtec_card_info{{{SEL}}}", instant=True, table=True)], at(24, 4)
        ),
        timeseries(
            "Optical power",
            [prom(f"padtec_power_dbm{{{SEL}}}", "{{measure}} {{port}}")],
            "dBm",
            at(12, 8),
            power_band,
            "Pump power thresholds drawn; input power alerts at "
            f"{limits['input_power']['min']:g} dBm.",
        ),
        timeseries(
            "OSNR",
            [prom(f"padtec_osnr_db{{{SEL}}}", "{{measure}} {{port}}")],
            "dB",
            at(12, 8),
            band(limits["osnr"]["min"]),
        ),
        timeseries("Gain", [prom(f"padtec_gain_db{{{SEL}}}", "{{measure}}")], "dB", at(8, 7)),
        timeseries(
            "Temperature",
            [prom(f"padtec_temperature_celsius{{{SEL}}}", "{{measure}}")],
            UNITS["padtec_temperature_celsius"],
            at(8, 7),
            band(high=limits["board_temperature"]["max"]),
        ),
        timeseries(
            "Currents", [prom(f"padtec_current_amperes{{{SEL}}}", "{{measure}}")], "amp", at(8, 7)
        ),
        table(
            "NMS alarms",
            [prom(f"padtec_nms_alarm_active{{{SEL}}}", instant=True, table=True)],
            at(12, 6),
        ),
        table(
            "Alerts",
            [prom(f'{ALERTS[:-1]}, card_uid="$card"}}', instant=True, table=True)],
            at(12, 6),
        ),
    ]
    card = query_var(
        "card", 'label_values(padtec_card_info{nms=~"$nms", site="$site"}, card_uid)', "Card"
    )
    return dashboard(
        "card",
        "Padtec / Card",
        "One card: measurements with thresholds, status, alarms, inventory.",
        panels,
        [nms_var(), site_var(), card],
    )
