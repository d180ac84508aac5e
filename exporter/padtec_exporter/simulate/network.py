"""The simulated network: sites and cards, generated deterministically from a seed."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from padtec_exporter.simulate.catalog import (
    FAMILY_MODELS,
    FIRMWARE_VERSIONS,
    MODELS,
    SITE_PATTERN,
    CardModel,
    MeasureKind,
    data_provider,
    extra_measures,
    site_names,
)

HOUR = 3600.0


@dataclass(slots=True)
class Card:
    number: int  # creation order: stable identity (row order, per-card random streams)
    uid: str  # MODEL#SERIAL
    model: CardModel
    serial: int
    site: str
    data_provider: str
    firmware: str
    measures: tuple[MeasureKind, ...]
    # Each healthy card sits somewhere around each measure's typical value (index-aligned).
    offsets: tuple[float, ...]
    phase: float  # shifts the card's slow drift and daily cycle
    # cardUpdate lags the measures by hours on a real NMS: seconds before start it last changed.
    status_lag: float
    up: bool = True
    status_changed_at: float | None = None  # wall clock of the last up/down change
    status_version: int = field(default=0)  # bumps when up/status time change (encoders cache)


class CardFactory:
    """Makes cards with serials unique per part number, deterministically from the seed."""

    def __init__(self, seed: int, extra_measures_per_card: int) -> None:
        self._rng = random.Random(seed)
        self._extra = extra_measures(extra_measures_per_card)
        self._next_serial: dict[int, int] = {}
        self._next_model: dict[str, int] = {}
        self._measures: dict[str, tuple[MeasureKind, ...]] = {}
        self._count = 0

    def next_model(self, family: str) -> CardModel:
        """Models of a family in rotation, so every model shows up in a small network."""
        choices = FAMILY_MODELS[family]
        turn = self._next_model.get(family, 0)
        self._next_model[family] = turn + 1
        return MODELS[choices[turn % len(choices)]]

    def _measures_of(self, model: CardModel) -> tuple[MeasureKind, ...]:
        # One shared tuple per model: encoders cache their templates per tuple.
        found = self._measures.get(model.name)
        if found is None:
            found = model.measures + self._extra if model.measures else ()
            self._measures[model.name] = found
        return found

    def make(self, model: CardModel, site: str, provider: str) -> Card:
        serial = self._next_serial.get(model.part, 100 + self._rng.randrange(300))
        self._next_serial[model.part] = serial + 1 + self._rng.randrange(3)
        measures = self._measures_of(model)
        card = Card(
            number=self._count,
            uid=f"{model.name}#{serial}",
            model=model,
            serial=serial,
            site=site,
            data_provider=provider,
            firmware=self._rng.choice(FIRMWARE_VERSIONS),
            measures=measures,
            offsets=tuple(self._rng.uniform(-m.spread, m.spread) for m in measures),
            phase=self._rng.uniform(0.0, 6.283),
            status_lag=self._rng.uniform(0.5 * HOUR, 6 * HOUR),
        )
        self._count += 1
        return card


class Network:
    """Cards in row order (creation order); ``version`` bumps whenever the inventory changes."""

    def __init__(self, factory: CardFactory, cards: list[Card]) -> None:
        self.factory = factory
        self._by_uid = {card.uid: card for card in cards}
        self.cards: list[Card] = list(cards)
        self.version = 0
        self.providers_by_site = {card.site: card.data_provider for card in cards}

    def get(self, uid: str) -> Card | None:
        return self._by_uid.get(uid)

    def add(self, card: Card) -> None:
        self._by_uid[card.uid] = card
        self.providers_by_site.setdefault(card.site, card.data_provider)
        # A card put back (a cleared card_removed) returns to its place in the row order.
        self.cards = sorted(self._by_uid.values(), key=lambda c: c.number)
        self.version += 1

    def remove(self, uid: str) -> Card | None:
        card = self._by_uid.pop(uid, None)
        if card is not None:
            self.cards.remove(card)
            self.version += 1
        return card

    def sites(self) -> list[str]:
        return sorted({card.site for card in self.cards})

    def measure_count(self) -> int:
        return sum(len(card.measures) for card in self.cards)

    def provider_for(self, site: str) -> str:
        """The NMS+ of an existing site; a new site gets the first provider (or a default)."""
        known = self.providers_by_site.get(site)
        if known is not None:
            return known
        return next(iter(self.providers_by_site.values()), data_provider(0))


def generate(seed: int, sites: int, cards_per_site: int, extra_measures_per_card: int) -> Network:
    factory = CardFactory(seed, extra_measures_per_card)
    cards = []
    for index, site in enumerate(site_names(sites)):
        provider = data_provider(index)
        for slot in range(cards_per_site):
            model = factory.next_model(SITE_PATTERN[slot % len(SITE_PATTERN)])
            cards.append(factory.make(model, site, provider))
    return Network(factory, cards)
