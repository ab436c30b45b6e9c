"""A local HTTP server recording requests and answering scripted statuses (stands in for Twilio, webhooks)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Script:
    """Statuses to answer with, in order (the last one repeats), and what was received."""

    statuses: list[int] = field(default_factory=lambda: [201])
    requests: list[Recorded] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@contextmanager
def http_recorder(script: Script) -> Iterator[str]:
    """Serve on a free local port; yields the base URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with script.lock:
                script.requests.append(Recorded("POST", self.path, dict(self.headers.items()), body))
                status = script.statuses[min(len(script.requests), len(script.statuses)) - 1]
            payload = json.dumps(
                {"sid": f"SM{len(script.requests):032d}", "status": "queued"}
                if status < 300
                else {"code": 20500, "message": "Internal Server Error", "status": status}
            ).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
