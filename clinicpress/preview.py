"""Live preview: a local page that shows each handout and deck as it prints, and follows every save.

`python build.py preview [--practice SLUG] [--port N]` serves http://127.0.0.1:N/ (loopback
only) with the handouts and decks of one practice. For the chosen item the page shows its
rendered pages (slides too, when LibreOffice is installed), its check findings and the
practice's warnings, and links to the handout's HTML (the same document the PDF is made
from). Nothing is written to the output folder: renders are kept in memory; LibreOffice
converts decks in a private temporary folder that is removed on exit.

Who does what:

* the **renderer**, a child process in its own process group, does all the heavy work, one
  task at a time: load the project, render an item (`jobs.run.run_job`, then pypdfium2 for
  page images, LibreOffice for slides), run the checks (`checks.check_project`). Being a
  process, it can be stopped at once on Ctrl-C, whatever C library it is in;
* the **conductor** thread decides what the renderer does next: reload after a change,
  then the item on screen, then the checks, then other open items. An item is re-rendered
  only if its cache key (`clinicpress.write.cache.JobKeys`, the build cache's key) moved;
* the **watcher** thread (watchfiles) notes which files under content/, templates/ and
  practices/ changed and wakes the conductor;
* the **HTTP server** (`http.server.ThreadingHTTPServer`) answers the page, its images and
  a Server-Sent Events stream that announces each new state; the page then fetches the new
  fragment, swaps it in and keeps its scroll position.

Items are rendered when the page first asks for them and re-rendered when a change affects
them, so a save rebuilds one handout, not the whole project. A change that breaks the
input shows its problems (file, line, message, hint) in the page and the terminal while
the last good render stays visible underneath. SIGINT and SIGTERM stop the threads and the
renderer's process group (LibreOffice included), then the command exits 0.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import html
import http.server
import io
import json
import mimetypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit

from .errors import Finding, Problem, UsageError, UserError, rel

HOST = "127.0.0.1"
"""The preview listens on loopback only; it is never reachable from another computer."""
DEFAULT_PORT = 8765
WATCHED = ("content", "templates", "practices")
"""Project folders whose changes trigger a rebuild."""
PREVIEW_OUT = Path("output") / ".preview"
"""Where the HTML view pretends to live (relative to the project), so its relative asset URLs
(fonts, logos, figures) resolve under /files/. Nothing is ever written there."""
PAGE_SCALE = 2.0
"""Handout pages are rasterised at 144 dpi (shown at 72 dpi × 1.33 CSS px, sharp on HiDPI)."""
SLIDE_WIDTH = 1280
"""Slide images are this many pixels wide."""
DEBOUNCE_MS, STEP_MS = 400, 40
"""watchfiles yields once no new event came for STEP_MS (at most DEBOUNCE_MS after the first)."""
SOFFICE_TIMEOUT = 180
STOP_SECONDS = 1.0
"""How long the renderer gets to end after SIGTERM before it is killed (it writes nothing)."""
KEEP_REVISIONS = 3
"""Image sets kept per item, so a page that asks for the previous revision still gets it."""
KEEP_FRESH = 4
"""After a change, only the items viewed most recently (this many) are rebuilt at once; others
are rebuilt when they are opened again."""
STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                ".svg": "image/svg+xml", ".png": "image/png", ".ico": "image/x-icon"}
PAGE_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            "script-src 'self'; connect-src 'self'; font-src 'self' data:; object-src 'none'; "
            "base-uri 'none'; form-action 'none'; frame-ancestors 'self'")
"""The browser may load nothing but this server: no network beyond loopback."""


# --------------------------------------------------------------------------- state
@dataclass(frozen=True)
class Item:
    """One handout or deck of the chosen practice, as listed in the page."""

    id: str
    """The job's file stem (slug, plus `.es` for Spanish): unique within a practice."""
    kind: str
    title: str
    language: str
    path: str
    """The content file, relative to the project."""
    source_key: str


@dataclass(frozen=True)
class Image:
    png: bytes
    width: int
    height: int


@dataclass(frozen=True)
class View:
    """The last good render of one item, and the problems of the latest attempt if it failed."""

    rev: int = 0
    """0 until the first good render; grows with each good render (image URLs carry it)."""
    pages: tuple[Image, ...] = ()
    """Handout pages, or deck slides (when LibreOffice is installed)."""
    note: str | None = None
    """Why there are no images (e.g. LibreOffice missing for a deck)."""
    html: bytes | None = None
    files: dict = field(default_factory=dict)
    """Rendered files by format (pdf, pptx) for the download links."""
    findings: tuple[Finding, ...] = ()
    """Findings of the renderer itself (a deck's overflowing slide)."""
    rendered_at: float = 0.0
    seconds: float = 0.0
    input_key: str | None = None
    """The job's cache key when it was rendered; a change that moves the key re-renders."""
    problems: tuple[Problem, ...] = ()
    """Why the latest render failed (empty when it succeeded); the images stay the last good ones."""
    failed_at: float = 0.0


# --------------------------------------------------------------------------- the renderer process
class RendererGone(Exception):
    """The renderer process ended while it had a task (a crash in a C library, or killed)."""


class Renderer:
    """Parent side of the renderer process: start it, give it one task, wait for the answer.

    The process is a plain `python -c` child (no multiprocessing helpers), started in a new
    session: Ctrl-C in the terminal reaches only the preview, which then ends the renderer's
    whole process group, LibreOffice included. Tasks and answers are pickled over a socket pair.
    """

    def __init__(self, root: Path, practice: str, tmp: Path, stopping: threading.Event):
        self.args = (str(root), practice, str(tmp))
        self.stopping = stopping
        self.proc: subprocess.Popen | None = None
        self.conn = None

    def start(self) -> None:
        from multiprocessing.connection import Connection

        ours, theirs = socket.socketpair()
        package_parent = str(Path(__file__).resolve().parent.parent)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent, env.get("PYTHONPATH")) if p)
        # Temporary files of the libraries (WeasyPrint's font folder) go into the preview's own
        # folder, removed on exit even when the renderer is killed; the checks' lasting data
        # cache stays where a build keeps it.
        env.setdefault("CLINICPRESS_CACHE", str(Path(tempfile.gettempdir()) / "clinicpress-cache"))
        renderer_tmp = Path(self.args[2]) / "tmp"
        renderer_tmp.mkdir(exist_ok=True)
        env["TMPDIR"] = str(renderer_tmp)
        with theirs:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", "import sys; from clinicpress.preview import renderer_main; "
                 "renderer_main(sys.argv[1:])", str(theirs.fileno()), *self.args],
                pass_fds=(theirs.fileno(),), start_new_session=True, stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, env=env, cwd=self.args[0])
        self.conn = Connection(ours.detach())

    def call(self, *task):
        """Sends a task and returns the answer; None if the preview is stopping meanwhile."""
        if self.proc is None or self.proc.poll() is not None:
            self.stop()  # a renderer that died: reap it and anything of its group still running
            self.start()
        try:
            self.conn.send(task)
            while not self.stopping.is_set():
                if self.conn.poll(0.05):
                    return self.conn.recv()
                if self.proc.poll() is not None:
                    raise RendererGone(f"exit code {self.proc.returncode}")
        except (EOFError, OSError) as exc:
            if self.stopping.is_set():
                return None
            raise RendererGone(str(exc) or type(exc).__name__) from None
        return None

    def stop(self) -> None:
        """Ends the renderer and everything it started (its own process group: LibreOffice too)."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(proc.pid, sig)
            except (ProcessLookupError, PermissionError):
                break
            try:
                proc.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                continue
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # a straggler of the group (LibreOffice's soffice.bin)
            except (ProcessLookupError, PermissionError):
                pass
            break
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def renderer_main(argv: list[str]) -> None:
    """The renderer process: answers tasks until the socket closes. Ctrl-C is the parent's to handle."""
    from multiprocessing.connection import Connection

    fd, root, practice, tmp = argv
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    conn = Connection(int(fd))
    work = _Work(Path(root), practice, Path(tmp))
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        try:
            answer = getattr(work, task[0])(*task[1:])
        except Exception as exc:  # a bug: the parent reports it and carries on
            answer = ("failed", [_internal_problem(exc, task[0])], traceback.format_exc())
        try:
            conn.send(answer)
        except (OSError, ValueError):
            return


class _Work:
    """What the renderer process keeps between tasks: the loaded project and the file-hash cache."""

    def __init__(self, root: Path, practice: str, tmp: Path):
        self.root, self.practice, self.tmp = root, practice, tmp
        self.project = None
        self.jobs: dict = {}
        self.hashes = None

    def load(self, changed: list[str]):
        """Loads the project; answers ("loaded", info) or ("failed", problems, traceback)."""
        from .jobs.model import plan
        from .load.project import load_project

        if changed:
            _forget_render_caches(changed)
        try:
            project = load_project(self.root, practices=[self.practice])
            jobs = {job.stem: job for job in plan(project)}
        except UserError as exc:
            return ("failed", list(exc.problems), None)
        self.project, self.jobs = project, jobs
        items = [Item(stem, job.source.kind, getattr(job.source.model, "title", job.source.slug),
                      job.source.language, rel(job.source.path, self.root), job.source.key)
                 for stem, job in jobs.items()]
        # By slug, so a translation sits right under its original.
        items.sort(key=lambda i: (i.kind != "handout", i.id.split(".")[0], i.language != "en", i.language))
        return ("loaded", {"items": items, "keys": self._keys(), "warnings": list(project.warnings),
                           "practice_name": project.practices[self.practice].info.name})

    def _keys(self) -> dict[str, str]:
        """Each job's inputs hash (the build cache's key); {} if the cache module is unavailable."""
        try:
            from .write.cache import FileHashes, JobKeys

            if self.hashes is None:
                self.hashes = FileHashes()
            keys = JobKeys(self.project, self.hashes, self.root / PREVIEW_OUT)
            return {stem: keys.key(job) for stem, job in self.jobs.items()}
        except Exception:  # without keys every open item is rebuilt after a change: slower, still right
            return {}

    def render(self, item_id: str):
        """Renders one item in memory; answers ("rendered", View) or ("failed", problems, traceback)."""
        from .jobs.run import run_job

        job = self.jobs.get(item_id)
        if job is None:
            return ("failed", [Problem("(preview)", message=f"no item {item_id!r}")], None)
        started = time.perf_counter()
        try:
            result = run_job(self.project, job, self.root / PREVIEW_OUT)
        except UserError as exc:
            return ("failed", list(exc.problems), None)
        except Exception as exc:
            return ("failed", [_internal_problem(exc, f"rendering {job.source.path.name}",
                                                 rel(job.source.path, self.root))], traceback.format_exc())
        images: tuple[Image, ...] = ()
        note = None
        if "pdf" in result.files:
            images = tuple(_pdf_images(result.files["pdf"], scale=PAGE_SCALE))
        elif "pptx" in result.files:
            images, note = self._slides(result.files["pptx"])
        files = {fmt: data for fmt, data in result.files.items() if fmt in ("pdf", "pptx")}
        return ("rendered", View(0, images, note, result.files.get("html"), files, tuple(result.findings),
                                 time.time(), time.perf_counter() - started))

    def _slides(self, pptx: bytes) -> tuple[tuple[Image, ...], str | None]:
        """Draws the slides via LibreOffice (in this preview's private folder), or says why not."""
        command = shutil.which("soffice") or shutil.which("libreoffice")
        if command is None:
            return (), ("LibreOffice (soffice) is not installed, so slides are not drawn here. "
                        "Download the PPTX to look at it, or install LibreOffice.")
        work = self.tmp / "slides"
        work.mkdir(exist_ok=True)
        src, pdf = work / "deck.pptx", work / "deck.pdf"
        pdf.unlink(missing_ok=True)
        src.write_bytes(pptx)
        profile = (self.tmp / "lo-profile").as_uri()
        try:
            subprocess.run([command, f"-env:UserInstallation={profile}", "--headless", "--norestore",
                            "--nolockcheck", "--convert-to", "pdf", "--outdir", str(work), str(src)],
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           timeout=SOFFICE_TIMEOUT, check=False)
        except subprocess.TimeoutExpired:
            return (), "LibreOffice took too long to draw the slides; download the PPTX instead."
        except OSError as exc:
            return (), f"LibreOffice could not start ({exc.strerror}); download the PPTX instead."
        if not pdf.is_file():
            return (), "LibreOffice could not convert the deck; download the PPTX to look at it."
        data = pdf.read_bytes()
        pdf.unlink(missing_ok=True)
        return tuple(_pdf_images(data, width=SLIDE_WIDTH)), None

    def check(self):
        """Runs every check over the project; answers ("checked", findings) or ("failed", problems, tb)."""
        from .checks import check_project

        if self.project is None:
            return ("checked", {})
        try:
            return ("checked", dict(check_project(self.project)))
        except UserError as exc:
            return ("failed", list(exc.problems), None)


# --------------------------------------------------------------------------- the preview's state
class Preview:
    """State shared by the conductor, the watcher and the HTTP threads; guarded by `cond`."""

    def __init__(self, root: Path, practice: str, reporter, *, verbose: bool = False):
        self.root = root
        self.practice = practice
        self.reporter = reporter
        self.verbose = verbose
        self.cond = threading.Condition()
        self.stopping = threading.Event()
        self.version = 0
        """Grows with every change of what the page shows; the event stream announces it."""
        self.loaded = False
        self.practice_name = practice
        self.items: list[Item] = []
        self.ids: set[str] = set()
        self.keys: dict[str, str] = {}
        self.load_problems: list[Problem] = []
        self.warnings: list[Problem] = []
        self.findings: dict[str, list[Finding]] = {}
        self.check_problems: list[Problem] = []
        self.checks_pending = False
        self.reload_pending = True
        self.changed: list[str] = []
        self.views: dict[str, View] = {}
        self.images: dict[tuple[str, int], tuple[Image, ...]] = {}
        self.wanted: dict[str, float] = {}
        """Items the page has asked for, with when: rendered on demand, kept fresh after changes."""
        self.todo: set[str] = set()
        self.busy: str | None = None
        self.rendering: str | None = None
        self.tmp = Path(tempfile.mkdtemp(prefix="clinicpress-preview-"))
        self.renderer = Renderer(root, practice, self.tmp, self.stopping)
        self._next_rev = 1
        self._jinja = None

    # ---------------------------------------------------------------- called by the other threads
    def bump(self) -> None:
        """Announces a new state (call with `cond` held)."""
        self.version += 1
        self.cond.notify_all()

    def want(self, item_id: str) -> None:
        """Notes that the page shows `item_id`; queues its render if it has none yet."""
        with self.cond:
            if self.loaded and item_id not in self.ids:
                return
            self.wanted[item_id] = time.monotonic()  # before the first load: checked once it is done
            if not self.loaded:
                return
            if item_id not in self.views and item_id not in self.todo and item_id != self.rendering:
                self.todo.add(item_id)
                self.bump()

    def note_changes(self, paths: list[str]) -> None:
        """Called by the watcher: a rebuild is needed (or only a page refresh, for the page's own files)."""
        with self.cond:
            if all(p.startswith("templates/preview/") for p in paths):
                self.bump()
                return
            self.changed.extend(p for p in paths if p not in self.changed)
            self.reload_pending = True
            self.bump()

    def stop(self) -> None:
        self.stopping.set()
        with self.cond:
            self.cond.notify_all()
        self.renderer.stop()

    def close(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)

    # ---------------------------------------------------------------- the conductor
    def conduct(self) -> None:
        """The conductor thread: reload after a change, render the item on screen, check, render the rest."""
        crashes = 0
        try:
            self.renderer.start()
            while not self.stopping.is_set():
                with self.cond:
                    self.cond.wait_for(lambda: self.stopping.is_set() or self.reload_pending
                                       or self.todo or self.checks_pending)
                    if self.stopping.is_set():
                        return
                    if self.reload_pending:
                        task, arg = "load", self.changed
                        self.reload_pending, self.changed = False, []
                        self.busy = "loading the project"
                    else:
                        current = self._current()
                        if current in self.todo or (self.todo and not self.checks_pending):
                            task = "render"
                            arg = current if current in self.todo else self._next_todo()
                            self.todo.discard(arg)
                            self.rendering, self.busy = arg, f"rendering {arg}"
                        else:
                            task, arg = "check", None
                            self.checks_pending = False
                            self.busy = "running the checks"
                    self.bump()
                started = time.perf_counter()
                try:
                    answer = self.renderer.call(task, arg) if arg is not None else self.renderer.call(task)
                except RendererGone as exc:
                    self.renderer.stop()
                    crashes += 1
                    answer = ("failed", [Problem("(preview)", message=f"the renderer process stopped ({exc})",
                                                 hint="it restarts with the next change; if this repeats, run "
                                                      "with --verbose and report it")], None)
                    with self.cond:
                        # A new renderer must load the project first (unless it keeps crashing).
                        self.reload_pending = crashes < 3
                else:
                    crashes = 0
                if answer is None or self.stopping.is_set():
                    return
                if self.verbose:
                    self.reporter.info(f"  [{task}{' ' + arg if task == 'render' else ''}: "
                                       f"{time.perf_counter() - started:.2f} s]")
                getattr(self, f"_after_{task}")(arg, answer)
        except Exception:  # a bug in the conductor must not leave the page spinning forever
            if not self.stopping.is_set():
                self.reporter.error("the preview stopped working:\n" + traceback.format_exc())
                self.stopping.set()

    def _current(self) -> str | None:
        return max(self.wanted, key=self.wanted.__getitem__) if self.wanted else None

    def _next_todo(self) -> str:
        return max(self.todo, key=lambda i: self.wanted.get(i, 0.0))

    def _after_load(self, changed: list[str], answer) -> None:
        if answer[0] != "loaded":
            _, problems, trace = answer
            with self.cond:
                self.busy = None
                self.load_problems = list(problems)
                self.bump()
            self._say_changed(changed)
            self._problems(problems, trace)
            with self.cond:
                shown = any(v.rev for v in self.views.values())
            self.reporter.info("  the page keeps showing the last good render; save a fix to rebuild" if shown
                               else "  save a fix and the preview builds by itself")
            return
        info = answer[1]
        keys = info["keys"]
        with self.cond:
            self.busy = None
            was_broken = bool(self.load_problems)
            new_warnings = info["warnings"] != self.warnings
            self.loaded = True
            self.items, self.keys, self.practice_name = info["items"], keys, info["practice_name"]
            self.ids = {i.id for i in self.items}
            self.warnings = list(info["warnings"])
            self.load_problems = []
            for item_id in list(self.wanted):
                if item_id not in self.ids:
                    del self.wanted[item_id]
            fresh = set(sorted(self.wanted, key=self.wanted.__getitem__)[-KEEP_FRESH:])
            affected = []
            for item_id in list(self.views):
                view = self.views[item_id]
                if item_id not in self.ids:
                    self._drop(item_id)
                elif view.problems or view.input_key is None or view.input_key != keys.get(item_id):
                    if item_id in fresh:
                        affected.append(item_id)
                    else:  # seen a while ago: rendered again when it is opened again
                        self._drop(item_id)
            for item_id in fresh:
                if item_id not in self.views and item_id not in affected:
                    affected.append(item_id)
            self.todo = {i for i in self.todo if i in self.ids} | set(affected)
            self.checks_pending = True
            self.bump()
        self._say_changed(changed, affected)
        if was_broken:
            self.reporter.info("fixed: the project loads again")
        if new_warnings and info["warnings"]:
            self.reporter.problems(info["warnings"], exit_code=0)

    def _drop(self, item_id: str) -> None:
        """Forgets an item's render and images (call with `cond` held)."""
        self.views.pop(item_id, None)
        for key in [k for k in self.images if k[0] == item_id]:
            del self.images[key]

    def _after_render(self, item_id: str, answer) -> None:
        with self.cond:
            # Cleared together with the new view, so a page asking meanwhile does not queue it again.
            self.busy = self.rendering = None
            old = self.views.get(item_id)
            if answer[0] == "rendered":
                rev, self._next_rev = self._next_rev, self._next_rev + 1
                view = dataclasses.replace(answer[1], rev=rev, input_key=self.keys.get(item_id))
                self.images[(item_id, rev)] = view.pages
                for stale in sorted(k for k in self.images if k[0] == item_id)[:-KEEP_REVISIONS]:
                    del self.images[stale]
            else:
                view = dataclasses.replace(old or View(), problems=tuple(answer[1]), failed_at=time.time())
            self.views[item_id] = view
            self.bump()
        if answer[0] == "rendered":
            what = f"{len(view.pages)} {'page' if 'pdf' in view.files else 'slide'}(s)" if view.pages \
                else "no pictures"
            self.reporter.info(f"  {item_id}: rendered in {view.seconds:.2f} s ({what})")
        else:
            self._problems(answer[1], answer[2])
            if old is not None and old.rev:
                self.reporter.info(f"  the page keeps showing the last good render of {item_id}")

    def _after_check(self, _, answer) -> None:
        with self.cond:
            self.busy = None
            if answer[0] == "checked":
                self.findings, self.check_problems = answer[1], []
            else:
                self.check_problems = list(answer[1])
            self.bump()
        if answer[0] != "checked":
            self._problems(answer[1], answer[2])

    def _problems(self, problems: list[Problem], trace: str | None) -> None:
        # exit_code=0: the Reporter's "nothing was written" line is for builds; here it just counts.
        self.reporter.problems(problems, exit_code=0)
        if trace and self.verbose:
            self.reporter.error(trace)

    def _say_changed(self, changed: list[str], affected: list[str] | None = None) -> None:
        if not changed:
            return
        shown = ", ".join(changed[:3]) + (f" and {len(changed) - 3} more" if len(changed) > 3 else "")
        if affected is None:
            self.reporter.info(f"changed: {shown}")
        elif affected:
            self.reporter.info(f"changed: {shown} → rebuilding {', '.join(sorted(affected))}")
        else:
            self.reporter.info(f"changed: {shown} → no open item is affected")

    # ---------------------------------------------------------------- what the page shows
    def snapshot(self, item_id: str | None) -> dict:
        """Returns everything the page template needs, copied under the lock."""
        with self.cond:
            item = next((i for i in self.items if i.id == item_id), None)
            view = self.views.get(item_id) if item else None
            findings = (list(view.findings if view else []) + list(self.findings.get(item.source_key, []))) \
                if item else []
            return {
                "version": self.version,
                "practice": {"slug": self.practice, "name": self.practice_name},
                "items": list(self.items),
                "statuses": {i.id: _status(self.findings.get(i.source_key, []), self.views.get(i.id))
                             for i in self.items},
                "item": item,
                "item_id": item_id,
                "view": view,
                "findings": findings,
                "counts": _counts(findings),
                "checked": bool(self.findings),
                "practice_findings": list(self.findings.get(f"practice:{self.practice}", [])),
                "warnings": list(self.warnings),
                "load_problems": list(self.load_problems),
                "check_problems": list(self.check_problems),
                "busy": self.busy,
                "pending": item is not None and (item.id in self.todo or self.reload_pending
                                                 or self.rendering == item.id),
                "loaded": self.loaded,
                "html_url": _html_url(self.practice, item.id) if item and item.kind == "handout" else None,
            }

    def state_json(self) -> dict:
        with self.cond:
            return {
                "version": self.version,
                "practice": self.practice,
                "busy": self.busy,
                "load_problems": [dataclasses.asdict(p) for p in self.load_problems],
                "items": [{"id": i.id, "kind": i.kind, "title": i.title, "language": i.language, "path": i.path,
                           "rev": self.views[i.id].rev if i.id in self.views else None,
                           "problems": [dataclasses.asdict(p) for p in self.views[i.id].problems]
                           if i.id in self.views else []}
                          for i in self.items],
            }

    def wait_for_view(self, item_id: str, timeout: float) -> View | None:
        """Blocks until `item_id` has a render (for the HTML view opened directly); None if unknown."""
        deadline = time.monotonic() + timeout
        while True:
            self.want(item_id)
            with self.cond:
                if self.stopping.is_set() or (self.loaded and item_id not in self.ids):
                    return None
                if item_id in self.views and item_id not in self.todo and item_id != self.rendering:
                    return self.views[item_id]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return self.views.get(item_id)
                self.cond.wait(min(remaining, 1.0))

    def wait_for_change(self, seen: int, timeout: float) -> int:
        with self.cond:
            self.cond.wait_for(lambda: self.version != seen or self.stopping.is_set(), timeout=timeout)
            return self.version

    # ---------------------------------------------------------------- the page's templates
    def page_templates(self):
        if self._jinja is None:
            import jinja2

            env = jinja2.Environment(loader=jinja2.FileSystemLoader([str(d) for d in _preview_dirs(self.root)]),
                                     autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True,
                                     lstrip_blocks=True, auto_reload=True)
            env.filters["clock"] = lambda t: dt.datetime.fromtimestamp(t).strftime("%H:%M:%S") if t else ""
            env.filters["seconds"] = lambda s: f"{s:.1f} s" if s >= 0.95 else f"{s * 1000:.0f} ms"
            env.globals["quote"] = lambda s: quote(str(s), safe="")
            self._jinja = env
        return self._jinja

    def render_page(self, name: str, item_id: str | None) -> str:
        return self.page_templates().get_template(name).render(**self.snapshot(item_id))


def _status(findings: list[Finding], view: View | None) -> str:
    if view is not None and view.problems:
        return "error"
    severities = {f.severity for f in findings} | {f.severity for f in (view.findings if view else ())}
    return "error" if "error" in severities else "warning" if "warning" in severities else "ok"


def _counts(findings: list[Finding]) -> dict[str, int]:
    out = {"error": 0, "warning": 0, "info": 0}
    for f in findings:
        out[f.severity] = out.get(f.severity, 0) + 1
    return out


def _internal_problem(exc: BaseException, doing: str, path: str = "(preview)") -> Problem:
    return Problem(path, message=f"internal error while {doing}: {type(exc).__name__}: {exc}",
                   hint="this is a bug in ClinicPress; run the preview with --verbose and report the traceback")


def _html_url(practice: str, item_id: str) -> str:
    return "/files/" + quote((PREVIEW_OUT / practice / f"{item_id}.html").as_posix())


def _preview_dirs(root: Path) -> list[Path]:
    """The page's own templates: the project's templates/preview first, then the tool's."""
    own = Path(__file__).resolve().parent.parent / "templates" / "preview"
    return [d for d in dict.fromkeys([root / "templates" / "preview", own]) if d.is_dir()]


RENDER_CACHES = (("clinicpress.jobs.run", "_TEMPLATES"), ("clinicpress.load.i18n", "_catalogue"),
                 ("clinicpress.render.deck", "_layout_spec"), ("clinicpress.render.deck", "_metrics"))
"""Per-process caches of the renderers that read template, catalogue, layout or font files."""


def _forget_render_caches(changed: list[str]) -> None:
    """Drops what the renderers keep between calls in one process, so an edited template shows.

    A build is one short process; the preview's renderer lives on. The Jinja environments
    (built with auto_reload off), the message catalogues, the deck layout map and font
    metrics are cached per process, so they are dropped whenever a file under templates/ or
    practices/ changes. (A public `reset_caches()` in those modules would be tidier.)
    """
    if not any(p.startswith(("templates/", "practices/")) for p in changed):
        return
    for module_name, name in RENDER_CACHES:
        module = sys.modules.get(module_name)
        cache = getattr(module, name, None) if module else None
        if isinstance(cache, dict):
            cache.clear()
        elif hasattr(cache, "cache_clear"):
            cache.cache_clear()


def _pdf_images(pdf: bytes, *, scale: float | None = None, width: int | None = None) -> list[Image]:
    """Draws every page of a PDF as a PNG (pypdfium2), at `scale` or `width` pixels wide."""
    import pypdfium2 as pdfium

    out: list[Image] = []
    doc = pdfium.PdfDocument(pdf)
    try:
        for index in range(len(doc)):
            page = doc[index]
            try:
                w, _ = page.get_size()
                bitmap = page.render(scale=scale if scale else width / w, draw_annots=False)
                image = bitmap.to_pil().convert("RGB")
            finally:
                page.close()
            buf = io.BytesIO()
            image.save(buf, "PNG", compress_level=1)
            out.append(Image(buf.getvalue(), image.width, image.height))
    finally:
        doc.close()
    return out


# --------------------------------------------------------------------------- the watcher
def _watch_filter():
    from watchfiles import DefaultFilter

    base = DefaultFilter()

    def keep(change, path: str) -> bool:
        name = os.path.basename(path)
        if name.startswith(".") or name.endswith(("~", ".tmp", ".swp", ".swx")) or name == "4913":
            return False  # editors' temporary files (vim writes a probe file named 4913)
        return base(change, path)

    return keep


def watch(preview: Preview) -> None:
    """The watcher thread: tells the preview which project files changed."""
    from watchfiles import watch as watch_paths

    folders = [preview.root / name for name in WATCHED if (preview.root / name).is_dir()]
    if not folders:
        return
    try:
        for changes in watch_paths(*folders, watch_filter=_watch_filter(), debounce=DEBOUNCE_MS, step=STEP_MS,
                                   stop_event=preview.stopping, rust_timeout=500, raise_interrupt=False):
            kinds: dict[str, set] = {}
            for change, path in changes:
                kinds.setdefault(path, set()).add(change.name)
            # A file that came and went within one batch (an editor's or sed's temporary file) is noise.
            paths = sorted(rel(Path(p), preview.root) for p, k in kinds.items()
                           if not ({"added", "deleted"} <= k and not os.path.exists(p)))
            if paths:
                preview.note_changes(paths)
    except Exception as exc:  # the page still works; only live updates stop
        if not preview.stopping.is_set():
            preview.reporter.error(f"watching for changes stopped: {type(exc).__name__}: {exc}; "
                                   "restart the preview to see new changes")


# --------------------------------------------------------------------------- the HTTP server
class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    preview: Preview


class Handler(http.server.BaseHTTPRequestHandler):
    """Answers the page, its fragments, images, downloads, the HTML view and the event stream."""

    server: Server
    server_version = "ClinicPressPreview"
    sys_version = ""

    # ------------------------------------------------------------ plumbing
    def log_message(self, format: str, *args) -> None:  # noqa: A002 (the base class's name)
        if self.server.preview.verbose:
            super().log_message(format, *args)

    def do_HEAD(self) -> None:  # noqa: N802
        self._head_only = True
        self.do_GET()

    def do_GET(self) -> None:  # noqa: N802
        preview = self.server.preview
        if not self._host_ok():
            return self._send(421, b"wrong host: open the preview at http://127.0.0.1:%d/\n" % self.server.server_port,
                              "text/plain; charset=utf-8")
        parts = urlsplit(self.path)
        path, query = unquote(parts.path), parse_qs(parts.query)
        item_id = (query.get("item") or [None])[0]
        try:
            if path == "/":
                if item_id:
                    preview.want(item_id)
                return self._send(200, preview.render_page("index.html.j2", item_id).encode(), "text/html; charset=utf-8",
                                  csp=True)
            if path == "/fragment":
                if item_id:
                    preview.want(item_id)
                return self._send(200, preview.render_page("fragment.html.j2", item_id).encode(),
                                  "text/html; charset=utf-8", csp=True)
            if path == "/events":
                return self._events()
            if path == "/api/state":
                return self._send(200, json.dumps(preview.state_json(), default=str).encode(), "application/json")
            if path.startswith("/static/"):
                return self._static(path.removeprefix("/static/"))
            if path.startswith("/img/"):
                return self._image(path.removeprefix("/img/"))
            if path.startswith("/download/"):
                return self._download(path.removeprefix("/download/"))
            if path.startswith("/files/"):
                return self._file(path.removeprefix("/files/"), live="live" in query)
            if path == "/favicon.ico":
                return self._static("favicon.svg")
        except (BrokenPipeError, ConnectionResetError):
            return
        return self._not_found()

    def _host_ok(self) -> bool:
        """Refuses requests whose Host is not this loopback server (DNS rebinding)."""
        host = (self.headers.get("Host") or "").lower()
        port = self.server.server_port
        return host in {f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"} or \
            (port == 80 and host in {"127.0.0.1", "localhost"})

    def _send(self, status: int, body: bytes, ctype: str, *, cache: str = "no-store", csp: bool = False,
              extra: dict | None = None) -> None:
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
        if not getattr(self, "_head_only", False):
            self.wfile.write(body)

    def _not_found(self, what: str = "nothing here") -> None:
        body = (f"<!doctype html><meta charset=utf-8><title>Not found</title><p>{html.escape(what)}. "
                f"<a href='/'>Back to the preview</a></p>").encode()
        self._send(404, body, "text/html; charset=utf-8", csp=True)

    # ------------------------------------------------------------ routes
    def _events(self) -> None:
        """Server-Sent Events: the current version at once, then each new one (a comment every 15 s)."""
        preview = self.server.preview
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Accel-Buffering", "no")
        self.end_headers()
        self.close_connection = True
        seen = -1
        try:
            self.wfile.write(b"retry: 1000\n\n")
            while not preview.stopping.is_set():
                version = preview.wait_for_change(seen, timeout=15.0)
                if preview.stopping.is_set():
                    break
                if version != seen:
                    self.wfile.write(f"data: {version}\n\n".encode())
                    seen = version
                else:
                    self.wfile.write(b": still here\n\n")
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, OSError):
            pass

    def _static(self, name: str) -> None:
        if "/" in name or name.startswith("."):
            return self._not_found()
        for folder in _preview_dirs(self.server.preview.root):
            path = folder / name
            if path.suffix in STATIC_TYPES and path.is_file():
                return self._send(200, path.read_bytes(), STATIC_TYPES[path.suffix], cache="no-cache")
        return self._not_found()

    def _image(self, rest: str) -> None:
        # /img/<item>/<rev>/<n>.png
        try:
            item_id, rev, name = rest.split("/")
            index = int(name.removesuffix(".png")) - 1
            with self.server.preview.cond:
                images = self.server.preview.images.get((item_id, int(rev)))
            image = images[index] if images is not None and index >= 0 else None
        except (ValueError, IndexError):
            image = None
        if image is None:
            return self._not_found("this image is from an older render")
        self._send(200, image.png, "image/png", cache="private, max-age=3600, immutable")

    def _download(self, name: str) -> None:
        stem, _, fmt = name.rpartition(".")
        preview = self.server.preview
        with preview.cond:
            view = preview.views.get(stem)
        data = view.files.get(fmt) if view else None
        if data is None:
            return self._not_found("this file has not been rendered yet")
        ctype = {"pdf": "application/pdf",
                 "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation"}[fmt]
        disposition = "inline" if fmt == "pdf" else "attachment"
        self._send(200, data, ctype, extra={"Content-Disposition": f'{disposition}; filename="{stem}.{fmt}"'})

    def _file(self, rel_path: str, *, live: bool) -> None:
        """Project files under /files/: the HTML view (from memory) and the assets it links to."""
        preview = self.server.preview
        parts = Path(rel_path).parts
        html_view = PREVIEW_OUT.parts + (preview.practice,)
        if parts[:len(html_view)] == html_view and len(parts) == len(html_view) + 1 and rel_path.endswith(".html"):
            view = preview.wait_for_view(parts[-1].removesuffix(".html"), timeout=60)
            if view is None or view.html is None:
                return self._not_found("no handout of that name (or it has not rendered yet)")
            body = view.html
            if live:
                body = body.replace(b"</body>", b'<script src="/static/live-html.js"></script></body>', 1)
            return self._send(200, body, "text/html; charset=utf-8", csp=True)
        if not parts or parts[0] not in WATCHED or any(p.startswith(".") for p in parts):
            return self._not_found()
        root = preview.root
        try:
            path = (root / rel_path).resolve(strict=True)
        except (OSError, RuntimeError):
            return self._not_found("file not found")
        if not path.is_relative_to(root) or not path.is_file() or path.parts[len(root.parts)] not in WATCHED:
            return self._not_found()
        ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if ctype.startswith("text/"):
            ctype += "; charset=utf-8"
        self._send(200, path.read_bytes(), ctype, cache="no-cache")


# --------------------------------------------------------------------------- the command
def available_practices(root: Path) -> list[str]:
    folder = root / "practices"
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and (p / "practice.yml").is_file())


def serve(root: Path, *, practice: str | None, port: int, reporter, verbose: bool = False) -> int:
    """Runs the preview until SIGINT or SIGTERM; returns the exit code (0 after a clean stop)."""
    root = root.resolve()
    practices = available_practices(root)
    if not practices:
        raise UsageError(Problem("practices/", message="there is no practice to preview",
                                 hint="create one with: python build.py new-practice SLUG"))
    if practice is None:
        practice = practices[0]
    elif practice not in practices:
        raise UsageError(Problem("--practice", message=f"practice {practice!r} not found",
                                 hint=f"available: {', '.join(practices)}"))
    if not 0 <= port <= 65535:
        raise UsageError(Problem("--port", message=f"{port} is not a port number", hint="use 1024-65535"))

    preview = Preview(root, practice, reporter, verbose=verbose)
    try:
        server = Server((HOST, port), Handler)
    except OSError as exc:
        preview.close()
        raise UsageError(Problem("--port", message=f"cannot listen on {HOST}:{port}: {exc.strerror or exc}",
                                 hint="another program (or preview) uses that port; choose one with --port N")) from None
    server.preview = preview
    url = f"http://{HOST}:{server.server_port}/"

    stop_signal: list[int] = []

    def on_signal(signum, frame):  # only notes the request: the main thread below does the stopping
        stop_signal.append(signum)
        preview.stopping.set()

    old = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    threads = [
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, name="preview-http", daemon=True),
        threading.Thread(target=preview.conduct, name="preview-conductor", daemon=True),
        threading.Thread(target=watch, args=(preview,), name="preview-watch", daemon=True),
    ]
    try:
        for t in threads:
            t.start()
        reporter.info(f"previewing {practice} at {url}")
        reporter.info("watching content/, templates/ and practices/; press Ctrl-C to stop")
        while not preview.stopping.wait(0.25):
            pass
    finally:
        preview.stop()  # ends the renderer process group first: nothing heavy is left to wait for
        server.shutdown()
        server.server_close()
        deadline = time.monotonic() + 2 * STOP_SECONDS
        for t in threads:
            t.join(timeout=max(0.0, deadline - time.monotonic()))
        preview.close()
        for sig, handler in old.items():
            signal.signal(sig, handler)
    if not stop_signal:  # the conductor gave up (it printed why)
        return 3
    left = [t.name for t in threads if t.is_alive()]
    reporter.info(f"preview stopped ({'Ctrl-C' if stop_signal[0] == signal.SIGINT else 'SIGTERM'})"
                  + (f"; not yet finished: {', '.join(left)}" if left else ""))
    return 0
