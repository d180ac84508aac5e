"""Where the NMS token comes from, and its renewal after a refusal.

The token lives in memory only. It comes either from the config (value, file or environment
variable, read again on renewal so a rotated file is picked up) or from a login.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from padtec_exporter.config import AuthConfig
from padtec_exporter.configfile import ConfigError, read_secret
from padtec_exporter.nms.errors import AuthError, TokenUnavailable

TOKEN_PREFIX = "Token "  # noqa: S105 (the auth scheme's name, not a secret)

Login = Callable[[str, str, str], Awaitable[str]]  # (username, password, client_id) -> token


def with_prefix(token: str) -> str:
    """The header is ``Authorization: Token <jwt>``; login answers already carry the prefix."""
    token = token.strip()
    return token if token.startswith(TOKEN_PREFIX) else TOKEN_PREFIX + token


@dataclass(frozen=True)
class Token:
    """A token as sent (``header``) and which renewal produced it (``generation``)."""

    header: str = field(repr=False)  # never in a repr, a traceback or a log line
    generation: int


class TokenSource:
    """Hands out the current token; concurrent refusals of one token renew it only once."""

    def __init__(self, auth: AuthConfig, login: Login, on_renewal: Callable[[], None]) -> None:
        self._auth = auth
        self._login = login
        self._on_renewal = on_renewal
        self._token: Token | None = None
        self._generations = 0
        self._lock = asyncio.Lock()

    async def current(self) -> Token:
        if self._token is None:
            async with self._lock:
                if self._token is None:
                    self._token = await self._obtain()
        return self._token

    async def renew(self, refused: Token) -> Token:
        """A token other than ``refused``: re-read or log in again, unless another request
        already did so since ``refused`` was handed out (then that newer token is returned)."""
        async with self._lock:
            if self._token is not None and self._token.generation != refused.generation:
                return self._token
            self._token = None  # if obtaining fails, the next request starts afresh
            self._on_renewal()
            self._token = await self._obtain()
            return self._token

    async def _obtain(self) -> Token:
        raw = (await self._fetch()).strip()
        if raw in ("", TOKEN_PREFIX.strip()):
            raise AuthError("the NMS token is empty")
        header = with_prefix(raw)
        self._generations += 1
        return Token(header, self._generations)

    async def _fetch(self) -> str:
        auth = self._auth
        if auth.has_token_source():
            return _secret(value=auth.token, file=auth.token_file, env=auth.token_env, what="token")
        password = _secret(
            value=auth.password, file=auth.password_file, env=auth.password_env, what="password"
        )
        return await self._login(auth.username or "", password, auth.client_id)


def _secret(*, value: str | None, file: str | None, env: str | None, what: str) -> str:
    try:
        secret = read_secret(value=value, file=file, env=env, what=f"NMS {what}")
    except ConfigError as exc:  # the message names the file or variable, never the secret
        raise TokenUnavailable(str(exc)) from None
    if not secret:
        raise TokenUnavailable(f"the NMS {what} is empty")
    return secret
