import math

import pytest

from padtec_exporter.model.values import (
    TimestampParser,
    ValueRejected,
    parse_bool,
    parse_number,
    text,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("26.549", 26.549),
        ("-0.020", -0.02),
        (" 7 ", 7.0),
        ("26,549", 26.549),
        (12, 12.0),
        (1.5, 1.5),
        ("1e-6", 1e-6),
        ("200.020", 200.02),
    ],
)
def test_numbers_the_nms_sends_are_parsed(raw: object, expected: float) -> None:
    assert math.isclose(parse_number(raw), expected)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (None, "null_value"),
        ("", "empty_value"),
        ("   ", "empty_value"),
        ("NaN", "non_finite"),
        ("inf", "non_finite"),
        ("-Infinity", "non_finite"),
        (float("nan"), "non_finite"),
        ("n/a", "not_a_number"),
        ("1_000", "not_a_number"),
        ("1,2,3", "not_a_number"),
        ("1.000,5", "not_a_number"),
        (True, "wrong_type"),
        ([1], "wrong_type"),
        ({}, "wrong_type"),
        ("1e999", "non_finite"),
    ],
)
def test_unusable_values_are_rejected_with_a_reason(raw: object, reason: str) -> None:
    with pytest.raises(ValueRejected) as caught:
        parse_number(raw)
    assert caught.value.reason == reason


def test_sentinel_values_are_rejected() -> None:
    with pytest.raises(ValueRejected) as caught:
        parse_number("-99.000", sentinels=frozenset({-99.0}))
    assert caught.value.reason == "sentinel"
    assert parse_number("-98.000", sentinels=frozenset({-99.0})) == -98.0


def test_timestamps_without_zone_use_the_configured_zone() -> None:
    utc = TimestampParser("UTC")
    sao_paulo = TimestampParser("America/Sao_Paulo")
    assert utc("2025-12-04 22:35:38") == 1764887738.0
    # São Paulo is UTC-3 (no DST since 2019): the same wall time is 3 h later in Unix time.
    assert sao_paulo("2025-12-04 22:35:38") == 1764887738.0 + 3 * 3600
    assert utc("2025-02-13T17:42:58+00:00") == 1739468578.0
    assert utc("yesterday") is None
    assert utc(12345) is None
    assert utc(None) is None


def test_booleans_and_text() -> None:
    assert parse_bool(True) is True
    assert parse_bool("false") is False
    assert parse_bool(1) is True
    assert parse_bool("maybe") is None
    assert text(None) == ""
    assert text(2633) == "2633"
    assert text(951.0) == "951"
