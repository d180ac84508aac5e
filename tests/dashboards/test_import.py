"""The dashboards import into any Grafana: they ask for their datasources (``__inputs``), state
the Grafana they need (``__requires``), hard-code no datasource uid, and are valid against
Grafana's own published dashboard types (npm ``@grafana/schema``, as a JSON Schema)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.dashboards.queries import DASHBOARDS, load
from tests.support.processes import REPO

SCHEMA_DIR = REPO / "grafana" / "schema"
DASHBOARD_TYPES = (
    SCHEMA_DIR / "node_modules/@grafana/schema/dist/types/raw/dashboard/x/types.gen.d.ts"
)
TOKEN = re.compile(r"\$\{(DS_\w+)\}")


def imported(dash: dict[str, Any], chosen: dict[str, str]) -> dict[str, Any]:
    """What Grafana's import does: every ``${DS_...}`` input replaced by the chosen uid."""
    text = TOKEN.sub(lambda m: chosen[m[1]], json.dumps(dash))
    result: dict[str, Any] = json.loads(text)
    return result


def datasource_refs(node: Any) -> list[dict[str, str]]:
    if isinstance(node, dict):
        own = [node["datasource"]] if isinstance(node.get("datasource"), dict) else []
        return own + [r for v in node.values() for r in datasource_refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in datasource_refs(v)]
    return []


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_import_asks_for_every_datasource_type_the_dashboard_uses(path: Path) -> None:
    dash = load(path)
    inputs = {i["name"]: i for i in dash["__inputs"]}
    used = {ref["type"] for ref in datasource_refs(dash)}
    assert {i["pluginId"] for i in inputs.values()} == used
    assert all(i["type"] == "datasource" and i["label"] for i in inputs.values())
    # Random uids, as in a Grafana that was not set up by our provisioning.
    chosen = {name: f"uid-{n}-of-another-grafana" for n, name in enumerate(inputs)}
    after = imported(dash, chosen)
    variables = {v["name"]: v for v in after["templating"]["list"] if v["type"] == "datasource"}
    for ref in datasource_refs(after):
        variable = variables[ref["uid"].removeprefix("${").removesuffix("}")]
        assert variable["query"] == ref["type"]
        assert variable["current"]["value"] in chosen.values()
    assert not TOKEN.search(json.dumps(after)), "an input the dialog does not ask for"
    assert not {"prometheus", "padtec-store"} & {r["uid"] for r in datasource_refs(dash)}


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_requires_states_grafana_version_plugins_and_panels(path: Path) -> None:
    dash = load(path)
    requires = {(r["type"], r["id"]): r for r in dash["__requires"]}
    version = requires[("grafana", "grafana")]["version"]
    assert tuple(map(int, version.split("."))) >= (10, 4, 0)
    assert {p["type"] for p in dash["panels"]} == {i for t, i in requires if t == "panel"}
    assert {r["type"] for r in datasource_refs(dash)} == {
        i for t, i in requires if t == "datasource"
    }


def test_readme_states_the_minimum_grafana_version() -> None:
    version = load(DASHBOARDS[0])["__requires"][0]["version"]
    assert f"Grafana {version}" in (REPO / "grafana" / "README.md").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def grafana_schema(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Grafana's ``Dashboard`` type (v1 JSON model) from @grafana/schema as a JSON Schema.
    Extra keys stay allowed, as Grafana ignores them; types, enums and required keys count."""
    if not DASHBOARD_TYPES.is_file() or not shutil.which("node"):
        pytest.skip("grafana/schema/node_modules missing: scripts/test installs it (npm ci)")
    out = tmp_path_factory.mktemp("schema") / "dashboard.schema.json"
    subprocess.run(
        [
            str(SCHEMA_DIR / "node_modules/.bin/ts-json-schema-generator"),
            "--path",
            str(DASHBOARD_TYPES),
            "--type",
            "Dashboard",
            "--additional-properties",
            "--no-type-check",
            "--out",
            str(out),
        ],
        check=True,
        timeout=300,
    )
    schema: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return schema


def without_nulls(node: Any) -> Any:
    """Grafana reads a null as an absent key, except a threshold step's value (the base step),
    which the schema itself allows to be null."""
    if isinstance(node, dict):
        keep_null = "color" in node and "value" in node
        return {
            k: without_nulls(v)
            for k, v in node.items()
            if v is not None or (keep_null and k == "value")
        }
    if isinstance(node, list):
        return [without_nulls(v) for v in node]
    return node


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_dashboard_is_valid_against_grafanas_published_schema(
    path: Path, grafana_schema: dict[str, Any]
) -> None:
    validator = jsonschema.Draft7Validator(grafana_schema)
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}"
        for e in validator.iter_errors(without_nulls(load(path)))
    ]
    assert not errors, "\n".join(errors)


def test_the_schema_check_catches_a_broken_dashboard(grafana_schema: dict[str, Any]) -> None:
    """The check can fail: a wrong type and a missing required key are reported."""
    broken = without_nulls(load(DASHBOARDS[0]))
    broken["schemaVersion"] = "39"
    del broken["panels"][0]["fieldConfig"]["defaults"]["thresholds"]["steps"][0]["color"]
    assert len(list(jsonschema.Draft7Validator(grafana_schema).iter_errors(broken))) >= 2
