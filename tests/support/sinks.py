"""Real servers on loopback that record what they receive: an HTTP webhook sink and an SMTP sink,
plus a scrape target serving exposition text the test controls.

They stand in for the world outside (Twilio, Telegram, a mail relay, an ops webhook, an
exporter with exact values) in tests.
"""

from __future__ import annotations

import json
import socketserver
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from tests.support.processes import free_port


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}


@dataclass
class WebhookSink:
    url: str
    requests: list[Received] = field(default_factory=list)
    status: int = 200  # what it answers; tests flip it to simulate a failing provider

    def wait_for(self, predicate: Callable[[Received], bool], timeout: float = 60.0) -> Received:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for item in list(self.requests):
                if predicate(item):
                    return item
            time.sleep(0.1)
        raise TimeoutError(
            f"no matching request in {timeout}s; got "
            f"{[(r.path, r.body[:200]) for r in self.requests]}"
        )


class _QuietHandler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass  # test output stays readable


@contextmanager
def _serving(port: int, handler: type[BaseHTTPRequestHandler]) -> Iterator[None]:
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def webhook_sink() -> Iterator[WebhookSink]:
    port = free_port()
    sink = WebhookSink(url=f"http://127.0.0.1:{port}")

    class Handler(_QuietHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            sink.requests.append(Received(self.path, dict(self.headers.items()), body))
            self.send_response(sink.status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"sid": "SM0000", "ok": true}')

    with _serving(port, Handler):
        yield sink


@dataclass
class MetricsTarget:
    """A scrape target whose exposition text the test sets (``text``) between scrapes."""

    address: str  # host:port for a Prometheus static config
    text: str = ""


@contextmanager
def metrics_target(text: str = "") -> Iterator[MetricsTarget]:
    port = free_port()
    target = MetricsTarget(address=f"127.0.0.1:{port}", text=text)

    class Handler(_QuietHandler):
        def do_GET(self) -> None:
            body = target.text.encode()
            self.send_response(200 if self.path == "/metrics" else 404)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    with _serving(port, Handler):
        yield target


@dataclass
class Mail:
    sender: str
    recipients: list[str]
    subject: str
    text: str


@dataclass
class SmtpSink:
    host: str
    port: int
    mails: list[Mail] = field(default_factory=list)

    def wait_for(self, predicate: Callable[[Mail], bool], timeout: float = 60.0) -> Mail:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for mail in list(self.mails):
                if predicate(mail):
                    return mail
            time.sleep(0.1)
        raise TimeoutError(f"no matching mail in {timeout}s; got {[m.subject for m in self.mails]}")


@contextmanager
def smtp_sink() -> Iterator[SmtpSink]:
    """A minimal SMTP server (EHLO, AUTH PLAIN/LOGIN accepted, MAIL, RCPT, DATA, QUIT)."""
    port = free_port()
    sink = SmtpSink(host="127.0.0.1", port=port)

    class Handler(socketserver.StreamRequestHandler):
        def reply(self, line: str) -> None:
            self.wfile.write(f"{line}\r\n".encode())

        def handle(self) -> None:
            self.reply("220 sink ESMTP")
            sender, recipients = "", []
            while True:
                raw = self.rfile.readline()
                if not raw:
                    return
                command = raw.decode(errors="replace").strip()
                verb = command.split(" ", 1)[0].upper()
                if verb in ("EHLO", "HELO"):
                    self.wfile.write(b"250-sink\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n")
                elif verb == "AUTH":
                    self.reply("235 ok")
                elif verb == "MAIL":
                    sender = command.split(":", 1)[1].strip(" <>")
                    self.reply("250 ok")
                elif verb == "RCPT":
                    recipients.append(command.split(":", 1)[1].strip(" <>"))
                    self.reply("250 ok")
                elif verb == "DATA":
                    self.reply("354 go on")
                    data = b""
                    while True:
                        line = self.rfile.readline()
                        if line in (b".\r\n", b".\n", b""):
                            break
                        data += line[1:] if line.startswith(b"..") else line
                    message = message_from_bytes(data, policy=policy.default)
                    parts = [
                        part.get_content()
                        for part in message.walk()
                        if part.get_content_type() in ("text/plain", "text/html")
                    ]
                    sink.mails.append(
                        Mail(
                            sender,
                            list(recipients),
                            str(message["Subject"]),
                            "\n".join(str(p) for p in parts),
                        )
                    )
                    recipients = []
                    self.reply("250 queued")
                elif verb == "QUIT":
                    self.reply("221 bye")
                    return
                else:
                    self.reply("250 ok")

    class Server(socketserver.ThreadingTCPServer):
        allow_reuse_address = True
        daemon_threads = True

    server = Server(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield sink
    finally:
        server.shutdown()
        server.server_close()
