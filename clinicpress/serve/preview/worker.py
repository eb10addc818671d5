"""The renderer: a child process that loads, renders and checks, one request at a time.

Being a process, it can be stopped at once on Ctrl-C, whatever C library it is in. The parent
side (`Renderer`) starts it, sends it a request from `messages` and waits for the answer.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

from ...errors import Problem, UserError, rel
from ...render.raster import Image, RasterError, pdf_images, pptx_to_pdf
from .messages import Answer, Check, Checked, Failed, Item, Loaded, Reload, Render, Rendered, Request, View

if TYPE_CHECKING:  # pragma: no cover
    from multiprocessing.connection import Connection

    from ...jobs.model import Job
    from ...load.project import Project
    from ...write.cache import FileHashes

PREVIEW_OUT = Path("output") / ".preview"
"""Where the HTML view pretends to live (relative to the project), so its relative asset URLs
(fonts, logos, figures) resolve under /files/. Nothing is ever written there."""
PAGE_SCALE = 2.0
"""Handout pages are rasterised at 144 dpi (shown at 72 dpi × 1.33 CSS px, sharp on HiDPI)."""
SLIDE_WIDTH = 1280
"""Slide images are this many pixels wide."""
PNG_COMPRESSION = 1
"""Pictures are made for one look in the browser: fast to encode beats small."""
SOFFICE_TIMEOUT = 180
"""Seconds LibreOffice may take to draw a deck (longer than a build allows: the machine is busy editing)."""
STOP_SECONDS = 1.0
"""How long the renderer gets to end after SIGTERM before it is killed (it writes nothing)."""


class RendererGone(Exception):
    """The renderer process ended while it had a task (a crash in a C library, or killed)."""


class Renderer:
    """Parent side of the renderer process: start it, give it one request, wait for the answer.

    The process is a plain `python -c` child (no multiprocessing helpers), started in a new
    session: Ctrl-C in the terminal reaches only the preview, which then ends the renderer's
    whole process group, LibreOffice included. Requests and answers are pickled over a socket pair.
    """

    def __init__(self, root: Path, practice: str, tmp: Path, stopping: threading.Event):
        self.args = (str(root), practice, str(tmp))
        self.stopping = stopping
        self.proc: subprocess.Popen | None = None
        self.conn: Connection | None = None

    def start(self) -> None:
        from multiprocessing.connection import Connection

        import clinicpress

        ours, theirs = socket.socketpair()
        package_parent = str(Path(clinicpress.__file__).resolve().parents[1])  # so the child imports this copy
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent, env.get("PYTHONPATH")) if p)
        env["PYTHONSAFEPATH"] = "1"  # a `python -c` process: nothing from the project folder it runs in
        # Temporary files of the libraries (WeasyPrint's font folder) go into the preview's own
        # folder, removed on exit even when the renderer is killed; the checks' lasting data
        # cache stays where a build keeps it.
        env.setdefault("CLINICPRESS_CACHE", str(Path(tempfile.gettempdir()) / "clinicpress-cache"))
        renderer_tmp = Path(self.args[2]) / "tmp"
        renderer_tmp.mkdir(exist_ok=True)
        env["TMPDIR"] = str(renderer_tmp)
        with theirs:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    f"import sys; from {__name__} import renderer_main; renderer_main(sys.argv[1:])",
                    str(theirs.fileno()),
                    *self.args,
                ],
                pass_fds=(theirs.fileno(),),
                start_new_session=True,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                env=env,
                cwd=self.args[0],
            )
        self.conn = Connection(ours.detach())

    def call(self, request: Request) -> Answer | None:
        """Sends a request and returns the answer; None if the preview is stopping meanwhile."""
        if self.proc is None or self.proc.poll() is not None:
            self.stop()  # a renderer that died: reap it and anything of its group still running
            self.start()
        proc, conn = self.proc, self.conn
        assert proc is not None and conn is not None
        try:
            conn.send(request)
            while not self.stopping.is_set():
                if conn.poll(0.05):
                    return conn.recv()
                if proc.poll() is not None:
                    raise RendererGone(f"exit code {proc.returncode}")
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
        for sig in (signal.SIGTERM, KILL):
            try:
                _signal_group(proc, sig)
            except (ProcessLookupError, PermissionError):
                break
            try:
                proc.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                continue
            try:
                _signal_group(proc, KILL)  # a straggler of the group (LibreOffice's soffice.bin)
            except (ProcessLookupError, PermissionError, OSError):
                pass
            break
        if self.conn is not None:
            self.conn.close()
            self.conn = None


KILL = getattr(signal, "SIGKILL", signal.SIGTERM)
"""SIGKILL where there is one (Linux, macOS); Windows has only terminate."""


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    """Signals the renderer's whole process group (POSIX: LibreOffice with it); on Windows, which
    has no process groups by signal, ends the renderer itself (its children end with its pipes)."""
    if hasattr(os, "killpg"):
        os.killpg(proc.pid, sig)
    elif proc.poll() is None:
        proc.kill()


def renderer_main(argv: list[str]) -> None:
    """The renderer process: answers requests until the socket closes. Ctrl-C is the parent's to handle."""
    from multiprocessing.connection import Connection

    fd, root, practice, tmp = argv
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    conn = Connection(int(fd))
    work = _Work(Path(root), practice, Path(tmp))
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return
        try:
            answer = work.answer(request)
        except Exception as exc:  # a bug: the parent reports it and carries on
            answer = Failed([internal_problem(exc, request.task)], traceback.format_exc())
        try:
            conn.send(answer)
        except (OSError, ValueError):
            return


class _Work:
    """What the renderer process keeps between requests: the loaded project and the file-hash cache."""

    def __init__(self, root: Path, practice: str, tmp: Path):
        self.root, self.practice, self.tmp = root, practice, tmp
        self.project: Project | None = None
        self.jobs: dict[str, Job] = {}
        self.hashes: FileHashes | None = None
        self.check_entries: dict[str, dict] = {}
        """The last check results per item, reused for items a save did not touch."""

    def answer(self, request: Request) -> Answer:
        if isinstance(request, Reload):
            return self.load(request.changed)
        if isinstance(request, Render):
            return self.render(request.item)
        if isinstance(request, Check):
            return self.check()
        raise TypeError(f"not a renderer request: {request!r}")

    def load(self, changed: list[str]) -> Loaded | Failed:
        """Loads the project (after dropping caches the changed files make stale)."""
        from ...jobs.model import plan
        from ...jobs.run import reset_render_caches
        from ...load.project import load_project

        reset_render_caches(changed)
        try:
            project = load_project(self.root, practices=[self.practice])
            jobs = {job.stem: job for job in plan(project)}
        except UserError as exc:
            return Failed(list(exc.problems))
        self.project, self.jobs = project, jobs
        items = [
            Item(
                stem,
                job.source.kind,
                getattr(job.source.model, "title", job.source.slug),
                job.source.language,
                rel(job.source.path, self.root),
                job.source.key,
            )
            for stem, job in jobs.items()
        ]
        # By slug, so a translation sits right under its original.
        items.sort(key=lambda i: (i.kind != "handout", i.id.split(".")[0], i.language != "en", i.language))
        return Loaded(items, self._keys(), list(project.warnings), project.practices[self.practice].info.name)

    def _keys(self) -> dict[str, str]:
        """Each job's inputs hash (the build cache's key); {} if the cache module is unavailable."""
        try:
            from ...write.cache import FileHashes, JobKeys

            if self.hashes is None:
                self.hashes = FileHashes()
            assert self.project is not None
            keys = JobKeys(self.project, self.hashes, self.root / PREVIEW_OUT)
            return {stem: keys.key(job) for stem, job in self.jobs.items()}
        except Exception:  # without keys every open item is rebuilt after a change: slower, still right
            return {}

    def render(self, item_id: str) -> Rendered | Failed:
        """Renders one item in memory, with pictures of its pages or slides."""
        from ...jobs.budget import Budget
        from ...jobs.run import run_job
        from ...load.config import load_config

        job = self.jobs.get(item_id)
        if job is None or self.project is None:
            return Failed([Problem("(preview)", message=f"no item {item_id!r}")])
        started = time.perf_counter()
        try:
            budget = Budget.of(load_config(self.root))
            result = run_job(self.project, job, self.root / PREVIEW_OUT, budget, stop_process=True)
        except UserError as exc:
            return Failed(list(exc.problems))
        except Exception as exc:
            return Failed(
                [internal_problem(exc, f"rendering {job.source.path.name}", rel(job.source.path, self.root))],
                traceback.format_exc(),
            )
        images: tuple[Image, ...] = ()
        note = None
        if "pdf" in result.files:
            images = tuple(pdf_images(result.files["pdf"], scale=PAGE_SCALE, compress_level=PNG_COMPRESSION))
        elif "pptx" in result.files:
            images, note = self._slides(result.files["pptx"])
        files = {fmt: data for fmt, data in result.files.items() if fmt in ("pdf", "pptx")}
        return Rendered(
            View(
                0,
                images,
                note,
                result.files.get("html"),
                files,
                tuple(result.findings),
                time.time(),
                time.perf_counter() - started,
            )
        )

    def _slides(self, pptx: bytes) -> tuple[tuple[Image, ...], str | None]:
        """Draws the slides via LibreOffice (in this preview's private folder), or says why not."""
        try:
            pdf = pptx_to_pdf(pptx, self.tmp / "slides", profile=self.tmp / "lo-profile", timeout=SOFFICE_TIMEOUT)
        except RasterError as exc:
            return (), str(exc)
        return tuple(pdf_images(pdf, width=SLIDE_WIDTH, compress_level=PNG_COMPRESSION)), None

    def check(self) -> Checked | Failed:
        """Runs the checks over the project; items nothing changed for keep their last results."""
        from ...checks import check_project

        if self.project is None:
            return Checked({})
        from ...load.config import load_config

        try:
            config = load_config(self.root)
            results = check_project(self.project, config, keys=self._check_keys(config), cached=self.check_entries)
        except UserError as exc:
            return Failed(list(exc.problems))
        self.check_entries = results.entries
        return Checked(dict(results))

    def _check_keys(self, config) -> dict[str, str] | None:
        """What each item's checks read, hashed (as the build does); None: check everything."""
        try:
            from ...write.cache import FileHashes, JobKeys

            if self.hashes is None:
                self.hashes = FileHashes()
            assert self.project is not None
            return JobKeys(self.project, self.hashes, self.root / PREVIEW_OUT).check_keys(config)
        except Exception:  # without keys every item is checked again: slower, still right
            return None


def internal_problem(exc: BaseException, doing: str, path: str = "(preview)") -> Problem:
    """Describes a bug of the preview or the renderers as a problem the page and terminal show."""
    return Problem(
        path,
        message=f"internal error while {doing}: {type(exc).__name__}: {exc}",
        hint="this is a bug in ClinicPress; run the preview with --verbose and report the traceback",
    )
