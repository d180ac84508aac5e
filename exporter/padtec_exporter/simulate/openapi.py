"""A small OAS 3.1 document of the simulated paths (the real NMS serves one at the same URL)."""

from __future__ import annotations

from typing import Any

import yaml

from padtec_exporter.simulate.views import ALARM_FILTERS, INVENTORY_FILTERS, MEASURE_FILTERS

_PAGED_VIEWS: dict[str, tuple[str, frozenset[str]]] = {
    "inventory/state": ("Cards: a bare JSON array, paged", INVENTORY_FILTERS),
    "inventory/capability": (
        "Card models: ports, cross-connections",
        frozenset({"cardModel", "cardPart"}),
    ),
    "measures/state": ("Measures: a bare JSON array, paged", MEASURE_FILTERS),
    "measures/capability": (
        "Measure kinds per card model",
        frozenset({"cardModel", "measureGroup", "measureName", "measureResource", "port"}),
    ),
    "alarm/state": ("Alarms, active and history (alarmIsActive), paged", ALARM_FILTERS),
    "alarm/capability": (
        "Alarm kinds per card model",
        frozenset({"alarmGroup", "alarmName", "alarmResource", "cardModel", "port"}),
    ),
}
_PLAIN: dict[str, str] = {
    "admin/dataproviders": "NMS+ data providers",
    "inventory/count": "Number of cards (a bare integer)",
    "measures/count": "Number of measures (a bare integer)",
    "alarm/count": "Active alarms by severity, and TOTAL",
}
CAPABILITY_FILTERS = {path: filters for path, (_, filters) in _PAGED_VIEWS.items()}


def _get(summary: str, filters: frozenset[str] = frozenset(), paged: bool = False) -> Any:
    params: list[dict[str, Any]] = []
    if paged:
        params += [
            {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 0}},
            {"name": "size", "in": "query", "schema": {"type": "integer", "minimum": 1}},
        ]
    params += [{"name": f, "in": "query", "schema": {"type": "string"}} for f in sorted(filters)]
    operation: dict[str, Any] = {
        "summary": summary,
        "responses": {
            "200": {"description": "application/json;charset=UTF-8"},
            "401": {"description": "missing or invalid token"},
        },
    }
    if params:
        operation["parameters"] = params
    return {"get": operation}


def openapi_document(api_prefix: str) -> str:
    prefix = "/" + api_prefix.strip("/")
    paths: dict[str, Any] = {
        f"{prefix}/admin/login": {
            "post": {
                "summary": 'Log in with username, password and clientId; answers {"token": '
                '"Token <jwt>"}',
                "security": [],
                "responses": {
                    "200": {"description": "token"},
                    "401": {"description": "bad credentials"},
                },
            }
        }
    }
    for path, summary in _PLAIN.items():
        paths[f"{prefix}/{path}"] = _get(summary)
    for path, (summary, filters) in _PAGED_VIEWS.items():
        paths[f"{prefix}/{path}"] = _get(summary, filters, paged=True)
    document = {
        "openapi": "3.1.0",
        "info": {"title": "Padtec Smart API (simulated)", "version": "0.1"},
        "components": {
            "securitySchemes": {
                "NMSAPIToken": {"type": "apiKey", "in": "header", "name": "Authorization"}
            }
        },
        "security": [{"NMSAPIToken": []}],
        "paths": paths,
    }
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
