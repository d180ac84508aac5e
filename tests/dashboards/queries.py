"""Reading the generated dashboards: their queries, and Grafana's variable substitution."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.processes import REPO

DASHBOARDS = sorted((REPO / "grafana" / "dashboards").glob("*.json"))
# What Grafana puts in place of its own variables (a 1 s scrape interval in the tests).
BUILTINS = {"__rate_interval": "1m", "__interval": "15s", "__range": "5m"}
# $name, ${name} and ${name:format}; "$1" in label_replace is PromQL's, not a variable.
VARIABLE = re.compile(r"\$\{(\w+)(?::(\w+))?\}|\$([A-Za-z_]\w*)")
ALL = ".*"  # the value of "All" of every multi-value variable
TIME_FILTER = re.compile(r"\$__timeFilter\(([\w.]+)\)")


@dataclass(frozen=True)
class Query:
    dashboard: str
    panel: str
    ref: str
    text: str  # PromQL or SQL as Grafana stores it

    @property
    def name(self) -> str:
        return f"{self.dashboard}: {self.panel} [{self.ref}]"


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def queries(kind: str) -> list[Query]:
    """Every target of every panel holding ``kind`` ("expr" for PromQL, "rawSql")."""
    return [
        Query(dash["title"], panel["title"], target["refId"], target[kind])
        for dash in map(load, DASHBOARDS)
        for panel in dash["panels"]
        for target in panel["targets"]
        if target.get(kind)
    ]


def variables(path: Path) -> Iterator[dict[str, Any]]:
    yield from load(path)["templating"]["list"]


def substitute(text: str, values: Mapping[str, str]) -> str:
    """``text`` with every variable replaced as Grafana would; an unknown one fails."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(3)
        if name in BUILTINS:
            return BUILTINS[name]
        if name not in values:
            raise KeyError(f"variable ${name} has no test value in {text}")
        value = values[name]
        if match.group(2) == "regex" and value != ALL:
            return re.escape(value)
        return value

    return VARIABLE.sub(replace, text)


def to_sql(text: str, values: Mapping[str, str]) -> str:
    """A SQL panel's query as PostgreSQL gets it: Grafana's time macro expanded (over the
    last 30 days), variables substituted ($measure is quoted by the query itself, so its
    quotes are doubled here as a single-quoted SQL string needs)."""
    text = TIME_FILTER.sub(
        r"\1 BETWEEN now() - interval '30 days' AND now() + interval '1 day'", text
    )
    return substitute(text, {k: v.replace("'", "''") for k, v in values.items()})
