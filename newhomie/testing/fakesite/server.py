"""The local site over HTTP: a ThreadingHTTPServer in a background thread (`serve`, `start`), and a
client for tests (`RunningSite.get`)."""

from __future__ import annotations

import json
import re
import socket
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from newhomie.testing.fakesite.pages import small_page
from newhomie.testing.fakesite.site import FakeSite


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], site: FakeSite) -> None:
        self.site = site
        self.stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A browser that was killed or restarted drops its connections: that is the client's doing.
        if isinstance(sys.exc_info()[1], ConnectionResetError | BrokenPipeError):
            return
        super().handle_error(request, client_address)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Drop every open connection (keep-alive ones included), so that no thread outlives `stop()`."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "AkamaiGHost"
    sys_version = ""
    # Idle keep-alive connections are closed after this many seconds.
    timeout = 60
    server: _Server

    def do_GET(self) -> None:
        self._answer(head=False)

    def do_HEAD(self) -> None:
        self._answer(head=True)

    def _answer(self, head: bool) -> None:
        try:
            response = self.server.site.handle(
                self.command, self.path, self.headers.get("Cookie"), stop=self.server.stopping
            )
        except Exception as exc:  # never kill the connection thread; say what broke
            print(f"fakesite: error answering {self.path}: {exc!r}", file=sys.stderr)
            response = small_page(500, "error", "Internal Server Error", "Internal Server Error")
        if response is None:
            self.close_connection = True
            return
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            for name, value in response.headers:
                self.send_header(name, value)
            self.end_headers()
            if not head:
                self.wfile.write(response.body)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the site keeps its own log (`site.served`)


@dataclass
class FetchResult:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class RunningSite:
    """A `FakeSite` being served: `.site`, `.base_url`, `.url(path)`, `.get(path)`, `.stop()`."""

    def __init__(self, site: FakeSite, server: _Server, thread: threading.Thread) -> None:
        self.site = site
        self._server = server
        self._thread = thread
        host, port = server.server_address[:2]
        self.host = str(host)
        self.port = int(port)
        self.base_url = f"http://{self.host}:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def get(self, path: str, *, cookie: bool = True, timeout: float = 10.0) -> FetchResult:
        """GET with urllib (no redirects followed); `cookie=True` sends a `_abck` the gate accepts."""
        request = urllib.request.Request(self.url(path))
        if cookie:
            request.add_header("Cookie", self.site.cookie_header())
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            with opener.open(request, timeout=timeout) as answer:
                return FetchResult(answer.status, dict(answer.headers.items()), answer.read())
        except urllib.error.HTTPError as error:
            with error:
                return FetchResult(error.code, dict(error.headers.items()), error.read())

    def stop(self) -> None:
        if self._server.stopping.is_set():
            return
        self._server.stopping.set()
        self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> RunningSite:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def start(site: FakeSite, host: str = "127.0.0.1", port: int = 0) -> RunningSite:
    """Serve `site` in a background thread; call `.stop()` when done (or use `serve()`)."""
    server = _Server((host, port), site)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="fakesite", daemon=True
    )
    thread.start()
    return RunningSite(site, server, thread)


@contextmanager
def serve(site: FakeSite, host: str = "127.0.0.1", port: int = 0) -> Iterator[RunningSite]:
    """Serve `site` on `host:port` (0: a free port) for the duration of the `with` block."""
    running = start(site, host, port)
    try:
        yield running
    finally:
        running.stop()


def extract_next_data(body: bytes | str) -> dict[str, Any]:
    """The `__NEXT_DATA__` JSON of one of this site's pages (a small reader for tests)."""
    text = body.decode() if isinstance(body, bytes) else body
    match = re.search(r'<script id="__NEXT_DATA__" type="application/json">(.*?)</script>', text, re.DOTALL)
    if match is None:
        raise ValueError("no __NEXT_DATA__ in this page")
    data: dict[str, Any] = json.loads(match.group(1))
    return data
