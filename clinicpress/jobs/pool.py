"""The warm worker pool: render jobs in processes started once per build.

Workers are started once per build and kept warm (WeasyPrint imported, one
FontConfiguration, compiled templates, parsed stylesheets) for the whole build. They are not
recycled: a worker's memory stays flat (121 MiB after 32 jobs and after 65), and Python
3.11's ProcessPoolExecutor deadlocks once a worker retires under `max_tasks_per_child`
(CPython gh-115634): a build of more than 50 jobs a worker never ended.
Workers only return bytes; the main process writes every file (clinicpress.write), so a
killed worker leaves nothing behind and an interrupted build never loses an output. With one
worker everything runs in this process, through the same `execute`, so serial and parallel
builds give the same bytes.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import BuildError, Problem
from .budget import Budget, hard_seconds
from .model import Result, Task, job_from_ident
from .run import execute, warm_up

if TYPE_CHECKING:  # pragma: no cover
    from concurrent.futures import ProcessPoolExecutor

    from ..load.project import Project

PRELOAD = (
    "clinicpress.jobs.run",
    "clinicpress.render.raster",
    "weasyprint",
    "pypdfium2",
    "pptx",
    "clinicpress.render.handout",
    "clinicpress.render.deck",
)
"""Modules the fork server imports once, so each new worker starts warm."""

_WORKER: dict = {}
_KEPT: list[tuple] = []
"""The pool kept warm for the next build of this process (`build --watch`), at most one:
(what its workers were started with: (slide images, budget), its size, the pool, the
watchdog's queue)."""
_KEEP = {"on": False, "templates": 0}
"""`keep_warm()` turns keeping on; "templates" counts the changes to templates, catalogues and
fonts, after which a kept worker drops what it compiled (clinicpress.jobs.run.reset_render_caches)."""
WATCH_SECONDS = 0.5
"""How often the build looks at its workers while waiting for results."""
MAX_RESTARTS = 3
"""Fresh pools started after workers died of unknown causes before the build gives up."""


def _init_worker(
    project_blob: bytes,
    generation: tuple[str, int],
    kinds: tuple[str, ...],
    slide_images: bool,
    build_pid: int,
    budget: Budget,
    started,
) -> None:
    """Runs once in each new worker: ignore Ctrl-C (the main process handles it), load, warm up."""
    import pickle
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _watch_build(build_pid)
    project = pickle.loads(project_blob)
    _WORKER.update(project=project, generation=generation, slide_images=slide_images, budget=budget, started=started)
    warm_up(project, kinds)


def keep_warm() -> None:
    """Keeps each build's worker pool for the next build of this process (`build --watch`)."""
    _KEEP["on"] = True


def templates_changed() -> None:
    """Says that templates, catalogues or fonts changed: kept workers drop what they compiled."""
    _KEEP["templates"] += 1


def keeping() -> bool:
    """True when pools are kept between builds (`keep_warm`)."""
    return bool(_KEEP["on"])


def close_kept() -> None:
    """Stops the pool kept for the next build."""
    while _KEPT:
        _shutdown(_KEPT.pop()[2], abort=False)


def _take_kept(key: tuple, workers: int):
    """The kept pool, if its workers were started alike, it has `workers` of them at least and
    none has died since (otherwise it is stopped): (pool, queue) or None."""
    if not _KEPT:
        return None
    kept_key, size, pool, queue = _KEPT.pop()
    processes = list((getattr(pool, "_processes", None) or {}).values())
    alive = not getattr(pool, "_broken", False) and all(p.exitcode is None for p in processes)
    if alive and kept_key == key and size >= workers:
        return pool, queue
    _shutdown(pool, abort=True)
    return None


def _refresh(generation: tuple[str, int], blob: bytes | None) -> None:
    """In a kept worker: takes the build's project (when it is not the one this worker has) and
    drops compiled templates and fonts after they changed on disk."""
    import pickle

    from .run import reset_render_caches

    token, templates = generation
    have_token, have_templates = _WORKER["generation"]
    if templates != have_templates:
        reset_render_caches()
    if token != have_token:
        if blob is None:  # pragma: no cover  (the build sends its project to every kept pool)
            raise RuntimeError("this worker holds another project and none was sent")
        _WORKER["project"] = pickle.loads(blob)
    _WORKER["generation"] = generation


def _started(pid: int) -> str | None:
    """The start time of a process (Linux), so a reused process id is not taken for the build.

    Returns "" for a zombie (killed, not yet reaped) and None where /proc is unavailable.
    """
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            fields = fh.read().rsplit(b")", 1)[1].split()
    except OSError:
        return None
    if fields[0] in (b"Z", b"X"):
        return ""
    return fields[19].decode() if len(fields) > 19 else None


def _watch_build(build_pid: int) -> None:
    """Ends this worker when the build process is gone (killed builds must not leave workers behind).

    A worker's parent is the fork server, which lives as long as any worker does, so the
    worker watches the build process itself.
    """
    if os.name != "posix":  # os.kill(pid, 0) is not a liveness test on Windows; spawn workers die with their pipes
        return
    token = _started(build_pid)

    def alive() -> bool:
        try:
            os.kill(build_pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass
        return token is None or _started(build_pid) == token

    def watch() -> None:
        while alive():
            time.sleep(0.5)
        os._exit(70)

    threading.Thread(target=watch, name="clinicpress-build-watch", daemon=True).start()


def _work(
    ident: tuple, out_root: str, thumbnail_of: str | None, generation: tuple[str, int], blob: bytes | None = None
) -> Result:
    if generation != _WORKER["generation"]:
        _refresh(generation, blob)
    project = _WORKER["project"]
    task = Task(job_from_ident(project, ident), thumbnail_of)

    def rendering(key: str | None) -> None:  # what the build's watchdog times: the rendering, not LibreOffice
        _WORKER["started"].put((os.getpid(), key, time.monotonic()))

    return execute(
        project, task, Path(out_root), slide_images=_WORKER["slide_images"], budget=_WORKER["budget"], watch=rendering
    )


def portable(project: "Project") -> bytes:
    """Pickles the project for the workers, leaving out caches that cannot travel (citeproc's style)."""
    import copy
    import pickle

    bib = copy.copy(project.bibliography)
    kept = {}
    for name, value in vars(project.bibliography).items():
        try:
            pickle.dumps(value)
        except Exception:
            continue
        kept[name] = value
    bib.__dict__ = kept
    clone = copy.copy(project)
    clone.bibliography = bib
    try:
        return pickle.dumps(clone, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:
        raise BuildError(
            Problem(
                "build.py",
                message=f"cannot hand the project to worker processes: {exc}",
                hint="build with -j 1 and report this as a bug",
            )
        ) from None


def _context():
    """A fork server whose workers start with WeasyPrint already imported (spawn where unavailable)."""
    import multiprocessing as mp

    if "forkserver" in mp.get_all_start_methods():
        _short_socket_dir()
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(list(PRELOAD))
        _start_fork_server()
        return ctx
    return mp.get_context("spawn")


def _start_fork_server() -> None:
    """Starts the fork server importing this copy of ClinicPress, and nothing from the current
    folder.

    Python 3.11's fork server is handed the parent's `sys.path` but does not use it
    (`multiprocessing.forkserver.main`): it is a `python -c` process, so it would look in the
    current folder first (a `pptx.py` or `clinicpress/` there would be imported and run by
    every worker) and then in site-packages (an installed ClinicPress other than the one
    building). It gets this package's folder on PYTHONPATH (as the preview's renderer does) and
    PYTHONSAFEPATH (no current folder) instead.

    A server that dies (killed, out of memory) is started again by multiprocessing itself when
    the next worker starts (`connect_to_new_process` calls its `ensure_running`), in this
    build or a later one of this process (`build --watch`, the preview, a script). So that
    restart gets the same environment, the server's `ensure_running` is wrapped, once: under a
    lock (threads starting pools at once), it sets the environment only when a server must be
    started, and puts it back after.
    """
    import multiprocessing.forkserver

    server = multiprocessing.forkserver._forkserver
    if not getattr(server.ensure_running, "_safe_environment", False):
        start = server.ensure_running

        def ensure_running() -> None:
            with _SERVER_START:
                if _fork_server_alive(server):
                    return
                with _server_environment():
                    start()

        ensure_running._safe_environment = True  # type: ignore[attr-defined]
        server.ensure_running = ensure_running  # type: ignore[method-assign]
    server.ensure_running()


_SERVER_START = threading.Lock()


@contextlib.contextmanager
def _server_environment() -> Iterator[None]:
    """PYTHONPATH (this package's folder first, unless it is installed) and PYTHONSAFEPATH set
    while a fork server starts; the caller's values back afterwards."""
    import site

    package_parent = str(Path(__file__).resolve().parents[2])
    installed = {str(Path(p).resolve()) for p in site.getsitepackages() + [site.getusersitepackages()]}
    if package_parent in installed:  # an installed copy: found there anyway, and on PYTHONPATH
        package_parent = ""  # site-packages would come before the standard library
    saved = {name: os.environ.get(name) for name in ("PYTHONPATH", "PYTHONSAFEPATH")}
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent, saved["PYTHONPATH"]) if p)
    os.environ["PYTHONSAFEPATH"] = "1"
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _fork_server_alive(server) -> bool:
    """Whether multiprocessing's fork server runs, looked at without reaping it (`ensure_running`
    reaps a dead one itself); False where unknown (no waitid: macOS, where the environment is
    then set around every look `ensure_running` takes)."""
    pid = getattr(server, "_forkserver_pid", None)
    waitid = getattr(os, "waitid", None)
    if pid is None or waitid is None:
        return False
    try:
        return waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None
    except ChildProcessError:
        return False


SOCKET_PATH_MAX = 107
"""The longest path of a Unix socket on Linux (108 bytes with the closing NUL; macOS: 104)."""


def _short_socket_dir() -> None:
    """Keeps the fork server's socket path short enough when TMPDIR is long.

    The fork server listens on `$TMPDIR/pymp-XXXXXXXX/listener-XXXXXXXX`; with a long TMPDIR
    (over about 75 characters) Python 3.11 fails with "AF_UNIX path too long" and the build
    would stop. Python 3.14 falls back to /tmp in that case (CPython gh-132124); this does the
    same for older versions: only multiprocessing's own folder (sockets, no content) moves;
    WeasyPrint's temporary files stay in TMPDIR.
    """
    import multiprocessing.util
    import tempfile

    if len(tempfile.gettempdir()) + len("/pymp-XXXXXXXX/listener-XXXXXXXX") < SOCKET_PATH_MAX - 3:
        return
    for short in ("/tmp", "/var/tmp", "/dev/shm"):
        if os.path.isdir(short) and os.access(short, os.W_OK | os.X_OK):
            saved, tempfile.tempdir = tempfile.tempdir, short
            try:
                multiprocessing.util.get_temp_dir()  # made once a process, removed when it ends
            finally:
                tempfile.tempdir = saved
            return


def prestart() -> None:
    """Starts the fork server now, so it imports WeasyPrint (about half a second) on the other
    core while this process loads and plans; the pool's workers then fork from a warm server.
    Only a start: where nothing turns out to need rendering, the idle server ends with the build."""
    _context()  # the fork server starts here, where there is one


class Renderer:
    """Renders tasks serially in this process (one worker) or in a warm process pool.

    `submit()` hands the tasks to the workers at once, so they import, warm up and render
    while the main process is still busy (running the quality checks); `collect()` then
    receives the results, skipping jobs that turned out to be blocked (their futures are
    cancelled if they have not started; a result that arrives anyway is dropped unwritten).
    """

    def __init__(
        self,
        project: "Project",
        out_root: Path,
        *,
        workers: int,
        kinds: Iterable[str] = ("handout", "deck"),
        slide_images: bool = True,
        budget: Budget | None = None,
    ):
        self.project = project
        self.budget = budget or Budget.of()
        """The time and memory each document may use while it renders (clinicpress.jobs.budget)."""
        self.out_root = out_root
        self.workers = max(1, workers)
        self.kinds = tuple(sorted(set(kinds)))
        self.slide_images = slide_images
        self._pool: ProcessPoolExecutor | None = None
        self._starter: threading.Thread | None = None
        self._start_error: BaseException | None = None
        self._tasks: list[Task] = []
        self._futures: dict = {}
        self._blob = b""
        self._generation: tuple[str, int] = ("", 0)
        """The project's digest and the templates' change count, which kept workers compare with theirs."""
        self._started_q = None
        """Where workers say which job they start (pid, job key, time.monotonic()): the watchdog's view."""
        self._restarts = 0
        self._running: dict[int, tuple[str, float]] = {}
        """Worker pid -> (job key, when it started), from the workers' own reports."""
        self._stopped: dict[str, str] = {}
        """Job key -> why the watchdog stopped its worker."""
        self._known_processes: dict = {}

    @property
    def parallel(self) -> bool:
        return self.workers > 1

    def submit(self, tasks: list[Task]) -> "Renderer":
        """Queues the tasks; with several workers they start rendering now (slow kinds first).

        Starting the pool waits for the fork server to import WeasyPrint (about half a
        second); that wait happens in a background thread, so this returns at once.
        """
        self._tasks = list(tasks)
        if not self.parallel or not tasks:
            return self
        import hashlib

        self._blob = portable(self.project)
        self._generation = (hashlib.sha256(self._blob).hexdigest()[:16], _KEEP["templates"])
        self._starter = threading.Thread(target=self._start, name="clinicpress-pool-start", daemon=True)
        self._starter.start()
        return self

    def _start(self) -> None:
        from concurrent.futures import ProcessPoolExecutor
        from concurrent.futures.process import BrokenProcessPool

        try:
            blob = None  # new workers get the project when they start
            kept = _take_kept(self._kept_key(), self.workers) if self._pool is None else None
            if kept is not None:
                self._pool, self._started_q = kept
                blob = self._blob  # kept ones, with their jobs (a worker loads it once)
            if self._pool is None:
                context = _context()
                self._started_q = context.SimpleQueue()  # written at once: a killed worker's note is not lost
                self._pool = ProcessPoolExecutor(
                    max_workers=self.workers,
                    mp_context=context,
                    initializer=_init_worker,
                    initargs=(
                        self._blob,
                        self._generation,
                        self.kinds,
                        self.slide_images,
                        os.getpid(),
                        self.budget,
                        self._started_q,
                    ),
                )
            tasks = self._tasks
            # Decks take longest: start them first so no worker is left with one at the end.
            for i in sorted(range(len(tasks)), key=lambda i: (tasks[i].job.source.kind != "deck", i)):
                task = tasks[i]
                try:
                    future = self._pool.submit(
                        _work, task.job.ident, str(self.out_root), task.thumbnail_of, self._generation, blob
                    )
                except BrokenProcessPool:  # a kept worker died just now: a fresh pool takes every job
                    if blob is None:
                        raise
                    _shutdown(self._pool, abort=True)
                    self._pool, self._futures = None, {}
                    return self._start()
                self._futures[future] = (i, task)
        except BaseException as exc:  # raised again by collect(), in the main thread
            self._start_error = exc

    def _started_pool(self) -> None:
        starter = self._starter
        if starter is not None:
            starter.join()
            self._starter = None
        error = self._start_error
        if error is not None:
            self._start_error = None
            raise error

    def collect(self, on_result: Callable[[Task, Result], None], *, skip: Iterable[str] = ()) -> int:
        """Calls `on_result` in this process for each finished task not in `skip` (job keys).

        Returns the number of worker processes used (0: rendered in this process).
        """
        skip = set(skip)
        wanted = [t for t in self._tasks if t.job.key not in skip]
        if not wanted:
            self._started_pool()
            self._cancel_all()
            return 0
        if not self.parallel:
            warm_up(self.project, {t.job.source.kind for t in wanted})
            for task in wanted:
                on_result(
                    task,
                    execute(
                        self.project,
                        task,
                        self.out_root,
                        slide_images=self.slide_images,
                        budget=self.budget,
                        stop_process=True,
                    ),
                )
            return 0

        self._started_pool()
        pending = dict(self._futures)
        for future, (_, task) in list(pending.items()):
            if task.job.key in skip:
                future.cancel()
                del pending[future]
        try:
            while pending:
                pending = self._collect_some(pending, on_result)
        except BaseException:
            self.close(abort=True)
            raise
        return self.workers

    def _collect_some(self, pending: dict, on_result: Callable[[Task, Result], None]) -> dict:
        """Waits a moment for results and hands them over; stops a worker whose document is far
        over its time budget (stuck where the budget's timer cannot reach, such as a C library),
        and after a worker died reports its document and renders the rest on fresh workers.
        Returns the futures still pending."""
        from concurrent.futures import FIRST_COMPLETED, wait
        from concurrent.futures.process import BrokenProcessPool

        done, _ = wait(pending, timeout=WATCH_SECONDS, return_when=FIRST_COMPLETED)
        self._watch()
        broken = False
        for future in sorted(done, key=lambda f: pending[f][0]):
            try:
                result = future.result()
            except BrokenProcessPool:
                broken = True
                continue
            _, task = pending.pop(future)
            self._running = {pid: run for pid, run in self._running.items() if run[0] != task.job.key}
            on_result(task, result)
        if not broken:
            return pending
        wait(pending)  # a broken pool fails every future at once
        return self._restart(pending, on_result)

    def _watch(self) -> None:
        """Reads which worker started which job; kills a worker past the hard time limit."""
        import signal

        self._known_processes.update(getattr(self._pool, "_processes", None) or {})
        try:
            while self._started_q is not None and not self._started_q.empty():
                pid, key, started = self._started_q.get()
                if key is None:  # the worker finished rendering (a thumbnail may follow)
                    self._running.pop(pid, None)
                else:
                    self._running[pid] = (key, started)
        except (OSError, EOFError, ValueError):
            pass
        limit = hard_seconds(self.budget)
        now = time.monotonic()
        for pid, (key, started) in list(self._running.items()):
            if now - started > limit and key not in self._stopped:
                self._stopped[key] = (
                    f"took longer than {limit:g} s and did not stop at its budget of {self.budget.seconds:g} s; "
                    "its worker process was killed"
                )
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass

    def _restart(self, pending: dict, on_result: Callable[[Task, Result], None]) -> dict:
        """After a worker died: its job (or the one the watchdog stopped) fails, the rest start again."""
        from .run import budget_problem

        self._watch()
        died = {pid for pid, code in self._exit_codes().items() if code not in (None, -15)}
        culprits = {key: why for key, why in self._stopped.items()}
        for pid, (key, _) in self._running.items():
            if pid in died and key not in culprits:
                culprits[key] = "failed: the worker process stopped unexpectedly (killed, or out of memory?)"
        tasks = []
        for future, (_, task) in sorted(pending.items(), key=lambda item: item[1][0]):
            if future.exception() is None:  # finished just before the pool broke
                on_result(task, future.result())
            else:
                tasks.append(task)
        self._restarts += 1
        if not any(t.job.key in culprits for t in tasks) and self._restarts > MAX_RESTARTS:
            left = [t.job.key for t in tasks]
            raise BuildError(
                Problem(
                    "build.py",
                    message="a worker process stopped unexpectedly (killed, or out of memory?); "
                    f"{len(left)} document(s) not rendered: {', '.join(sorted(left)[:5])}"
                    + (" …" if len(left) > 5 else ""),
                    hint="outputs already written are complete; build again, with fewer workers (-j 1) "
                    "if memory is short",
                )
            )
        _shutdown(self._pool, abort=True)
        self._pool, self._running, self._stopped = None, {}, {}
        for task in tasks:
            if task.job.key in culprits:
                problem = budget_problem(self.project, task.job, culprits[task.job.key], self.budget)
                on_result(task, Result(task.job.key, problems=[problem]))
        self._tasks = [t for t in tasks if t.job.key not in culprits]
        self._futures = {}
        self._start()
        self._started_pool()
        return dict(self._futures)

    def _exit_codes(self) -> dict[int, int | None]:
        processes = getattr(self._pool, "_processes", None) or {}
        self._known_processes.update(processes)
        return {pid: p.exitcode for pid, p in self._known_processes.items()}

    def run(self, tasks: list[Task], on_result: Callable[[Task, Result], None]) -> int:
        """submit() then collect(): renders every task."""
        return self.submit(tasks).collect(on_result)

    def _cancel_all(self) -> None:
        for future in self._futures:
            future.cancel()

    def _kept_key(self) -> tuple:
        return (self.slide_images, self.budget)

    def close(self, *, abort: bool = False) -> None:
        """Stops the workers (or keeps them for the next build, see `keep_warm`); with `abort`
        (an error or Ctrl-C) ends them at once."""
        starter = self._starter
        if starter is not None:
            starter.join()
            self._starter = None
        if self._pool is not None:
            if _KEEP["on"] and not abort and not getattr(self._pool, "_broken", False):
                close_kept()
                _KEPT.append((self._kept_key(), self.workers, self._pool, self._started_q))
            else:
                _shutdown(self._pool, abort=abort)
            self._pool = None

    def __enter__(self) -> "Renderer":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close(abort=exc_type is not None)


def _shutdown(pool, *, abort: bool) -> None:
    """Stops the pool; on an error or Ctrl-C, ends the workers at once rather than waiting."""
    if not abort:
        pool.shutdown(wait=True)
        return
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for p in processes:
        try:
            p.terminate()
        except Exception:
            pass
    for p in processes:
        try:
            p.join(timeout=5)
        except Exception:
            pass
