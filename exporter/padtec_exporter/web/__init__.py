"""Serving helpers shared by every HTTP server of the project (exporter, simulator, store, bridge).

``serve_app`` binds an aiohttp application with the options of a Prometheus exporter-toolkit
web config file (``--web.config.file``): TLS (optionally with client certificates) and basic auth
with bcrypt hashes.
"""

from padtec_exporter.web.config import WebServerConfig, load_web_config
from padtec_exporter.web.server import parse_listen_address, serve_app

__all__ = ["WebServerConfig", "load_web_config", "parse_listen_address", "serve_app"]
