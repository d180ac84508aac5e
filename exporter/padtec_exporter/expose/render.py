"""Render the data of every NMS into the Prometheus text format, once per publication.

Scrapes then serve ready bytes (plain or gzip): with 500k series a per-scrape render would take
seconds, this takes a hash lookup. A measure record carries its exposition line already
(model/lines.py), so a render only orders the records' bytes by family, and the exposition is
those bytes, referenced rather than copied (joined only for a plain-text scrape).
"""

from __future__ import annotations

import gc
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Protocol, cast

from zlib_ng import zlib_ng as zlib

from padtec_exporter.collect.data import NmsData
from padtec_exporter.model import Card
from padtec_exporter.model.families import CARD_HELP
from padtec_exporter.model.lines import PREFIX, encode, escape, nms_label
from padtec_exporter.model.units import FAMILY_HELP

# zlib-ng's level 2 compresses 13x as zlib's level 1 did, in half its CPU; higher levels cost
# far more CPU for a few % more (pyproject.toml has the figures).
GZIP_LEVEL = 2
# Lines are kept in tuples of at most this many parts (a line is 1 to 3 parts): a few MB of
# exposition each (see _chunks).
CHUNK_PARTS = 30_000
Chunk = tuple[bytes, ...]


class _Deflate(Protocol):
    def compress(self, data: bytes, /) -> bytes: ...
    def flush(self, mode: int, /) -> bytes: ...
    def copy(self) -> _Deflate: ...


class GzipPrefix:
    """The exposition compressed once, left open so each scrape appends its own lines.

    A scrape copies the compressor state, compresses the (small) self-metrics and finishes the
    stream: one valid gzip stream per scrape for the price of compressing a few kB.
    """

    def __init__(self, chunks: Iterable[Chunk]) -> None:
        # zlib-ng's stubs omit copy(), which its Compress has (as zlib's).
        self._compressor = cast(_Deflate, zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31))
        compress = self._compressor.compress
        # A chunk at a time: no copy of the whole exposition, and zlib gets inputs of a few MB.
        out = [compress(b"".join(chunk)) for chunk in chunks]
        out.append(self._compressor.flush(zlib.Z_SYNC_FLUSH))
        self.prefix = b"".join(out)

    def complete(self, tail: bytes) -> bytes:
        finisher = self._compressor.copy()
        return self.prefix + finisher.compress(tail) + finisher.flush(zlib.Z_FINISH)


@dataclass(frozen=True, slots=True)
class Exposition:
    # The exposition in order: HELP/TYPE blocks and every line's bytes, shared with the records,
    # in chunks (see _chunks).
    parts: tuple[Chunk, ...]
    gzipped: GzipPrefix
    series: int
    render_seconds: float
    # Per NMS: measure rows dropped because another row already gave the same series.
    duplicates: dict[str, int]

    @property
    def text(self) -> bytes:
        """The plain exposition (joined on each call: Prometheus asks for gzip)."""
        return b"".join(chain.from_iterable(self.parts))

    def plain(self, tail: bytes) -> bytes:
        return b"".join(chain(chain.from_iterable(self.parts), (tail,)))


EMPTY = Exposition(parts=(), gzipped=GzipPrefix(()), series=0, render_seconds=0.0, duplicates={})


def _help_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


class Renderer:
    """Not thread-safe: one render at a time (the exporter runs renders one after another)."""

    def __init__(self) -> None:
        # Per NMS: the measure lines of the last render, reused while the collector publishes
        # the same measures (an alarm poll, an inventory run).
        self._measures: dict[str, _MeasureLines] = {}

    def render(self, datasets: Sequence[NmsData]) -> Exposition:
        started = time.perf_counter()
        families: dict[str, list[Chunk]] = defaultdict(list)
        duplicates: dict[str, int] = {}
        series = 0
        for data in datasets:
            lines: dict[str, list[bytes]] = defaultdict(list)
            exposed, duplicates[data.name] = self._render_nms(data, families, lines)
            for family, family_lines in lines.items():
                families[family] += _chunks(family_lines)
            series += exposed
        parts: list[Chunk] = []
        order = [*CARD_HELP, *FAMILY_HELP, *sorted(families)]
        for family in dict.fromkeys(order):
            family_parts = families.pop(family, None)
            if not family_parts:
                continue
            help_text = (
                CARD_HELP.get(family)
                or FAMILY_HELP.get(family)
                or f"Measures mapped to {family} by the units configuration."
            )
            name = PREFIX + family
            parts.append((encode(f"# HELP {name} {_help_text(help_text)}\n# TYPE {name} gauge\n"),))
            parts += family_parts
        return Exposition(
            parts=tuple(parts),
            gzipped=GzipPrefix(parts),
            series=series,
            render_seconds=time.perf_counter() - started,
            duplicates=duplicates,
        )

    def _render_nms(
        self, data: NmsData, families: dict[str, list[Chunk]], lines: dict[str, list[bytes]]
    ) -> tuple[int, int]:
        """Appends the NMS's measure lines to ``families`` and its card and alarm lines to
        ``lines``; returns how many series it exposed and how many duplicate series it
        dropped."""
        nms = escape(data.name)
        cards = data.cards
        if data.cards_from_measures:  # cards the inventory does not list yet
            cards = {**data.cards_from_measures, **cards}
        shift = data.clock_shift_seconds  # records hold NMS local time read as UTC
        measures = self._measures.get(data.name)
        if measures is None or not measures.renders(data):
            measures = self._measures[data.name] = _MeasureLines.of(data, cards)
        for family, chunks in measures.families.items():
            families[family] += chunks
        exposed = measures.series
        newest = measures.newest
        for card in cards.values():
            exposed += self._render_card(nms, card, newest.get(card.uid), lines, shift)
        exposed += self._render_alarms(nms, data, lines, shift)
        return exposed, measures.duplicates

    @staticmethod
    def _render_alarms(
        nms: str, data: NmsData, families: dict[str, list[bytes]], shift: float = 0.0
    ) -> int:
        """Appends the active alarms' series; returns how many. Rows repeating an alarm's
        labels are one series; its start is the earliest row's."""
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
        if not started:
            return 0
        active, start = families["nms_alarm_active"], families["nms_alarm_start_timestamp_seconds"]
        for labels, at in started.items():
            active.append(encode(f"{PREFIX}nms_alarm_active{labels} 1\n"))
            if at is not None:
                start.append(encode(f"{PREFIX}nms_alarm_start_timestamp_seconds{labels} {at!r}\n"))
        return len(started) + sum(at is not None for at in started.values())

    @staticmethod
    def _render_card(
        nms: str,
        card: Card,
        newest: tuple[float, bool | None, float | None] | None,
        families: dict[str, list[bytes]],
        shift: float = 0.0,
    ) -> int:
        """Appends the card's series; returns how many."""
        exposed = 1
        ids = f'nms="{nms}",site="{escape(card.site)}",card_uid="{escape(card.uid)}"'
        families["card_info"].append(
            encode(
                f'{PREFIX}card_info{{{ids},card_model="{escape(card.model)}",'
                f'card_family="{escape(card.family)}",card_part="{escape(card.part)}",'
                f'card_serial="{escape(card.serial)}",data_provider="{escape(card.data_provider)}",'
                f'firmware="{escape(card.firmware)}"}} 1\n'
            )
        )
        is_up = newest[1] if newest is not None and newest[1] is not None else card.is_active
        if is_up is not None:
            families["card_up"].append(encode(f"{PREFIX}card_up{{{ids}}} {int(is_up)}\n"))
            exposed += 1
        if newest is not None:
            exposed += 1
            families["card_last_update_timestamp_seconds"].append(
                encode(
                    f"{PREFIX}card_last_update_timestamp_seconds{{{ids}}} {newest[0] - shift!r}\n"
                )
            )
            if newest[2] is not None:
                status_at = newest[2] - shift
                families["card_status_timestamp_seconds"].append(
                    encode(f"{PREFIX}card_status_timestamp_seconds{{{ids}}} {status_at!r}\n")
                )
                exposed += 1
        return exposed


# card uid → (newest updatedAt of its measures, cardIsUp of that row, cardUpdate of that row)
Newest = dict[str, tuple[float, bool | None, float | None]]


@dataclass(frozen=True, slots=True)
class _MeasureLines:
    """The measure lines of one NMS by family, and what its cards take from its measures."""

    measures: object  # the published mapping these lines come from (compared by identity)
    cards: object
    cards_from_measures: object
    families: dict[str, tuple[Chunk, ...]]
    series: int
    duplicates: int  # rows dropped because another row already gave the same series
    newest: Newest

    def renders(self, data: NmsData) -> bool:
        """Whether these are the lines of ``data`` (published mappings are never changed)."""
        return (
            self.measures is data.measures
            and self.cards is data.cards
            and self.cards_from_measures is data.cards_from_measures
        )

    @classmethod
    def of(cls, data: NmsData, cards: Mapping[str, Card]) -> _MeasureLines:
        # Series already written: two uids must never yield one series twice. A dict, not a
        # set: a dict of bytes is invisible to the garbage collector, a set of half a million
        # items would be walked by every collection while the render runs.
        emitted: dict[bytes, None] = {}
        duplicates = 0
        newest: Newest = {}
        # Per family: its finished chunks and the lines of the chunk being filled (small lists
        # only, for the same reason).
        chunks: dict[str, list[Chunk]] = {}
        filling: dict[str, list[bytes]] = {}
        closing = nms_label(data.name)
        # Rows of one card come together: the card check and its newest row are done per run
        # of rows (label strings are pooled by the decoder, so `is` finds the run's end).
        run_card = ""  # no card has an empty uid (the decoder drops such rows)
        run_exposed = False
        best: tuple[float, bool | None, float | None] | None = None
        for measure in data.measures.values():
            card_uid = measure.card_uid
            if card_uid is not run_card:
                if best is not None:
                    _keep_newest(newest, run_card, best)
                run_card, best = card_uid, None
                run_exposed = card_uid in cards  # else no card fields and not in the inventory
            if not run_exposed:
                continue
            line = measure.series
            if line in emitted:
                duplicates += 1
                continue
            emitted[line] = None
            target = filling.get(measure.family)
            if target is None or len(target) >= CHUNK_PARTS:
                target = _next_chunk(measure.family, chunks, filling)
            append = target.append  # no tuple per line: it would wake the collector often
            append(line)
            append(closing)
            append(measure.sample)
            updated = measure.updated_at
            if updated is not None and (best is None or updated > best[0]):
                best = (updated, measure.card_is_up, measure.card_status_at)
        if best is not None:
            _keep_newest(newest, run_card, best)
        for family in filling:
            _next_chunk(family, chunks, filling)
        return cls(
            data.measures,
            data.cards,
            data.cards_from_measures,
            {family: tuple(done) for family, done in chunks.items()},
            len(emitted),
            duplicates,
            newest,
        )


def _next_chunk(
    family: str, chunks: dict[str, list[Chunk]], filling: dict[str, list[bytes]]
) -> list[bytes]:
    """Closes the family's chunk being filled (if any) and starts a new one."""
    full = filling.get(family)
    if full:
        chunks.setdefault(family, []).extend(_chunks(full))
        full.clear()
        return full
    chunks.setdefault(family, [])
    new: list[bytes] = []
    filling[family] = new
    return new


def _keep_newest(
    newest: Newest, card_uid: str, best: tuple[float, bool | None, float | None]
) -> None:
    known = newest.get(card_uid)
    if known is None or best[0] > known[0]:
        newest[card_uid] = best


def _chunks(parts: list[bytes]) -> tuple[Chunk, ...]:
    """``parts`` as tuples of at most CHUNK_PARTS, each handed to the garbage collector at once.

    Tuples of bytes, not lists: the collector walks a list on every collection of its
    generation, a tuple only once, when it finds it holds nothing collectable (a list of the
    1.5 million parts of 500k series cost ~0.1 s per full collection). That first walk is
    done here, a chunk at a time (a few ms each), instead of in one pause of ~0.1 s that
    would hold the interpreter and every scrape waiting on it.
    """
    out = []
    for start in range(0, len(parts), CHUNK_PARTS):
        out.append(tuple(parts[start : start + CHUNK_PARTS]))
        gc.collect(0)
    return tuple(out)
