"""NMS client: auth, paging, retry/backoff, circuit breaker. Knows HTTP, not what rows mean."""

from padtec_exporter.nms.client import NmsClient
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
from padtec_exporter.nms.paging import Decoder, Page

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
