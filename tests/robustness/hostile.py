"""What a hostile or broken NMS may send: hypothesis strategies and a hand-written corpus.

Rows start from a plausible row (so that some survive and reach the exposition) and then get
fields deleted or replaced by hostile scalars, objects or arrays. Label-bearing fields carry
free text: quotes, backslashes, newlines, accents, emoji, control characters.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from padtec_exporter.model.rows import RawAlarm, RawCard, RawMeasure

MEASURE_FIELDS = list(RawMeasure.__struct_fields__)
CARD_FIELDS = list(RawCard.__struct_fields__)
ALARM_FIELDS = list(RawAlarm.__struct_fields__)

# Strings that have broken parsers before: decimal commas, IEEE specials, Python-only number
# syntax, Unicode digits, a number longer than int() accepts, escapes, emoji, control chars.
NASTY_STRINGS = [
    "",
    " ",
    "26,549",
    "1.234,5",
    "NaN",
    "nan",
    "Inf",
    "-Infinity",
    "1e999",
    "-1e999",
    "1_000",
    "0x1A",
    "²",
    "٣",
    "7260²",
    "9" * 5000,
    "null",
    "true",
    '"',
    "\\",
    "\n",
    'a"b\\c\nd',
    "São João – ação",  # noqa: RUF001 (a real en dash: label values carry them)
    "🚀📡",
    "\x00",
    "\r\n",
    "\t",
    "\u2028",
    "{}",
    "[]",
    "2025-02-30 25:61:61",
    "0001-01-01 00:00:00",
    "9999-12-31 23:59:59",
    "2025-12-04T22:35:38+14:00",
]
# Integers JSON allows and msgspec decodes, but no float can hold.
HUGE_INTEGERS = [2**63, -(2**63) - 1, 2**64 + 1, 10**400, -(10**400), 10**4000]

# Any Unicode but lone surrogates (json.dumps would write them as \udXXX escapes, which the
# decoder refuses as a malformed page; that case has its own test).
free_text = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=24)

WRONG_TYPES: list[Any] = [None, True, False, 0, -1, 2.5, [], {}, [1.0], {"value": 1.0}]
# Every hand-picked value: the corpus tests try each one in every field.
CORPUS: list[Any] = [*NASTY_STRINGS, *HUGE_INTEGERS, *WRONG_TYPES]

# The corpus is one branch of a few: hypothesis then tries its needles often enough.
hostile_scalar = st.one_of(
    st.sampled_from([v for v in CORPUS if not isinstance(v, list | dict)]),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    free_text,
)
hostile_value = st.one_of(
    st.sampled_from(CORPUS),
    st.integers(),
    free_text,
    st.lists(st.integers(), max_size=2),
)


def measure_row(card_uid: str, site: str, name: str, port: str | None, key: int) -> dict[str, Any]:
    return {
        "cardUid": card_uid,
        "measureUid": f"{card_uid}-{key}-0",
        "locationSite": site,
        "cardFamily": "AMPLIFIER",
        "cardIsUp": True,
        "cardUpdate": "2025-12-04 20:30:01",
        "measureName": name,
        "measureGroup": "POWER",
        "measureValue": "26.549",
        "measureKey": key,
        "measureSubKey": 0,
        "port": port,
        "updatedAt": "2025-12-04 22:35:38",
    }


def card_row(card_uid: str, site: str) -> dict[str, Any]:
    return {
        "cardUid": card_uid,
        "cardName": card_uid,
        "cardModel": "ROA1-HA-E29001-TR",
        "cardFamily": "amplifier",
        "cardPart": 2633,
        "cardSerial": 374,
        "cardFirmwareVersion": "2.11.1",
        "locationSite": site,
        "locationDataprovider": "172.30.0.21",
        "updatedAt": "2025-02-13 17:42:58",
    }


def alarm_row(card_uid: str, site: str, name: str) -> dict[str, Any]:
    return {
        "alarmOid": 753114,
        "cardUid": card_uid,
        "locationSite": site,
        "alarmName": name,
        "alarmGroup": "LASER OFF",
        "alarmResource": "",
        "alarmSeverity": "MAJOR",
        "alarmIsActive": True,
        "alarmStartDate": "2025-02-10 11:28:57",
        "port": None,
    }


@st.composite
def damaged(draw: st.DrawFn, row: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    """``row`` with some fields deleted, some replaced, maybe unknown keys added."""
    out = dict(row)
    for field in draw(st.lists(st.sampled_from(fields), min_size=1, max_size=6)):
        if draw(st.integers(0, 3)) == 0:
            out.pop(field, None)
        else:
            out[field] = draw(hostile_value)
    for key, value in draw(st.dictionaries(free_text, hostile_scalar, max_size=2)).items():
        out.setdefault(key, value)
    return out


@st.composite
def network(draw: st.DrawFn) -> tuple[list[Any], list[Any], list[Any]]:
    """Inventory, measure and alarm pages of one hostile NMS (as JSON-ready lists).

    Cards share a small pool of uids and sites so that measures and alarms land on cards that
    exist, and so that duplicate rows (same uid, or same labels under another uid) happen.
    """
    labels = st.one_of(free_text, st.sampled_from(NASTY_STRINGS))
    uids = draw(st.lists(labels, min_size=1, max_size=4, unique=True))
    sites = draw(st.lists(labels, min_size=1, max_size=3))
    uid, site = st.sampled_from(uids), st.sampled_from(sites)
    plain_cards = st.builds(card_row, uid, site)
    plain_measures = st.builds(
        measure_row,
        uid,
        site,
        st.one_of(free_text, st.sampled_from(["Pump Power", "OSNR", "Board Temperature"])),
        st.one_of(st.none(), free_text),
        st.sampled_from([7260, 7705, 7261, 8003, 9999]),
    )
    plain_alarms = st.builds(alarm_row, uid, site, free_text)

    def page(plain: st.SearchStrategy[dict[str, Any]], fields: list[str]) -> list[Any]:
        rows = draw(
            st.lists(
                st.one_of(
                    plain, plain.flatmap(lambda r: damaged(r, fields)), st.sampled_from(CORPUS)
                ),
                max_size=12,
            )
        )
        twice: bool = draw(st.booleans())
        if rows and twice:  # the same row sent twice
            rows += draw(st.lists(st.sampled_from(rows), max_size=3))
        return rows

    return (
        page(plain_cards, CARD_FIELDS),
        page(plain_measures, MEASURE_FIELDS),
        page(plain_alarms, ALARM_FIELDS),
    )


def encode(doc: Any, *, ascii_only: bool = False) -> bytes:
    return json.dumps(doc, ensure_ascii=ascii_only).encode()


# Bodies that are not a JSON array at all: the client's "malformed reply" (retried, counted).
NOT_AN_ARRAY = [
    b"",
    b"   ",
    b"null",
    b"{}",
    b'{"content": [], "totalPages": 1}',
    b"123",
    b'"text"',
    b"<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>",
    b"<html><head><title>Login</title></head><body>Session expired</body></html>",
    b'[{"cardUid": "A#1", "measureValue": "1.0"',  # truncated
    b'[{"cardUid": "A#1"}, {"cardUid": ',
    b"[1e999]",  # a number no float holds
    b'[{"cardUid": "\\ud800"}]',  # a lone UTF-16 surrogate
    b"\xff\xfe[\x00]\x00",  # UTF-16 with BOM
    b"[NaN]",
    b"[Infinity]",
]
