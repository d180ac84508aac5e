"""SIGTERM: requests in flight are finished, and the process exits 0 within 5 s, also while
an NMS request hangs."""

from __future__ import annotations

import os
import re
import signal
import socket
import time
from pathlib import Path

import httpx2
from prometheus_client.parser import text_string_to_metric_families

from tests.support.processes import ManagedProcess
from tests.support.stack import demo_process, running_exporter, running_simulator

EXIT_WITHIN_SECONDS = 5.0


def wait_exit(proc: ManagedProcess, since: float) -> tuple[int | None, float]:
    try:
        code = proc.proc.wait(timeout=EXIT_WITHIN_SECONDS + 5)
    except Exception:
        code = None
    return code, time.monotonic() - since


def test_a_scrape_in_flight_is_finished_before_the_exporter_exits(tmp_path: Path) -> None:
    with demo_process(tmp_path, "--sites", "10", "--cards-per-site", "100") as demo:
        port = demo.port
        demo.process.wait_http(f"http://127.0.0.1:{port}/readyz", timeout=60)
        deadline = time.monotonic() + 30
        while "padtec_power_dbm{" not in httpx2.get(f"http://127.0.0.1:{port}/metrics").text:
            assert time.monotonic() < deadline, "no measures"
            time.sleep(0.2)
        # A slow reader with a tiny receive window keeps the response (~1.5 MB) in flight.
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", port))
        sock.sendall(
            f"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode()
        )
        received = sock.recv(8192)
        os.killpg(demo.process.proc.pid, signal.SIGTERM)
        signalled = time.monotonic()
        while chunk := sock.recv(16384):
            received += chunk
            time.sleep(0.002)
        sock.close()
        code, took = wait_exit(demo.process, signalled)
    head, _, body = received.partition(b"\r\n\r\n")
    length = re.search(rb"Content-Length: (\d+)", head, re.IGNORECASE)
    assert head.startswith(b"HTTP/1.1 200") and length is not None
    assert len(body) == int(length.group(1)) > 1_000_000  # all of it, after the SIGTERM
    cards = [
        family
        for family in text_string_to_metric_families(body.decode())
        if family.name == "padtec_card_info"
    ]
    assert len(cards[0].samples) == 1000
    assert code == 0 and took < EXIT_WITHIN_SECONDS, f"exit {code} after {took:.1f} s"


def test_sigterm_while_the_nms_hangs_exits_at_once(tmp_path: Path) -> None:
    with (
        running_simulator(tmp_path, "--sites", "2", "--cards-per-site", "3") as sim,
        running_exporter(tmp_path, sim.url, critical=0.5, all_measures=0.5, alarms=0.5) as exporter,
    ):
        httpx2.post(f"{sim.control_url}/faults", json={"type": "outage", "mode": "hang"})
        time.sleep(1.5)  # collections are now waiting on replies that never come
        started = time.monotonic()
        exporter.process.signal(signal.SIGTERM)
        code, took = wait_exit(exporter.process, started)
        assert code == 0 and took < EXIT_WITHIN_SECONDS, f"exit {code} after {took:.1f} s"
