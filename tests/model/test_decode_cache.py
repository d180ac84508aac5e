"""The decoder's per-series cache: a row of a known series must decode exactly as a fresh
decoder would decode it, whatever changed since the previous poll."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from padtec_exporter.model import Measure, RowDecoder, UnitResolver
from tests.model.test_decode import DEC_2025, FEB_2025, Invalid, page


def decode(decoder: RowDecoder, row: dict[str, Any]) -> list[Measure]:
    return decoder.measures(page(row))[0]


def as_fresh(row: dict[str, Any]) -> tuple[list[Measure], Invalid]:
    invalid = Invalid()
    return decode(RowDecoder(UnitResolver(), on_invalid=invalid), row), invalid


# Each later row keeps the uid of the first: the cache must not answer with the first's record.
LATER_ROWS: list[dict[str, Any]] = [
    DEC_2025,  # unchanged
    {**DEC_2025, "measureValue": "27.1", "updatedAt": "2025-12-04 22:40:38"},
    {**DEC_2025, "cardIsUp": True},
    {**DEC_2025, "cardIsUp": 1.0},  # == True, but not a flag parse_bool knows
    {**DEC_2025, "cardIsUp": 0},
    {**DEC_2025, "locationSite": "elsewhere"},
    {**DEC_2025, "measureName": "Board Temperature", "measureKey": 7261},
    {**DEC_2025, "measureSubKey": False},  # == 0, but not a key
    {**DEC_2025, "measureSubKey": 0.0},
    {**DEC_2025, "port": None},
    {**DEC_2025, "cardFamily": "TRANSPONDER"},
    {**DEC_2025, "measureValue": "-0.0"},
    {**DEC_2025, "measureValue": -0.0},
    {**DEC_2025, "measureValue": "NaN"},
    {**DEC_2025, "measureValue": None},
    {**DEC_2025, "updatedAt": "not a time"},
    {**DEC_2025, "updatedAt": None, "update": "2025-12-04 22:35:38"},
    {**DEC_2025, "cardUid": None},
]


@pytest.mark.parametrize("later", LATER_ROWS)
@pytest.mark.parametrize("first", [DEC_2025, {**DEC_2025, "measureValue": "0.0"}])
def test_a_known_series_decodes_as_a_fresh_decoder_would(
    first: dict[str, Any], later: dict[str, Any]
) -> None:
    invalid = Invalid()
    decoder = RowDecoder(UnitResolver(), on_invalid=invalid)
    decode(decoder, first)
    invalid.counts.clear()
    expected, expected_invalid = as_fresh(later)
    got = decode(decoder, later)
    assert [msgspec.structs.asdict(m) for m in got] == [msgspec.structs.asdict(m) for m in expected]
    assert [repr(m.value) for m in got] == [repr(m.value) for m in expected]  # -0.0 vs 0.0
    assert invalid.counts == expected_invalid.counts


def test_an_unchanged_row_reuses_the_record_and_its_label_strings_are_shared() -> None:
    decoder = RowDecoder(UnitResolver())
    [first] = decode(decoder, DEC_2025)
    [again] = decode(decoder, DEC_2025)
    assert again is first
    [other] = decode(decoder, {**DEC_2025, "measureUid": "ROA1-HA-E29001-TR#374-7260-1"})
    assert other.card_uid is first.card_uid and other.site is first.site


def test_a_bad_timestamp_of_a_known_series_is_counted_on_every_poll() -> None:
    invalid = Invalid()
    decoder = RowDecoder(UnitResolver(), on_invalid=invalid)
    row = {**DEC_2025, "updatedAt": "yesterday"}
    for _ in range(3):
        [m] = decode(decoder, row)
        assert m.updated_at is None
    assert invalid.counts[("measures", "bad_timestamp")] == 3


def test_retain_forgets_series_gone_from_the_last_sweep() -> None:
    decoder = RowDecoder(UnitResolver())
    [kept] = decode(decoder, DEC_2025)
    [gone] = decode(decoder, FEB_2025)
    decoder.retain({kept.uid: kept})
    assert decode(decoder, DEC_2025)[0] is kept
    assert decode(decoder, FEB_2025)[0] is not gone  # decoded anew


def series_of(n: int, value: str = "1.000", **fields: Any) -> list[dict[str, Any]]:
    """n rows of one card, in the NMS's order, each its own series."""
    return [
        {
            **DEC_2025,
            "measureUid": f"ROA1-HA-E29001-TR#374-{7000 + i}-0",
            "measureKey": 7000 + i,
            "measureName": f"Measure {i}",
            "measureValue": value,
            **fields,
        }
        for i in range(n)
    ]


def records(measures: list[Measure]) -> list[dict[str, Any]]:
    return [msgspec.structs.asdict(m) for m in measures]


# Pages as a later poll may bring them, after a first page of rows 0..5 with value 1.000.
LATER_PAGES: dict[str, list[dict[str, Any]]] = {
    "same order": series_of(6),
    "reversed": series_of(6)[::-1],
    "one row inserted first": [{**series_of(7)[6]}, *series_of(6)],
    "one row gone": series_of(6)[1:],
    "values changed": series_of(6, value="2.500"),
    "a label changed": [{**row, "locationSite": "Moved"} for row in series_of(6)],
    "same first uid, other rows": [series_of(6)[0], *series_of(12)[6:]],
    "a field of another type": [{**series_of(6)[0], "cardIsUp": 1}, *series_of(6)[1:]],
}


@pytest.mark.parametrize("later", LATER_PAGES.values(), ids=LATER_PAGES.keys())
def test_a_page_of_known_series_in_any_order_decodes_as_a_fresh_decoder_would(
    later: list[dict[str, Any]],
) -> None:
    decoder = RowDecoder(UnitResolver())
    decoder.measures(page(*series_of(6)))
    expected = RowDecoder(UnitResolver()).measures(page(*later))[0]
    assert records(decoder.measures(page(*later))[0]) == records(expected)
    # ...and again, now that this page is the one remembered for its first uid.
    assert records(decoder.measures(page(*later))[0]) == records(expected)


def test_a_label_that_changes_and_changes_back_gives_the_first_record_again() -> None:
    decoder = RowDecoder(UnitResolver())
    first = decoder.measures(page(*series_of(3)))[0]
    moved = decoder.measures(page(*[{**row, "locationSite": "Moved"} for row in series_of(3)]))[0]
    back = decoder.measures(page(*series_of(3)))[0]
    assert {m.site for m in moved} == {"Moved"}
    assert records(back) == records(first)


def test_the_nms_value_text_is_exposed_verbatim_unless_scaled_or_not_plain() -> None:
    decoder = RowDecoder(UnitResolver())
    rows = [
        {**DEC_2025, "measureValue": "26.5490"},  # dBm: as sent
        {**DEC_2025, "measureUid": "X-7260-1", "measureSubKey": 1, "measureValue": "-0.000"},
        {**DEC_2025, "measureUid": "X-7260-2", "measureSubKey": 2, "measureValue": "26,549"},
        {**DEC_2025, "measureUid": "X-7260-3", "measureSubKey": 3, "measureValue": " 26.5"},
        {**FEB_2025, "measureValue": "570.068"},  # mA, exposed in amperes
    ]
    samples = [m.sample for m in decoder.measures(page(*rows))[0]]
    assert samples == [b"26.5490\n", b"-0.000\n", b"26.549\n", b"26.5\n", b"0.570068\n"]
