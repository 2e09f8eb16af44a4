"""A webhook receiver for tests: a real HTTP server that records what it is sent."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.support.polling import wait_until


class Receiver:
    """Records every POST body; answers with `statuses` in turn, then 200. `requests`
    holds every POST as (status answered, headers, raw body), failed ones included."""

    def __init__(self):
        self.bodies: list = []
        self.paths: list[str] = []
        self.requests: list[tuple[int, dict[str, str], bytes]] = []
        self.statuses: list[int] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                    receiver.requests.append((status, dict(self.headers.items()), raw))
                    if status < 300:
                        receiver.bodies.append(json.loads(raw))
                        receiver.paths.append(self.path)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, count: int, timeout: float = 60) -> list:
        """The first `count` bodies received, waiting for them if need be."""
        wait_until(
            lambda: len(self.bodies) >= count,
            timeout,
            interval=0.1,
            failure=lambda: f"got {len(self.bodies)} of {count}: {self.bodies}",
        )
        return self.bodies[:count]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
