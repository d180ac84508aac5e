"""Forwarded NMS alarms keep the NMS's start time in the alarm history."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from padtec_exporter.store.alarms import parse_webhook


def body(annotations: dict[str, str]) -> bytes:
    alert = {
        "status": "firing",
        "labels": {"alertname": "PadtecNmsAlarm", "severity": "MAJOR", "card_uid": "X#1"},
        "annotations": annotations,
        "startsAt": "2026-11-25T10:00:00Z",
        "fingerprint": "f1",
    }
    return json.dumps({"version": "4", "alerts": [alert]}).encode()


def test_the_nms_start_time_wins_over_when_prometheus_saw_it() -> None:
    [row] = parse_webhook(body({"nms_alarm_start": "1739186937"}))
    assert row.starts_at == datetime(2025, 2, 10, 11, 28, 57, tzinfo=UTC)


def test_without_a_usable_nms_start_prometheus_time_is_kept() -> None:
    seen = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    for notes in (
        {},
        {"nms_alarm_start": "0"},
        {"nms_alarm_start": "soon"},
        {"nms_alarm_start": "1e300"},
        {"nms_alarm_start": "nan"},
    ):
        [row] = parse_webhook(body(notes))
        assert row.starts_at == seen, notes
