"""The registry of a server's own metrics (the exporter, the store, the notify bridge)."""

from __future__ import annotations

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    disable_created_metrics,
)


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
