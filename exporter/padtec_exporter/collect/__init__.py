"""Tiered collection: schedules per NMS (collector.py), and the immutable data each run
publishes (data.py)."""

from padtec_exporter.collect.data import NmsData
from padtec_exporter.collect.metrics import CollectMetrics

__all__ = ["CollectMetrics", "NmsData"]
