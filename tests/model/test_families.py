"""The metric-family catalogue is the one list: the exposition, the store, the dashboards and
the README agree with it."""

from __future__ import annotations

from padtec_exporter.model import families as catalogue
from padtec_exporter.model.units import FAMILY_HELP, builtin_rules
from padtec_exporter.store.config import StoreConfig
from tests.support.golden import GOLDEN
from tests.support.processes import REPO


def test_every_family_of_the_golden_exposition_is_in_the_catalogue_with_its_help() -> None:
    helps = {
        line.split()[2]: line.split(" ", 3)[3]
        for line in GOLDEN.read_text().splitlines()
        if line.startswith("# HELP padtec_")
    }
    for family in catalogue.FAMILIES:
        if family.metric in helps:
            assert helps[family.metric] == family.help
    rendered = {name for name in helps if name in {f.metric for f in catalogue.FAMILIES}}
    assert {f.metric for f in catalogue.CARDS} <= rendered


def test_the_renderer_reads_the_catalogue() -> None:
    assert dict(catalogue.MEASURE_HELP) == FAMILY_HELP


def test_every_unit_rule_routes_to_a_catalogue_family() -> None:
    assert {rule.family for rule in builtin_rules()} <= set(catalogue.BY_NAME)


def test_names_carry_their_base_unit() -> None:
    for family in catalogue.FAMILIES:
        if family.unit:
            assert family.name.endswith(f"_{family.unit.lower()}"), family.name


def test_the_store_keeps_the_families_the_catalogue_marks_stored() -> None:
    assert StoreConfig().metrics == [*catalogue.STORED]


def test_the_readme_documents_every_family() -> None:
    readme = (REPO / "README.md").read_text()
    table = readme.split("\n## Metrics reference\n", 1)[1].split("\n## ", 1)[0]
    for family in catalogue.FAMILIES:
        assert f"`{family.metric}" in table, family.metric
