"""HTTP basic auth against bcrypt hashes, with a cache so a scrape does not cost a bcrypt round."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Awaitable, Callable

import bcrypt
from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class BasicAuth:
    def __init__(self, users: dict[str, str], realm: str = "padtec-exporter") -> None:
        self._users = {user: hashed.encode() for user, hashed in users.items()}
        self._realm = realm
        # Digest of (user, password) that bcrypt already accepted; only successes are cached.
        self._accepted: set[bytes] = set()

    def check(self, header: str | None) -> bool:
        if not header or not header.startswith("Basic "):
            return False
        try:
            decoded = base64.b64decode(header[6:], validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        user, sep, password = decoded.partition(":")
        hashed = self._users.get(user)
        if not sep or hashed is None:
            return False
        key = hashlib.sha256(hashed + b"\0" + password.encode()).digest()
        if key in self._accepted:
            return True
        if bcrypt.checkpw(password.encode(), hashed):
            self._accepted.add(key)
            return True
        return False

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if self.check(request.headers.get("Authorization")):
            return await handler(request)
        return web.Response(
            status=401,
            text="Unauthorized\n",
            headers={"WWW-Authenticate": f'Basic realm="{self._realm}"'},
        )


def constant_time_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
