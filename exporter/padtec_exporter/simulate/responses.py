"""Response helpers shared by the simulator's handlers."""

from __future__ import annotations

import time
from typing import Any

import msgspec
from aiohttp import web

# The NMS answers with this exact Content-Type (seen).
JSON_TYPE = "application/json;charset=UTF-8"
REASONS = {400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 429: "Too Many Requests"}


def json_response(body: Any, status: int = 200) -> web.Response:
    data = body if isinstance(body, bytes) else msgspec.json.encode(body)
    return web.Response(body=data, status=status, headers={"Content-Type": JSON_TYPE})


def error_response(request: web.Request, status: int, message: str) -> web.Response:
    """A Spring Boot style error body (ASSUMED: the NMS's error bodies were never shown)."""
    body = {
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000+00:00", time.gmtime()),
        "status": status,
        "error": REASONS.get(status, "Service Unavailable" if status == 503 else "Error"),
        "message": message,
        "path": request.path,
    }
    return json_response(body, status)
