"""Reading the exporter's self-metrics from a prometheus_client registry."""

from __future__ import annotations

from prometheus_client import CollectorRegistry


def requests_sent(registry: CollectorRegistry) -> float:
    """Requests the NMS clients of ``registry`` sent, any endpoint and outcome."""
    return sum(
        sample.value
        for family in registry.collect()
        if family.name == "padtec_nms_requests"
        for sample in family.samples
        if sample.name == "padtec_nms_requests_total"
    )
