"""A fake TxtSync for tests: a real local HTTP server whose answers each test sets.

Timeouts, hang-ups and refused connections made with it are the genuine article.
"""

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple


class Recorded(NamedTuple):
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


Behaviour = Callable[[BaseHTTPRequestHandler], None]


class _Handler(BaseHTTPRequestHandler):
    def _handle(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        fake: FakeTxtSync = self.server.fake  # type: ignore[attr-defined]
        headers = {name.lower(): value for name, value in self.headers.items()}
        fake.requests.append(Recorded(self.command, self.path, headers, body))
        fake.behaviour(self)

    do_GET = do_POST = do_PUT = do_DELETE = _handle

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests assert on what was recorded instead."""


class FakeTxtSync:
    """A ThreadingHTTPServer on 127.0.0.1:0 whose answer each test sets in `behaviour`."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.behaviour: Behaviour = answer(200, [])
        self.release = threading.Event()  # lets hanging handlers finish at teardown
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.fake = self  # type: ignore[attr-defined]
        # A short poll interval: shutdown() waits up to one interval.
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/api/"

    @property
    def last(self) -> Recorded:
        return self.requests[-1]

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def answer(
    status: int, body: Any = None, *, raw: bytes | None = None, headers: dict | None = None
) -> Behaviour:
    """Answer with `body` as JSON (or `raw` bytes as they are)."""
    payload = raw if raw is not None else b"" if body is None else json.dumps(body).encode()

    def respond(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        content_type = "application/json" if raw is None else "text/html"
        for name, value in {"Content-Type": content_type, **(headers or {})}.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)

    return respond


def hang(handler: BaseHTTPRequestHandler) -> None:
    """Read the request, then never answer (until the test is over)."""
    handler.server.fake.release.wait(10)  # type: ignore[attr-defined]
    handler.close_connection = True


def hang_up(handler: BaseHTTPRequestHandler) -> None:
    """Read the request, then close the connection without a word."""
    handler.close_connection = True
