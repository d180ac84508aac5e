"""A real Alertmanager (Debian's prometheus-alertmanager) on loopback, with the project's
routing tree rewritten to loopback sinks."""

from __future__ import annotations

import contextlib
import json
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.support.processes import REPO, ManagedProcess, free_port, require_binary

STACK_CONFIG = REPO / "alertmanager" / "alertmanager.yml"


@dataclass
class Alertmanager:
    url: str
    process: ManagedProcess

    def post_alerts(self, alerts: list[dict[str, Any]]) -> None:
        req = urllib.request.Request(
            f"{self.url}/api/v2/alerts",
            method="POST",
            data=json.dumps(alerts).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=10):
            pass


def loopback_config(
    workdir: Path, hosts: Mapping[str, str], smtp: str, timings: Mapping[str, str] | None = None
) -> Path:
    """The stack's alertmanager.yml with its hosts mapped to loopback sinks.

    The routing tree, receivers, inhibitions and templates stay the real ones; only where
    notifications go (and, for fast tests, the group timings) change.
    """
    config = yaml.safe_load(STACK_CONFIG.read_text())
    password = workdir / "smtp_password"
    password.write_text("not-a-real-password\n")
    config["global"]["smtp_smarthost"] = smtp
    config["global"]["smtp_require_tls"] = False
    config["global"]["smtp_auth_password_file"] = str(password)
    config["templates"] = [str(REPO / "alertmanager" / "templates" / "*.tmpl")]
    for route in [config["route"], *config["route"].get("routes", [])]:
        for key, value in (timings or {}).items():
            route[key] = value
    for receiver in config["receivers"]:
        for hook in receiver.get("webhook_configs", []):
            for host, replacement in hosts.items():
                hook["url"] = hook["url"].replace(f"http://{host}", replacement)
    path = workdir / "alertmanager.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


@contextlib.contextmanager
def running_alertmanager(
    workdir: Path,
    config: Path,
    name: str = "alertmanager",
    cluster_peers: Sequence[str] = (),
    cluster_port: int | None = None,
) -> Iterator[Alertmanager]:
    binary = require_binary("prometheus-alertmanager")
    port = free_port()
    argv = [
        binary,
        f"--config.file={config}",
        f"--storage.path={workdir / (name + '-data')}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--log.level=warn",
    ]
    if cluster_port is None:
        argv.append("--cluster.listen-address=")
    else:
        argv += [
            f"--cluster.listen-address=127.0.0.1:{cluster_port}",
            f"--cluster.advertise-address=127.0.0.1:{cluster_port}",
            "--cluster.gossip-interval=50ms",
            "--cluster.pushpull-interval=1s",
            "--cluster.peer-timeout=1s",
            "--cluster.settle-timeout=2s",
        ]
        argv += [f"--cluster.peer={peer}" for peer in cluster_peers]
    proc = ManagedProcess(name, argv, workdir)
    url = f"http://127.0.0.1:{port}"
    try:
        proc.wait_http(f"{url}/-/ready", timeout=30)
        yield Alertmanager(url=url, process=proc)
    finally:
        proc.stop()
