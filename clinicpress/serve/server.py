"""A local web server for the tool's own pages: loopback only, a route table, safe file serving,
served by uvicorn through the server core (`serve.core`), as the print desk is.

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

Handlers are plain functions that answer through the `Request` helpers; each runs in its own
thread (an event stream may wait for minutes), and what it sends is passed to uvicorn as it
comes. A client that hangs up makes the next write raise BrokenPipeError inside the handler
(the event stream ends there), and nothing is printed: uvicorn owns the connection.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import io
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


class Request:
    """One request: checked, routed through the server's table, answered with the helpers below."""

    def __init__(self, server: LocalServer, scope: dict, body: bytes, out: _Outbox):
        from starlette.datastructures import Headers

        self.server = server
        self.command = scope["method"]
        self.head_only = self.command == "HEAD"
        raw_path = scope.get("raw_path") or scope["path"].encode()
        query = scope.get("query_string", b"").decode("latin-1")
        self.path = raw_path.decode("latin-1") + (f"?{query}" if query else "")
        self.url_path = unquote(urlsplit(self.path).path)
        """The request's path, percent-decoded, without the query."""
        self.query: dict[str, list[str]] = parse_qs(query)
        self.headers = Headers(scope=scope)
        self.rfile = io.BytesIO(body)
        """The request body (already read, at most MAX_BODY bytes)."""
        self.rest = ""
        """What follows the prefix of the route that matched (`/img/*` and `/img/a/1.png` → `a/1.png`)."""
        self.status = 0
        self._out = out

    def param(self, name: str) -> str | None:
        """Returns the first value of a query parameter, or None."""
        values = self.query.get(name)
        return values[0] if values else None

    # ------------------------------------------------------------ answers
    def _start(self, status: int, headers: list[tuple[str, str]]) -> None:
        self.status = status
        headers = [("Server", f"{self.server.software} ClinicPress")] + headers
        self._out.put(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers],
            }
        )

    def _write(self, data: bytes, *, more: bool) -> None:
        if self._out.gone.is_set():
            raise BrokenPipeError("the client went away")
        self._out.put({"type": "http.response.body", "body": b"" if self.head_only else data, "more_body": more})

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
        headers = [
            ("Content-Type", ctype),
            ("Content-Length", str(len(body))),
            ("Cache-Control", cache),
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "no-referrer"),
        ]
        if csp:
            headers.append(("Content-Security-Policy", PAGE_CSP))
        headers.extend((extra or {}).items())
        self._start(status, headers)
        self._write(body, more=False)

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
        """Starts a Server-Sent Events stream; it ends when the route returns."""
        self._start(
            200,
            [
                ("Content-Type", "text/event-stream; charset=utf-8"),
                ("Cache-Control", "no-store"),
                ("X-Accel-Buffering", "no"),
            ],
        )

    def write_event(self, data: str | None = None, *, comment: str | None = None, retry: int | None = None) -> None:
        """Writes one block of the event stream: a message, a keep-alive comment or the reconnect delay (ms).

        Raises BrokenPipeError once the page has gone away."""
        fields = (("retry: ", retry), ("data: ", data), (": ", comment))
        block = "".join(f"{name}{value}\n" for name, value in fields if value is not None)
        self._write((block + "\n").encode(), more=True)


class _Outbox:
    """What a handler thread sends, handed to the event loop in order; `gone` once the client left."""

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self.queue: asyncio.Queue = asyncio.Queue()
        self.gone = threading.Event()

    def put(self, message: dict | None) -> None:
        try:
            self.loop.call_soon_threadsafe(self.queue.put_nowait, message)
        except RuntimeError:  # the loop has closed: the server stopped
            self.gone.set()
            raise BrokenPipeError("the server stopped") from None


class LocalServer:
    """An HTTP server on 127.0.0.1 answering from a route table (uvicorn, through the server core);
    each request is answered in its own thread."""

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
        from .core import listen

        if host != HOST:
            raise ValueError(f"a local page listens on {HOST} only, not on {host!r}")
        self.routes = routes
        self.title = title
        """What the page is called in error answers ("open the preview at …")."""
        self.software = software
        self.verbose = verbose
        """Logs each request to stderr when set."""
        self._thread: threading.Thread | None = None
        self._server: Any = None
        self.socket = listen(port)
        self.server_address = self.socket.getsockname()
        self.server_port: int = self.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.server_port}/"

    def start(self, name: str = "http") -> threading.Thread:
        """Answers requests in a daemon thread named `name` until `close()`."""
        from .core import make_server

        self._server = make_server(self._app, verbose=False)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self.socket]}, name=name, daemon=True
        )
        self._thread.start()
        for _ in range(200):  # answers at once after start() returns
            if self._server.started or not self._thread.is_alive():
                break
            threading.Event().wait(0.02)
        return self._thread

    def close(self) -> None:
        """Stops answering and closes the socket; open requests are not waited for."""
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._server.force_exit = True
            self._thread.join(timeout=5)
        self.socket.close()

    # ------------------------------------------------------------ the ASGI side
    def host_ok(self, host: str) -> bool:
        """Refuses requests whose Host is not this loopback server (DNS rebinding)."""
        host = host.lower()
        port = self.server_port
        return host in {f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"} or (
            port == 80 and host in {"127.0.0.1", "localhost"}
        )

    async def _app(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        try:
            await self._answer(scope, receive, send)
        except asyncio.CancelledError:  # the server stops: end quietly
            return

    async def _answer(self, scope, receive, send) -> None:
        from .core import MAX_BODY, plain

        method = scope["method"]
        routed = "GET" if method == "HEAD" else method
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if routed not in self.routes.methods():
            return await self._done(scope, 501, plain(send, 501, f"Unsupported method ({method!r})"))
        if not self.host_ok(headers.get("host", "")):
            message = f"wrong host: open the {self.title} at http://{HOST}:{self.server_port}/\n"
            return await self._done(scope, 421, plain(send, 421, message))
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if len(body) > MAX_BODY:
                return await self._done(scope, 413, plain(send, 413, "request too large"))
            if not message.get("more_body"):
                break
        loop = asyncio.get_running_loop()
        out = _Outbox(loop)
        request = Request(self, scope, body, out)
        found = self.routes.find(routed, request.url_path)

        def handle() -> None:
            try:
                if found is None:
                    request.not_found()
                else:
                    route, request.rest = found
                    route.handler(request)
            except BrokenPipeError:  # the browser went away mid-answer
                pass
            finally:
                try:
                    out.put(None)
                except BrokenPipeError:
                    pass

        threading.Thread(target=handle, name="http-request", daemon=True).start()
        watcher = asyncio.ensure_future(_watch_disconnect(receive, out))
        open_body = False
        try:
            while True:
                message = await out.queue.get()
                if message is None:
                    if open_body:  # an event stream ends with its route
                        await send({"type": "http.response.body", "body": b"", "more_body": False})
                    break
                await send(message)
                open_body = message["type"] == "http.response.start" or bool(message.get("more_body"))
        except OSError:
            out.gone.set()
        finally:
            watcher.cancel()
        self._log(scope, request.status)

    async def _done(self, scope, status: int, answer) -> None:
        await answer
        self._log(scope, status)

    def _log(self, scope, status: int) -> None:
        if self.verbose:
            client = (scope.get("client") or ("-", 0))[0]
            when = dt.datetime.now().strftime("%d/%b/%Y %H:%M:%S")
            target = (scope.get("raw_path") or b"").decode("latin-1")
            print(
                f'{client} - - [{when}] "{scope["method"]} {target} HTTP/{scope["http_version"]}" {status} -',
                file=sys.stderr,
                flush=True,
            )


async def _watch_disconnect(receive, out: _Outbox) -> None:
    """Marks the outbox gone when the client disconnects (the handler's next write raises)."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            out.gone.set()
            return
