"""The state views (inventory, measures, alarms) as filtered, paged JSON arrays.

Filter semantics are not documented: we match exactly, case-insensitively, on the value as
JSON would show it (``true``, ``2633``); a null field matches nothing; an empty filter value
is ignored and a repeated one means "any of" (ASSUMED, kept simple).
Paging follows Spring Data, the likely stack (ASSUMED): a missing or bad ``page`` is 0, a
missing or bad ``size`` the default, and a size above the maximum is cut to the maximum.
"""

from __future__ import annotations

import bisect
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import msgspec

from padtec_exporter.simulate.catalog import MeasureKind
from padtec_exporter.simulate.encoding import (
    MeasureEncoder,
    Timestamps,
    alarm_row,
    card_row,
    format_values,
    measure_rows,
)
from padtec_exporter.simulate.network import Card
from padtec_exporter.simulate.simulator import Simulator

_CARD_LEVEL = frozenset(
    {
        "cardFamily",
        "cardModel",
        "cardPart",
        "cardSerial",
        "cardUid",
        "locationCollector",
        "locationDataprovider",
        "locationSite",
    }
)
INVENTORY_FILTERS = _CARD_LEVEL | {"cardFirmwareVersion", "cardIsActive", "cardName", "port"}
_KIND_LEVEL = frozenset({"measureGroup", "measureName", "measureResource", "port"})
MEASURE_FILTERS = _CARD_LEVEL | _KIND_LEVEL | {"measureUid", "measureValue"}
ALARM_FILTERS = _CARD_LEVEL | {
    "alarmGroup",
    "alarmIsActive",
    "alarmName",
    "alarmOid",
    "alarmResource",
    "alarmSeverity",
    "port",
}
PAGE_CACHE_BYTES = 64 * 1024 * 1024

Filters = dict[str, frozenset[str]]
_encode = msgspec.json.encode


def parse_filters(query: Iterable[tuple[str, str]], allowed: frozenset[str]) -> Filters:
    """Known filter keys of a query string → the accepted (lowercase) values per key."""
    found: dict[str, set[str]] = {}
    for key, value in query:
        if key in allowed and value != "":
            found.setdefault(key, set()).add(value.lower())
    return {key: frozenset(values) for key, values in found.items()}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).lower()


def matches(row: Mapping[str, Any], filters: Filters) -> bool:
    for key, wanted in filters.items():
        text = _text(row.get(key))
        if text is None or text not in wanted:
            return False
    return True


def _cache_key(filters: Filters) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple(sorted((key, tuple(sorted(values))) for key, values in filters.items()))


@dataclass(frozen=True, slots=True)
class Paging:
    page: int
    size: int

    @classmethod
    def from_query(cls, query: Mapping[str, str], default_size: int, max_size: int) -> Paging:
        page = _int_or(query.get("page"), 0)
        size = _int_or(query.get("size"), default_size)
        return cls(page=max(page, 0), size=min(size if size >= 1 else default_size, max_size))

    def window(self) -> slice:
        return slice(self.page * self.size, (self.page + 1) * self.size)


def _int_or(text: str | None, default: int) -> int:
    try:
        return int(text) if text is not None else default
    except ValueError:
        return default


def json_array(rows: list[bytes]) -> bytes:
    return b"[" + b",".join(rows) + b"]"


class PageCache:
    """Encoded answers by (data version, endpoint, filters, page, size), within a byte budget."""

    def __init__(self, budget: int = PAGE_CACHE_BYTES) -> None:
        self._pages: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()
        self._budget = budget
        self._bytes = 0

    def get_or_make(self, key: tuple[Any, ...], make: Callable[[], bytes]) -> bytes:
        found = self._pages.get(key)
        if found is not None:
            self._pages.move_to_end(key)
            return found
        body = make()
        self._pages[key] = body
        self._bytes += len(body)
        while self._bytes > self._budget and len(self._pages) > 1:
            _, old = self._pages.popitem(last=False)
            self._bytes -= len(old)
        return body


@dataclass(frozen=True, slots=True)
class MeasureIndex:
    """The rows a static filter selects: per card, which of its measures, in row order."""

    runs: list[tuple[Card, range | tuple[int, ...]]]
    starts: list[int]  # row number of each run's first row
    total: int


class Views:
    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        config = sim.config
        self.stamps = Timestamps(config.timezone)
        self.encoder = MeasureEncoder(config.api_build, config.card_is_up_on_healthy)
        self.cache = PageCache()
        self._indexes: OrderedDict[tuple[Any, ...], MeasureIndex] = OrderedDict()
        self._texts_version: tuple[int, ...] = ()
        self._texts: dict[int, list[bytes]] = {}
        self._rows_version: dict[str, tuple[int, ...]] = {}
        self._rows: dict[str, list[tuple[dict[str, Any], bytes]]] = {}

    def paging(self, query: Mapping[str, str]) -> Paging:
        config = self.sim.config
        return Paging.from_query(query, config.default_page_size, config.max_page_size)

    # -- measures ---------------------------------------------------------------------------
    def measures_page(self, filters: Filters, paging: Paging) -> bytes:
        key = (self.sim.data_version, "measures", _cache_key(filters), paging.page, paging.size)
        return self.cache.get_or_make(key, lambda: self._measures_page(filters, paging))

    def _measures_page(self, filters: Filters, paging: Paging) -> bytes:
        static = {k: v for k, v in filters.items() if k != "measureValue"}
        index = self._index(static)
        wanted_values = filters.get("measureValue")
        if wanted_values is not None:
            rows = self._rows_between(index, 0, index.total, wanted_values)
            return json_array(rows[paging.window()])
        window = paging.window()
        return json_array(self._rows_between(index, window.start, window.stop, None))

    def _rows_between(
        self, index: MeasureIndex, start: int, stop: int, wanted_values: frozenset[str] | None
    ) -> list[bytes]:
        # A missing_rows fault leaves out the view's last rows (measures/count still has them).
        stop = min(stop, index.total - self.sim.missing_rows("measures"))
        if start >= stop:
            return []
        stamp = (self.stamps.text(self.sim.tick_time) or "").encode()
        rows: list[bytes] = []
        run = bisect.bisect_right(index.starts, start) - 1
        while run < len(index.runs) and index.starts[run] < stop:
            card, selected = index.runs[run]
            first = index.starts[run]
            chosen = selected[max(0, start - first) : stop - first]
            head, after_uid = self.encoder.card_pieces(
                card, self.stamps.text(self.sim.card_status_time(card))
            )
            pieces = self.encoder.kind_pieces(card.measures)
            texts = self._value_texts(card)
            if wanted_values is not None:
                chosen = tuple(i for i in chosen if texts[i].decode().lower() in wanted_values)
            rows += measure_rows(head, after_uid, pieces, texts, stamp, chosen)
            run += 1
        return rows

    def _value_texts(self, card: Card) -> list[bytes]:
        """The card's formatted values at the current data version (shared by all sweeps)."""
        version = self.sim.data_version
        if version != self._texts_version:
            self._texts_version = version
            self._texts = {}
        found = self._texts.get(card.number)
        if found is None:
            pieces = self.encoder.kind_pieces(card.measures)
            found = format_values(pieces, self.sim.values(card))
            self._texts[card.number] = found
        return found

    def _index(self, filters: Filters) -> MeasureIndex:
        key = (self.sim.network.version, _cache_key(filters))
        found = self._indexes.get(key)
        if found is None:
            found = self._build_index(filters)
            self._indexes[key] = found
            if len(self._indexes) > 16:
                self._indexes.popitem(last=False)
                self.encoder.forget({card.number for card in self.sim.network.cards})
        return found

    def _build_index(self, filters: Filters) -> MeasureIndex:
        card_filters = {k: v for k, v in filters.items() if k in _CARD_LEVEL}
        kind_filters = {k: v for k, v in filters.items() if k in _KIND_LEVEL}
        uid_filter = filters.get("measureUid")
        kind_choice: dict[int, tuple[int, ...]] = {}  # by id(card.measures): shared tuples
        runs: list[tuple[Card, range | tuple[int, ...]]] = []
        starts: list[int] = []
        total = 0
        for card in self.sim.network.cards:
            if not card.measures or not matches(self._card_fields(card), card_filters):
                continue
            selected: range | tuple[int, ...] = range(len(card.measures))
            if kind_filters:
                selected = self._kinds_matching(card, kind_filters, kind_choice)
            if uid_filter is not None:
                selected = tuple(
                    i
                    for i in selected
                    if f"{card.uid}-{card.measures[i].key}-{card.measures[i].subkey}".lower()
                    in uid_filter
                )
            if selected:
                runs.append((card, selected))
                starts.append(total)
                total += len(selected)
        return MeasureIndex(runs=runs, starts=starts, total=total)

    @staticmethod
    def _kinds_matching(
        card: Card, filters: Filters, known: dict[int, tuple[int, ...]]
    ) -> tuple[int, ...]:
        # Cards of one model share one measures tuple: match its kinds once.
        found = known.get(id(card.measures))
        if found is None:
            found = tuple(
                i for i, kind in enumerate(card.measures) if matches(_kind_fields(kind), filters)
            )
            known[id(card.measures)] = found
        return found

    def _card_fields(self, card: Card) -> dict[str, Any]:
        return {
            "cardFamily": card.model.family,
            "cardModel": card.model.name,
            "cardPart": card.model.part,
            "cardSerial": card.serial,
            "cardUid": card.uid,
            "locationCollector": None,
            "locationDataprovider": card.data_provider,
            "locationSite": card.site,
        }

    # -- inventory and alarms ---------------------------------------------------------------
    def inventory_page(self, filters: Filters, paging: Paging) -> bytes:
        port = filters.get("port")
        row_filters = {k: v for k, v in filters.items() if k != "port"}

        def make() -> bytes:
            rows = [
                body
                for row, body in self._card_rows()
                if matches(row, row_filters) and (port is None or _has_port(row, port))
            ]
            return json_array(
                _without_missing(rows, self.sim.missing_rows("inventory"))[paging.window()]
            )

        key = (self.sim.data_version, "inventory", _cache_key(filters), paging.page, paging.size)
        return self.cache.get_or_make(key, make)

    def alarms_page(self, filters: Filters, paging: Paging) -> bytes:
        def make() -> bytes:
            rows = [body for row, body in self._alarm_rows() if matches(row, filters)]
            return json_array(
                _without_missing(rows, self.sim.missing_rows("alarms"))[paging.window()]
            )

        key = (self.sim.data_version, "alarms", _cache_key(filters), paging.page, paging.size)
        return self.cache.get_or_make(key, make)

    def _card_rows(self) -> list[tuple[dict[str, Any], bytes]]:
        def build() -> list[tuple[dict[str, Any], bytes]]:
            updated = self.stamps.text(self.sim.tick_time)
            with_active = self.sim.config.inventory_card_is_active
            rows = []
            for card in self.sim.network.cards:
                if not self.sim.in_inventory(card):
                    continue  # added with an inventory delay: measures only, for now
                row = card_row(card, updated, with_active)
                row["_ports"] = card.model.ports  # for the port filter; not encoded
                body = _encode({k: v for k, v in row.items() if k != "_ports"})
                rows.append((row, body))
            return rows

        return self._rows_for("inventory", build)

    def _alarm_rows(self) -> list[tuple[dict[str, Any], bytes]]:
        def build() -> list[tuple[dict[str, Any], bytes]]:
            updated = self.stamps.text(self.sim.tick_time)
            rows = []
            for alarm in self.sim.alarms.alarms:
                row = alarm_row(alarm, self.stamps, updated)
                rows.append((row, _encode(row)))
            return rows

        return self._rows_for("alarms", build)

    def _rows_for(
        self, view: str, build: Callable[[], list[tuple[dict[str, Any], bytes]]]
    ) -> list[tuple[dict[str, Any], bytes]]:
        version = self.sim.data_version
        if self._rows_version.get(view) != version:
            self._rows[view] = build()
            self._rows_version[view] = version
        return self._rows[view]


def _without_missing(rows: list[bytes], missing: int) -> list[bytes]:
    """The view's rows less the last ``missing`` ones (a missing_rows fault)."""
    return rows[: max(0, len(rows) - missing)] if missing else rows


def _kind_fields(kind: MeasureKind) -> dict[str, Any]:
    return {
        "measureGroup": kind.group,
        "measureName": kind.name,
        "measureResource": None,
        "port": kind.port,
    }


def _has_port(row: Mapping[str, Any], wanted: frozenset[str]) -> bool:
    # ASSUMED: inventory rows carry no port; a card "has" the ports of its model's capability.
    return any(port.lower() in wanted for port in row["_ports"])
