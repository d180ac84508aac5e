"""The simulated network: sites, cards and the measures each card model reports.

Keys, names, ports and groups of amplifiers are those seen in Smart API data; transponder keys
8001-8004 are ASSUMED (OSNR and transponder powers were never seen in Smart API data).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class MeasureDef:
    key: int
    subkey: int
    name: str
    group: str | None
    port: str | None
    base: float  # typical value
    spread: float  # how far cards differ from each other around `base`
    noise: float  # amplitude of the tick-to-tick noise
    kind: str  # "pump", "input", "osnr", "temperature", "ber" or "other"


def _amplifier_common() -> list[MeasureDef]:
    return [
        MeasureDef(7260, 0, "Pump Power", "POWER", "Pump", 18.0, 1.5, 0.05, "pump"),
        MeasureDef(7255, 0, "IN Line IN Power", "POWER", "IN Line", -12.0, 1.5, 0.08, "input"),
        MeasureDef(7256, 0, "OUT Line Power", "POWER", "OUT Line", 17.0, 1.0, 0.05, "other"),
        MeasureDef(7265, 0, "Target Gain", "GAIN", None, 19.0, 2.0, 0.02, "other"),
        MeasureDef(7705, 0, "Laser Current 1", "CURRENT", None, 520.0, 40.0, 1.0, "other"),
        MeasureDef(7261, 0, "Board Temperature", None, None, 36.0, 4.0, 0.2, "temperature"),
    ]


MODEL_MEASURES: dict[str, list[MeasureDef]] = {
    "ROA1-HA-E29001-TR": [
        *_amplifier_common(),
        MeasureDef(7704, 0, "Power Signal", "POWER", "Signal", 10.3, 0.5, 0.03, "other"),
        MeasureDef(7706, 0, "Laser Current 2", "CURRENT", None, 560.0, 40.0, 1.0, "other"),
        MeasureDef(7707, 0, "Laser Current 3", "CURRENT", None, 570.0, 40.0, 1.0, "other"),
        MeasureDef(7273, 0, "Power Laser 2", "POWER", None, 200.0, 10.0, 0.5, "other"),
        MeasureDef(7275, 0, "Power Laser 3", "POWER", None, 200.0, 10.0, 0.5, "other"),
        MeasureDef(7288, 0, "TEC Voltage Laser 3", "VOLTS", None, -0.02, 0.05, 0.005, "other"),
        MeasureDef(7289, 0, "TEC Curr. Laser 3", "CURRENT", None, 210.0, 15.0, 0.8, "other"),
    ],
    "EOA2-HA-E21211-GW": [
        *_amplifier_common(),
        MeasureDef(7266, 0, "Target Gain Stage 2", "GAIN", None, 15.0, 1.5, 0.02, "other"),
    ],
    "EOA1-HA-E21001-GV": _amplifier_common(),
}
_TRANSPONDER = [
    MeasureDef(8001, 0, "Rx Power", "POWER", "Line 1", -12.0, 1.5, 0.08, "input"),
    MeasureDef(8001, 1, "Rx Power", "POWER", "Client 1", -3.0, 1.0, 0.05, "other"),
    MeasureDef(8002, 0, "Tx Power", "POWER", "Line 1", 1.0, 0.5, 0.03, "other"),
    MeasureDef(8002, 1, "Tx Power", "POWER", "Client 1", -1.0, 0.5, 0.03, "other"),
    MeasureDef(8003, 0, "OSNR", "OSNR", "Line 1", 22.5, 1.5, 0.1, "osnr"),
    MeasureDef(8004, 0, "Pre-FEC BER", "BER", "Line 1", 1.0e-6, 5.0e-7, 1.0e-7, "ber"),
    MeasureDef(7261, 0, "Board Temperature", None, None, 38.0, 4.0, 0.2, "temperature"),
]
for _model in ("TM1200G-SA", "TM2400G-NK", "TCX200G-9A", "TNS400G-NX"):
    MODEL_MEASURES[_model] = _TRANSPONDER
MODEL_MEASURES["MDDC21401ST2"] = []  # passive MUX/DEMUX: no measures

MODELS: dict[str, tuple[str, int]] = {  # model → (family, part number), as seen
    "ROA1-HA-E29001-TR": ("AMPLIFIER", 2633),
    "EOA2-HA-E21211-GW": ("AMPLIFIER", 2462),
    "EOA1-HA-E21001-GV": ("AMPLIFIER", 2466),
    "TM1200G-SA": ("TRANSPONDER", 2631),
    "TM2400G-NK": ("TRANSPONDER", 2795),
    "TCX200G-9A": ("TRANSPONDER", 2548),
    "TNS400G-NX": ("TRANSPONDER", 3780),
    "MDDC21401ST2": ("MUX_DEMUX", 2262),
}
# One site's card mix, repeated: transponders dominate, amplifiers on each span, a passive mux.
_FAMILY_PATTERN = [
    "AMPLIFIER",
    "TRANSPONDER",
    "TRANSPONDER",
    "AMPLIFIER",
    "MUX_DEMUX",
    "TRANSPONDER",
    "AMPLIFIER",
    "TRANSPONDER",
]
_SITE_NAMES = [
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
]
_FIRMWARE = ["2.11.1", "2.10.4", "3.0.2", "1.9.7"]


@dataclass(slots=True)
class SimCard:
    uid: str
    model: str
    family: str
    part: int
    serial: int
    site: str
    data_provider: str
    firmware: str
    measures: list[MeasureDef]
    # Per-card offsets from each measure's base (index-aligned with `measures`).
    offsets: list[float] = field(default_factory=list)
    index: int = 0  # stable number used to derive per-card noise


def site_names(count: int) -> list[str]:
    names = []
    for i in range(count):
        base = _SITE_NAMES[i % len(_SITE_NAMES)]
        names.append(base if i < len(_SITE_NAMES) else f"{base} {i // len(_SITE_NAMES) + 1}")
    return names


def extra_measures(count: int) -> list[MeasureDef]:
    return [
        MeasureDef(9000 + i, 0, f"Aux Measure {i + 1}", "MISC", None, 50.0, 10.0, 0.5, "other")
        for i in range(count)
    ]


class CardFactory:
    """Makes cards with serials unique per part number, deterministically from the seed."""

    def __init__(self, seed: int, extra: int) -> None:
        self._rng = random.Random(seed)
        self._next_serial: dict[int, int] = {}
        self._extra = extra_measures(extra)
        self._count = 0

    def make(
        self, site: str, data_provider: str, family: str | None = None, model: str | None = None
    ) -> SimCard:
        if model is None:
            family = family or "TRANSPONDER"
            model = self._rng.choice([m for m, (f, _) in MODELS.items() if f == family])
        family, part = MODELS[model]
        serial = self._next_serial.get(part, 100 + self._rng.randrange(50))
        self._next_serial[part] = serial + 1 + self._rng.randrange(3)
        defs = list(MODEL_MEASURES[model])
        if defs:
            defs += self._extra
        card = SimCard(
            uid=f"{model}#{serial}",
            model=model,
            family=family,
            part=part,
            serial=serial,
            site=site,
            data_provider=data_provider,
            firmware=self._rng.choice(_FIRMWARE),
            measures=defs,
            index=self._count,
        )
        card.offsets = [self._rng.uniform(-d.spread, d.spread) for d in defs]
        self._count += 1
        return card


def generate(
    seed: int, sites: int, cards_per_site: int, extra: int
) -> tuple[CardFactory, list[SimCard]]:
    factory = CardFactory(seed, extra)
    cards: list[SimCard] = []
    for s, site in enumerate(site_names(sites)):
        provider = f"172.30.{s // 4}.{21 + s % 4}"
        for c in range(cards_per_site):
            cards.append(factory.make(site, provider, _FAMILY_PATTERN[c % len(_FAMILY_PATTERN)]))
    return factory, cards
