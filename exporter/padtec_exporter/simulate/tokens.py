"""Simulated NMS tokens: HS256 JWTs with ``sub`` and ``iat`` and no ``exp``, as the NMS issues."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue(secret: str, subject: str, issued_at: float) -> str:
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    # iat keeps milliseconds (a JWT NumericDate may): "tokens older than N s" works for small N.
    payload = _b64(
        json.dumps({"sub": subject, "iat": round(issued_at, 3)}, separators=(",", ":")).encode()
    )
    signature = hmac.new(secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256)
    return f"{header}.{payload}.{_b64(signature.digest())}"


def issued_at(secret: str, token: str) -> float | None:
    """When a valid token was issued; None when it is not one of ours."""
    try:
        header, payload, signature = token.split(".")
        expected = hmac.new(secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256)
        if not hmac.compare_digest(_unb64(signature), expected.digest()):
            return None
        claims = json.loads(_unb64(payload))
        return float(claims["iat"])
    except (ValueError, KeyError, TypeError):
        return None


def same_secret(expected: str, given: str) -> bool:
    """Constant-time comparison of a password or token."""
    return hmac.compare_digest(expected.encode(), given.encode())
