"""thresholds.yml → Prometheus rule files (alerts with hysteresis, trends, aggregates)."""

from padtec_exporter.rulegen.generate import generate_rule_files
from padtec_exporter.rulegen.thresholds import ThresholdsFile, load_thresholds

__all__ = ["ThresholdsFile", "generate_rule_files", "load_thresholds"]
