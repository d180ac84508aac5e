"""The metric-family catalogue: every family the exporter renders from NMS data, once.

The renderer (HELP lines, via model/units.py), the unit table, the rule generator, the
dashboards (Grafana units), the store (which families it keeps) and the tests read it; the
README's metrics table is checked against it. Adding a family is one entry here (and, for a
measure family, the unit rules in model/units.py that route measures to it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

PREFIX = "padtec_"
UNKNOWN_FAMILY = "measure_value"


@dataclass(frozen=True)
class Family:
    name: str  # without PREFIX: the exposed name is PREFIX + name
    help: str  # the exposition's HELP text
    unit: str  # the base unit in the name ("" when none)
    grafana_unit: str  # Grafana's unit id for panels of this family
    stored: bool  # the store keeps its samples (table measurements)
    kind: Literal["measure", "card"]  # a measure value, or a per-card/alarm series

    @property
    def metric(self) -> str:
        return PREFIX + self.name


def _measure(name: str, help: str, unit: str, grafana_unit: str) -> Family:
    return Family(name, help, unit, grafana_unit, stored=True, kind="measure")


def _card(name: str, help: str, unit: str = "", *, stored: bool = False) -> Family:
    return Family(name, help, unit, "none", stored=stored, kind="card")


FAMILIES: tuple[Family, ...] = (
    # Per card and alarm, in exposition order.
    _card("card_info", "Card inventory from the NMS; the value is always 1."),
    _card(
        "card_up",
        "cardIsUp (or inventory cardIsActive) as the NMS reports it, 1 = true; not a fault "
        "signal: the real NMS reports false on working cards (prometheus/README.md).",
        stored=True,
    ),
    _card(
        "card_status_timestamp_seconds",
        "Unix time the NMS last refreshed the card status (cardUpdate).",
        "seconds",
    ),
    _card(
        "card_last_update_timestamp_seconds",
        "Unix time of the newest measure update of the card.",
        "seconds",
    ),
    _card(
        "nms_alarm_active",
        "Alarms the equipment raises, as reported active by the NMS; always 1.",
    ),
    _card(
        "nms_alarm_start_timestamp_seconds",
        "Unix time an active NMS alarm started (alarmStartDate).",
        "seconds",
    ),
    # Measures, by unit (model/units.py routes each measure to one).
    _measure("power_dbm", "Optical power in dBm.", "dBm", "dBm"),
    _measure("gain_db", "Amplifier gain in dB.", "dB", "dB"),
    _measure("osnr_db", "Optical signal-to-noise ratio in dB.", "dB", "dB"),
    _measure("temperature_celsius", "Temperature in degrees Celsius.", "celsius", "celsius"),
    _measure(
        "current_amperes",
        "Electrical current in amperes (the NMS reports mA).",
        "amperes",
        "amp",
    ),
    _measure("voltage_volts", "Voltage in volts.", "volts", "volt"),
    _measure(
        "power_watts",
        "Laser or electrical power in watts (the NMS reports mW).",
        "watts",
        "watt",
    ),
    _measure("ber_ratio", "Pre-FEC bit error ratio.", "ratio", "sci"),
    _measure(
        UNKNOWN_FAMILY,
        "Measures whose unit the exporter does not know (extend config 'units').",
        "",
        "none",
    ),
)
BY_NAME: Mapping[str, Family] = MappingProxyType({f.name: f for f in FAMILIES})
MEASURES: tuple[Family, ...] = tuple(f for f in FAMILIES if f.kind == "measure")
CARDS: tuple[Family, ...] = tuple(f for f in FAMILIES if f.kind == "card")
# HELP by family name (without PREFIX): measure families, and card/alarm families.
MEASURE_HELP: Mapping[str, str] = MappingProxyType({f.name: f.help for f in MEASURES})
CARD_HELP: Mapping[str, str] = MappingProxyType({f.name: f.help for f in CARDS})
# What the store keeps by default (full metric names).
STORED: tuple[str, ...] = (
    *(f.metric for f in MEASURES if f.stored),
    *(f.metric for f in CARDS if f.stored),
)
