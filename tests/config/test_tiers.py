"""The tier table (tiers.py) is what config, collector and docs use: defaults come from it,
a partial tier keeps its filters, the old name `normal` still works, the docs show the table."""

from __future__ import annotations

import pytest

from padtec_exporter import tiers
from padtec_exporter.config import config_from_data
from padtec_exporter.configfile import ConfigError
from tests.support.processes import REPO

NMS = {"nms": {"name": "core", "auth": {"token": "t"}}}


def test_every_tier_of_the_table_has_its_defaults() -> None:
    collect = config_from_data(NMS).collect
    assert list(collect.tiers) == list(tiers.NAMES)
    for tier in tiers.TIERS:
        got = collect.tiers[tier.name]
        assert got.interval_seconds == tier.interval_seconds
        assert got.filters == [dict(f) for f in tier.filters]


def test_a_tier_given_only_an_interval_keeps_its_filters() -> None:
    collect = config_from_data({**NMS, "collect": {"critical": {"interval_seconds": 15}}}).collect
    assert collect.tiers["critical"].interval_seconds == 15
    assert collect.tiers["critical"].filters == [
        {"measureGroup": "POWER"},
        {"measureGroup": "OSNR"},
    ]


def test_normal_is_still_accepted_for_the_full_measures_sweep() -> None:
    collect = config_from_data({**NMS, "collect": {"normal": {"interval_seconds": 120}}}).collect
    assert collect.tiers["all_measures"].interval_seconds == 120
    assert "normal" not in collect.tiers


@pytest.mark.parametrize(
    ("collect", "key"),
    [
        ({"normal": {"interval_seconds": "soon"}}, "collect.normal.interval_seconds"),
        ({"alarms": {"interval_seconds": 0}}, "collect.alarms.interval_seconds"),
        ({"critical": {"intervall": 5}}, "collect.critical"),
    ],
)
def test_a_bad_tier_names_its_key_as_written(collect: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError, match=f"key '{key}"):
        config_from_data({**NMS, "collect": collect})


def test_the_architecture_page_shows_the_tier_table() -> None:
    page = (REPO / "docs" / "architecture.md").read_text()
    table = page.split("\n## Tiers\n", 1)[1].split("\n\n", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line]
    shown = [tuple(cell.strip() for cell in row.strip("|").split("|")) for row in rows[1:]]
    assert shown == [(t.name, f"{t.interval_seconds:g} s", t.what) for t in tiers.TIERS]
