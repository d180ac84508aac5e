"""The registry of a server's own metrics (the exporter, the store, the notify bridge)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    disable_created_metrics,
)
from prometheus_client.metrics import MetricWrapperBase


def new_registry() -> CollectorRegistry:
    """A registry whose counters and histograms expose no ``_created`` series: like
    node_exporter's, they would double the series and nothing reads them. It carries
    prometheus-client's standard ``process_*`` (RSS, CPU, open files) and ``python_*``
    (GC, version) collectors, as every Prometheus exporter does."""
    disable_created_metrics()  # type: ignore[no-untyped-call]  # process-wide switch
    registry = CollectorRegistry()
    for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
        registry.register(collector)
    return registry


def forget_labelled(metrics: Iterable[object], **labels: str) -> None:
    """Remove, from each metric among ``metrics`` that has these label names, every series
    carrying these label values (e.g. everything of an NMS that left the configuration)."""
    for metric in metrics:
        if isinstance(metric, MetricWrapperBase):
            with contextlib.suppress(ValueError):  # a metric without these label names
                metric.remove_by_labels(labels)
