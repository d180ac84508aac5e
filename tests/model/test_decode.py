import json
from collections import Counter

import pytest

from padtec_exporter.model import MalformedPage, RowDecoder, UnitResolver, UnitRule

# The real row captured in Dec 2025 (shared/padtec-api.md).
DEC_2025 = {
    "cardPart": 2633,
    "cardSerial": 374,
    "measureUid": "ROA1-HA-E29001-TR#374-7260-0",
    "locationDataprovider": "172.30.0.21",
    "locationSite": "04 - INFORR-RNP-JNDA",
    "cardUid": "ROA1-HA-E29001-TR#374",
    "cardModel": "ROA1-HA-E29001-TR",
    "cardFamily": "AMPLIFIER",
    "cardIsUp": False,
    "cardUpdate": "2025-12-04 20:30:01",
    "measureName": "Pump Power",
    "measureResource": None,
    "measureGroup": "POWER",
    "measureValue": "26.549",
    "port": "Pump",
    "updatedAt": "2025-12-04 22:35:38",
    "measureKey": 7260,
    "measureSubKey": 0,
}
# The Feb 2025 build: `update`, lowercase family, no key/subkey/cardIsUp.
FEB_2025 = {
    "locationDataprovider": "172.22.202.8",
    "locationCollector": None,
    "locationSite": "POLARIS",
    "cardUid": "EOA1-HA-E21001-GV#12",
    "cardModel": "EOA1-HA-E21001-GV",
    "cardFamily": "amplifier",
    "cardPart": 2466,
    "cardSerial": 12,
    "measureUid": "EOA1-HA-E21001-GV#12-7705-0",
    "measureName": "Laser Current 1",
    "measureResource": None,
    "measureGroup": "CURRENT",
    "measureValue": "570.068",
    "port": None,
    "update": "2025-02-13 17:42:58",
}


class Invalid:
    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str]] = Counter()

    def __call__(self, resource: str, reason: str) -> None:
        self.counts[(resource, reason)] += 1


def decoder(invalid: Invalid | None = None, rules: list[UnitRule] | None = None) -> RowDecoder:
    return RowDecoder(UnitResolver(rules or []), on_invalid=invalid)


def page(*rows: object) -> bytes:
    return json.dumps(list(rows)).encode()


def test_the_real_december_row_becomes_a_pump_power_in_dbm() -> None:
    [m], count = decoder().measures(page(DEC_2025))
    assert count == 1
    assert (m.family, m.value, m.key, m.subkey, m.port) == (
        "power_dbm",
        26.549,
        "7260",
        "0",
        "Pump",
    )
    assert m.card_is_up is False
    assert m.updated_at == 1764887738.0
    assert m.card_status_at == 1764887738.0 - (22 * 3600 + 35 * 60 + 38 - (20 * 3600 + 30 * 60 + 1))


def test_the_february_build_parses_with_keys_from_the_uid_and_ma_in_amperes() -> None:
    [m], _ = decoder().measures(page(FEB_2025))
    assert (m.key, m.subkey, m.family) == ("7705", "0", "current_amperes")
    assert m.value == pytest.approx(0.570068)
    assert m.updated_at == 1739468578.0
    assert m.card_is_up is None


def test_bad_rows_are_dropped_and_counted_the_rest_kept() -> None:
    invalid = Invalid()
    rows = [
        DEC_2025,
        {**DEC_2025, "measureUid": "A#1-7261-0", "measureValue": "NaN"},
        {**DEC_2025, "measureUid": "A#1-7262-0", "measureValue": None},
        {**DEC_2025, "measureUid": "A#1-7263-0", "measureValue": "abc"},
        {**DEC_2025, "measureUid": "A#1-7264-0", "measureValue": ""},
        {**DEC_2025, "measureUid": None, "cardUid": None},
        {**DEC_2025, "measureUid": "A#1-7266-0", "measureValue": {"nested": 1}},
        "not an object",
        {**DEC_2025, "measureUid": "A#1-7267-0", "measureValue": "1,5"},
    ]
    measures, count = decoder(invalid).measures(page(*rows))
    assert count == len(rows)  # the page length decides paging, kept or not
    assert [m.uid for m in measures] == ["ROA1-HA-E29001-TR#374-7260-0", "A#1-7267-0"]
    assert measures[1].value == 1.5
    assert invalid.counts == {
        ("measures", "non_finite"): 1,
        ("measures", "null_value"): 1,
        ("measures", "not_a_number"): 1,
        ("measures", "empty_value"): 1,
        ("measures", "missing_field"): 1,
        ("measures", "wrong_type"): 2,
    }


@pytest.mark.parametrize(
    "body",
    [
        b'{"rows": []}',
        b"<html><body>Error</body></html>",
        b'[{"measureUid": "x"',
        b"",
        b"null",
        b'"text"',
    ],
)
def test_a_body_that_is_not_an_array_is_a_malformed_page(body: bytes) -> None:
    with pytest.raises(MalformedPage):
        decoder().measures(body)


def test_empty_page() -> None:
    assert decoder().measures(b"[]") == ([], 0)


def test_user_unit_rules_win_over_the_builtin_table() -> None:
    rules = [UnitRule(family="power_dbm", key=7273)]  # say a firmware reports dBm there
    [m], _ = decoder(rules=rules).measures(
        page({**DEC_2025, "measureKey": 7273, "measureValue": "3.5"})
    )
    assert (m.family, m.value) == ("power_dbm", 3.5)
    [m], _ = decoder().measures(page({**DEC_2025, "measureKey": 7273, "measureValue": "200.020"}))
    assert m.family == "power_watts" and m.value == pytest.approx(0.20002)


def test_unknown_measures_go_to_the_generic_family() -> None:
    row = {
        **DEC_2025,
        "measureKey": 9999,
        "measureUid": "X#1-9999-0",
        "measureName": "Widget",
        "measureGroup": "MISC",
    }
    [m], _ = decoder().measures(page(row))
    assert m.family == "measure_value"


def test_cards_and_alarms() -> None:
    card = {
        "locationDataprovider": "172.22.202.8",
        "locationCollector": None,
        "locationSite": "TM800G-LT#951",
        "cardUid": "TM1200G-SA#951",
        "cardName": "TM1200G-SA#951",
        "cardModel": "TM1200G-SA",
        "cardFamily": "transponder",
        "cardPart": 2631,
        "cardSerial": 951,
        "cardFirmwareVersion": "2.11.1",
        "updatedAt": "2025-02-13 17:42:58",
    }
    invalid = Invalid()
    [c], _ = decoder(invalid).cards(page(card, {"cardName": "no uid, no model"}))
    assert invalid.counts == {("inventory", "missing_field"): 1}
    assert (c.uid, c.family, c.part, c.serial, c.firmware) == (
        "TM1200G-SA#951",
        "TRANSPONDER",
        "2631",
        "951",
        "2.11.1",
    )
    cards, count = decoder().cards(page(card, {"cardModel": "X", "cardSerial": 2}))
    assert [x.uid for x in cards] == ["TM1200G-SA#951", "X#2"] and count == 2
    alarm = {
        "locationSite": "POLARIS",
        "cardUid": "TCX200G-9A#68",
        "alarmOid": 753114,
        "alarmName": "Laser desligado (Line 2)",
        "alarmGroup": "LASER OFF",
        "alarmResource": "",
        "alarmSeverity": "MAJOR",
        "alarmIsActive": True,
        "port": None,
        "alarmStartDate": "2025-02-10 11:28:57",
    }
    alarms, _ = decoder().alarms(page(alarm, {**alarm, "alarmIsActive": False}))
    assert [(a.name, a.severity, a.is_active, a.oid) for a in alarms] == [
        ("Laser desligado (Line 2)", "MAJOR", True, "753114"),
        ("Laser desligado (Line 2)", "MAJOR", False, "753114"),
    ]


def test_measure_rows_describe_their_card_for_cards_the_inventory_lacks() -> None:
    from tests.support.evidence_nms import evidence_rows

    decoder = RowDecoder(UnitResolver(), timezone=None)
    measures, _ = decoder.measures(json.dumps(evidence_rows()).encode())
    card = decoder.card_from_measures(measures[0].card_uid)
    assert card is not None
    assert (card.uid, card.model, card.family, card.part, card.serial) == (
        "ROA1-HA-E29001-TR#374",
        "ROA1-HA-E29001-TR",
        "AMPLIFIER",
        "2633",
        "374",
    )
    assert (card.site, card.data_provider) == ("04 - INFORR-RNP-JNDA", "172.30.0.21")
    decoder.retain([], card_uids=[])  # a full sweep without the card forgets it
    assert decoder.card_from_measures("ROA1-HA-E29001-TR#374") is None
