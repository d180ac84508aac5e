"""Hostile NMS rows through the decoder and the renderer: no crash, every drop counted by reason,
and an exposition that Prometheus' own parser (promtool) and prometheus-client both accept, with
every label value coming back exactly as the NMS sent it."""

from __future__ import annotations

import json
import math
import subprocess
from collections import Counter
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

from padtec_exporter.collect.data import NmsData
from padtec_exporter.expose import Renderer
from padtec_exporter.model import Alarm, Card, MalformedPage, Measure, RowDecoder, UnitResolver
from padtec_exporter.model.units import UNKNOWN_FAMILY
from padtec_exporter.model.values import BAD_TIMESTAMP
from tests.robustness.hostile import (
    ALARM_FIELDS,
    CARD_FIELDS,
    CORPUS,
    MEASURE_FIELDS,
    NOT_AN_ARRAY,
    alarm_row,
    card_row,
    encode,
    measure_row,
    network,
)
from tests.support.processes import require_binary

ZONES = ["UTC", "America/Sao_Paulo", "Pacific/Kiritimati"]
MEASURE_LABELS = ("nms", "site", "card_uid", "measure", "measure_key", "measure_subkey", "port")
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@dataclass
class Decoded:
    cards: list[Card]
    measures: list[Measure]
    alarms: list[Alarm]
    dropped: Counter[tuple[str, str]] = field(default_factory=Counter)

    def data(self, name: str) -> NmsData:
        """What the collector publishes: one record per uid (the later row wins)."""
        return NmsData(
            name=name,
            cards=MappingProxyType({c.uid: c for c in self.cards}),
            measures=MappingProxyType({m.uid: m for m in self.measures}),
            alarms=tuple(a for a in self.alarms if a.is_active),
            inventory_ok=True,
        )


def decode(pages: tuple[list[Any], list[Any], list[Any]], zone: str, ascii_only: bool) -> Decoded:
    dropped: Counter[tuple[str, str]] = Counter()

    def count(resource: str, reason: str) -> None:
        dropped[(resource, reason)] += 1

    decoder = RowDecoder(UnitResolver(), timezone=zone, on_invalid=count)
    inventory, measures, alarms = (encode(page, ascii_only=ascii_only) for page in pages)
    cards, card_rows = decoder.cards(inventory)
    values, measure_rows = decoder.measures(measures)
    active, alarm_rows = decoder.alarms(alarms)
    for resource, kept, raw, page in (
        ("inventory", cards, card_rows, pages[0]),
        ("measures", values, measure_rows, pages[1]),
        ("alarms", active, alarm_rows, pages[2]),
    ):
        # A late timestamp is counted but keeps its row; every other reason drops the row.
        drops = sum(n for (r, why), n in dropped.items() if r == resource and why != BAD_TIMESTAMP)
        assert raw == len(page), resource
        assert len(kept) + drops == raw, (resource, dict(dropped))
    for m in values:
        assert math.isfinite(m.value), m
    return Decoded(cards, values, active, dropped)


def parse(text: bytes) -> dict[str, list[tuple[dict[str, str], float]]]:
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text.decode("utf-8")):
        for sample in family.samples:
            out.setdefault(sample.name, []).append((sample.labels, sample.value))
    return out


def measure_labels(nms: str, m: Measure) -> tuple[tuple[str, str], ...]:
    labels = dict(
        zip(MEASURE_LABELS, (nms, m.site, m.card_uid, m.name, m.key, m.subkey, m.port), strict=True)
    )
    if m.family == UNKNOWN_FAMILY:
        labels["measure_group"] = m.group
    return tuple(sorted(labels.items()))


def check_exposition(data: NmsData, text: bytes, duplicates: int) -> None:
    """Every series comes back with the labels and values of the records it was built from."""
    samples = parse(text)
    cards = {
        (c.uid, c.site, c.model, c.family, c.part, c.serial, c.data_provider, c.firmware)
        for c in data.cards.values()
    }
    got_cards = {
        tuple(
            labels[k]
            for k in (
                "card_uid",
                "site",
                "card_model",
                "card_family",
                "card_part",
                "card_serial",
                "data_provider",
                "firmware",
            )
        )
        for labels, _ in samples.get("padtec_card_info", [])
    }
    assert got_cards == cards
    expected: dict[tuple[str, tuple[tuple[str, str], ...]], set[float]] = {}
    shown = [m for m in data.measures.values() if m.card_uid in data.cards]
    for m in shown:
        expected.setdefault((f"padtec_{m.family}", measure_labels(data.name, m)), set()).add(
            m.value
        )
    got: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for name, series in samples.items():
        for labels, value in series:
            if "measure" in labels:
                key = (name, tuple(sorted(labels.items())))
                assert key not in got, f"series twice in one exposition: {key}"
                got[key] = value
    assert set(got) == set(expected)
    for key, value in got.items():
        assert value in expected[key]
    assert duplicates == len(shown) - len(expected)
    alarms = {
        (a.card_uid, a.site, a.name, a.group, a.severity, a.resource, a.port) for a in data.alarms
    }
    got_alarms = [
        tuple(
            labels[k]
            for k in (
                "card_uid",
                "site",
                "alarm_name",
                "alarm_group",
                "severity",
                "resource",
                "port",
            )
        )
        for labels, _ in samples.get("padtec_nms_alarm_active", [])
    ]
    assert sorted(got_alarms) == sorted(alarms)


def test_hostile_rows_never_crash_are_counted_and_render_exactly() -> None:
    """Property: any mix of hostile rows. The datasets of all examples are then rendered
    together in a few large expositions for promtool (one run each, not one per example)."""
    seen: list[NmsData] = []

    @FAST
    @given(network(), st.sampled_from(ZONES), st.booleans())
    def rows_render_exactly(
        pages: tuple[list[Any], list[Any], list[Any]], zone: str, ascii_only: bool
    ) -> None:
        data = decode(pages, zone, ascii_only).data("nms-a")
        exposition = Renderer().render([data])
        check_exposition(data, exposition.text, exposition.duplicates["nms-a"])
        seen.append(data)

    rows_render_exactly()
    promtool = require_binary("promtool")
    renamed = [replace(data, name=f"nms-{i}") for i, data in enumerate(seen)]
    for batch in (renamed[i : i + 60] for i in range(0, len(renamed), 60)):
        text = Renderer().render(batch).text
        result = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True)
        assert (result.returncode, result.stdout, result.stderr) == (0, b"", b""), text[:2000]


def test_every_corpus_value_in_every_field_costs_at_most_its_row() -> None:
    """The whole corpus, field by field: the good row beside it always survives."""
    site, uid = 'Quote " back \\ slash\nnewline ☃ 🚀 ação', "A#1"
    resources = [
        ("inventory", card_row(uid, site), CARD_FIELDS),
        ("measures", measure_row(uid, site, "Pump Power", "Pump", 7260), MEASURE_FIELDS),
        ("alarms", alarm_row(uid, site, "LOS"), ALARM_FIELDS),
    ]
    for resource, good, fields in resources:
        for name in fields:
            for value in [*CORPUS, "<missing>"]:
                bad = {k: v for k, v in good.items() if k != name}
                if value != "<missing>":
                    bad[name] = value
                pages: list[list[Any]] = [[], [], []]
                pages[["inventory", "measures", "alarms"].index(resource)] = [good, bad]
                decoded = decode((pages[0], pages[1], pages[2]), "UTC", ascii_only=False)
                data = decoded.data("nms-a")
                if resource != "inventory":  # give measures and alarms their card
                    cards = RowDecoder(UnitResolver()).cards(encode([card_row(uid, site)]))[0]
                    data = NmsData(
                        name=data.name,
                        cards=MappingProxyType({c.uid: c for c in cards}),
                        measures=data.measures,
                        alarms=data.alarms,
                        inventory_ok=True,
                    )
                exposition = Renderer().render([data])
                check_exposition(data, exposition.text, exposition.duplicates["nms-a"])
                assert any(uid in line for line in exposition.text.decode().splitlines())


@st.composite
def broken_bodies(draw: st.DrawFn) -> bytes:
    whole = encode(draw(network())[1])
    return draw(
        st.one_of(
            st.sampled_from(NOT_AN_ARRAY),
            st.binary(max_size=64),
            st.integers(0, max(0, len(whole) - 1)).map(lambda cut: whole[:cut]),
        )
    )


@FAST
@given(broken_bodies())
def test_a_body_that_is_not_an_array_is_a_malformed_page_and_nothing_else(body: bytes) -> None:
    decoder = RowDecoder(UnitResolver())
    for decode_page in (decoder.cards, decoder.measures, decoder.alarms):
        try:
            _, raw = decode_page(body)
        except MalformedPage:
            continue
        # Whatever was accepted really is a JSON array, and every element was accounted for.
        doc = json.loads(body)
        assert isinstance(doc, list) and raw == len(doc)


@pytest.mark.parametrize("body", NOT_AN_ARRAY, ids=lambda b: b[:24].decode("latin-1"))
def test_the_corpus_of_broken_bodies_is_refused_as_malformed(body: bytes) -> None:
    with pytest.raises(MalformedPage):
        RowDecoder(UnitResolver()).measures(body)


VALUES: list[tuple[Any, float | str]] = [
    ("26.549", 26.549),
    ("-0.020", -0.02),
    (" 26.549 ", 26.549),
    ("26,549", 26.549),
    (26.5, 26.5),
    (7, 7.0),
    ("1.234,5", "not_a_number"),
    ("NaN", "non_finite"),
    ("nan", "non_finite"),
    ("Inf", "non_finite"),
    ("-Infinity", "non_finite"),
    ("1e999", "non_finite"),
    (10**400, "non_finite"),
    (-(10**400), "non_finite"),
    ("9" * 5000, "non_finite"),
    ("", "empty_value"),
    ("   ", "empty_value"),
    (None, "null_value"),
    ("1_000", "not_a_number"),
    ("0x1A", "not_a_number"),
    ("²", "not_a_number"),
    ("abc", "not_a_number"),
    (True, "wrong_type"),
    ([1.0], "wrong_type"),
    ({"value": 1.0}, "wrong_type"),
]


@pytest.mark.parametrize(("raw", "outcome"), VALUES, ids=lambda v: repr(v)[:20])
def test_each_hostile_value_is_kept_or_dropped_with_its_reason(
    raw: Any, outcome: float | str
) -> None:
    dropped: list[tuple[str, str]] = []
    decoder = RowDecoder(UnitResolver(), on_invalid=lambda *why: dropped.append(why))
    good = measure_row("A#1", "site", "Pump Power", "Pump", 7260)
    body = encode([good, {**good, "measureUid": "A#1-7261-0", "measureValue": raw}])
    records, raw_count = decoder.measures(body)
    assert raw_count == 2 and records[0].value == 26.549  # a bad row never costs its page
    if isinstance(outcome, str):
        assert (len(records), dropped) == (1, [("measures", outcome)])
    else:
        assert (len(records), dropped) == (2, []) and records[1].value == outcome


@pytest.mark.parametrize(
    "patch",
    [
        {"measureKey": "²"},
        {"measureKey": "9" * 5000},
        {"measureKey": 10**400},
        {"measureKey": None, "measureSubKey": None, "measureUid": "A#1-²-0"},
        {"measureKey": None, "measureSubKey": None, "measureUid": "A#1-" + "9" * 5000 + "-0"},
        {"measureSubKey": "٣"},
    ],
    ids=[
        "superscript-key",
        "5000-digit-key",
        "huge-int-key",
        "superscript-uid",
        "huge-uid",
        "arabic",
    ],
)
def test_keys_that_are_not_plain_integers_do_not_drop_the_page(patch: dict[str, Any]) -> None:
    good = measure_row("A#1", "site", "Pump Power", "Pump", 7260)
    records, raw = RowDecoder(UnitResolver()).measures(encode([{**good, **patch}, good]))
    assert raw == 2 and len(records) >= 1
    assert all(r.key.isascii() for r in records)
