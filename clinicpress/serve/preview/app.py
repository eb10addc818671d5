"""The preview's routes on the local server, and `serve`, the `preview` command."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

from ...errors import Problem, UsageError
from ..server import HOST, LocalServer, Request, Routes
from .conductor import Preview
from .page import PageTemplates, page_dirs, state_json
from .watcher import WATCHED, watch
from .worker import PREVIEW_OUT, STOP_SECONDS

DOWNLOAD_TYPES = {
    "pdf": "application/pdf",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}


class PreviewRoutes:
    """Answers the page, its fragments, images, downloads, the HTML view and the event stream."""

    def __init__(self, preview: Preview):
        self.preview = preview
        self.templates = PageTemplates(preview.root)

    def table(self) -> Routes:
        """Returns the preview's route table."""
        routes = Routes()
        routes.get("/", self.page)
        routes.get("/fragment", self.fragment)
        routes.get("/events", self.events)
        routes.get("/api/state", lambda req: req.send_json(state_json(self.preview)))
        routes.get("/static/*", lambda req: req.send_static(req.rest, page_dirs(self.preview.root)))
        routes.get("/img/*", self.image)
        routes.get("/download/*", self.download)
        routes.get("/files/*", self.file)
        routes.get("/favicon.ico", lambda req: req.send_static("favicon.svg", page_dirs(self.preview.root)))
        return routes

    def page(self, req: Request, template: str = "index.html.j2") -> None:
        """The whole page, for the item in `?item=` (queued for rendering if it has none yet)."""
        item_id = req.param("item")
        if item_id:
            self.preview.want(item_id)
        req.send_html(self.templates.render(template, self.preview, item_id))

    def fragment(self, req: Request) -> None:
        """The part of the page that changes, swapped in after each new state."""
        self.page(req, "fragment.html.j2")

    def events(self, req: Request) -> None:
        """Server-Sent Events: the current version at once, then each new one (a comment every 15 s)."""
        preview = self.preview
        req.begin_events()
        seen = -1
        try:
            req.write_event(retry=1000)
            while not preview.stopping.is_set():
                version = preview.wait_for_change(seen, timeout=15.0)
                if preview.stopping.is_set():
                    break
                if version != seen:
                    req.write_event(str(version))
                    seen = version
                else:
                    req.write_event(comment="still here")
        except OSError:  # the page went away (BrokenPipeError, ConnectionResetError, …)
            pass

    def image(self, req: Request) -> None:
        """/img/<item>/<rev>/<n>.png: a page or slide picture of one revision."""
        try:
            item_id, rev, name = req.rest.split("/")
            index = int(name.removesuffix(".png")) - 1
            with self.preview.cond:
                images = self.preview.images.get((item_id, int(rev)))
            image = images[index] if images is not None and index >= 0 else None
        except (ValueError, IndexError):
            image = None
        if image is None:
            return req.not_found("this image is from an older render")
        req.send(200, image.png, "image/png", cache="private, max-age=3600, immutable")

    def download(self, req: Request) -> None:
        """/download/<item>.pdf or .pptx: the rendered file, from memory."""
        stem, _, fmt = req.rest.rpartition(".")
        with self.preview.cond:
            view = self.preview.views.get(stem)
        data = view.files.get(fmt) if view else None
        if data is None:
            return req.not_found("this file has not been rendered yet")
        disposition = "inline" if fmt == "pdf" else "attachment"
        req.send(
            200, data, DOWNLOAD_TYPES[fmt], extra={"Content-Disposition": f'{disposition}; filename="{stem}.{fmt}"'}
        )

    def file(self, req: Request) -> None:
        """Project files under /files/: the HTML view (from memory) and the assets it links to."""
        preview = self.preview
        parts = Path(req.rest).parts
        html_view = PREVIEW_OUT.parts + (preview.practice,)
        if parts[: len(html_view)] == html_view and len(parts) == len(html_view) + 1 and req.rest.endswith(".html"):
            view = preview.wait_for_view(parts[-1].removesuffix(".html"), timeout=60)
            if view is None or view.html is None:
                return req.not_found("no handout of that name (or it has not rendered yet)")
            body = view.html
            if "live" in req.query:
                body = body.replace(b"</body>", b'<script src="/static/live-html.js"></script></body>', 1)
            return req.send_html(body)
        req.send_file_below(preview.root, req.rest, WATCHED)


# --------------------------------------------------------------------------- the command
def available_practices(root: Path) -> list[str]:
    """Returns the slugs of the project's practices (folders with a practice.yml)."""
    folder = root / "practices"
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and (p / "practice.yml").is_file())


def _chosen_practice(root: Path, practice: str | None) -> str:
    """Returns the practice to preview (the first when none is named); a wrong name is a UsageError."""
    practices = available_practices(root)
    if not practices:
        raise UsageError(
            Problem(
                "practices/",
                message="there is no practice to preview",
                hint="create one with: python build.py new-practice SLUG",
            )
        )
    if practice is None:
        return practices[0]
    if practice not in practices:
        raise UsageError(
            Problem("--practice", message=f"practice {practice!r} not found", hint=f"available: {', '.join(practices)}")
        )
    return practice


def serve(root: Path, *, practice: str | None, port: int, reporter, verbose: bool = False) -> int:
    """Runs the preview until SIGINT or SIGTERM; returns the exit code (0 after a clean stop)."""
    root = root.resolve()
    practice = _chosen_practice(root, practice)
    if not 0 <= port <= 65535:
        raise UsageError(Problem("--port", message=f"{port} is not a port number", hint="use 1024-65535"))

    preview = Preview(root, practice, reporter, verbose=verbose)
    try:
        server = LocalServer(
            port, PreviewRoutes(preview).table(), title="preview", software="ClinicPressPreview", verbose=verbose
        )
    except OSError as exc:
        preview.close()
        raise UsageError(
            Problem(
                "--port",
                message=f"cannot listen on {HOST}:{port}: {exc.strerror or exc}",
                hint="another program (or preview) uses that port; choose one with --port N",
            )
        ) from None
    return _run(preview, server, reporter)


def _run(preview: Preview, server: LocalServer, reporter) -> int:
    """Runs the server, conductor and watcher threads until a signal; then stops them all and cleans up."""
    stop_signal: list[int] = []

    def on_signal(signum, frame):  # only notes the request: the main thread below does the stopping
        stop_signal.append(signum)
        preview.stopping.set()

    old = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    threads = [
        threading.Thread(target=preview.conduct, name="preview-conductor", daemon=True),
        threading.Thread(target=watch, args=(preview,), name="preview-watch", daemon=True),
    ]
    try:
        threads.insert(0, server.start("preview-http"))
        for t in threads[1:]:
            t.start()
        reporter.info(f"previewing {preview.practice} at {server.url}")
        reporter.info("watching content/, templates/ and practices/; press Ctrl-C to stop")
        while not preview.stopping.wait(0.25):
            pass
    finally:
        preview.stop()  # ends the renderer process group first: nothing heavy is left to wait for
        server.close()
        deadline = time.monotonic() + 2 * STOP_SECONDS
        for t in threads:
            if t.ident is not None:
                t.join(timeout=max(0.0, deadline - time.monotonic()))
        preview.close()
        for sig, handler in old.items():
            signal.signal(sig, handler)
    if not stop_signal:  # the conductor gave up (it printed why)
        return 3
    left = [t.name for t in threads if t.is_alive()]
    reporter.info(
        f"preview stopped ({'Ctrl-C' if stop_signal[0] == signal.SIGINT else 'SIGTERM'})"
        + (f"; not yet finished: {', '.join(left)}" if left else "")
    )
    return 0
