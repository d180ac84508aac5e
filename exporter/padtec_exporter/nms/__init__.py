"""NMS client: auth, paging, retry/backoff, circuit breaker. Knows HTTP, not Prometheus rows."""

from padtec_exporter.nms.client import Decoder, NmsClient, Page
from padtec_exporter.nms.errors import (
    AuthError,
    BreakerOpenError,
    MalformedReply,
    NmsError,
    PagingError,
    RequestFailed,
    ResponseTooLarge,
)
from padtec_exporter.nms.metrics import NmsMetrics

__all__ = [
    "AuthError",
    "BreakerOpenError",
    "Decoder",
    "MalformedReply",
    "NmsClient",
    "NmsError",
    "NmsMetrics",
    "Page",
    "PagingError",
    "RequestFailed",
    "ResponseTooLarge",
]
