"""Render the data of every NMS into the Prometheus text format, once per publication.

Scrapes then serve ready bytes (plain or gzip): with 500k series a per-scrape render would take
seconds, this takes a hash lookup. Lines are cached per series: a series whose record the
collector did not replace (the critical tier or an alarm poll republishes everything) reuses its
line, and a new value costs one string concatenation.
"""

from __future__ import annotations

import time
import zlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from padtec_exporter.collect.data import NmsData
from padtec_exporter.model import Card, Measure
from padtec_exporter.model.families import CARD_HELP
from padtec_exporter.model.units import FAMILY_HELP, UNKNOWN_FAMILY

PREFIX = "padtec_"
GZIP_LEVEL = 1  # 5x smaller already; higher levels cost far more CPU for a few % more


class GzipPrefix:
    """The exposition compressed once, left open so each scrape appends its own lines.

    A scrape copies the compressor state, compresses the (small) self-metrics and finishes the
    stream: one valid gzip stream per scrape for the price of compressing a few kB.
    """

    def __init__(self, text: bytes) -> None:
        self._compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)
        self.prefix = self._compressor.compress(text) + self._compressor.flush(zlib.Z_SYNC_FLUSH)

    def complete(self, tail: bytes) -> bytes:
        finisher = self._compressor.copy()
        return self.prefix + finisher.compress(tail) + finisher.flush(zlib.Z_FINISH)


@dataclass(frozen=True, slots=True)
class Exposition:
    text: bytes
    gzipped: GzipPrefix
    series: int
    render_seconds: float
    # Per NMS: measure rows dropped because another row already gave the same series.
    duplicates: dict[str, int]


EMPTY = Exposition(
    text=b"",
    gzipped=GzipPrefix(b""),
    series=0,
    render_seconds=0.0,
    duplicates={},
)


def escape(value: str) -> str:
    if "\\" in value or '"' in value or "\n" in value:
        return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return value


def _help_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


class Renderer:
    """Not thread-safe: one render at a time (the exporter runs renders one after another)."""

    def __init__(self) -> None:
        # nms → measure uid → (latest record, its series prefix, its line): a record the
        # collector did not replace since the last render reuses its line as it is.
        self._lines: dict[str, dict[str, _Line]] = {}

    def render(self, datasets: Sequence[NmsData]) -> Exposition:
        started = time.perf_counter()
        families: dict[str, list[bytes]] = defaultdict(list)
        duplicates: dict[str, int] = {}
        # Rebuilt each render: series (and NMS) gone since the last one leave the cache.
        cache: dict[str, dict[str, _Line]] = {}
        for data in datasets:
            duplicates[data.name] = self._render_nms(data, families, cache)
        self._lines = cache
        # Lines are cached as bytes: the exposition is one join of them (one copy, no str of
        # 100 MB to encode and no buffer to grow).
        chunks: list[bytes] = []
        series = 0
        order = [*CARD_HELP, *FAMILY_HELP, *sorted(families)]
        for family in dict.fromkeys(order):
            lines = families.pop(family, None)
            if not lines:
                continue
            help_text = (
                CARD_HELP.get(family)
                or FAMILY_HELP.get(family)
                or f"Measures mapped to {family} by the units configuration."
            )
            name = PREFIX + family
            chunks.append(_line(f"# HELP {name} {_help_text(help_text)}\n# TYPE {name} gauge\n"))
            series += len(lines)
            chunks += lines
            del lines
        text = b"".join(chunks)
        del chunks
        return Exposition(
            text=text,
            gzipped=GzipPrefix(text),
            series=series,
            render_seconds=time.perf_counter() - started,
            duplicates=duplicates,
        )

    def _render_nms(
        self,
        data: NmsData,
        families: dict[str, list[bytes]],
        cache: dict[str, dict[str, _Line]],
    ) -> int:
        """Appends the NMS's lines to ``families``; returns how many duplicate series it dropped."""
        nms = escape(data.name)
        emitted: set[str] = set()  # two uids must never yield one series twice
        duplicates = 0
        cards = data.cards
        if data.cards_from_measures:  # cards the inventory does not list yet
            cards = {**data.cards_from_measures, **cards}
        shift = data.clock_shift_seconds  # records hold NMS local time read as UTC
        # card uid → (newest updatedAt, cardIsUp of that row, cardUpdate of that row)
        newest: dict[str, tuple[float, bool | None, float | None]] = {}
        last = self._lines.get(data.name, {}).get
        kept = cache.setdefault(data.name, {})
        family_lines: dict[str, list[bytes]] = {}
        for uid, measure in data.measures.items():
            card_uid = measure.card_uid
            if card_uid not in cards:
                continue  # a row without card fields and not in the inventory
            cached = last(uid)
            if cached is None or cached[0] is not measure:
                # Keep the new record, not the old one: the cache must not hold a second
                # copy of every record whose value changed.
                prefix = (
                    cached[1]
                    if cached is not None and _same_labels(cached[0], measure)
                    else _series_prefix(nms, measure)
                )
                cached = (measure, prefix, _line(f"{prefix}{measure.value!r}\n"))
            kept[uid] = cached
            prefix = cached[1]
            if prefix in emitted:
                duplicates += 1
                continue
            emitted.add(prefix)
            family = measure.family
            target = family_lines.get(family)
            if target is None:
                target = family_lines[family] = families[family]
            target.append(cached[2])
            updated = measure.updated_at
            if updated is not None:
                previous = newest.get(card_uid)
                if previous is None or updated > previous[0]:
                    newest[card_uid] = (updated, measure.card_is_up, measure.card_status_at)
        for card in cards.values():
            self._render_card(nms, card, newest.get(card.uid), families, shift)
        self._render_alarms(nms, data, families, shift)
        return duplicates

    @staticmethod
    def _render_alarms(
        nms: str, data: NmsData, families: dict[str, list[bytes]], shift: float = 0.0
    ) -> None:
        # Rows repeating an alarm's labels are one series; its start is the earliest row's.
        started: dict[str, float | None] = {}
        for a in data.alarms:
            labels = (
                f'{{nms="{nms}",site="{escape(a.site)}",'
                f'card_uid="{escape(a.card_uid)}",alarm_name="{escape(a.name)}",'
                f'alarm_group="{escape(a.group)}",severity="{escape(a.severity)}",'
                f'resource="{escape(a.resource)}",port="{escape(a.port)}"}}'
            )
            known = started.get(labels)
            at = a.started_at - shift if a.started_at is not None else None
            if labels not in started or (at is not None and (known is None or at < known)):
                started[labels] = at
        active, start = families["nms_alarm_active"], families["nms_alarm_start_timestamp_seconds"]
        for labels, at in started.items():
            active.append(_line(f"{PREFIX}nms_alarm_active{labels} 1\n"))
            if at is not None:
                start.append(_line(f"{PREFIX}nms_alarm_start_timestamp_seconds{labels} {at!r}\n"))

    @staticmethod
    def _render_card(
        nms: str,
        card: Card,
        newest: tuple[float, bool | None, float | None] | None,
        families: dict[str, list[bytes]],
        shift: float = 0.0,
    ) -> None:
        ids = f'nms="{nms}",site="{escape(card.site)}",card_uid="{escape(card.uid)}"'
        families["card_info"].append(
            _line(
                f'{PREFIX}card_info{{{ids},card_model="{escape(card.model)}",'
                f'card_family="{escape(card.family)}",card_part="{escape(card.part)}",'
                f'card_serial="{escape(card.serial)}",data_provider="{escape(card.data_provider)}",'
                f'firmware="{escape(card.firmware)}"}} 1\n'
            )
        )
        is_up = newest[1] if newest is not None and newest[1] is not None else card.is_active
        if is_up is not None:
            families["card_up"].append(_line(f"{PREFIX}card_up{{{ids}}} {int(is_up)}\n"))
        if newest is not None:
            families["card_last_update_timestamp_seconds"].append(
                _line(
                    f"{PREFIX}card_last_update_timestamp_seconds{{{ids}}} {newest[0] - shift!r}\n"
                )
            )
            if newest[2] is not None:
                families["card_status_timestamp_seconds"].append(
                    _line(f"{PREFIX}card_status_timestamp_seconds{{{ids}}} {newest[2] - shift!r}\n")
                )


# (record, series prefix "name{labels} ", whole line "prefix value\n" in UTF-8)
_Line = tuple[Measure, str, bytes]


def _line(text: str) -> bytes:
    # "replace": a lone surrogate in a label (JSON allows "\ud800") must not fail the render.
    return text.encode("utf-8", "replace")


def _same_labels(a: Measure, b: Measure) -> bool:
    return (a is b) or (
        a.site == b.site
        and a.name == b.name
        and a.port == b.port
        and a.family == b.family
        and a.card_uid == b.card_uid
        and a.key == b.key
        and a.subkey == b.subkey
        and a.group == b.group
    )


def _series_prefix(nms: str, m: Measure) -> str:
    extra = f',measure_group="{escape(m.group)}"' if m.family == UNKNOWN_FAMILY else ""
    return (
        f'{PREFIX}{m.family}{{nms="{nms}",site="{escape(m.site)}",card_uid="{escape(m.card_uid)}",'
        f'measure="{escape(m.name)}",measure_key="{escape(m.key)}",'
        f'measure_subkey="{escape(m.subkey)}",port="{escape(m.port)}"{extra}}} '
    )
