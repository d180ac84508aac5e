"""Every query of every panel, with template variables substituted, runs against a real
Prometheus (scraping the exporter + simulator, evaluating the recording and alerting rules) or a
real PostgreSQL holding the store's schema, and returns data."""

from __future__ import annotations

import asyncio
import json
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml

from padtec_exporter.rulegen import load_thresholds
from padtec_exporter.rulegen.generate import AGGREGATES_FILE, THRESHOLDS_FILE, render_rule_files
from padtec_exporter.store import StoreConfig, StoreService
from padtec_exporter.store.remote_write import encode_write_request
from padtec_exporter.web import serve_app
from tests.support.postgres import running_postgres
from tests.support.processes import REPO, free_port
from tests.support.prometheus import Prometheus, prometheus_config, running_prometheus
from tests.support.stack import running_exporter, running_simulator

pytestmark = pytest.mark.e2e
DASHBOARDS = sorted((REPO / "grafana" / "dashboards").glob("*.json"))


def targets(kind: str) -> list[tuple[str, str, str]]:
    out = []
    for path in DASHBOARDS:
        dash = json.loads(path.read_text())
        for panel in dash["panels"]:
            for target in panel["targets"]:
                if target.get(kind):
                    out.append((dash["title"], panel["title"], target[kind]))
    return out


def fast_rules(workdir: Path) -> list[Path]:
    """The real rule files with `for:` and group intervals shortened so the test is quick."""
    rendered = render_rule_files(
        load_thresholds(REPO / "prometheus" / "thresholds.yml"), for_override="1s"
    )
    health = yaml.safe_load((REPO / "prometheus" / "rules" / "padtec-health.yml").read_text())
    aggregates = yaml.safe_load(rendered[AGGREGATES_FILE])
    for doc in (health, aggregates):
        for group in doc["groups"]:
            group["interval"] = "1s"
            for rule in group["rules"]:
                if "for" in rule:
                    rule["for"] = "1s"
    paths = []
    for name, doc_text in (
        (THRESHOLDS_FILE, rendered[THRESHOLDS_FILE]),
        (AGGREGATES_FILE, yaml.safe_dump(aggregates)),
        ("padtec-health.yml", yaml.safe_dump(health)),
    ):
        path = workdir / name
        path.write_text(doc_text)
        paths.append(path)
    return paths


def substitute(expr: str, values: dict[str, str]) -> str:
    for name, value in {
        "__rate_interval": "1m",
        "__interval": "15s",
        "__range": "5m",
        **values,
    }.items():
        expr = expr.replace(f"${name}", value)
    assert "$" not in expr, f"unsubstituted variable in {expr}"
    return expr


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Any:
    workdir = tmp_path_factory.mktemp("dashboards")
    with (
        running_simulator(workdir, "--sites", "2", "--cards-per-site", "8") as sim,
        running_exporter(workdir, sim.url, critical=1.0, normal=1.0, alarms=1.0) as exporter,
        running_prometheus(
            workdir, prometheus_config([exporter.target], rule_files=fast_rules(workdir))
        ) as prom,
    ):
        truth = sim.truth()
        amplifier = next(u for u in truth["card_uids"] if u.startswith(("ROA", "EOA")))
        transponder = next(u for u in truth["card_uids"] if u.startswith(("TM", "TCX", "TNS")))
        sim.add_fault({"type": "pump_degradation", "card_uid": amplifier, "target_dbm": 8.0})
        sim.add_fault({"type": "fibre_cut", "card_uid": transponder, "loss_db": 6.0})
        prom.wait_for(
            'ALERTS{alertname="PadtecPumpPowerOutOfRange", alertstate="firing"}', bool, timeout=60
        )
        time.sleep(3)  # a few more samples for rate() and the aggregates
        yield prom, amplifier, transponder


def site_of(prom: Prometheus, card: str) -> str:
    return str(prom.query(f'padtec_card_info{{card_uid="{card}"}}')[0]["metric"]["site"])


def variable_sets(prom: Prometheus, amplifier: str, transponder: str) -> list[dict[str, str]]:
    """Valid values of the variables; a panel must show data for at least one of them
    (an OSNR panel has nothing to show for an amplifier)."""
    sets = []
    for card in (amplifier, transponder):
        base = {"nms": "sim", "site": site_of(prom, card), "card": card}
        sets.append(
            {
                **base,
                "family": "padtec_power_dbm",
                "measure": "Pump Power" if card == amplifier else "Rx Power",
            }
        )
        sets.append({**base, "family": "padtec_osnr_db", "measure": "OSNR"})
    return sets


@pytest.mark.parametrize(
    ("dashboard", "panel", "expr"),
    targets("expr"),
    ids=[f"{d}: {p}" for d, p, _ in targets("expr")],
)
def test_promql_panel_returns_data(prometheus: Any, dashboard: str, panel: str, expr: str) -> None:
    prom, amplifier, transponder = prometheus
    errors = []
    for values in variable_sets(prom, amplifier, transponder):
        query = substitute(expr, values)
        try:
            if prom.query(query):
                return
        except Exception as exc:  # a query Prometheus refuses fails the panel
            errors.append(f"{query}: {exc}")
    pytest.fail(f"no data for {expr!r} with any variable value; errors: {errors}")


def test_template_variable_queries_return_values(prometheus: Any) -> None:
    prom, amplifier, transponder = prometheus
    values = variable_sets(prom, amplifier, transponder)[0]
    for path in DASHBOARDS:
        for variable in json.loads(path.read_text())["templating"]["list"]:
            if variable["type"] != "query":
                continue
            match = re.fullmatch(r"label_values\((.*), (\w+)\)", variable["query"])
            assert match, variable["query"]
            selector = substitute(match.group(1), values)
            found = prom.api("/api/v1/label/" + match.group(2) + "/values", **{"match[]": selector})
            assert found, f"{path.stem}: {variable['name']} has no values"


@pytest.mark.parametrize(
    ("dashboard", "panel", "query"),
    targets("rawSql"),
    ids=[f"{d}: {p}" for d, p, _ in targets("rawSql")],
)
def test_sql_panel_returns_data(dashboard: str, panel: str, query: str, sql_store: str) -> None:
    sql = re.sub(
        r"\$__timeFilter\(([\w.]+)\)",
        r"\1 BETWEEN now() - interval '30 days' AND now() + interval '1 day'",
        query,
    )
    sql = substitute(sql, {"family": "padtec_power_dbm", "measure": "Pump Power"})
    with psycopg.connect(sql_store) as conn:
        rows = conn.execute(sql).fetchall()  # type: ignore[call-overload]
    assert rows, f"no rows for {sql}"


async def feed_store(dsn: str) -> None:
    """Samples and an alarm through the store's own endpoints, then its jobs."""
    import httpx

    service = StoreService(StoreConfig(), dsn)
    listen = f"127.0.0.1:{free_port()}"
    runner = await serve_app(service.app(), listen)
    try:
        await service.setup_schema()
        now = datetime.now(UTC)
        pump = {
            "__name__": "padtec_power_dbm",
            "nms": "sim",
            "site": "POLARIS",
            "card_uid": "ROA1-HA-E29001-TR#374",
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
                        "site": "POLARIS",
                        "card_uid": "ROA1-HA-E29001-TR#374",
                        "severity": "CRITICAL",
                    },
                    "annotations": {"summary": "pump"},
                    "startsAt": now.isoformat(),
                }
            ],
        }
        async with httpx.AsyncClient() as client:
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
def sql_store() -> Any:
    with running_postgres() as pg:
        dsn = pg.create_database("dashboards")
        asyncio.run(feed_store(dsn))
        yield dsn
