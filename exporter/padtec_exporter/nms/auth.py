"""Where the NMS token comes from, and its renewal after a refusal."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from padtec_exporter.config import AuthConfig
from padtec_exporter.configfile import ConfigError, read_secret
from padtec_exporter.nms.errors import AuthError

TOKEN_PREFIX = "Token "  # noqa: S105 (the auth scheme name, not a secret)


def with_prefix(token: str) -> str:
    """The API's scheme is ``Authorization: Token <jwt>``; login answers carry the prefix."""
    token = token.strip()
    return token if token.startswith(TOKEN_PREFIX) else TOKEN_PREFIX + token


class TokenSource:
    """Holds the token in memory; concurrent refusals of one token renew it once."""

    def __init__(self, auth: AuthConfig, login: Callable[[str, str, str], Awaitable[str]]) -> None:
        self._auth = auth
        self._login = login
        self._token: str | None = None
        self._lock = asyncio.Lock()

    async def get(self) -> str:
        if self._token is None:
            async with self._lock:
                if self._token is None:
                    self._token = await self._obtain()
        return self._token

    async def renew(self, refused: str) -> bool:
        """Get a new token unless another request already did; False if nothing new came."""
        async with self._lock:
            if self._token != refused:
                return True
            fresh = await self._obtain()
            changed = fresh != refused or not self._auth.has_token_source()
            self._token = fresh
            return changed

    async def _obtain(self) -> str:
        auth = self._auth
        if auth.has_token_source():
            try:
                token = read_secret(
                    value=auth.token, file=auth.token_file, env=auth.token_env, what="nms token"
                )
            except ConfigError as exc:
                raise AuthError(str(exc)) from exc
            if not token:
                raise AuthError("the configured NMS token is empty")
            return with_prefix(token)
        try:
            password = read_secret(
                value=auth.password,
                file=auth.password_file,
                env=auth.password_env,
                what="nms password",
            )
        except ConfigError as exc:
            raise AuthError(str(exc)) from exc
        return with_prefix(await self._login(auth.username or "", password or "", auth.client_id))
