"""Prometheus exporter and monitoring stack for Padtec DWDM optical networks."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("padtec-exporter")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"
