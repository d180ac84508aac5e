"""One card: every measurement over time against its own alert bounds, its status, alarms,
alerts and inventory."""

from __future__ import annotations

from typing import Any

from grafanalib.core import Dashboard, GridPos, Panel, StateTimeline

from dashgen.datasources import PROMETHEUS
from dashgen.limits import Limits
from dashgen.links import nms_var, query_var, site_var
from dashgen.panels import (
    SEVERITY_TEXT_MAPPING,
    STATE_MAPPING,
    UP_MAPPING,
    Layout,
    coloured_column,
    dashboard,
    linked_columns,
    organize,
    stat,
    steps,
    table,
    timeseries,
)
from dashgen.queries import FAMILIES, FIRING, alerts, instant, prom, severity_rank

CARD = 'nms=~"$nms", card_uid="$card"'
# Transponder line Rx (the ports the rx_power rules watch).
RX_LINE = 'measure_key="8001", measure_subkey="0"'
INVENTORY_COLUMNS = (
    "site",
    "card_uid",
    "card_model",
    "card_family",
    "card_part",
    "card_serial",
    "firmware",
    "data_provider",
    "nms",
)


def measure(family: str, matchers: str = "") -> str:
    extra = f", {matchers}" if matchers else ""
    return f"{family}{{{CARD}{extra}}}"


def headline(at: Layout) -> list[Panel]:
    worst = severity_rank("ALERTS", f"{FIRING}, {CARD}", "card_uid")
    return [
        stat(
            "NMS cardIsUp",
            prom(f"padtec_card_up{{{CARD}}}"),
            "none",
            at(5, 4),
            steps(("red", None), ("green", 1)),
            "cardIsUp as the NMS reports it. Not proof of a fault: the real NMS reports false on "
            "working cards. A card is down when PadtecCardDown fires (its measures stopped).",
            UP_MAPPING,
        ),
        stat(
            "Worst alert",
            prom(f"{worst} or max by (card_uid) (padtec_card_info{{{CARD}}}) * 0"),
            "none",
            at(5, 4),
            steps(("green", None)),
            "Most severe Padtec alert firing on this card.",
            STATE_MAPPING,
        ),
        stat(
            "Active NMS alarms",
            prom(f"count(padtec_nms_alarm_active{{{CARD}}}) or vector(0)"),
            "none",
            at(5, 4),
            steps(("green", None), ("orange", 1)),
        ),
        stat(
            "Newest measurement",
            prom(f"time() - padtec_card_last_update_timestamp_seconds{{{CARD}}}"),
            "s",
            at(5, 4),
            steps(("green", None), ("orange", 300)),
            "Age of the newest measurement; PadtecCardStale fires past 300 s.",
        ),
        stat(
            "Status refreshed",
            prom(f"time() - padtec_card_status_timestamp_seconds{{{CARD}}}"),
            "s",
            at(4, 4),
            steps(("blue", None)),
            "Age of the NMS's cardUpdate; it can lag measurements by hours.",
        ),
    ]


def inventory(at: Layout) -> Panel:
    return table(
        "Inventory",
        [instant(f"padtec_card_info{{{CARD}}}")],
        at(24, 3),
        "From the NMS inventory. Click the site to open it.",
        organize(hide=("Value",), first=INVENTORY_COLUMNS),
        overrides=linked_columns(card=False),
    )


def history(at: Layout) -> Panel:
    """NMS status and each alert's severity over time, one lane each."""
    ranked = severity_rank("ALERTS", f"{FIRING}, {CARD}", "alertname")
    return StateTimeline(
        title="Status and alerts over time",
        description="cardIsUp as the NMS reports it and, below it, each alert that fired, "
        "coloured by severity.",
        targets=[
            prom(f"padtec_card_up{{{CARD}}}", "NMS cardIsUp", ref="status"),
            prom(ranked, "{{alertname}}", ref="alerts"),
        ],
        gridPos=at(24, 5),
        dataSource=PROMETHEUS,
        showValue="never",
        mergeValues=True,
        maxDataPoints=None,
        overrides=[_mapping_of("status", UP_MAPPING), _mapping_of("alerts", STATE_MAPPING)],
        extraJson={"fieldConfig": {"defaults": {"unit": "none"}}},
    )


def _mapping_of(ref: str, mapping: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "matcher": {"id": "byFrameRefID", "options": ref},
        "properties": [{"id": "mappings", "value": mapping}],
    }


def bounded(
    title: str, selector: str, unit: str, pos: GridPos, limits: Limits, *rules: str
) -> Panel:
    """The card's series, and the alert bounds that apply to this very card as dashed lines
    (overrides of thresholds.yml included)."""
    bounds, styles = limits.limit_targets(CARD, *rules)
    return timeseries(
        title,
        [prom(selector, "{{measure}} {{port}}"), *bounds],
        unit,
        pos,
        description=f"Dashed lines: the bounds that apply to this card. {limits.describe(*rules)}",
        overrides=styles,
    )


def plain(title: str, family: str, pos: GridPos, log_scale: bool = False) -> Panel:
    return timeseries(
        title,
        [prom(measure(family), "{{measure}} {{port}}")],
        FAMILIES[family],
        pos,
        log_scale=log_scale,
    )


def optical(at: Layout, limits: Limits) -> list[Panel]:
    power = "padtec_power_dbm"
    line_in = measure(power, 'measure_key="7255"') + " or " + measure(power, RX_LINE)
    other = (
        measure(power, 'measure_key!~"7260|7255|8001"')
        + " or "
        + measure(power, 'measure_key="8001", measure_subkey!="0"')
    )
    return [
        bounded(
            "Pump power",
            measure(power, 'measure_key="7260"'),
            "dBm",
            at(12, 8),
            limits,
            "pump_power",
        ),
        bounded(
            "Input power (amplifier line in, transponder line Rx)",
            line_in,
            "dBm",
            at(12, 8),
            limits,
            "input_power",
            "rx_power_warning",
            "rx_power_critical",
        ),
        bounded("OSNR", measure("padtec_osnr_db"), "dB", at(12, 8), limits, "osnr"),
        bounded(
            "Board temperature",
            measure("padtec_temperature_celsius"),
            "celsius",
            at(12, 8),
            limits,
            "board_temperature",
        ),
        timeseries(
            "Other optical power (output, Tx, client ports, signal)",
            [prom(other, "{{measure}} {{port}}")],
            "dBm",
            at(12, 8),
        ),
        plain("Gain", "padtec_gain_db", at(12, 8)),
    ]


def electrical(at: Layout) -> list[Panel]:
    return [
        plain("Currents", "padtec_current_amperes", at(8, 7)),
        plain("Voltages", "padtec_voltage_volts", at(8, 7)),
        plain("Laser and electrical power", "padtec_power_watts", at(8, 7)),
        plain("Pre-FEC BER", "padtec_ber_ratio", at(12, 7), log_scale=True),
        plain("Measures of unknown unit", "padtec_measure_value", at(12, 7)),
    ]


def alarms(at: Layout) -> list[Panel]:
    return [
        table(
            "NMS alarms",
            [instant(f"padtec_nms_alarm_active{{{CARD}}}")],
            at(12, 6),
            "Alarms the equipment raises, active now.",
            organize(
                hide=("Value", "nms", "site", "card_uid"),
                first=("severity", "alarm_name", "alarm_group", "resource", "port"),
            ),
            overrides=[coloured_column("severity", SEVERITY_TEXT_MAPPING)],
        ),
        table(
            "Alerts",
            [instant(alerts(CARD))],
            at(12, 6),
            "Padtec alerts firing now on this card.",
            organize(
                hide=("Value", "nms", "site", "card_uid", "measure_key", "measure_subkey"),
                first=("severity", "alertname", "measure", "port", "threshold", "scope"),
            ),
            overrides=[coloured_column("severity", SEVERITY_TEXT_MAPPING)],
        ),
    ]


def build() -> Dashboard:
    at = Layout()
    limits = Limits.load()
    panels = [
        *headline(at),
        inventory(at),
        history(at),
        *optical(at, limits),
        *electrical(at),
        *alarms(at),
    ]
    card = query_var(
        "card", 'label_values(padtec_card_info{nms=~"$nms", site="$site"}, card_uid)', "Card"
    )
    return dashboard(
        "card",
        "Padtec / Card",
        "What is this card doing: every measurement against its own alert bounds, status, "
        "alarms, alerts and inventory.",
        panels,
        [nms_var(), site_var(), card],
    )
