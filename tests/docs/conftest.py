from tests.exporter.conftest import stack  # noqa: F401 (the in-process simulator + exporter)
