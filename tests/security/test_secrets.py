"""Secrets hygiene: every command that handles a secret runs as a real process with known
token/password values (debug logging, JSON and text) and those values appear in no log line, no
metric, no error message and no page; configuration files in the repository carry none.

``demo``, ``version`` and ``generate-rules`` take no secret; ``demo``'s embedded simulator
account is a fixed demo credential, not a secret.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
import yaml

from tests.support.processes import REPO, ManagedProcess, cli_command, free_port
from tests.support.sinks import WebhookSink, webhook_sink

NMS_TOKEN = "tok-SECRET-5b1e0c9a7f"
NMS_PASSWORD = "pw-SECRET-77e2c4d1"
JWT_KEY = "jwt-SECRET-signing-0b7d"
DSN_PASSWORD = "db-SECRET-3c9d51aa"
TWILIO_TOKEN = "tw-SECRET-91ab33ef"
BOT_TOKEN = "4242:bot-SECRET-AAE0042"
SECRETS = (NMS_TOKEN, NMS_PASSWORD, JWT_KEY, DSN_PASSWORD, TWILIO_TOKEN, BOT_TOKEN)


def leaks(*texts: str) -> list[str]:
    """Secrets found in the texts, also in the forms a leak could take (URL-quoted, base64 of
    basic auth is checked by the caller where it applies)."""
    found = []
    for secret in SECRETS:
        forms = {secret, secret.replace(":", "%3A")}
        if any(form in text for form in forms for text in texts):
            found.append(secret)
    return found


def get(url: str, **kwargs: object) -> str:
    response = httpx2.get(url, timeout=10, **kwargs)  # type: ignore[arg-type]
    return f"{response.status_code} {response.headers} {response.text}"


def wait_until(probe: str, predicate: object, proc: ManagedProcess, timeout: float = 30) -> str:
    import time

    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        assert proc.alive(), proc.log()[-3000:]
        try:
            text = httpx2.get(probe, timeout=5).text
        except httpx2.HTTPError:
            text = ""
        if callable(predicate) and predicate(text):
            return text
        time.sleep(0.2)
    shown = "\n".join(
        line
        for line in text.splitlines()
        if line.startswith(("padtec_nms_up", "padtec_nms_request_failures_total"))
    )
    raise AssertionError(f"{probe}: condition not met in {timeout} s; last:\n{shown[-3000:]}")


@pytest.fixture
def simulator(tmp_path: Path) -> Iterator[tuple[str, ManagedProcess]]:
    port = free_port()
    config = tmp_path / "simulator.yml"
    config.write_text(
        yaml.safe_dump(
            {
                "sites": 2,
                "cards_per_site": 3,
                "update_interval_seconds": 0.5,
                "users": [{"username": "noc", "password": NMS_PASSWORD}],
                "static_tokens": [NMS_TOKEN],
                "jwt_secret": JWT_KEY,
            }
        )
    )
    proc = ManagedProcess(
        "simulate",
        cli_command(
            "simulate",
            "--config",
            str(config),
            "--listen",
            f"127.0.0.1:{port}",
            "--log.level",
            "debug",
            "--log.format",
            "json",
        ),
        tmp_path,
    )
    try:
        proc.wait_http(f"http://127.0.0.1:{port}/healthz")
        yield f"http://127.0.0.1:{port}", proc
    finally:
        proc.stop()


def exporter_config(tmp_path: Path, sim: str) -> Path:
    (tmp_path / "password").write_text(NMS_PASSWORD + "\n")
    (tmp_path / "wrong-password").write_text(NMS_PASSWORD + "-but-wrong\n")
    nms = {
        "retry": {"attempts": 2, "initial_backoff_seconds": 0.05, "jitter_seconds": 0},
        "breaker": {"failure_threshold": 100, "reset_timeout_seconds": 1},
    }
    config = {
        "nms": [
            {
                **nms,
                "name": "login",
                "base_url": f"{sim}/nms-api",
                "auth": {"username": "noc", "password_file": str(tmp_path / "password")},
            },
            {
                **nms,
                "name": "token",
                "base_url": f"{sim}/nms-api",
                "auth": {"token_env": "PADTEC_TEST_NMS_TOKEN"},
            },
            {
                **nms,
                "name": "refused",
                "base_url": f"{sim}/nms-api",
                "auth": {"username": "noc", "password_file": str(tmp_path / "wrong-password")},
            },
        ],
        "collect": {
            "inventory": {"interval_seconds": 1},
            "critical": {"interval_seconds": 0.5},
            "all_measures": {"interval_seconds": 0.5},
            "alarms": {"interval_seconds": 0.5},
        },
        "log": {"level": "debug", "format": "json"},
    }
    path = tmp_path / "exporter.yml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_serve_and_simulate_never_show_the_nms_credentials(
    simulator: tuple[str, ManagedProcess], tmp_path: Path
) -> None:
    sim, sim_proc = simulator
    config = exporter_config(tmp_path, sim)
    port = free_port()
    listen = f"http://127.0.0.1:{port}"
    exporter = ManagedProcess(
        "serve",
        cli_command("serve", "--config", str(config), "--web.listen-address", f"127.0.0.1:{port}"),
        tmp_path,
        env={"PADTEC_TEST_NMS_TOKEN": NMS_TOKEN},
    )
    seen: list[str] = []
    try:
        exporter.wait_http(f"{listen}/readyz")
        seen.append(
            wait_until(
                f"{listen}/metrics",
                lambda text: (
                    'padtec_nms_up{nms="token"} 1.0' in text
                    and 'padtec_nms_up{nms="login"} 1.0' in text
                    and 'nms="refused",reason="auth"' in text
                ),
                exporter,
            )
        )
        # Tokens now expire every second: the login NMS logs in again and again, the static
        # token is re-read and refused.
        httpx2.post(f"{sim}/control/faults", json={"type": "token_expiry", "every_seconds": 1})
        metrics = wait_until(
            f"{listen}/metrics",
            lambda text: bool(
                re.search(r'padtec_nms_auth_renewals_total\{nms="login"\} [1-9]', text)
                and 'padtec_nms_up{nms="token"} 0.0' in text
            ),
            exporter,
        )
        seen += [metrics, get(f"{listen}/"), get(f"{listen}/healthz"), get(f"{listen}/readyz")]
        seen.append(get(f"{listen}/metrics", headers={"Accept": "application/openmetrics-text"}))
        # A reload with a broken config is refused with an error message.
        config.write_text(config.read_text().replace("password_file", "pasword_file", 1))
        reload = httpx2.post(f"{listen}/-/reload", timeout=10)
        assert reload.status_code >= 400
        seen.append(reload.text)
        seen += [get(f"{sim}/control/truth"), get(f"{sim}/control/faults")]
    finally:
        code = exporter.stop()
    assert code == 0
    logs = exporter.log() + sim_proc.log()
    assert "nms request failed" in logs and "pasword_file" in logs  # the logs did say things
    assert leaks(logs, *seen) == []


def test_check_config_names_problems_without_their_values(tmp_path: Path) -> None:
    config = exporter_config(tmp_path, "http://127.0.0.1:9")
    good = subprocess.run(
        cli_command("check-config", str(config)),
        capture_output=True,
        text=True,
        timeout=30,
        # check-config checks that the token variable is set (issue 15).
        env={"PADTEC_TEST_NMS_TOKEN": NMS_TOKEN, "PATH": "/usr/bin:/bin"},
    )
    inline = tmp_path / "inline.yml"
    doc = yaml.safe_load(config.read_text())
    doc["nms"][0]["auth"] = {"token": NMS_TOKEN, "username": ["noc", NMS_PASSWORD]}
    doc["nms"][1]["timeout"] = NMS_PASSWORD  # an unknown key next to secrets
    inline.write_text(yaml.safe_dump(doc))
    bad = subprocess.run(
        cli_command("check-config", str(inline)),
        capture_output=True,
        text=True,
        timeout=30,
        env={"PADTEC_TEST_NMS_TOKEN": NMS_TOKEN, "PATH": "/usr/bin:/bin"},
    )
    assert good.returncode == 0, good.stderr
    assert bad.returncode != 0 and "nms[0].auth" in bad.stderr + bad.stdout
    assert leaks(good.stdout, good.stderr, bad.stdout, bad.stderr) == []


def test_store_never_shows_the_database_password(tmp_path: Path) -> None:
    port = free_port()
    dead_db = free_port()  # nothing listens: the receiver keeps retrying and refusing writes
    dsn = f"postgresql://padtec:{DSN_PASSWORD}@127.0.0.1:{dead_db}/padtec?connect_timeout=1"
    store = ManagedProcess(
        "store",
        cli_command(
            "store", "--listen", f"127.0.0.1:{port}", "--log.level", "debug", "--log.format", "json"
        ),
        tmp_path,
        env={"PADTEC_STORE_DSN": dsn},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        store.wait_http(f"{url}/healthz")
        write = httpx2.post(
            f"{url}/api/v1/write",
            content=b"\x00not snappy",
            headers={"Content-Encoding": "snappy"},
            timeout=10,
        )
        alert = httpx2.post(f"{url}/api/v1/alerts", json={"alerts": []}, timeout=10)
        seen = [
            f"{write.status_code} {write.text}",
            f"{alert.status_code} {alert.text}",
            get(f"{url}/metrics"),
            get(f"{url}/readyz"),
        ]
    finally:
        code = store.stop()
    assert code == 0
    logs = store.log()
    assert str(dead_db) in logs  # it did report the unreachable database
    assert leaks(logs, *seen) == []


@pytest.fixture
def failing_provider() -> Iterator[WebhookSink]:
    with webhook_sink() as sink:
        sink.status = 500
        yield sink


def test_notify_bridge_never_shows_provider_tokens(
    failing_provider: WebhookSink, tmp_path: Path
) -> None:
    (tmp_path / "bot").write_text(BOT_TOKEN + "\n")
    config = tmp_path / "bridge.yml"
    config.write_text(
        yaml.safe_dump(
            {
                "twilio": {
                    "api_base": failing_provider.url,
                    "account_sid": "AC123",
                    "auth_token_env": "PADTEC_TEST_TWILIO_TOKEN",
                    "sms_from": "+15550000000",
                },
                "telegram": {
                    "api_base": failing_provider.url,
                    "bot_token_file": str(tmp_path / "bot"),
                    "chat_ids": ["-10042"],
                },
                "sms_recipients": {"CRITICAL": ["+5511999990001"]},
            }
        )
    )
    port = free_port()
    bridge = ManagedProcess(
        "notify-bridge",
        cli_command(
            "notify-bridge",
            "--config",
            str(config),
            "--listen",
            f"127.0.0.1:{port}",
            "--log.level",
            "debug",
        ),
        tmp_path,
        env={"PADTEC_TEST_TWILIO_TOKEN": TWILIO_TOKEN},
    )
    url = f"http://127.0.0.1:{port}"
    alert = {
        "status": "firing",
        "alerts": [
            {
                "status": "firing",
                "fingerprint": "fp1",
                "labels": {"alertname": "PadtecCardDown", "severity": "CRITICAL", "site": "A"},
                "annotations": {"summary": "card down"},
            }
        ],
    }
    try:
        bridge.wait_http(f"{url}/healthz")
        replies = [
            httpx2.post(f"{url}/alert/{ch}", json=alert, timeout=10) for ch in ("sms", "telegram")
        ]
        assert [r.status_code for r in replies] == [503, 503]  # provider down: AM retries
        seen = [r.text for r in replies] + [get(f"{url}/metrics"), get(f"{url}/healthz")]
    finally:
        code = bridge.stop()
    assert code == 0
    logs = bridge.log()
    assert "500" in logs  # the provider's failure was logged
    # The bridge did use the tokens: they reached the (local) provider only.
    assert any(BOT_TOKEN in r.path for r in failing_provider.requests)
    assert leaks(logs, *seen) == []


SECRET_KEYS = re.compile(r"(password|token|secret|api_key|auth_token|dsn)$", re.IGNORECASE)
# References, not values: environment placeholders and Grafana's file/env expansions.
REFERENCE = re.compile(r"^(\$\{[A-Za-z_][A-Za-z0-9_]*\}|\$__(file|env)\{[^}]+\})$")
# The simulator's fixed demo account (docs/simulator.md): it guards simulated data only.
NOT_SECRETS = {"docker-compose.yml: services.exporter-demo.environment.SIMULATOR_PASSWORD='admin'"}


def _secret_values(node: object, path: str = "") -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            where = f"{path}.{key}" if path else str(key)
            literal = isinstance(value, str | int) and not REFERENCE.match(str(value))
            if SECRET_KEYS.search(str(key)) and literal and value != "":
                yield f"{where}={value!r}"
            yield from _secret_values(value, where)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _secret_values(item, f"{path}[{i}]")


def test_config_files_in_the_repository_carry_no_secrets() -> None:
    tracked = subprocess.run(
        ["git", "ls-files", "*.yml", "*.yaml", "*.json", "*.env", "*.env.example"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert len(tracked) > 20  # the check sees the repository's configs
    found = []
    for name in tracked:
        if name.startswith(("grafana/dashboards/", "tests/")):
            continue  # generated dashboards and throwaway test fixtures
        text = (REPO / name).read_text()
        docs = (
            [json.loads(text)] if name.endswith(".json") else list(yaml.safe_load_all(text) or [])
        )
        for doc in docs:
            found += [f"{name}: {item}" for item in _secret_values(doc)]
    assert [item for item in found if item not in NOT_SECRETS] == []
