"""A plain landing page at ``/`` for the store and the notify bridge: what the server is and
which paths it answers (the exporter has its richer status page, expose/status.py)."""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable

from aiohttp import web

from padtec_exporter import __version__

Handler = Callable[[web.Request], Awaitable[web.Response]]


def landing(title: str, paths: list[tuple[str, str]], state: Callable[[], str]) -> Handler:
    """A handler listing ``paths`` (path, what) under ``title``, with ``state()`` on top."""

    async def handle(request: web.Request) -> web.Response:
        items = "\n".join(
            f'<li><a href="{html.escape(p)}">{html.escape(p)}</a>: {html.escape(what)}</li>'
            if not p.startswith("POST ")
            else f"<li>{html.escape(p)}: {html.escape(what)}</li>"
            for p, what in paths
        )
        page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{html.escape(title)}</title></head>
<body><h1>{html.escape(title)}</h1>
<p>padtec-exporter {html.escape(__version__)}. {html.escape(state())}</p>
<ul>
{items}
</ul></body></html>
"""
        return web.Response(text=page, content_type="text/html")

    return handle
