"""docs/notify-bridge.md says what the bridge does: its config block is every key the bridge
reads (and loads), its endpoint table is the bridge's routes, its message example is what the
bridge writes."""

from __future__ import annotations

import msgspec
import yaml

from padtec_exporter.configfile import convert_struct, parse_yaml
from padtec_exporter.notify import Bridge, BridgeConfig
from padtec_exporter.notify.config import TelegramConfig, TwilioConfig
from padtec_exporter.notify.messages import Alert, Notification, text
from tests.docs.blocks import blocks
from tests.support.processes import REPO

PAGE = REPO / "docs" / "notify-bridge.md"


def fields(kind: type) -> set[str]:
    return {f.name for f in msgspec.structs.fields(kind)}


def test_the_config_block_loads_and_names_every_key() -> None:
    block = next(b for b in blocks(PAGE, "yaml") if "listen_address" in b)
    config = convert_struct(
        parse_yaml(block, "docs/notify-bridge.md"), BridgeConfig, "docs/notify-bridge.md"
    )
    assert config.twilio is not None and config.telegram is not None
    doc = yaml.safe_load(block)
    assert set(doc) == fields(BridgeConfig)
    assert set(doc["twilio"]) | {"auth_token_env"} == fields(TwilioConfig)
    assert set(doc["telegram"]) | {"bot_token_env"} == fields(TelegramConfig)


def test_the_endpoint_table_is_the_bridges_routes() -> None:
    text_ = PAGE.read_text(encoding="utf-8")
    documented = {
        (line.split("`")[1].split()[0], line.split("`")[1].split()[1])
        for line in text_.splitlines()
        if line.startswith("| `GET ") or line.startswith("| `POST ")
    }
    app = Bridge(BridgeConfig()).app()
    routes = {
        (r.method, r.resource.canonical)
        for r in app.router.routes()
        if r.method != "HEAD" and r.resource is not None
    }
    assert documented == routes


def test_the_message_example_is_what_the_bridge_writes() -> None:
    card = "ROA1-HA-E29001-TR#210"
    labels = {"alertname": "PadtecCardDown", "severity": "CRITICAL", "site": "SITE-A"}
    firing = Notification(
        commonLabels={"site": "SITE-A"},
        alerts=[
            Alert(labels={**labels, "card_uid": card}, annotations={"summary": "Card is down"})
        ],
    )
    written = text(firing, 480)
    assert f"`{written}`" in PAGE.read_text(encoding="utf-8")
