"""Every SQL example of docs/store.md runs against the store's schema and finds the data the
store wrote through its own endpoints."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx2
import pytest

from padtec_exporter.simulate.network import generate
from padtec_exporter.store.remote_write import encode_write_request
from tests.store.conftest import Receiver, sql
from tests.store.test_jobs_and_alarms import webhook
from tests.store.test_remote_write import post
from tests.support.demo_network import demo_exposition
from tests.support.processes import REPO

DOC = (REPO / "docs" / "store.md").read_text()
# The README's SQL example runs too.
EXAMPLES = re.findall(r"```sql\n(.*?)```", DOC + (REPO / "README.md").read_text(), re.DOTALL)
NOW = datetime.now(UTC)


def ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


# The card the doc's examples name, taken down in the simulator so that "cards down yesterday"
# has an answer.
DOWN_CARD = "ROA1-HA-E29001-TR#158"


async def feed(receiver: Receiver) -> None:
    """What the exporter polling the default demo network exposes, remote-written as if
    Prometheus had scraped it every 2 hours for 60 hours; an alarm of that network; the
    store's jobs run as if a day had passed (hourly and daily rows)."""
    samples = await demo_exposition([{"type": "card_down", "card_uid": DOWN_CARD}])
    hours = [NOW - timedelta(hours=h) for h in range(0, 60, 2)]
    job = {"job": "padtec", "instance": "exporter:9787"}
    body = encode_write_request(
        [({**labels, **job}, [(ms(t), value) for t in hours]) for labels, value in samples]
    )
    assert (await post(receiver.url, body)).status_code == 204
    alert = webhook("firing", card=DOWN_CARD)
    alert["alerts"][0]["startsAt"] = (NOW - timedelta(days=3)).isoformat()  # type: ignore[index]
    async with httpx2.AsyncClient() as client:
        response = await client.post(f"{receiver.url}/api/v1/alerts", json=alert)
        assert response.status_code == 200
    await receiver.service.run_jobs(NOW + timedelta(days=1))  # today complete: daily rows too


def as_plain_sql(example: str) -> str:
    """Grafana's macros, as Grafana expands them for a 30-day dashboard."""
    example = re.sub(r"\$__timeFilter\(([\w.]+)\)", r"\1 > now() - interval '30 days'", example)
    return example.replace("$site", "POLARIS")


def test_the_doc_has_the_examples_the_issue_asks_for() -> None:
    assert len(EXAMPLES) >= 4
    assert any("measurements_daily" in e and "osnr" in e for e in EXAMPLES)
    assert any("FROM alarms" in e for e in EXAMPLES)
    assert any("$__timeFilter" in e for e in EXAMPLES)


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.split("\n")[0][:40] for e in EXAMPLES])
async def test_sql_example_returns_rows(receiver: Receiver, dsn: str, example: str) -> None:
    await feed(receiver)
    assert sql(dsn, as_plain_sql(example)), example


def test_examples_name_what_the_default_demo_network_has() -> None:
    """A card, site, model or measure an example names exists on the demo network."""
    network = generate(seed=42, sites=6, cards_per_site=8, extra_measures_per_card=0)
    known = {
        "card_uid": {c.uid for c in network.cards},
        "site": set(network.sites()),
        "model": {c.model.name for c in network.cards},
        "measure": {m.name for c in network.cards for m in c.measures},
    }
    for example in EXAMPLES:
        for column, value in re.findall(
            r"\b(card_uid|site|model|measure) = '([^']*)'", as_plain_sql(example)
        ):
            assert value in known[column], (column, value)
