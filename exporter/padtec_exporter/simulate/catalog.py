"""What the simulator knows about Padtec equipment: card models, their measures, site names.

Everything here follows ../shared/padtec-api.md and docs/architecture.md "Measures and units".
``seen=True`` marks a key/name/group/port taken from real Smart API data; ``seen=False`` marks
our assumption (which model carries which key, the ports nobody has shown us, every transponder
key). Typical values are ours too: chosen inside the default alert thresholds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# How a fault acts on a measure: "pump" (pump_degradation), "input" (fibre_cut), "osnr"
# (osnr_drop); "temperature" follows a daily cycle; "ber" is formatted with an exponent.
Role = Literal["pump", "input", "osnr", "temperature", "ber", "other"]


@dataclass(frozen=True, slots=True)
class MeasureKind:
    key: int
    subkey: int
    name: str
    group: str | None
    port: str | None
    typical: float  # the value a healthy card sits around
    spread: float  # how far healthy cards differ from each other around `typical`
    noise: float  # amplitude of the update-to-update noise
    role: Role = "other"
    seen: bool = True  # key, name, group and port seen in Smart API data


@dataclass(frozen=True, slots=True)
class CardModel:
    name: str
    family: str  # as the Dec 2025 build spells it (uppercase)
    part: int
    measures: tuple[MeasureKind, ...]
    ports: tuple[str, ...]  # for inventory/capability (assumed beyond the measure ports)
    crossconnection: tuple[str, ...] = ()


def _board_temperature(typical: float) -> MeasureKind:
    # Seen: key 7261, group null, port null, on several models.
    return MeasureKind(7261, 0, "Board Temperature", None, None, typical, 4.0, 0.2, "temperature")


_PUMP = MeasureKind(7260, 0, "Pump Power", "POWER", "Pump", 18.0, 1.5, 0.05, "pump")
# Ports "IN Line"/"OUT Line" are assumed from the measure names (only Pump/Signal were shown).
_IN_LINE = MeasureKind(
    7255, 0, "IN Line IN Power", "POWER", "IN Line", -11.0, 2.0, 0.08, "input", seen=False
)
_OUT_LINE = MeasureKind(7256, 0, "OUT Line Power", "POWER", "OUT Line", 17.0, 1.0, 0.05, seen=False)
_TARGET_GAIN = MeasureKind(7265, 0, "Target Gain", "GAIN", None, 18.5, 2.5, 0.02)

ROA1 = CardModel(
    "ROA1-HA-E29001-TR",
    "AMPLIFIER",
    2633,
    (  # every key below was seen on this model, in the Dec 2025 capture's row order
        _PUMP,
        MeasureKind(7704, 0, "Power Signal", "POWER", "Signal", 10.3, 0.5, 0.03),
        MeasureKind(7705, 0, "Laser Current 1", "CURRENT", None, 500.0, 60.0, 1.0),
        MeasureKind(7706, 0, "Laser Current 2", "CURRENT", None, 520.0, 60.0, 1.0),
        MeasureKind(7707, 0, "Laser Current 3", "CURRENT", None, 540.0, 50.0, 1.0),
        _board_temperature(36.0),
        MeasureKind(7275, 0, "Power Laser 3", "POWER", None, 200.0, 10.0, 0.5),
        MeasureKind(7288, 0, "TEC Voltage Laser 3", "VOLTS", None, -0.02, 0.1, 0.005),
        MeasureKind(7289, 0, "TEC Curr. Laser 3", "CURRENT", None, 210.0, 15.0, 0.8),
        MeasureKind(7273, 0, "Power Laser 2", "POWER", None, 200.0, 10.0, 0.5),
    ),
    ports=("Pump", "Signal"),
)
EOA2 = CardModel(
    "EOA2-HA-E21211-GW",
    "AMPLIFIER",
    2462,
    (  # 7255, 7256, 7266 seen on this model; pump, gain and temperature assumed here
        _IN_LINE,
        _OUT_LINE,
        MeasureKind(7266, 0, "Target Gain Stage 2", "GAIN", None, 16.0, 1.0, 0.02),
        _TARGET_GAIN,
        _PUMP,
        _board_temperature(38.0),
    ),
    ports=("IN Line", "OUT Line", "Pump"),
)
EOA1 = CardModel(
    "EOA1-HA-E21001-GV",
    "AMPLIFIER",
    2466,
    (  # 7265 seen on this model; the others assumed here
        _IN_LINE,
        _OUT_LINE,
        _TARGET_GAIN,
        _PUMP,
        _board_temperature(37.0),
    ),
    ports=("IN Line", "OUT Line", "Pump"),
)

# ASSUMED transponder keys (docs/architecture.md): OSNR and transponder powers were never seen
# in Smart API data. BER is sent with an exponent ("1.023E-06"): 3 fixed decimals would read 0.
_TRANSPONDER_MEASURES = (
    MeasureKind(8001, 0, "Rx Power", "POWER", "Line 1", -11.0, 2.0, 0.08, "input", seen=False),
    MeasureKind(8001, 1, "Rx Power", "POWER", "Client 1", -3.0, 1.0, 0.05, seen=False),
    MeasureKind(8002, 0, "Tx Power", "POWER", "Line 1", 1.0, 0.5, 0.03, seen=False),
    MeasureKind(8002, 1, "Tx Power", "POWER", "Client 1", -1.0, 0.5, 0.03, seen=False),
    MeasureKind(8003, 0, "OSNR", "OSNR", "Line 1", 22.5, 2.0, 0.1, "osnr", seen=False),
    MeasureKind(8004, 0, "Pre-FEC BER", "BER", "Line 1", 1.0e-6, 5.0e-7, 1.0e-7, "ber", seen=False),
    _board_temperature(39.0),
)
_TRANSPONDER_PORTS = ("Line 1", "Line 2", "Client 1", "Client 2")
_CROSS = ("IN Data->OUT Line", "IN Line->OUT Data")  # format seen; the pairs are assumed


def _transponder(name: str, part: int) -> CardModel:
    return CardModel(name, "TRANSPONDER", part, _TRANSPONDER_MEASURES, _TRANSPONDER_PORTS, _CROSS)


# Passive MUX/DEMUX: no measures (a peer's UI treats them as passive).
MDDC = CardModel("MDDC21401ST2", "MUX_DEMUX", 2262, (), ("COM", "CH 1", "CH 2"))

MODELS: dict[str, CardModel] = {
    m.name: m
    for m in (
        ROA1,
        EOA2,
        EOA1,
        _transponder("TM1200G-SA", 2631),
        _transponder("TM2400G-NK", 2795),
        _transponder("TCX200G-9A", 2548),
        _transponder("TNS400G-NX", 3780),
        MDDC,
    )
}
FAMILY_MODELS: dict[str, tuple[str, ...]] = {
    family: tuple(m.name for m in MODELS.values() if m.family == family)
    for family in ("AMPLIFIER", "TRANSPONDER", "MUX_DEMUX")
}
# One site's card mix, repeated: transponders dominate, amplifiers on each span, a passive mux.
SITE_PATTERN = (
    "AMPLIFIER",
    "TRANSPONDER",
    "TRANSPONDER",
    "AMPLIFIER",
    "MUX_DEMUX",
    "TRANSPONDER",
    "AMPLIFIER",
    "TRANSPONDER",
)
# Free text, as operators type it: spaces, dashes, '#', parentheses, accents.
SITE_NAMES = (
    "04 - INFORR-RNP-JNDA",
    "POLARIS",
    "São Paulo #2",
    "TM800G-LT#951",
    "Brasília - Núcleo",
    "Florianópolis-CTR",
    "Porto Alegre #1",
    "Recife (Boa Vista)",
    "Curitiba-PoP",
    "Belém",
    "Goiânia - Setor Sul",
    "Manaus #3",
)
FIRMWARE_VERSIONS = ("2.11.1", "2.10.4", "3.0.2", "1.9.7")
SITES_PER_DATA_PROVIDER = 4  # each NMS+ server manages a group of sites


def extra_measures(count: int) -> tuple[MeasureKind, ...]:
    """Generic measures with keys nobody knows (the exporter must cope with unknown units)."""
    return tuple(
        MeasureKind(9000 + i, 0, f"Aux Measure {i + 1}", "MISC", None, 50.0, 10.0, 0.5, seen=False)
        for i in range(count)
    )


def site_names(count: int) -> list[str]:
    """``count`` distinct site names; beyond the list, names get a number suffix."""
    names = []
    for i in range(count):
        base = SITE_NAMES[i % len(SITE_NAMES)]
        lap = i // len(SITE_NAMES)
        names.append(base if lap == 0 else f"{base} - {lap + 1:02d}")
    return names


def data_provider(site_index: int) -> str:
    """The IP-looking name of the NMS+ server that manages a site (shared by a group)."""
    group = site_index // SITES_PER_DATA_PROVIDER
    return f"172.30.{group // 200}.{21 + group % 200}"
