"""Serving helpers shared by every HTTP server of the project (exporter, simulator, store, bridge).

``serve_app`` binds an aiohttp application with the options of a Prometheus exporter-toolkit
web config file (``--web.config.file``): TLS (optionally with client certificates) and basic auth
with bcrypt hashes. ``serve_until_signalled`` runs a server until SIGTERM/SIGINT.
"""

from padtec_exporter.web.config import WebServerConfig, load_web_config
from padtec_exporter.web.lifecycle import serve_until_signalled
from padtec_exporter.web.server import parse_listen_address, serve_app

__all__ = [
    "WebServerConfig",
    "load_web_config",
    "parse_listen_address",
    "serve_app",
    "serve_until_signalled",
]
