"""Network overview: is the network healthy, and where is it not?"""

from __future__ import annotations

from grafanalib.core import Dashboard, GridPos, Panel, Target

from dashgen.limits import Limits
from dashgen.links import nms_var, site_link_from_row, site_link_from_series
from dashgen.panels import (
    SEVERITY_COLOURS,
    SEVERITY_TEXT_MAPPING,
    STATE_MAPPING,
    UP_MAPPING,
    Layout,
    coloured_column,
    column,
    dashboard,
    linked_columns,
    merge_then_organize,
    organize,
    stat,
    state_timeline,
    steps,
    table,
)
from dashgen.queries import alerts, instant, prom, site_state

N = 'nms=~"$nms"'
ON_CARDS = f'{N}, card_uid!=""'
PORT_COLUMNS = ("site", "card_uid", "measure", "port")
ALERT_COLUMNS = ("severity", "alertname", "site", "card_uid", "measure", "port", "threshold")


def within_nms(expr: str) -> str:
    """``expr`` (card-level series) limited to the selected NMSs."""
    return f"({expr}) and on(nms, card_uid) padtec_card_info{{{N}}}"


def headline(at: Layout) -> list[Panel]:
    """One row of numbers: how much is there, how much is wrong."""
    return [
        stat(
            "Cards",
            prom(f"sum(site:padtec_cards:count{{{N}}})"),
            "none",
            at(4, 4),
            steps(("blue", None)),
            "Cards in the NMS inventory.",
        ),
        stat(
            "Cards down",
            prom(f"sum(site:padtec_cards_down:count{{{N}}})"),
            "none",
            at(4, 4),
            steps(("green", None), ("red", 1)),
            "Cards with PadtecCardDown firing: their measures stopped while the NMS refreshes "
            "its other cards. Not cardIsUp, which the real NMS reports false on working cards.",
        ),
        *(
            severity_count(severity, colour, at(4, 4))
            for severity, colour in SEVERITY_COLOURS.items()
        ),
        stat(
            "NMS reachable",
            prom(f"min(padtec_nms_up{{{N}}})"),
            "none",
            at(4, 4),
            steps(("red", None), ("green", 1)),
            "Whether the exporter's last request to every selected NMS succeeded.",
            UP_MAPPING,
        ),
    ]


def severity_count(severity: str, colour: str, pos: GridPos) -> Panel:
    matchers = f'{N}, severity="{severity}"'
    return stat(
        f"{severity.title()} alerts",
        prom(f"count({alerts(matchers)}) or vector(0)"),
        "none",
        pos,
        steps(("green", None), (colour, 1)),
        f"Padtec alerts firing now with severity {severity}"
        + (
            " (NMS alarms of severity WARNING and UNKNOWN included)."
            if severity == "MINOR"
            else "."
        ),
    )


def per_site(expr: str, ref: str) -> Target:
    """``expr`` summed per site, with 0 for sites where it has no series."""
    every_site = f"sum by (nms, site) (site:padtec_cards:count{{{N}}}) * 0"
    return instant(f"sum by (nms, site) ({expr}) or {every_site}", ref)


def sites_table(at: Layout) -> Panel:
    return table(
        "Sites, worst first",
        [
            instant(site_state(N), "A"),
            per_site(f"site:padtec_cards:count{{{N}}}", "B"),
            per_site(f"site:padtec_cards_down:count{{{N}}}", "C"),
            per_site(f"site:padtec_nms_alarms_active:count{{{N}}}", "D"),
            per_site(f"count by (nms, site, card_uid) ({alerts(ON_CARDS)})", "E"),
        ],
        at(12, 12),
        "Every site with its worst state (a card down or the worst firing alert), its cards, "
        "cards down, active NMS alarms and cards with a firing alert. Click a site to open it.",
        [
            *merge_then_organize(
                {
                    "Value #A": "state",
                    "Value #B": "cards",
                    "Value #C": "down",
                    "Value #D": "NMS alarms",
                    "Value #E": "cards alerting",
                },
                first=("nms", "site", "Value #A"),
            ),
            {"id": "sortBy", "options": {"sort": [{"field": "state", "desc": True}]}},
        ],
        overrides=[
            coloured_column("state", STATE_MAPPING),
            column("site", ("links", [site_link_from_row()])),
        ],
    )


def site_timeline(at: Layout) -> Panel:
    return state_timeline(
        "Site state over time",
        "Worst state of each site over the time range: where trouble is and "
        "when it began. Click a site to open it.",
        prom(site_state(N), "{{site}}"),
        at(12, 12),
        site_link_from_series(),
    )


def worst_ports(at: Layout, limits: Limits) -> list[Panel]:
    drop = limits.rule("power_drop").expr
    return [
        table(
            "Top degraded spans (input power drop over 1 h)",
            [instant(f"topk(10, {within_nms(drop)})")],
            at(12, 8),
            "Largest falls of amplifier line input or transponder line Rx power below their "
            f"maximum of the last hour, coloured past the threshold. {limits.describe('power_drop')}",
            organize({"Value": "drop"}, first=PORT_COLUMNS),
            unit="dB",
            limits=limits.default_steps("power_drop"),
            overrides=linked_columns(),
        ),
        table(
            "Lowest OSNR",
            [instant(f"bottomk(10, padtec_osnr_db{{{N}}})")],
            at(12, 8),
            "The ten line ports with the least OSNR margin, coloured past the threshold. "
            f"{limits.describe('osnr')}",
            organize({"Value": "OSNR"}, first=PORT_COLUMNS),
            unit="dB",
            limits=limits.default_steps("osnr"),
            overrides=linked_columns(),
        ),
    ]


def firing_alerts(at: Layout) -> Panel:
    return table(
        "Firing alerts",
        [instant(alerts(N))],
        at(24, 8),
        "Every Padtec alert firing now, worst first. Click a site or card to open it.",
        [
            *organize(hide=("Value", "measure_key", "measure_subkey"), first=ALERT_COLUMNS),
            {"id": "sortBy", "options": {"sort": [{"field": "severity"}]}},
        ],
        overrides=[coloured_column("severity", SEVERITY_TEXT_MAPPING), *linked_columns()],
    )


def build() -> Dashboard:
    at = Layout()
    limits = Limits.load()
    panels = [
        *headline(at),
        sites_table(at),
        site_timeline(at),
        *worst_ports(at, limits),
        firing_alerts(at),
    ]
    return dashboard(
        "overview",
        "Padtec / Network overview",
        "Is the network healthy, and where is it not: every site's worst state, cards by "
        "status, alerts by severity, degraded spans.",
        panels,
        [nms_var()],
    )
