"""The simulator and the exporter as real processes on loopback, for end-to-end tests."""

from __future__ import annotations

import contextlib
import json
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.support.processes import ManagedProcess, cli_command, free_port


def _request(method: str, url: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        raw = resp.read()
    return json.loads(raw) if raw else None


@dataclass
class SimulatorProcess:
    url: str  # NMS base URL, e.g. http://127.0.0.1:8181/nms-api
    control_url: str
    process: ManagedProcess

    def truth(self) -> dict[str, Any]:
        result: dict[str, Any] = _request("GET", f"{self.control_url}/truth")
        return result

    def add_fault(self, fault: Mapping[str, Any]) -> str:
        return str(_request("POST", f"{self.control_url}/faults", dict(fault))["id"])

    def clear_fault(self, fault_id: str) -> None:
        _request("DELETE", f"{self.control_url}/faults/{fault_id}")

    def clear_faults(self) -> None:
        _request("DELETE", f"{self.control_url}/faults")


@dataclass
class ExporterProcess:
    url: str
    process: ManagedProcess
    config_path: Path

    @property
    def target(self) -> str:
        return self.url.removeprefix("http://")

    def scrape(self) -> str:
        with urllib.request.urlopen(f"{self.url}/metrics", timeout=10) as resp:
            return str(resp.read().decode())


@contextlib.contextmanager
def running_simulator(
    workdir: Path,
    *args: str,
    name: str = "simulator",
    update_interval: float = 1.0,
    startup_timeout: float = 30.0,
) -> Iterator[SimulatorProcess]:
    """``args`` are extra ``padtec-exporter simulate`` options (e.g. "--sites", "3"); a network
    of 20,000 cards takes a minute or more to build (the benchmarks wait longer)."""
    port = free_port()
    argv = cli_command(
        "simulate",
        "--listen",
        f"127.0.0.1:{port}",
        "--update-interval",
        str(update_interval),
        *args,
    )
    proc = ManagedProcess(name, argv, workdir)
    base = f"http://127.0.0.1:{port}"
    try:
        proc.wait_http(f"{base}/control/truth", timeout=startup_timeout)
        yield SimulatorProcess(url=f"{base}/nms-api", control_url=f"{base}/control", process=proc)
    finally:
        proc.stop()


def exporter_config(
    nms_urls: Mapping[str, str],
    *,
    critical: float = 1.0,
    all_measures: float = 2.0,
    alarms: float = 1.0,
    inventory: float = 5.0,
    listen: str,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    config: dict[str, Any] = {
        "nms": [
            {
                "name": name,
                "base_url": url,
                "auth": {"username": "admin", "password": "admin"},
                "retry": {
                    "attempts": 2,
                    "initial_backoff_seconds": 0.1,
                    "max_backoff_seconds": 0.5,
                },
                "breaker": {"failure_threshold": 3, "reset_timeout_seconds": 2.0},
                "read_timeout_seconds": 3.0,
            }
            for name, url in nms_urls.items()
        ],
        "collect": {
            "inventory": {"interval_seconds": inventory},
            "critical": {"interval_seconds": critical},
            "all_measures": {"interval_seconds": all_measures},
            "alarms": {"interval_seconds": alarms},
        },
        "web": {"listen_address": listen},
    }
    for key, value in (extra or {}).items():
        config[key] = value
    return config


@contextlib.contextmanager
def running_exporter(
    workdir: Path,
    nms_urls: Mapping[str, str] | str,
    *,
    name: str = "exporter",
    extra_args: Sequence[str] = (),
    **intervals: Any,
) -> Iterator[ExporterProcess]:
    """An exporter polling the given NMS URL(s) (one URL → NMS named "sim"), ready when it
    has taken its first inventory."""
    urls = {"sim": nms_urls} if isinstance(nms_urls, str) else dict(nms_urls)
    port = free_port()
    listen = f"127.0.0.1:{port}"
    config = exporter_config(urls, listen=listen, **intervals)
    config_path = workdir / f"{name}.yml"
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    proc = ManagedProcess(
        name, cli_command("serve", "--config", str(config_path), *extra_args), workdir
    )
    url = f"http://{listen}"
    try:
        proc.wait_http(f"{url}/readyz", timeout=60)
        yield ExporterProcess(url=url, process=proc, config_path=config_path)
    finally:
        proc.stop()


@dataclass
class DemoProcess:
    """``padtec-exporter demo``: the README's run command (simulator + exporter, one process)."""

    port: int  # the exporter's
    simulator_port: int
    process: ManagedProcess

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def control_url(self) -> str:
        return f"http://127.0.0.1:{self.simulator_port}/control"


@contextlib.contextmanager
def demo_process(workdir: Path, *args: str) -> Iterator[DemoProcess]:
    """Start the demo (``args``: extra options) and stop it on exit; waiting is the caller's."""
    port, simulator_port = free_port(), free_port()
    argv = cli_command(
        "demo",
        "--web.listen-address",
        f"127.0.0.1:{port}",
        "--simulator-listen",
        f"127.0.0.1:{simulator_port}",
        *args,
    )
    demo = DemoProcess(port, simulator_port, ManagedProcess("demo", argv, workdir))
    try:
        yield demo
    finally:
        demo.process.stop()
