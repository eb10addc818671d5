"""The server core of the tool's local pages (the print desk), on Starlette served by uvicorn.

`local_app(routes, port=...)` makes a Starlette app that answers only this loopback server:

- a request whose Host is not `127.0.0.1:PORT` or `localhost:PORT` is refused (421): that
  defeats DNS rebinding;
- a request that changes something (POST) must come from this server's own page: its Origin
  must be this server (403 otherwise; a missing Origin is refused too), and its body may hold at
  most `max_body` bytes (413);
- every answer carries no-store caching (unless the route says otherwise), nosniff and
  no-referrer; HTML pages get a Content-Security-Policy that lets the browser load nothing but
  this server (and show the PDFs it made, as blob: frames).

`serve_app(app, port, ...)` runs uvicorn on loopback until Ctrl-C or SIGTERM, with its access
log off: a page's requests are never written anywhere. A client that hangs up mid-request is
uvicorn's business and prints nothing.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Sequence
from typing import Any

from ..errors import Problem, UsageError

HOST = "127.0.0.1"
"""Local pages listen on loopback only; they are never reachable from another computer."""
MAX_BODY = 64 * 1024
"""Most bytes a request body may have (the desk's print form is a few KB at most)."""
PAGE_CSP = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-src 'self' blob:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
"""The browser may load nothing but this server (and the blob: PDFs it was given)."""
SAFE_METHODS = frozenset({"GET", "HEAD"})


def allowed_hosts(port: int) -> frozenset[str]:
    return frozenset({f"{HOST}:{port}", f"localhost:{port}"})


def allowed_origins(port: int) -> frozenset[str]:
    return frozenset(f"http://{h}" for h in allowed_hosts(port))


class LocalOnly:
    """ASGI middleware: Host and Origin checks, the body cap and the security headers."""

    def __init__(self, app: Any, *, port: int, max_body: int = MAX_BODY):
        self.app = app
        self.hosts = allowed_hosts(port)
        self.origins = allowed_origins(port)
        self.max_body = max_body

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        refusal = self.refusal(scope["method"], headers)
        if refusal is not None:
            status, message = refusal
            await plain(send, status, message)
            return
        received = 0

        async def capped_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise BodyTooLarge
            return message

        async def with_headers(message):
            if message["type"] == "http.response.start":
                extra = _security_headers(message.get("headers", []))
                message = {**message, "headers": list(message.get("headers", [])) + extra}
            await send(message)

        try:
            await self.app(scope, capped_receive, with_headers)
        except BodyTooLarge:
            await plain(send, 413, "request too large")
        except asyncio.CancelledError:  # stopped mid-request (Ctrl-C, SIGTERM): end quietly, no traceback
            return

    def refusal(self, method: str, headers: dict[str, str]) -> tuple[int, str] | None:
        """(status, message) when the request is refused, else None."""
        if headers.get("host", "").lower() not in self.hosts:
            return 421, "this server answers only its own address"
        if method not in SAFE_METHODS:
            if headers.get("origin", "") not in self.origins:
                return 403, "requests must come from this page"
            length = headers.get("content-length", "")
            if length and (not length.isdigit() or int(length) > self.max_body):
                return 413, "request too large"
        return None


class BodyTooLarge(Exception):
    """A request body grew past the cap while it was read."""


def _security_headers(existing: Sequence[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    names = {k.lower() for k, _ in existing}
    extra = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]
    if b"cache-control" not in names:
        extra.append((b"cache-control", b"no-store"))
    content_type = next((v for k, v in existing if k.lower() == b"content-type"), b"")
    if content_type.startswith(b"text/html"):
        extra.append((b"content-security-policy", PAGE_CSP.encode()))
        extra.append((b"x-frame-options", b"DENY"))
    return extra


async def plain(send, status: int, message: str) -> None:
    """Answers a short plain-text message (refusals)."""
    body = message.encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
                (b"x-content-type-options", b"nosniff"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def local_app(routes: list, *, port: int, max_body: int = MAX_BODY) -> Any:
    """A Starlette app of `routes`, answering only this loopback server (see the module's doc)."""
    from starlette.applications import Starlette
    from starlette.middleware import Middleware

    return Starlette(routes=routes, middleware=[Middleware(LocalOnly, port=port, max_body=max_body)])


def listen(port: int) -> socket.socket:
    """A listening socket on loopback (OSError if the port is taken)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, port))
        sock.listen(64)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def bind(port: int) -> socket.socket:
    """`listen`, with a bad or taken port turned into a usage error saying what to do."""
    if not 0 <= port <= 65535:
        raise UsageError(Problem("--port", message=f"{port} is not a port number", hint="use 1024-65535"))
    try:
        return listen(port)
    except OSError as exc:
        raise UsageError(
            Problem(
                "--port",
                message=f"cannot listen on {HOST}:{port}: {exc.strerror or exc}",
                hint="another program uses that port; choose one with --port N",
            )
        ) from None


def make_server(app: Any, *, verbose: bool = False) -> Any:
    """A uvicorn server for `app`: no access log (requests are never written anywhere), no
    lifespan, and a stop signal that ends it cleanly (see `_server_class`)."""
    import uvicorn

    config = uvicorn.Config(
        app,
        log_level="info" if verbose else "warning",
        access_log=False,
        lifespan="off",
        interface="asgi3",
        proxy_headers=False,
        server_header=False,
        date_header=False,
        timeout_graceful_shutdown=2,
    )
    return _server_class()(config)


def serve_app(app: Any, sock: socket.socket, *, verbose: bool = False) -> None:
    """Runs uvicorn on `sock` until Ctrl-C or SIGTERM (uvicorn handles both and stops cleanly)."""
    make_server(app, verbose=verbose).run(sockets=[sock])


def _server_class() -> Any:
    import contextlib
    import signal
    import threading

    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn's server, except that a stop signal ends it cleanly (exit 0) instead of being
        raised again after the shutdown, which would kill the process with that signal."""

        @contextlib.contextmanager
        def capture_signals(self):
            if threading.current_thread() is not threading.main_thread():
                yield
                return
            original = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
            try:
                yield
            finally:
                for sig, handler in original.items():
                    signal.signal(sig, handler)

    return Server
