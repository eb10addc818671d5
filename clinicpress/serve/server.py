"""A local web server for the tool's own pages: loopback only, a route table, safe file serving.

Not specific to the preview: a page makes a `Routes` table (method + path pattern → a function
of the `Request`), starts a `LocalServer` on it and closes it when done::

    routes = Routes()
    routes.get("/", lambda req: req.send_html(page()))
    routes.get("/static/*", lambda req: req.send_static(req.rest, [folder]))
    routes.post("/api/print", desk.print_job)
    server = LocalServer(port, routes, title="print desk", software="ClinicPressDesk")
    server.start("desk-http")
    ...
    server.close()

Every answer carries no-store caching (unless the route says otherwise), nosniff and
no-referrer; HTML pages also get a Content-Security-Policy that lets the browser load nothing
but this server. A request whose Host header is not this loopback server is refused (421), which
defeats DNS rebinding.
"""

from __future__ import annotations

import html
import http.server
import json
import mimetypes
import sys
import threading
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

HOST = "127.0.0.1"
"""Local pages listen on loopback only; they are never reachable from another computer."""
STATIC_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
}
"""The kinds of static file a page may have, with their content types; anything else is 404."""
PAGE_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; connect-src 'self'; font-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
)
"""The browser may load nothing but this server: no network beyond loopback."""

DISCONNECTED = (ConnectionError, TimeoutError)
"""What reading a request or writing an answer raises when the client has gone (broken pipe,
reset, aborted) or went silent: the end of that connection, never an error of the server."""

RouteHandler = Callable[["Request"], None]


@dataclass(frozen=True)
class Route:
    """One row of the route table: `pattern` is a path (`/api/state`) or a prefix ending in `*` (`/img/*`)."""

    method: str
    pattern: str
    handler: RouteHandler

    def match(self, method: str, path: str) -> str | None:
        """Returns what follows a prefix pattern ("" for an exact one), or None when the route does not apply."""
        if method != self.method:
            return None
        if self.pattern.endswith("*"):
            prefix = self.pattern[:-1]
            return path[len(prefix) :] if path.startswith(prefix) else None
        return "" if path == self.pattern else None


class Routes:
    """The route table: the first route that matches, in the order they were added, answers."""

    def __init__(self) -> None:
        self._routes: list[Route] = []

    def add(self, method: str, pattern: str, handler: RouteHandler) -> None:
        """Adds a route; `handler(request)` answers it (the rest of a prefix pattern is `request.rest`)."""
        self._routes.append(Route(method.upper(), pattern, handler))

    def get(self, pattern: str, handler: RouteHandler) -> None:
        """Adds a GET route (HEAD is answered by it too, without the body)."""
        self.add("GET", pattern, handler)

    def post(self, pattern: str, handler: RouteHandler) -> None:
        """Adds a POST route."""
        self.add("POST", pattern, handler)

    def methods(self) -> set[str]:
        """Returns the methods some route answers."""
        return {r.method for r in self._routes}

    def find(self, method: str, path: str) -> tuple[Route, str] | None:
        """Returns the route for a request and the rest of its path, or None."""
        for route in self._routes:
            rest = route.match(method, path)
            if rest is not None:
                return route, rest
        return None


class Request(http.server.BaseHTTPRequestHandler):
    """One request: checked, routed through the server's table, answered with the helpers below."""

    server: LocalServer
    sys_version = ""
    head_only = False
    url_path = ""
    """The request's path, percent-decoded, without the query."""
    query: dict[str, list[str]]
    rest = ""
    """What follows the prefix of the route that matched (`/img/*` and `/img/a/1.png` → `a/1.png`)."""

    def version_string(self) -> str:
        return f"{self.server.software} {self.sys_version}"

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_HEAD(self) -> None:
        self.head_only = True
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        if method not in self.server.routes.methods():  # what the base class answers without a do_<method>
            self.send_error(501, f"Unsupported method ({self.command!r})")
            return
        if not self.host_ok():
            port = self.server.server_port
            self.send(
                421,
                f"wrong host: open the {self.server.title} at http://{HOST}:{port}/\n".encode(),
                "text/plain; charset=utf-8",
            )
            return
        parts = urlsplit(self.path)
        self.url_path, self.query = unquote(parts.path), parse_qs(parts.query)
        found = self.server.routes.find(method, self.url_path)
        if found is None:
            self.not_found()
            return
        route, self.rest = found
        try:
            route.handler(self)
        except DISCONNECTED:  # the browser went away mid-answer: this connection is over
            self.close_connection = True

    def host_ok(self) -> bool:
        """Refuses requests whose Host is not this loopback server (DNS rebinding)."""
        host = (self.headers.get("Host") or "").lower()
        port = self.server.server_port
        return host in {f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"} or (
            port == 80 and host in {"127.0.0.1", "localhost"}
        )

    def param(self, name: str) -> str | None:
        """Returns the first value of a query parameter, or None."""
        values = self.query.get(name)
        return values[0] if values else None

    # ------------------------------------------------------------ answers
    def send(
        self,
        status: int,
        body: bytes,
        ctype: str,
        *,
        cache: str = "no-store",
        csp: bool = False,
        extra: dict[str, str] | None = None,
    ) -> None:
        """Answers with `body` and the security headers (the page's CSP when `csp`)."""
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", cache)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        if csp:
            self.send_header("Content-Security-Policy", PAGE_CSP)
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if not self.head_only:
            self.wfile.write(body)

    def send_html(self, text: str | bytes, status: int = 200) -> None:
        """Answers an HTML page (under the page CSP)."""
        body = text.encode() if isinstance(text, str) else text
        self.send(status, body, "text/html; charset=utf-8", csp=True)

    def send_json(self, data: Any, status: int = 200) -> None:
        """Answers JSON (values JSON does not know are written as their str())."""
        self.send(status, json.dumps(data, default=str).encode(), "application/json")

    def not_found(self, what: str = "nothing here") -> None:
        """Answers 404 with a short page that says `what` and links back to the start page."""
        body = (
            f"<!doctype html><meta charset=utf-8><title>Not found</title><p>{html.escape(what)}. "
            f"<a href='/'>Back to the {html.escape(self.server.title)}</a></p>"
        )
        self.send_html(body, 404)

    def send_static(self, name: str, folders: Iterable[Path]) -> None:
        """Answers a file of the page's own (style, script, icon) from the first folder that has it."""
        if "/" in name or name.startswith("."):
            return self.not_found()
        for folder in folders:
            path = folder / name
            if path.suffix in STATIC_TYPES and path.is_file():
                return self.send(200, path.read_bytes(), STATIC_TYPES[path.suffix], cache="no-cache")
        return self.not_found()

    def send_file_below(self, root: Path, rel_path: str, tops: Collection[str]) -> None:
        """Answers the file `rel_path` of the folder `root` if it lies in one of root's subfolders `tops`.

        Refuses dot-names and `..`, and checks the resolved path, so no link leads out of those
        folders; `root` must be resolved. Anything refused is 404.
        """
        parts = Path(rel_path).parts
        if not parts or parts[0] not in tops or any(p.startswith(".") for p in parts):
            return self.not_found()
        try:
            path = (root / rel_path).resolve(strict=True)
        except (OSError, RuntimeError):
            return self.not_found("file not found")
        if not path.is_relative_to(root) or not path.is_file() or path.parts[len(root.parts)] not in tops:
            return self.not_found()
        ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if ctype.startswith("text/"):
            ctype += "; charset=utf-8"
        self.send(200, path.read_bytes(), ctype, cache="no-cache")

    def begin_events(self) -> None:
        """Starts a Server-Sent Events stream; the connection closes when the route returns."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Accel-Buffering", "no")
        self.end_headers()
        self.close_connection = True

    def write_event(self, data: str | None = None, *, comment: str | None = None, retry: int | None = None) -> None:
        """Writes one block of the event stream: a message, a keep-alive comment or the reconnect delay (ms)."""
        fields = (("retry: ", retry), ("data: ", data), (": ", comment))
        block = "".join(f"{name}{value}\n" for name, value in fields if value is not None)
        self.wfile.write((block + "\n").encode())
        self.wfile.flush()


class LocalServer(http.server.ThreadingHTTPServer):
    """A threaded HTTP server on 127.0.0.1 answering from a route table; one thread per request."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(
        self,
        port: int,
        routes: Routes,
        *,
        title: str = "page",
        software: str = "ClinicPress",
        verbose: bool = False,
        host: str = HOST,
    ):
        """Binds at once (raising OSError if the port is taken); refuses any host but loopback."""
        if host != HOST:
            raise ValueError(f"a local page listens on {HOST} only, not on {host!r}")
        self.routes = routes
        self.title = title
        """What the page is called in error answers ("open the preview at …")."""
        self.software = software
        self.verbose = verbose
        """Logs each request to stderr when set."""
        self._thread: threading.Thread | None = None
        super().__init__((host, port), Request)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.server_port}/"

    def handle_error(self, request, client_address) -> None:
        """A client that hangs up (mid-request or mid-answer) is normal for a browser: ignored
        quietly. Anything else is a bug and keeps the standard report (its traceback)."""
        if isinstance(sys.exc_info()[1], DISCONNECTED):
            return
        super().handle_error(request, client_address)

    def start(self, name: str = "http") -> threading.Thread:
        """Answers requests in a daemon thread named `name` until `close()`."""
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.2}, name=name, daemon=True
        )
        self._thread.start()
        return self._thread

    def close(self) -> None:
        """Stops answering and closes the socket; open requests (daemon threads) are not waited for."""
        if self._thread is not None:
            self.shutdown()
        self.server_close()
