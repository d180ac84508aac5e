"""A stand-in NMS that replays the real capture (../shared/evidence/measures-state-2025-12.json).

It serves the ten captured ``measures/state`` rows exactly as captured (field order, JSON types,
``cardIsUp: false``, nulls, row order), with only the timestamps moved to "now" in a
configurable zone west of UTC, as the live NMS sent them. ``cardUpdate`` keeps the capture's lag
behind ``updatedAt`` (2 h 05 min 37 s). Around the rows, what the API page documents as seen:
login with a ``Token`` scheme, bare-array paging with ``page``/``size``, ``*/count``.

Unlike our simulator it speaks HTTP/1.0 and closes the connection after every response (as
the reproduction of issue 12 did), and its ``Date`` header comes from Python's http.server.

What is NOT from evidence (kept minimal): the one inventory row (the card fields of the
capture, in the Feb 2025 manual's card shape; firmware unknown), empty alarms, the token (an
opaque string), the error bodies.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from tests.support.processes import REPO

EVIDENCE = REPO.parent / "shared" / "evidence" / "measures-state-2025-12.json"
STAMP = "%Y-%m-%d %H:%M:%S"
# The capture's site, Roraima (INFORR), is on UTC-4 all year: the zone the capture implies.
CAPTURE_ZONE = "America/Boa_Vista"
USERNAME = "monitor"
PASSWORD = "evidence-password"  # guards replayed public data on loopback only
JSON_TYPE = "application/json;charset=UTF-8"  # the NMS's exact Content-Type (seen)


def evidence_rows() -> list[dict[str, Any]]:
    """The capture, decoded as it is on disk (dicts keep the field order)."""
    rows: list[dict[str, Any]] = json.loads(EVIDENCE.read_text(encoding="utf-8"))
    return rows


def capture_status_lag(rows: list[dict[str, Any]]) -> timedelta:
    """How far ``cardUpdate`` lags ``updatedAt`` in the capture (the same on every row)."""
    first = rows[0]
    return datetime.strptime(first["updatedAt"], STAMP) - datetime.strptime(
        first["cardUpdate"], STAMP
    )


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    authorization: str | None


@dataclass
class EvidenceNms:
    url: str  # base URL as an exporter config wants it, e.g. http://127.0.0.1:PORT/nms-api
    timezone: str
    token: str
    refresh_seconds: float  # updatedAt moves on this grid, like the NMS+'s 30 s refresh
    username: str = USERNAME
    password: str = PASSWORD
    requests: list[Seen] = field(default_factory=list)
    _rows: list[dict[str, Any]] = field(default_factory=evidence_rows)

    @property
    def status_lag(self) -> timedelta:
        return capture_status_lag(self._rows)

    def updated_at(self, now: datetime | None = None) -> datetime:
        """The newest refresh at ``now``, as a zone-aware datetime in the NMS's zone."""
        now = now or datetime.now(UTC)
        step = self.refresh_seconds
        floored = datetime.fromtimestamp(now.timestamp() // step * step, UTC)
        return floored.astimezone(ZoneInfo(self.timezone))

    def measure_rows(self) -> list[dict[str, Any]]:
        updated = self.updated_at()
        stamp = updated.strftime(STAMP)
        card_update = (updated - self.status_lag).strftime(STAMP)
        moved = []
        for row in self._rows:
            copy = dict(row)  # same keys in the same order, only the two stamps replaced
            copy["updatedAt"] = stamp
            copy["cardUpdate"] = card_update
            moved.append(copy)
        return moved

    def inventory_rows(self) -> list[dict[str, Any]]:
        row = self._rows[0]
        return [
            {
                "locationDataprovider": row["locationDataprovider"],
                "locationCollector": None,
                "locationSite": row["locationSite"],
                "cardUid": row["cardUid"],
                "cardName": row["cardUid"],
                "cardModel": row["cardModel"],
                "cardFamily": row["cardFamily"],
                "cardPart": row["cardPart"],
                "cardSerial": row["cardSerial"],
                "cardFirmwareVersion": None,  # never seen for this card
                "updatedAt": self.updated_at().strftime(STAMP),
            }
        ]

    def served(self, path_suffix: str) -> list[Seen]:
        return [seen for seen in self.requests if seen.path.endswith(path_suffix)]


_ALARM_COUNT = {
    "TOTAL": 0,
    "CRITICAL": 0,
    "MAJOR": 0,
    "MINOR": 0,
    "WARNING": 0,
    "UNKNOWN": 0,
    "CLEARED": 0,
}


def _page(rows: list[dict[str, Any]], query: dict[str, str]) -> list[dict[str, Any]]:
    def number(key: str, default: int) -> int:
        try:
            return int(query.get(key, default))
        except ValueError:
            return default

    page = max(number("page", 0), 0)
    size = number("size", 10)  # the NMS's probable default (padtec-api.md)
    size = size if size >= 1 else 10
    return rows[page * size : (page + 1) * size]


def _make_handler(nms: EvidenceNms, base_path: str) -> type[BaseHTTPRequestHandler]:
    api = f"{base_path}/v1"

    class Handler(BaseHTTPRequestHandler):
        # HTTP/1.0: one request per connection, closed after the response (see module doc).
        protocol_version = "HTTP/1.0"

        def log_message(self, *args: object) -> None:
            pass  # test output stays readable

        def _seen(self) -> tuple[str, dict[str, str]]:
            parts = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            nms.requests.append(
                Seen(self.command, parts.path, query, self.headers.get("Authorization"))
            )
            return parts.path, query

        def _send(self, status: int, body: Any) -> None:
            data = json.dumps(body, separators=(",", ":")).encode()
            self.send_response(status)  # adds Date and Server
            self.send_header("Content-Type", JSON_TYPE)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(data)
            self.close_connection = True

        def _error(self, status: int, message: str, path: str) -> None:
            self._send(status, {"status": status, "message": message, "path": path})

        def do_POST(self) -> None:
            path, _ = self._seen()
            length = int(self.headers.get("Content-Length", "0") or 0)
            raw = self.rfile.read(length)
            if path != f"{api}/admin/login":
                self._error(404, "Not Found", path)
                return
            try:
                body = json.loads(raw)
            except ValueError:
                self._error(400, "expected JSON", path)
                return
            if (
                not isinstance(body, dict)
                or body.get("username") != nms.username
                or body.get("password") != nms.password
            ):
                self._error(401, "bad credentials", path)
                return
            self._send(200, {"token": f"Token {nms.token}"})

        def do_GET(self) -> None:
            path, query = self._seen()
            answers: dict[str, Any] = {
                f"{api}/measures/state": lambda: _page(nms.measure_rows(), query),
                f"{api}/measures/count": lambda: len(nms._rows),
                f"{api}/inventory/state": lambda: _page(nms.inventory_rows(), query),
                f"{api}/inventory/count": lambda: 1,
                f"{api}/alarm/state": lambda: [],
                f"{api}/alarm/count": lambda: dict(_ALARM_COUNT),
            }
            answer = answers.get(path)
            if answer is None:
                self._error(404, "Not Found", path)
                return
            if self.headers.get("Authorization") != f"Token {nms.token}":
                self._error(401, "missing or invalid token", path)
                return
            self._send(200, answer())

    return Handler


@contextmanager
def evidence_nms(
    timezone: str = CAPTURE_ZONE, *, refresh_seconds: float = 30.0, base_path: str = "/nms-api"
) -> Iterator[EvidenceNms]:
    """Serve the capture on a free loopback port until the block ends."""
    ZoneInfo(timezone)  # an unknown zone fails here, not inside the server thread
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = int(server.server_address[1])
    nms = EvidenceNms(
        url=f"http://127.0.0.1:{port}{base_path}",
        timezone=timezone,
        token=f"eyJhbGciOiJIUzI1NiJ9.{secrets.token_urlsafe(24)}",
        refresh_seconds=refresh_seconds,
    )
    server.RequestHandlerClass = _make_handler(nms, base_path.rstrip("/"))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield nms
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


__all__ = ["CAPTURE_ZONE", "EVIDENCE", "EvidenceNms", "evidence_nms", "evidence_rows"]
