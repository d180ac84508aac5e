"""One site: what is wrong here? Its cards, their status and key measurements."""

from __future__ import annotations

from grafanalib.core import Dashboard, GridPos, Panel, Target

from dashgen.limits import Limits
from dashgen.links import card_link_from_series, nms_var, site_var
from dashgen.panels import (
    STATE_MAPPING,
    UP_MAPPING,
    Layout,
    coloured_column,
    column,
    dashboard,
    linked_columns,
    merge_then_organize,
    stat,
    steps,
    table,
    timeseries,
)
from dashgen.queries import FIRING, alerts, instant, prom, severity_rank, site_state

SEL = 'nms=~"$nms", site="$site"'
LAST_UPDATE = f"padtec_card_last_update_timestamp_seconds{{{SEL}}}"
DOWN = f'{SEL}, alertname="PadtecCardDown"'
# The card-down/staleness measure of thresholds.yml, limited to the site.
LAG = (
    f'max by (nms) (padtec_card_last_update_timestamp_seconds{{nms=~"$nms"}}) '
    f"- on(nms) group_right() {LAST_UPDATE}"
)
EVERY_CARD = f"max by (nms, card_uid) (padtec_card_info{{{SEL}}}) * 0"


def headline(at: Layout, limits: Limits) -> list[Panel]:
    limits_steps = limits.default_steps("telemetry_age", "card_down")
    return [
        stat(
            "State",
            prom(site_state(SEL)),
            "none",
            at(4, 4),
            steps(("green", None)),
            "Worst of: a card down (CRITICAL) and the most severe firing alert.",
            STATE_MAPPING,
        ),
        stat(
            "Cards",
            prom(f"count(padtec_card_info{{{SEL}}})"),
            "none",
            at(4, 4),
            steps(("blue", None)),
        ),
        stat(
            "Cards down",
            prom(f"count({alerts(DOWN)}) or vector(0)"),
            "none",
            at(4, 4),
            steps(("green", None), ("red", 1)),
            "Cards whose measures stopped while the NMS refreshes its other cards "
            "(PadtecCardDown). cardIsUp is shown per card below, as the NMS reports it.",
        ),
        stat(
            "Firing alerts",
            prom(f"count({alerts(SEL)}) or vector(0)"),
            "none",
            at(4, 4),
            steps(("green", None), ("red", 1)),
        ),
        stat(
            "Active NMS alarms",
            prom(f"count(padtec_nms_alarm_active{{{SEL}}}) or vector(0)"),
            "none",
            at(4, 4),
            steps(("green", None), ("orange", 1)),
        ),
        stat(
            "Largest lag",
            prom(f"max({LAG})"),
            "s",
            at(4, 4),
            limits_steps,
            "How far the newest measurement of the site's most lagging card is behind the "
            "newest of its NMS (the NMS's own clock: no time zone involved).",
        ),
    ]


def per_card(expr: str, ref: str) -> Target:
    return instant(f"{expr} or {EVERY_CARD}", ref)


def cards_table(at: Layout) -> Panel:
    inventory = "nms, site, card_uid, card_model, card_family, card_serial, firmware"
    return table(
        "Cards",
        [
            instant(f"max by ({inventory}) (padtec_card_info{{{SEL}}})", "A"),
            instant(f"max by (nms, card_uid) (padtec_card_up{{{SEL}}})", "B"),
            per_card(severity_rank("ALERTS", f"{FIRING}, {SEL}", "nms, card_uid"), "C"),
            per_card(f"count by (nms, card_uid) (padtec_nms_alarm_active{{{SEL}}})", "D"),
            instant(f"max by (nms, card_uid) ({LAG})", "E"),
        ],
        at(24, 9),
        "Inventory with cardIsUp as the NMS reports it (false on working cards in the real "
        "NMS: not a fault by itself), the worst firing alert, active NMS alarms and how far "
        "the card's newest measurement lags its NMS's newest (empty for cards without "
        "measures, e.g. passive MUX_DEMUX). Click a card to open it.",
        [
            *merge_then_organize(
                {
                    "Value #B": "cardIsUp",
                    "Value #C": "alerts",
                    "Value #D": "NMS alarms",
                    "Value #E": "lag behind NMS",
                },
                hide=("Value #A",),
                first=("card_uid", "card_model", "card_family", "Value #B", "Value #C"),
            ),
            {"id": "sortBy", "options": {"sort": [{"field": "alerts", "desc": True}]}},
        ],
        overrides=[
            coloured_column("cardIsUp", UP_MAPPING),
            coloured_column("alerts", STATE_MAPPING),
            column("lag behind NMS", ("unit", "s")),
            *linked_columns(site=False),
        ],
    )


CARDS = SEL


def graph(title: str, selector: str, unit: str, pos: GridPos, limits: Limits, *rules: str) -> Panel:
    """Every card of the site on one graph; the alert thresholds that apply to the site's
    cards (per-model and per-card overrides included) as dashed lines."""
    about = "Click a series to open its card."
    bounds, styles = limits.limit_targets(CARDS, *rules, per_scope=True)
    if rules:
        about = (
            "Dashed lines: the thresholds that apply to this site's cards, one per bound and "
            f"scope (default or override). {limits.describe(*rules)} {about}"
        )
    return timeseries(
        title,
        [prom(selector, "{{card_uid}} {{port}}"), *bounds],
        unit,
        pos,
        None,
        about,
        overrides=styles,
        data_links=[card_link_from_series()],
    )


def build() -> Dashboard:
    at = Layout()
    limits = Limits.load()
    power = f"padtec_power_dbm{{{SEL}"
    panels = [
        *headline(at, limits),
        cards_table(at),
        graph(
            "Pump power", f'{power}, measure_key="7260"}}', "dBm", at(12, 8), limits, "pump_power"
        ),
        graph(
            "Amplifier line input power",
            f'{power}, measure_key="7255"}}',
            "dBm",
            at(12, 8),
            limits,
            "input_power",
        ),
        graph(
            "Transponder line Rx power",
            f'{power}, measure_key="8001", measure_subkey="0"}}',
            "dBm",
            at(12, 8),
            limits,
            "rx_power_warning",
            "rx_power_critical",
        ),
        graph("OSNR", f"padtec_osnr_db{{{SEL}}}", "dB", at(12, 8), limits, "osnr"),
        graph(
            "Board temperature",
            f"padtec_temperature_celsius{{{SEL}}}",
            "celsius",
            at(12, 8),
            limits,
            "board_temperature",
        ),
        graph(
            "Output and Tx power",
            f'{power}, measure_key=~"7256|8002"}}',
            "dBm",
            at(12, 8),
            limits,
        ),
    ]
    return dashboard(
        "site",
        "Padtec / Site",
        "What is wrong at this site: its cards, their status, alerts and key measurements.",
        panels,
        [nms_var(), site_var()],
    )
