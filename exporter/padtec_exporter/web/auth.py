"""HTTP basic auth against bcrypt hashes, as exporter-toolkit does it, without its weak spots.

- bcrypt runs in a small thread pool (it releases the GIL), never on the event loop, and at
  most ``workers`` at a time: wrong passwords cost CPU, not the loop.
- An unknown user is checked against a dummy hash of the same cost as the real ones, so the
  answer takes as long as for a known user with a wrong password (no user enumeration).
- Accepted credentials are cached (an HMAC of user, hash and password under a per-process key,
  never the password itself): a scrape with good credentials answers at once and never queues
  behind bcrypt checks of wrong passwords.
- When more than ``max_waiting`` checks are queued, or ``max_waiting_per_peer`` from one
  client address, further unknown credentials get 401 at once instead of piling up: one
  client cannot fill the queue and starve a good password not yet cached (cached good
  credentials never queue at all).
- A password longer than 72 bytes (bcrypt's limit; bcrypt 5 raises on it) is a plain 401.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import re
import secrets
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor

import bcrypt
from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
BCRYPT_MAX_PASSWORD_BYTES = 72
_COST = re.compile(rb"^\$2[aby]?\$(\d\d)\$")


def bcrypt_cost(hashed: bytes) -> int | None:
    match = _COST.match(hashed)
    return int(match.group(1)) if match else None


class BasicAuth:
    def __init__(
        self,
        users: dict[str, str],
        realm: str = "padtec-exporter",
        *,
        workers: int = 1,
        max_waiting: int = 64,
        max_waiting_per_peer: int = 4,
        cache_size: int = 1024,
    ) -> None:
        self._users = {user: hashed.encode() for user, hashed in users.items()}
        self._realm = realm
        cost = max((bcrypt_cost(h) or 10 for h in self._users.values()), default=10)
        # Same cost as the slowest real hash: unknown users take as long as known ones.
        self._dummy = bcrypt.hashpw(secrets.token_bytes(16), bcrypt.gensalt(rounds=cost))
        self._key = secrets.token_bytes(32)
        self._accepted: OrderedDict[bytes, None] = OrderedDict()
        self._cache_size = cache_size
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="bcrypt")
        self._max_waiting = max_waiting
        self._pending = 0
        self._per_peer_cap = max_waiting_per_peer
        self._per_peer: dict[str, int] = {}
        self._running: dict[bytes, asyncio.Future[bool]] = {}

    async def check(self, header: str | None, peer: str = "") -> bool:
        credentials = _parse(header)
        if credentials is None:
            return False
        user, password = credentials
        hashed = self._users.get(user)
        known = hashed is not None
        hashed = hashed if hashed is not None else self._dummy
        key = hmac.new(self._key, b"\0".join((user.encode(), hashed, password)), "sha256").digest()
        if key in self._accepted:
            self._accepted.move_to_end(key)
            return True
        if len(password) > BCRYPT_MAX_PASSWORD_BYTES:
            return False
        running = self._running.get(key)
        if running is not None:  # the same credentials are being checked: share the answer
            ok = await asyncio.shield(running)
        elif (
            self._pending >= self._max_waiting or self._per_peer.get(peer, 0) >= self._per_peer_cap
        ):
            return False  # flooded: refuse rather than queue without bound
        else:
            self._per_peer[peer] = self._per_peer.get(peer, 0) + 1
            try:
                ok = await self._bcrypt(key, password, hashed)
            finally:
                left = self._per_peer.pop(peer) - 1
                if left:
                    self._per_peer[peer] = left
        if ok and known:
            self._accepted[key] = None
            if len(self._accepted) > self._cache_size:
                self._accepted.popitem(last=False)
            return True
        return False

    async def _bcrypt(self, key: bytes, password: bytes, hashed: bytes) -> bool:
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._pool, _checkpw, password, hashed)
        self._running[key] = future
        self._pending += 1
        try:
            return await asyncio.shield(future)
        finally:
            self._pending -= 1
            self._running.pop(key, None)

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if await self.check(request.headers.get("Authorization"), request.remote or ""):
            return await handler(request)
        return web.Response(
            status=401,
            text="Unauthorized\n",
            headers={"WWW-Authenticate": f'Basic realm="{self._realm}"'},
        )

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _parse(header: str | None) -> tuple[str, bytes] | None:
    if not header or not header.startswith("Basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:], validate=True)
        user, sep, password = decoded.partition(b":")
        if not sep:
            return None
        return user.decode("utf-8"), password
    except (binascii.Error, UnicodeDecodeError):
        return None


def _checkpw(password: bytes, hashed: bytes) -> bool:
    try:
        return bcrypt.checkpw(password, hashed)
    except ValueError:  # a malformed hash or password: not a match
        return False
