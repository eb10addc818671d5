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

import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import BuildError, Problem
from .budget import Budget
from .model import Result, Task, job_from_ident
from .run import execute, warm_up

if TYPE_CHECKING:  # pragma: no cover
    import threading
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


def _init_worker(
    project_blob: bytes, kinds: tuple[str, ...], slide_images: bool, build_pid: int, budget: Budget
) -> None:
    """Runs once in each new worker: ignore Ctrl-C (the main process handles it), load, warm up."""
    import pickle
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _watch_build(build_pid)
    project = pickle.loads(project_blob)
    _WORKER.update(project=project, slide_images=slide_images, budget=budget)
    warm_up(project, kinds)


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
    import threading

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


def _work(ident: tuple, out_root: str, thumbnail_of: str | None) -> Result:
    project = _WORKER["project"]
    task = Task(job_from_ident(project, ident), thumbnail_of)
    return execute(project, task, Path(out_root), slide_images=_WORKER["slide_images"], budget=_WORKER["budget"])


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
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(list(PRELOAD))
        return ctx
    return mp.get_context("spawn")


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
        import threading

        blob = portable(self.project)
        self._starter = threading.Thread(target=self._start, args=(blob,), name="clinicpress-pool-start", daemon=True)
        self._starter.start()
        return self

    def _start(self, blob: bytes) -> None:
        from concurrent.futures import ProcessPoolExecutor

        try:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    max_workers=self.workers,
                    mp_context=_context(),
                    initializer=_init_worker,
                    initargs=(blob, self.kinds, self.slide_images, os.getpid(), self.budget),
                )
            tasks = self._tasks
            # Decks take longest: start them first so no worker is left with one at the end.
            for i in sorted(range(len(tasks)), key=lambda i: (tasks[i].job.source.kind != "deck", i)):
                task = tasks[i]
                future = self._pool.submit(_work, task.job.ident, str(self.out_root), task.thumbnail_of)
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
                    task, execute(self.project, task, self.out_root, slide_images=self.slide_images, budget=self.budget)
                )
            return 0

        from concurrent.futures import FIRST_COMPLETED, wait
        from concurrent.futures.process import BrokenProcessPool

        self._started_pool()
        pending = dict(self._futures)
        for future, (_, task) in list(pending.items()):
            if task.job.key in skip:
                future.cancel()
                del pending[future]
        try:
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in sorted(done, key=lambda f: pending[f][0]):
                    _, task = pending.pop(future)
                    try:
                        result = future.result()
                    except BrokenProcessPool:
                        left = [task.job.key] + [t.job.key for _, t in pending.values()]
                        raise BuildError(
                            Problem(
                                "build.py",
                                message="a worker process stopped unexpectedly (killed, or out of memory?); "
                                f"{len(left)} document(s) not rendered: {', '.join(sorted(left)[:5])}"
                                + (" …" if len(left) > 5 else ""),
                                hint="outputs already written are complete; build again, with fewer workers (-j 1) "
                                "if memory is short",
                            )
                        ) from None
                    on_result(task, result)
        except BaseException:
            self.close(abort=True)
            raise
        return self.workers

    def run(self, tasks: list[Task], on_result: Callable[[Task, Result], None]) -> int:
        """submit() then collect(): renders every task."""
        return self.submit(tasks).collect(on_result)

    def _cancel_all(self) -> None:
        for future in self._futures:
            future.cancel()

    def close(self, *, abort: bool = False) -> None:
        """Stops the workers; with `abort` (an error or Ctrl-C) ends them at once."""
        starter = self._starter
        if starter is not None:
            starter.join()
            self._starter = None
        if self._pool is not None:
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
