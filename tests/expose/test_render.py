import gzip
import shutil
import subprocess
from dataclasses import replace
from types import MappingProxyType

import pytest
from prometheus_client.parser import text_string_to_metric_families

from padtec_exporter.collect.data import NmsData
from padtec_exporter.expose import Renderer
from padtec_exporter.model import Alarm, Card, Measure, lines


def card(uid: str, site: str = "São Paulo #2", is_active: bool | None = None) -> Card:
    return Card(
        uid=uid,
        site=site,
        model=uid.split("#")[0],
        family="AMPLIFIER",
        part="2633",
        serial=uid.split("#")[1],
        name=uid,
        data_provider="172.30.0.21",
        firmware="2.1",
        is_active=is_active,
        updated_at=None,
    )


def measure(
    card_uid: str,
    key: int,
    value: float,
    *,
    family: str = "power_dbm",
    name: str = "Pump Power",
    updated: float = 1000.0,
    up: bool | None = True,
    site: str = "São Paulo #2",
    uid: str | None = None,
) -> Measure:
    labels = {
        "site": site,
        "card_uid": card_uid,
        "name": name,
        "key": str(key),
        "subkey": "0",
        "port": "Pump",
        "group": "POWER",
    }
    return Measure(
        uid=uid or f"{card_uid}-{key}-0",
        card_uid=card_uid,
        site=site,
        name=name,
        key=str(key),
        subkey="0",
        port="Pump",
        group="POWER",
        family=family,
        updated_at=updated,
        card_is_up=up,
        card_status_at=updated - 60,
        series=lines.measure_series(family, **labels),
        sample=lines.sample(value, None, 1.0),
    )


def data(
    cards: list[Card], measures: list[Measure], alarms: tuple[Alarm, ...] = (), name: str = "nms-a"
) -> NmsData:
    return NmsData(
        name=name,
        cards=MappingProxyType({c.uid: c for c in cards}),
        measures=MappingProxyType({m.uid: m for m in measures}),
        alarms=alarms,
        inventory_ok=True,
    )


def samples(text: bytes) -> dict[str, list[tuple[dict[str, str], float]]]:
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text.decode()):
        for s in family.samples:
            out.setdefault(s.name, []).append((s.labels, s.value))
    return out


def test_cards_measures_and_alarms_are_rendered_with_their_labels() -> None:
    cards = [card("ROA1-HA-E29001-TR#374"), card("MDDC21401ST2#7", is_active=False)]
    measures = [
        measure("ROA1-HA-E29001-TR#374", 7260, 18.25),
        measure(
            "ROA1-HA-E29001-TR#374",
            7261,
            35.0,
            family="temperature_celsius",
            name="Board Temperature",
            updated=2000.0,
            up=False,
        ),
    ]
    alarm = Alarm(
        oid="1",
        card_uid="ROA1-HA-E29001-TR#374",
        site="São Paulo #2",
        name='Pin "below" the minimum\\threshold',
        group="THRESHOLD",
        severity="MAJOR",
        resource="",
        port="",
        is_active=True,
        started_at=None,
    )
    exposition = Renderer().render([data(cards, measures, (alarm, alarm))])
    got = samples(exposition.text)
    assert got["padtec_power_dbm"] == [
        (
            {
                "nms": "nms-a",
                "site": "São Paulo #2",
                "card_uid": "ROA1-HA-E29001-TR#374",
                "measure": "Pump Power",
                "measure_key": "7260",
                "measure_subkey": "0",
                "port": "Pump",
            },
            18.25,
        )
    ]
    assert got["padtec_temperature_celsius"][0][1] == 35.0
    assert len(got["padtec_card_info"]) == 2
    # cardIsUp of the newest measure row wins; the passive card falls back to cardIsActive.
    assert {labels["card_uid"]: v for labels, v in got["padtec_card_up"]} == {
        "ROA1-HA-E29001-TR#374": 0.0,
        "MDDC21401ST2#7": 0.0,
    }
    # The passive card reports no measures: no last-update series, so no staleness alert.
    assert [
        labels["card_uid"] for labels, _ in got["padtec_card_last_update_timestamp_seconds"]
    ] == ["ROA1-HA-E29001-TR#374"]
    assert got["padtec_card_last_update_timestamp_seconds"][0][1] == 2000.0
    [(alarm_labels, one)] = got["padtec_nms_alarm_active"]  # duplicate rows → one series
    assert alarm_labels["alarm_name"] == 'Pin "below" the minimum\\threshold' and one == 1
    assert "padtec_nms_alarm_start_timestamp_seconds" not in got  # no alarmStartDate: no series
    assert exposition.series == sum(len(v) for v in got.values())
    assert gzip.decompress(exposition.gzipped.complete(b"tail\n")) == exposition.text + b"tail\n"


def test_measures_of_cards_not_in_the_inventory_are_not_exposed() -> None:
    measures = [measure("A#1", 7260, 18.0), measure("GONE#2", 7260, 17.0)]
    got = samples(Renderer().render([data([card("A#1")], measures)]).text)
    assert [labels["card_uid"] for labels, _ in got["padtec_power_dbm"]] == ["A#1"]


def test_two_rows_for_one_series_give_one_sample_and_are_counted() -> None:
    measures = [measure("A#1", 7260, 18.0), measure("A#1", 7260, 19.0, uid="A#1-07260-0")]
    exposition = Renderer().render([data([card("A#1")], measures)])
    assert len(samples(exposition.text)["padtec_power_dbm"]) == 1
    assert exposition.duplicates == {"nms-a": 1}


def test_series_of_several_nms_carry_their_nms_label() -> None:
    exposition = Renderer().render(
        [
            data([card("A#1")], [measure("A#1", 7260, 18.0)], name="north"),
            data([card("A#1")], [measure("A#1", 7260, 16.0)], name="south"),
        ]
    )
    got = samples(exposition.text)["padtec_power_dbm"]
    assert {(labels["nms"], v) for labels, v in got} == {("north", 18.0), ("south", 16.0)}


def test_a_changed_label_is_not_served_from_the_cache() -> None:
    renderer = Renderer()
    renderer.render([data([card("A#1")], [measure("A#1", 7260, 18.0)])])
    moved = renderer.render(
        [data([card("A#1", site="Elsewhere")], [measure("A#1", 7260, 18.5, site="Elsewhere")])]
    )
    [(labels, value)] = samples(moved.text)["padtec_power_dbm"]
    assert (labels["site"], value) == ("Elsewhere", 18.5)


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed")
def test_promtool_finds_nothing_to_lint_with_hostile_label_values() -> None:
    site = 'Quote " back \\ slash\nnewline ☃ 🚀 ação'
    cards = [card("A#1", site=site)]
    measures = [
        measure("A#1", 7260, -0.02, site=site),
        measure("A#1", 9999, 1e-6, family="measure_value", name="Odd\nname", site=site),
    ]
    text = Renderer().render([data(cards, measures)]).text
    result = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == b"" and result.stderr == b""
    assert samples(text)["padtec_card_info"][0][0]["site"] == site


def test_a_cached_render_equals_a_fresh_render_after_values_labels_and_series_change() -> None:
    renderer = Renderer()
    renderer.render(
        [data([card("A#1"), card("B#2")], [measure("A#1", 7260, 18.0), measure("B#2", 7261, 1.0)])]
    )
    later = data(
        [card("A#1"), card("B#2")],
        [measure("A#1", 7260, -0.0, updated=2000.0), measure("B#2", 7261, 1.0, name="Renamed")],
    )
    assert renderer.render([later]).text == Renderer().render([later]).text
    # A series gone from the data is gone from the output (and from the cache) too.
    only_a = data([card("A#1"), card("B#2")], [measure("A#1", 7260, 3.0)])
    assert renderer.render([only_a]).text == Renderer().render([only_a]).text


def test_active_alarms_expose_their_start_time_with_the_same_labels() -> None:
    def alarm(name: str, started: float | None) -> Alarm:
        return Alarm(
            oid="7",
            card_uid="A#1",
            site="S",
            name=name,
            group="LOS",
            severity="CRITICAL",
            resource="",
            port="",
            is_active=True,
            started_at=started,
        )

    alarms = (alarm("LOS", 1_700_000_300.0), alarm("LOS", 1_700_000_000.0), alarm("LOF", None))
    got = samples(Renderer().render([data([card("A#1")], [], alarms)]).text)
    active = {labels["alarm_name"]: labels for labels, _ in got["padtec_nms_alarm_active"]}
    [(labels, started)] = got["padtec_nms_alarm_start_timestamp_seconds"]
    assert labels == active["LOS"]
    assert started == 1_700_000_000.0  # two rows of one alarm: the earliest start
    assert set(active) == {"LOS", "LOF"}


def test_timestamps_are_shifted_by_the_nms_clock_offset() -> None:
    # No zone configured: records hold NMS local time read as UTC; an NMS at UTC-4 reads
    # four hours behind, so the offset (-14400 s) is subtracted on the way out.
    alarm = Alarm(
        oid="1",
        card_uid="A#1",
        site="S",
        name="LOS",
        group="LOS",
        severity="CRITICAL",
        resource="",
        port="",
        is_active=True,
        started_at=5000.0,
    )
    base = data([card("A#1")], [measure("A#1", 7260, 18.0, updated=10_000.0)], (alarm,))
    got = samples(Renderer().render([replace(base, clock_shift_seconds=-14_400.0)]).text)
    [(_, last_update)] = got["padtec_card_last_update_timestamp_seconds"]
    [(_, status)] = got["padtec_card_status_timestamp_seconds"]
    [(_, started)] = got["padtec_nms_alarm_start_timestamp_seconds"]
    assert (last_update, status, started) == (24_400.0, 24_340.0, 19_400.0)


def test_cards_known_only_from_their_measures_are_exposed() -> None:
    newcomer = Card(
        uid="TM1200G-SA#77",
        site="S",
        model="TM1200G-SA",
        family="TRANSPONDER",
        part="2631",
        serial="77",
        name="TM1200G-SA#77",
        data_provider="172.30.0.21",
        firmware="",
        is_active=None,
        updated_at=None,
    )
    base = data([card("A#1")], [measure("A#1", 7260, 18.0), measure("TM1200G-SA#77", 7260, 1.5)])
    got = samples(
        Renderer()
        .render([replace(base, cards_from_measures=MappingProxyType({newcomer.uid: newcomer}))])
        .text
    )
    assert {labels["card_uid"] for labels, _ in got["padtec_power_dbm"]} == {
        "A#1",
        "TM1200G-SA#77",
    }
    info = {labels["card_uid"]: labels for labels, _ in got["padtec_card_info"]}
    assert info["TM1200G-SA#77"]["card_model"] == "TM1200G-SA"
    assert info["TM1200G-SA#77"]["data_provider"] == "172.30.0.21"


def test_a_publication_with_the_same_measures_but_other_cards_is_not_served_stale() -> None:
    # An inventory run publishes new cards with the measures mapping unchanged: the renderer
    # reuses its measure lines only while measures and cards are both the same objects.
    renderer = Renderer()
    both = data([card("A#1"), card("B#2")], [measure("A#1", 7260, 18.0), measure("B#2", 7260, 1.0)])
    renderer.render([both])
    same = replace(both, alarms=())
    assert renderer.render([same]).text == Renderer().render([same]).text
    only_a = replace(both, cards=MappingProxyType({"A#1": card("A#1")}))
    text = renderer.render([only_a]).text
    assert text == Renderer().render([only_a]).text
    assert [labels["card_uid"] for labels, _ in samples(text)["padtec_power_dbm"]] == ["A#1"]
