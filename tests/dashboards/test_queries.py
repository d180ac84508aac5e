"""Every query of every panel, with its template variables substituted, runs against a real
Prometheus (scraping the exporter and the simulator, evaluating the recording and alerting
rules) or a real PostgreSQL holding the store's schema, and returns data.

Panels that show trouble need trouble: the simulator gets a pump fault, a fibre cut, a card
down, a burst of malformed rows and of rate limiting; its network also has standing NMS alarms.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
import urllib.error
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
import psycopg
import pytest
import yaml

from padtec_exporter.rulegen import load_thresholds
from padtec_exporter.rulegen.generate import AGGREGATES_FILE, THRESHOLDS_FILE, render_rule_files
from padtec_exporter.store import StoreConfig, StoreService
from padtec_exporter.store.remote_write import encode_write_request
from padtec_exporter.web import serve_app
from tests.dashboards.queries import (
    ALL,
    DASHBOARDS,
    Query,
    load,
    queries,
    substitute,
    to_sql,
    variables,
)
from tests.support.postgres import running_postgres
from tests.support.processes import REPO, cli_command, free_port, running
from tests.support.prometheus import Prometheus, prometheus_config, running_prometheus
from tests.support.stack import SimulatorProcess, exporter_config, running_simulator

pytestmark = pytest.mark.e2e
PROMQL = queries("expr")
SQL = queries("rawSql")
THRESHOLDS = REPO / "prometheus" / "thresholds.yml"
# The simulator only sends measures of known units; routing Target Gain Stage 2 (key 7266) to
# padtec_measure_value gives the "unknown unit" panels something to show.
UNKNOWN_UNIT_RULE = {"family": "measure_value", "key": 7266}


def fast_rules(workdir: Path) -> list[Path]:
    """The real rule files with `for:` and group intervals shortened so the test is quick."""
    rendered = render_rule_files(load_thresholds(THRESHOLDS), for_override="1s")
    health = yaml.safe_load((REPO / "prometheus" / "rules" / "padtec-health.yml").read_text())
    aggregates = yaml.safe_load(rendered[AGGREGATES_FILE])
    for doc in (health, aggregates):
        for group in doc["groups"]:
            group["interval"] = "1s"
            for rule in group["rules"]:
                if "for" in rule:
                    rule["for"] = "1s"
    paths = []
    for name, text in (
        (THRESHOLDS_FILE, rendered[THRESHOLDS_FILE]),
        (AGGREGATES_FILE, yaml.safe_dump(aggregates)),
        ("padtec-health.yml", yaml.safe_dump(health)),
    ):
        path = workdir / name
        path.write_text(text)
        paths.append(path)
    return paths


@contextlib.contextmanager
def running_exporter_with_unknown_unit(workdir: Path, nms_url: str) -> Iterator[str]:
    """The exporter (1 s tiers) with one measure of unknown unit; yields its scrape target."""
    listen = f"127.0.0.1:{free_port()}"
    config = exporter_config(
        {"sim": nms_url},
        listen=listen,
        critical=1.0,
        all_measures=1.0,
        alarms=1.0,
        extra={"units": [UNKNOWN_UNIT_RULE]},
    )
    path = workdir / "exporter.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    argv = cli_command("serve", "--config", str(path))
    with running("exporter", argv, workdir, ready_url=f"http://{listen}/readyz", timeout=60):
        yield listen


def cards(prom: Prometheus) -> list[dict[str, str]]:
    return [r["metric"] for r in prom.query("padtec_card_info")]


def make_trouble(sim: SimulatorProcess, prom: Prometheus) -> dict[str, str]:
    """Faults that make every conditional panel show something; returns the cards hit."""
    inventory = cards(prom)
    roa1 = [c["card_uid"] for c in inventory if c["card_model"].startswith("ROA1")]
    other_amps = [
        c["card_uid"]
        for c in inventory
        if c["card_family"] == "AMPLIFIER" and c["card_uid"] not in roa1
    ]
    transponders = [c["card_uid"] for c in inventory if c["card_family"] == "TRANSPONDER"]
    hit = {"pump": roa1[0], "down": other_amps[0], "fibre": transponders[0]}
    sim.add_fault({"type": "pump_degradation", "card_uid": hit["pump"], "target_dbm": 8.0})
    sim.add_fault({"type": "card_down", "card_uid": hit["down"]})
    sim.add_fault({"type": "fibre_cut", "card_uid": hit["fibre"], "loss_db": 6.0})
    sim.add_fault(
        {"type": "malformed", "mode": "bad_rows", "probability": 0.3, "duration_seconds": 5}
    )
    sim.add_fault(
        {"type": "rate_limit", "probability": 0.3, "retry_after_seconds": 1, "duration_seconds": 5}
    )
    return hit


def variable_sets(prom: Prometheus) -> list[dict[str, str]]:
    """Values Grafana would offer: every card with every measure it has; multi-value
    variables also try "All"."""
    job = prom.query("padtec_exporter_build_info")[0]["metric"]["job"]
    sets = []
    for card in cards(prom):
        selector = f'{{__name__=~"padtec_.+", card_uid="{card["card_uid"]}", measure!=""}}'
        measures = sorted({r["metric"]["measure"] for r in prom.query(selector)}) or [""]
        for measure in measures:
            base = {"site": card["site"], "card": card["card_uid"], "measure": measure}
            sets.append({**base, "nms": card["nms"], "port": ALL, "job": job})
            sets.append({**base, "nms": ALL, "port": ALL, "job": ALL})
    return sets


def answers(prom: Prometheus, query: Query, sets: list[dict[str, str]]) -> bool:
    """Whether the query returns data for some variable values; a query Prometheus refuses
    raises."""
    return any(run(prom, substitute(query.text, values)) for values in sets)


def run(prom: Prometheus, expr: str) -> list[dict[str, Any]]:
    try:
        return prom.query(expr)
    except urllib.error.HTTPError as exc:
        raise AssertionError(f"Prometheus refused {expr}: {exc.read().decode()}") from exc


def settled(prom: Prometheus, query: Query, sets: list[dict[str, str]]) -> bool:
    """Whether waiting longer cannot change the query's verdict."""
    try:
        return answers(prom, query, sets)
    except AssertionError:
        return True  # refused: its test reports it


@dataclass
class Stack:
    prom: Prometheus
    hit: dict[str, str]  # card uids with faults: "pump", "down", "fibre"
    sets: list[dict[str, str]]  # variable values to try


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("dashboards")
    with (
        running_simulator(workdir, "--sites", "2", "--cards-per-site", "8") as sim,
        running_exporter_with_unknown_unit(workdir, sim.url) as target,
        running_prometheus(
            workdir, prometheus_config([target], rule_files=fast_rules(workdir))
        ) as prom,
    ):
        prom.wait_for("padtec_card_info", bool, timeout=30)
        hit = make_trouble(sim, prom)
        prom.wait_for(
            'ALERTS{alertname="PadtecPumpPowerOutOfRange", alertstate="firing"}', bool, timeout=60
        )
        sets = variable_sets(prom)
        # Rates need two samples and the faults a few cycles: wait (bounded) until every
        # query answers, then each test below reports its own query.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not all(settled(prom, q, sets) for q in PROMQL):
            time.sleep(1)
        yield Stack(prom, hit, sets)


@pytest.mark.parametrize("query", PROMQL, ids=[q.name for q in PROMQL])
def test_promql_panel_returns_data(stack: Stack, query: Query) -> None:
    prom, sets = stack.prom, stack.sets
    assert answers(prom, query, sets), f"no data for any variable value: {query.text}"


def test_template_variable_queries_return_values(stack: Stack) -> None:
    prom, sets = stack.prom, stack.sets
    for path in DASHBOARDS:
        for variable in variables(path):
            if variable["type"] != "query":
                continue
            match = re.fullmatch(r"label_values\((.*), (\w+)\)", variable["query"])
            assert match, variable["query"]
            endpoint = f"/api/v1/label/{match.group(2)}/values"
            found = any(
                prom.api(endpoint, **{"match[]": substitute(match.group(1), values)})
                for values in sets
            )
            assert found, f"{path.stem}: variable {variable['name']} has no values"


def panel_query(dashboard: str, panel: str, ref: str = "A") -> str:
    return next(q.text for q in PROMQL if (q.dashboard, q.panel, q.ref) == (dashboard, panel, ref))


def test_overview_lists_every_site_and_a_card_down_makes_its_site_critical(stack: Stack) -> None:
    """End to end: card down in the NMS → exporter → recording rule → the site's state.
    (The ranking itself is tested on every state with promtool in test_dashboards.py.)"""
    prom, hit = stack.prom, stack.hit
    query = panel_query("Padtec / Network overview", "Sites, worst first")
    down_site = next(c["site"] for c in cards(prom) if c["card_uid"] == hit["down"])
    deadline = time.monotonic() + 20
    while True:
        shown = {
            r["metric"]["site"]: float(r["value"][1])
            for r in prom.query(substitute(query, {"nms": ALL}))
        }
        if shown.get(down_site) == 3 or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert set(shown) == {c["site"] for c in cards(prom)}
    assert shown[down_site] == 3


def test_card_graphs_draw_each_cards_own_pump_bounds(stack: Stack) -> None:
    """The dashed lines on a card's pump graph are the bounds its alert uses, overrides of
    thresholds.yml included (ROA1 cards run hotter pumps)."""
    prom = stack.prom
    rule = next(r for r in load_thresholds(THRESHOLDS).rules if r.name == "pump_power")
    query = panel_query("Padtec / Card", "Pump power", "pump_power")
    pumps = {r["metric"]["card_uid"] for r in prom.query('padtec_power_dbm{measure_key="7260"}')}
    checked_overrides = 0
    for card in (c for c in cards(prom) if c["card_uid"] in pumps):
        override = next(
            (o for o in rule.overrides if all(card.get(k) == v for k, v in o.scope().items())),
            None,
        )
        low = rule.min if override is None or override.min is None else override.min
        high = rule.max if override is None or override.max is None else override.max
        drawn = {
            r["metric"]["limit"].split()[1]: float(r["value"][1])
            for r in prom.query(substitute(query, {"nms": "sim", "card": card["card_uid"]}))
        }
        assert drawn == {"min": low, "max": high}, card["card_uid"]
        checked_overrides += override is not None
    assert checked_overrides, "no card of the simulated network has a pump override"


def test_site_graphs_draw_the_overrides_of_the_sites_cards(stack: Stack) -> None:
    """A site with a ROA1 amplifier shows its 28 dBm pump limit next to the default 24 dBm."""
    prom = stack.prom
    rule = next(r for r in load_thresholds(THRESHOLDS).rules if r.name == "pump_power")
    override = rule.overrides[0]
    site = next(c["site"] for c in cards(prom) if c["card_model"] == override.card_model)
    query = panel_query("Padtec / Site", "Pump power", "pump_power")
    drawn = {
        r["metric"]["limit"]: float(r["value"][1])
        for r in prom.query(substitute(query, {"nms": "sim", "site": site}))
    }
    assert drawn[f"{rule.alert} max (card_model={override.card_model})"] == override.max
    assert drawn[f"{rule.alert} max"] == rule.max


def legend_of(legend_format: str, labels: dict[str, str]) -> str:
    """The series name Grafana shows for ``legend_format`` ({{label}} placeholders)."""
    return re.sub(r"\{\{(\w+)\}\}", lambda m: labels.get(m[1], ""), legend_format)


def test_measurements_series_get_the_unit_of_their_family(stack: Stack) -> None:
    """A variable cannot set a unit in Grafana: each series' legend names its family and an
    override per family sets the unit. Apply them as Grafana would."""
    prom = stack.prom
    dash = load(REPO / "grafana" / "dashboards" / "padtec-measurements.json")
    panel = next(p for p in dash["panels"] if p["title"] == "$measure by card")
    target = panel["targets"][0]
    units = {
        re.compile(o["matcher"]["options"].strip("/")): o["properties"][0]["value"]
        for o in panel["fieldConfig"]["overrides"]
        if o["matcher"]["id"] == "byRegexp"
    }
    wanted = {"padtec_power_dbm": "dBm", "padtec_osnr_db": "dB"}
    wanted |= {"padtec_temperature_celsius": "celsius"}
    for measure in ("Pump Power", "OSNR", "Board Temperature", "Target Gain Stage 2"):
        values = {"nms": ALL, "site": ALL, "measure": measure, "port": ALL}
        for series in prom.query(substitute(target["expr"], values)):
            labels = series["metric"]
            legend = legend_of(target["legendFormat"], labels)
            matched = [unit for regex, unit in units.items() if regex.search(legend)]
            assert len(matched) == 1, legend
            family = f"padtec_{labels['family']}"
            assert matched[0] == wanted.get(family, matched[0]), (legend, matched)
            assert matched[0] != "none" or family == "padtec_measure_value", legend


# ---------------------------------------------------------------- SQL panels


async def feed_store(dsn: str) -> None:
    """Samples and an alarm through the store's own endpoints, then its jobs."""
    service = StoreService(StoreConfig(), dsn)
    listen = f"127.0.0.1:{free_port()}"
    runner = await serve_app(service.app(), listen)
    try:
        await service.setup_schema()
        now = datetime.now(UTC)
        card = {"nms": "sim", "site": "POLARIS", "card_uid": "ROA1-HA-E29001-TR#374"}
        pump = {
            "__name__": "padtec_power_dbm",
            **card,
            "measure": "Pump Power",
            "measure_key": "7260",
            "measure_subkey": "0",
            "port": "Pump",
        }
        samples = [
            (int((now - timedelta(hours=h)).timestamp() * 1000), 18.0 + h / 10) for h in range(50)
        ]
        alarm = {
            "version": "4",
            "alerts": [
                {
                    "status": "firing",
                    "fingerprint": "f1",
                    "labels": {
                        "alertname": "PadtecPumpPowerOutOfRange",
                        "severity": "CRITICAL",
                        **card,
                    },
                    "annotations": {"summary": "pump"},
                    "startsAt": now.isoformat(),
                }
            ],
        }
        async with httpx2.AsyncClient() as client:
            response = await client.post(
                f"http://{listen}/api/v1/write", content=encode_write_request([(pump, samples)])
            )
            assert response.status_code == 204
            response = await client.post(
                f"http://{listen}/api/v1/alerts", content=json.dumps(alarm)
            )
            assert response.status_code == 200
        await service.run_jobs(now + timedelta(days=1))
    finally:
        await runner.cleanup()
        await service.close()


@pytest.fixture(scope="module")
def sql_store() -> Iterator[str]:
    with running_postgres() as pg:
        dsn = pg.create_database("dashboards")
        asyncio.run(feed_store(dsn))
        yield dsn


@pytest.mark.parametrize("query", SQL, ids=[q.name for q in SQL])
@pytest.mark.parametrize("scope", ["one site", "all"])
def test_sql_panel_returns_data(query: Query, scope: str, sql_store: str) -> None:
    values = {"measure": "Pump Power", "port": ALL}
    values |= (
        {"nms": "sim", "site": "POLARIS"} if scope == "one site" else {"nms": ALL, "site": ALL}
    )
    text = to_sql(query.text, values)
    with psycopg.connect(sql_store) as conn:
        rows = conn.execute(text).fetchall()  # type: ignore[call-overload]
    assert rows, f"no rows for {text}"
