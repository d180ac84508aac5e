"""Exposition: render the collected data once per publication, serve the bytes."""

from padtec_exporter.expose.render import Exposition, Renderer
from padtec_exporter.expose.server import ExporterHttp

__all__ = ["ExporterHttp", "Exposition", "Renderer"]
