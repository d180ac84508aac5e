"""The evidence stand-in replays the real capture faithfully (the exporter tests rely on it)."""

from __future__ import annotations

import http.client
import json
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from tests.support.evidence_nms import EvidenceNms, evidence_nms, evidence_rows

STAMP = "%Y-%m-%d %H:%M:%S"


def _call(
    nms: EvidenceNms, method: str, path: str, body: Any = None, token: str | None = None
) -> tuple[http.client.HTTPResponse, Any]:
    parts = urlsplit(nms.url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = token
    data = None if body is None else json.dumps(body).encode()
    conn.request(method, f"{parts.path}/v1/{path}", body=data, headers=headers)
    response = conn.getresponse()
    payload = json.loads(response.read())
    conn.close()
    return response, payload


def _login(nms: EvidenceNms) -> str:
    response, body = _call(
        nms, "POST", "admin/login", {"username": nms.username, "password": nms.password}
    )
    assert response.status == 200
    token = body["token"]
    assert token.startswith("Token ")  # the NMS returns the scheme with the token (seen)
    return str(token)


def test_rows_are_the_capture_with_only_the_timestamps_moved_to_now_in_the_zone() -> None:
    captured = evidence_rows()
    with evidence_nms("America/Boa_Vista") as nms:
        token = _login(nms)
        response, rows = _call(nms, "GET", "measures/state?page=0&size=10", token=token)
    assert response.status == 200
    assert len(rows) == len(captured) == 10
    now_local = datetime.now(ZoneInfo("America/Boa_Vista")).replace(tzinfo=None)
    for got, want in zip(rows, captured, strict=True):
        assert list(got) == list(want)  # same fields, same order
        for key in want:
            if key in ("updatedAt", "cardUpdate"):
                continue
            assert got[key] == want[key] and type(got[key]) is type(want[key]), key
        updated = datetime.strptime(got["updatedAt"], STAMP)
        assert timedelta(0) <= now_local - updated < timedelta(seconds=40)
        lag = updated - datetime.strptime(got["cardUpdate"], STAMP)
        assert lag == timedelta(hours=2, minutes=5, seconds=37)  # as captured
    assert [row["measureKey"] for row in rows] == [
        7260, 7704, 7705, 7706, 7707, 7261, 7275, 7288, 7289, 7273
    ]  # fmt: skip
    assert all(row["cardIsUp"] is False for row in rows)


def test_date_header_is_utc_now_and_every_response_closes_the_connection() -> None:
    with evidence_nms() as nms:
        token = _login(nms)
        response, _ = _call(nms, "GET", "measures/count", token=token)
    date = parsedate_to_datetime(response.headers["Date"])
    assert abs((datetime.now(UTC) - date).total_seconds()) < 30
    assert response.version == 10  # HTTP/1.0
    assert response.headers["Connection"] == "close"


def test_paging_counts_inventory_alarms_and_auth() -> None:
    with evidence_nms("Asia/Kolkata") as nms:
        token = _login(nms)
        _, first = _call(nms, "GET", "measures/state?page=0&size=4", token=token)
        _, last = _call(nms, "GET", "measures/state?page=2&size=4", token=token)
        _, past = _call(nms, "GET", "measures/state?page=3&size=4", token=token)
        _, count = _call(nms, "GET", "measures/count", token=token)
        _, cards = _call(nms, "GET", "inventory/state?page=0&size=500", token=token)
        _, alarms = _call(nms, "GET", "alarm/state?page=0&size=500", token=token)
        refused, _ = _call(nms, "GET", "measures/state", token="Token wrong")
        bad_login, _ = _call(nms, "POST", "admin/login", {"username": "monitor", "password": "x"})
    assert [len(first), len(last), len(past), count] == [4, 2, 0, 10]
    assert [row["measureKey"] for row in first] == [7260, 7704, 7705, 7706]
    assert len(cards) == 1 and cards[0]["cardUid"] == "ROA1-HA-E29001-TR#374"
    assert cards[0]["cardPart"] == 2633 and cards[0]["cardSerial"] == 374
    assert alarms == []
    assert refused.status == 401 and bad_login.status == 401
