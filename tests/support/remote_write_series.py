"""Synthetic remote-write series for the store benchmarks: the labels Prometheus would send."""

from __future__ import annotations


def series_labels(i: int) -> dict[str, str]:
    """The labels of the i-th series (target labels included): 50 measures per card."""
    return {
        "__name__": "padtec_power_dbm",
        "nms": "core",
        "site": f"Site {i % 100}",
        "card_uid": f"TM1200G-SA#{i // 50}",
        "measure": "Rx Power",
        "measure_key": str(8001 + i % 50),
        "measure_subkey": "0",
        "port": "Line 1",
        "job": "padtec",
        "instance": "exporter:9787",
    }
