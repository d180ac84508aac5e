"""``padtec-exporter doctor``: one pass against a real NMS that checks what collection needs
and says what to put in the config (blackbox_exporter's ``debug=true`` in spirit).

Modules: ``checks`` (the checks, with the project's NMS client and row decoder) and
``report`` (text, JSON, the suggested config).
"""

from padtec_exporter.doctor.checks import Check, NmsReport, examine
from padtec_exporter.doctor.report import render_json, render_text

__all__ = ["Check", "NmsReport", "examine", "render_json", "render_text"]
