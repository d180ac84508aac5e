"""A real Prometheus (Debian package) started on a free loopback port for a test."""

from __future__ import annotations

import contextlib
import json
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.support.processes import ManagedProcess, free_port, require_binary


@dataclass
class Prometheus:
    url: str
    process: ManagedProcess
    config_path: Path

    def api(self, path: str, **params: str) -> Any:
        query = urllib.parse.urlencode(params)
        with urllib.request.urlopen(f"{self.url}{path}?{query}", timeout=10) as resp:
            doc = json.loads(resp.read())
        if doc.get("status") != "success":
            raise RuntimeError(f"Prometheus {path} failed: {doc}")
        return doc["data"]

    def query(self, expr: str, at: float | None = None) -> list[dict[str, Any]]:
        params = {"query": expr}
        if at is not None:
            params["time"] = str(at)
        data = self.api("/api/v1/query", **params)
        result: list[dict[str, Any]] = data["result"]
        return result

    def scalar(self, expr: str) -> float | None:
        """Value of a query that yields one sample (``None`` when it yields nothing)."""
        result = self.query(expr)
        if not result:
            return None
        return float(result[0]["value"][1])

    def wait_for(
        self,
        expr: str,
        predicate: Callable[[list[dict[str, Any]]], bool],
        timeout: float = 60.0,
        interval: float = 0.5,
    ) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        result: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            result = self.query(expr)
            if predicate(result):
                return result
            time.sleep(interval)
        raise TimeoutError(
            f"{expr!r} did not satisfy the condition in {timeout}s; last: {result}"
            f"\n--- prometheus log ---\n{self.process.log()[-3000:]}"
        )

    def alerts(self) -> list[dict[str, Any]]:
        data = self.api("/api/v1/alerts")
        alerts: list[dict[str, Any]] = data["alerts"]
        return alerts

    def reload(self) -> None:
        req = urllib.request.Request(f"{self.url}/-/reload", method="POST")
        with urllib.request.urlopen(req, timeout=10):
            pass


def prometheus_config(
    targets: Sequence[str],
    *,
    scrape_interval: str = "1s",
    evaluation_interval: str = "1s",
    rule_files: Sequence[Path] = (),
    alertmanagers: Sequence[str] = (),
    remote_write: Sequence[dict[str, Any]] = (),
    scrape_extra: dict[str, Any] | None = None,
    external_labels: dict[str, str] | None = None,
) -> dict[str, Any]:
    config: dict[str, Any] = {
        "global": {
            "scrape_interval": scrape_interval,
            "evaluation_interval": evaluation_interval,
            "scrape_timeout": scrape_interval,
        },
        "scrape_configs": [
            {
                "job_name": "padtec",
                "static_configs": [{"targets": list(targets)}],
                **(scrape_extra or {}),
            }
        ],
    }
    if external_labels:
        config["global"]["external_labels"] = external_labels
    if rule_files:
        config["rule_files"] = [str(p) for p in rule_files]
    if alertmanagers:
        config["alerting"] = {
            "alertmanagers": [{"static_configs": [{"targets": list(alertmanagers)}]}]
        }
    if remote_write:
        config["remote_write"] = list(remote_write)
    return config


@contextlib.contextmanager
def running_prometheus(
    workdir: Path, config: dict[str, Any], name: str = "prometheus", extra_args: Sequence[str] = ()
) -> Iterator[Prometheus]:
    binary = require_binary("prometheus")
    workdir.mkdir(parents=True, exist_ok=True)
    config_path = workdir / f"{name}.yml"
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    port = free_port()
    argv = [
        binary,
        f"--config.file={config_path}",
        f"--storage.tsdb.path={workdir / (name + '-data')}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--web.enable-lifecycle",
        "--log.level=warn",
        *extra_args,
    ]
    proc = ManagedProcess(name, argv, workdir)
    url = f"http://127.0.0.1:{port}"
    try:
        proc.wait_http(f"{url}/-/ready", timeout=60)
        yield Prometheus(url=url, process=proc, config_path=config_path)
    finally:
        proc.stop()
