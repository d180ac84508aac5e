"""A small OpenAPI document of the simulated paths (the real NMS serves one at the same URL)."""

OPENAPI_YAML = """\
openapi: 3.1.0
info:
  title: Padtec Smart API (simulated)
  version: "0.1"
components:
  securitySchemes:
    NMSAPIToken:
      type: apiKey
      in: header
      name: Authorization
security:
  - NMSAPIToken: []
paths:
  /v1/admin/login:
    post:
      summary: Log in; answers {"token": "Token <jwt>"}
      security: []
      responses:
        "200": {description: token}
        "401": {description: bad credentials}
  /v1/admin/dataproviders:
    get:
      summary: NMS+ data providers
      parameters:
        - {name: page, in: query, schema: {type: integer, minimum: 0}}
        - {name: size, in: query, schema: {type: integer, minimum: 1}}
      responses:
        "200": {description: JSON}
        "401": {description: missing or invalid token}
  /v1/inventory/state:
    get:
      summary: Cards (paged bare array)
      parameters:
        - {name: page, in: query, schema: {type: integer, minimum: 0}}
        - {name: size, in: query, schema: {type: integer, minimum: 1}}
      responses:
        "200": {description: JSON}
        "401": {description: missing or invalid token}
  /v1/inventory/count:
    get:
      summary: Number of cards
      parameters:
        - {name: page, in: query, schema: {type: integer, minimum: 0}}
        - {name: size, in: query, schema: {type: integer, minimum: 1}}
      responses:
        "200": {description: JSON}
        "401": {description: missing or invalid token}
  /v1/inventory/capability:
    get:
      summary: Card models and ports
      parameters:
        - {name: page, in: query, schema: {type: integer, minimum: 0}}
        - {name: size, in: query, schema: {type: integer, minimum: 1}}
      responses:
        "200": {description: JSON}
        "401": {description: missing or invalid token}
  /v1/measures/state:
    get:
      summary: Measures (paged bare array)
      parameters:
        - {name: page, in: query, schema: {type: integer, minimum: 0}}
        - {name: size, in: query, schema: {type: integer, minimum: 1}}
      responses:
        "200": {description: JSON}
        "401": {description: missing or invalid token}
  /v1/measures/count:
    get:
      summary: Number of measures
      parameters:
        - {name: page, in: query, schema: {type: integer, minimum: 0}}
        - {name: size, in: query, schema: {type: integer, minimum: 1}}
      responses:
        "200": {description: JSON}
        "401": {description: missing or invalid token}
  /v1/measures/capability:
    get:
      summary: Measure kinds per model
      parameters:
        - {name: page, in: query, schema: {type: integer, minimum: 0}}
        - {name: size, in: query, schema: {type: integer, minimum: 1}}
      responses:
        "200": {description: JSON}
        "401": {description: missing or invalid token}
  /v1/alarm/state:
    get:
      summary: Alarms, active and history (alarmIsActive)
      parameters:
        - {name: page, in: query, schema: {type: integer, minimum: 0}}
        - {name: size, in: query, schema: {type: integer, minimum: 1}}
      responses:
        "200": {description: JSON}
        "401": {description: missing or invalid token}
  /v1/alarm/count:
    get:
      summary: Active alarms by severity
      parameters:
        - {name: page, in: query, schema: {type: integer, minimum: 0}}
        - {name: size, in: query, schema: {type: integer, minimum: 1}}
      responses:
        "200": {description: JSON}
        "401": {description: missing or invalid token}
  /v1/alarm/capability:
    get:
      summary: Alarm kinds per model
      parameters:
        - {name: page, in: query, schema: {type: integer, minimum: 0}}
        - {name: size, in: query, schema: {type: integer, minimum: 1}}
      responses:
        "200": {description: JSON}
        "401": {description: missing or invalid token}
"""
