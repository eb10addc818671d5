"""Renders the same jobs on a Dask distributed cluster (`--scheduler`, or `executor = "dask"`).

What travels: the project, pickled once (the same `portable()` copy the local pool's workers
get) and scattered to every worker; then one small job ident per document; back come the
`Result`s (bytes and findings). Workers never write: this process writes every file through
the same atomic writer, manifest and cache as a local build, so a cluster build gives the same
bytes and is as safe as a local one.

What workers must see: the project folder at the same absolute path (a shared folder):
templates, images, fonts and the bibliography are read from it while rendering. Before its
first job a worker hashes that folder (the project fingerprint: every input file and the
ClinicPress code) and refuses to render when it differs from what this process computed, so a
stale or missing copy is an error naming the worker, never a different output.

Worker loss: the scheduler re-runs the job of a worker that died on another worker; a job
whose worker dies twice (`ALLOWED_FAILURES`, set on the `local-cluster` scheduler; a remote
scheduler uses its own `distributed.scheduler.allowed-failures`), or that raises twice
(`retries=1`), is reported as a build error naming the document. On a worker the time budget's
timer cannot run (tasks run outside the main thread), so a document stuck past the hard limit
ends its worker process (jobs/budget.py), which counts as a death. `distributed` is imported
only here, and only when a build asks for a cluster.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import BuildError, Problem, UsageError, rel
from .budget import Budget, hard_seconds
from .model import Result, Task, job_from_ident

if TYPE_CHECKING:  # pragma: no cover
    from ..load.project import Project

LOCAL_CLUSTER = "local-cluster"
"""The `--scheduler` value that starts a LocalCluster on this machine."""
PIP = "pip install 'clinicpress[dask]'"
CONNECT_SECONDS = 5
"""How long connecting to a scheduler may take before the build stops with an error."""
NO_WORKER_SECONDS = 60.0
"""How long the build waits for a scheduler without workers before it gives up."""
ALLOWED_FAILURES = 1
"""Worker deaths a job survives on a local cluster (re-run once; the second death is an error)."""
RETRIES = 1
"""Re-runs of a job that raised (a shared folder briefly unreadable); the second failure is an error."""
POLL_SECONDS = 0.05
"""How often the build looks at the jobs' states while waiting."""
TEST_KILL = "CLINICPRESS_TEST_KILL_WORKER"
"""Tests only: `KEY` makes the worker rendering job KEY kill itself (SIGKILL) every time;
`KEY@PATH` only while PATH does not exist (it is created first, so the job's re-run succeeds)."""

_WORKER: dict = {}


class _Lost(Exception):
    """A job's future was cancelled or its result lost (its worker died after it finished)."""


class DifferentInputs(Exception):
    """A worker sees other project files (or another ClinicPress) than the build's machine."""


def _distributed():
    try:
        import distributed
    except ImportError:
        raise UsageError(
            Problem(
                "build.py",
                field="--scheduler",
                message="building on a Dask cluster needs the `distributed` package, which is not installed",
                hint=f"install it with `{PIP}`, or build with the local process pool (leave out --scheduler)",
            )
        ) from None
    return distributed


def _test_hook(key: str) -> None:
    wanted = os.environ.get(TEST_KILL)
    if not wanted:
        return
    target, _, marker = wanted.partition("@")
    if target != key:
        return
    if marker:
        if os.path.exists(marker):
            return
        Path(marker).touch()
    import signal

    os.kill(os.getpid(), signal.SIGKILL)


def _project(token: str, blob: bytes, fingerprint: str, fingerprint_of: Callable[[Path], str]) -> "Project":
    """The project on this worker, unpickled and checked against the files once per build."""
    if _WORKER.get("token") == token:
        return _WORKER["project"]
    import pickle
    import socket

    from .run import reset_caches

    project = pickle.loads(blob)
    seen = fingerprint_of(project.root)
    if seen != fingerprint:
        raise DifferentInputs(
            f"the worker on {socket.gethostname()} sees different files under {project.root} "
            "(or runs another ClinicPress version) than the machine that started the build"
        )
    reset_caches()  # compiled templates of an earlier build on this long-lived worker
    _WORKER.clear()
    _WORKER.update(token=token, project=project)
    return project


def _work(
    token: str,
    blob: bytes,
    fingerprint: str,
    fingerprint_of: Callable[[Path], str],
    ident: tuple,
    out_root: str,
    thumbnail_of: str | None,
    slide_images: bool,
    budget: Budget,
) -> Result:
    """One job on a cluster worker: the same `execute` as the local pool, nothing written."""
    from distributed import get_worker

    from .run import execute

    project = _project(token, blob, fingerprint, fingerprint_of)
    task = Task(job_from_ident(project, ident), thumbnail_of)
    _test_hook(task.job.key)
    result = execute(project, task, Path(out_root), slide_images=slide_images, budget=budget, stop_process=True)
    result.place = get_worker().address
    return result


class ClusterRenderer:
    """The `Renderer` interface (submit, collect, close) over a Dask cluster."""

    def __init__(
        self,
        project: "Project",
        out_root: Path,
        *,
        scheduler: str,
        fingerprint: str,
        fingerprint_of: Callable[[Path], str],
        workers: int,
        slide_images: bool = True,
        budget: Budget | None = None,
    ):
        self.project = project
        self.out_root = out_root
        self.scheduler = scheduler
        self.fingerprint = fingerprint
        self.fingerprint_of = fingerprint_of
        """How a worker fingerprints the project folder it sees (picklable: a module-level function)."""
        self.workers = max(1, workers)
        """Workers of a local cluster (-j); a remote cluster has the workers it has."""
        self.slide_images = slide_images
        self.budget = budget or Budget.of()
        self._client: Any = None
        self._cluster: Any = None
        self._tasks: list[Task] = []
        self._futures: dict = {}
        self._blob = b""
        self._token = ""
        self._shared: Any = None
        """The project on the workers (a scattered future)."""
        self._lost: dict[str, int] = {}
        """Job key -> times its result was lost with the worker holding it (it is sent again once)."""
        self.activity: dict[str, list[float]] = {}
        """Worker address -> seconds of each job it rendered (the build prints it)."""

    parallel = True

    def _connect(self) -> None:
        distributed = _distributed()
        import dask

        if self.scheduler == LOCAL_CLUSTER:
            import logging

            with dask.config.set({"distributed.scheduler.allowed-failures": ALLOWED_FAILURES}):
                self._cluster = distributed.LocalCluster(
                    n_workers=self.workers,
                    threads_per_worker=1,  # one document at a time per process, as in the local pool
                    processes=True,
                    memory_limit=0,  # the render budget bounds memory per document
                    dashboard_address=None,
                    silence_logs=logging.CRITICAL,
                )
            address = self._cluster.scheduler_address
        else:
            address = self.scheduler
        try:
            with dask.config.set({"distributed.comm.timeouts.connect": f"{CONNECT_SECONDS}s"}):
                self._client = distributed.Client(address, timeout=CONNECT_SECONDS, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise BuildError(
                Problem(
                    "build.py",
                    field="--scheduler",
                    message=f"cannot reach the Dask scheduler at {address} within {CONNECT_SECONDS} s ({exc})",
                    hint="start the scheduler and its workers (`dask scheduler`, `dask worker ADDRESS`) or check "
                    "the address; `--scheduler local-cluster` tries it on this machine",
                )
            ) from None

    def submit(self, tasks: list[Task]) -> "ClusterRenderer":
        """Connects and hands every task to the scheduler (decks first: they take longest)."""
        import hashlib

        from .pool import portable

        self._tasks = list(tasks)
        if not tasks:
            return self
        self._connect()
        self._blob = portable(self.project)
        self._token = hashlib.sha256(self._blob).hexdigest()[:16] + self.fingerprint[:16]
        for i in sorted(range(len(tasks)), key=lambda i: (tasks[i].job.source.kind != "deck", i)):
            self._submit_one(i, tasks[i])
        return self

    def _submit_one(self, i: int, task: Task, attempt: int = 0):
        """Sends one job; the project goes to every worker first (again, if the workers holding it died)."""
        client = self._client
        if self._shared is None or self._shared.status != "finished":
            self._shared = client.scatter(self._blob, broadcast=True, hash=False, timeout=CONNECT_SECONDS * 6)
        future = client.submit(
            _work,
            self._token,
            self._shared,
            self.fingerprint,
            self.fingerprint_of,
            task.job.ident,
            str(self.out_root),
            task.thumbnail_of,
            self.slide_images,
            self.budget,
            key=f"clinicpress-{task.job.key}-{self._token}-{attempt}",
            pure=False,
            retries=RETRIES,
        )
        self._futures[future] = (i, task)
        return future

    def collect(self, on_result: Callable[[Task, Result], None], *, skip: Iterable[str] = ()) -> int:
        """Calls `on_result` here for each finished task not in `skip`; returns the workers used."""
        skip = set(skip)
        pending = {}
        for future, (i, task) in self._futures.items():
            if task.job.key in skip:
                future.cancel()
            else:
                pending[future] = (i, task)
        if not pending:
            return 0
        try:
            self._wait_all(pending, on_result)
        except BaseException:  # Ctrl-C, a worker seeing other files, a lost scheduler: stop the rest
            self.close(abort=True)
            raise
        return len(self.activity)

    def _wait_all(self, pending: dict, on_result: Callable[[Task, Result], None]) -> None:
        no_workers_since: float | None = None
        last_look = 0.0
        while pending:
            # the futures' states, as the scheduler reports them to this client (a cheap look);
            # distributed.wait() would raise at the first cancelled future instead of returning it
            done = [f for f in pending if f.status != "pending"]
            if not done:
                time.sleep(POLL_SECONDS)
            for future in sorted(done, key=lambda f: pending[f][0]):
                i, task = pending.pop(future)
                try:
                    result = self._result(future, task)
                except _Lost:
                    if self._client.status != "running":
                        raise self._scheduler_lost(task) from None
                    tries = self._lost[task.job.key] = self._lost.get(task.job.key, 0) + 1
                    future.cancel()
                    if tries <= RETRIES:  # a finished job's worker died before its result came here
                        pending[self._submit_one(i, task, tries)] = (i, task)
                        continue
                    result = self._failed(task, "its result was lost with its worker each time")
                if result.place:
                    self.activity.setdefault(result.place, []).append(result.seconds)
                on_result(task, result)
            now = time.monotonic()
            if pending and now - last_look > 2:
                last_look = now
                if self._client.scheduler_info().get("workers"):
                    no_workers_since = None
                elif no_workers_since is None:
                    no_workers_since = now
                elif now - no_workers_since > NO_WORKER_SECONDS:
                    raise BuildError(
                        Problem(
                            "build.py",
                            field="--scheduler",
                            message=f"the Dask scheduler at {self.scheduler} has had no workers for "
                            f"{NO_WORKER_SECONDS:g} s; {len(pending)} document(s) not rendered",
                            hint="start workers (`dask worker ADDRESS`); outputs already written are complete",
                        )
                    )

    def _result(self, future, task: Task) -> Result:
        """The job's Result, or a Result carrying the build error of a job that failed twice."""
        from concurrent.futures import CancelledError

        import distributed

        if future.status in ("cancelled", "lost"):  # the scheduler went away, or lost what the job needed
            raise _Lost
        if future.status == "finished":
            try:
                return future.result()
            except CancelledError:
                raise _Lost from None
        exc = future.exception()
        if isinstance(exc, DifferentInputs):
            raise BuildError(
                Problem(
                    "build.py",
                    field="--scheduler",
                    message=str(exc),
                    hint="workers must see the project folder at the same path, with the same files and the "
                    "same ClinicPress version (a shared folder; see the README's Group scale section)",
                )
            )
        if isinstance(exc, distributed.KilledWorker):
            return self._failed(
                task,
                "its worker process stopped each time (killed, out of memory, or stuck past the hard time "
                f"limit of {hard_seconds(self.budget):g} s)",
            )
        return self._failed(task, f"{type(exc).__name__}: {exc}")

    def _failed(self, task: Task, why: str) -> Result:
        job = task.job
        problem = Problem(
            rel(job.source.path, self.project.root),
            message=f"rendering this {job.source.kind} for {job.practice.slug} failed twice on the cluster: {why}",
            hint="build it alone (--only, -j 1) to see what goes wrong; outputs already written are complete",
        )
        return Result(job.key, problems=[problem])

    def _scheduler_lost(self, task: Task) -> BuildError:
        return BuildError(
            Problem(
                "build.py",
                field="--scheduler",
                message=f"lost the Dask scheduler at {self.scheduler} while rendering {task.job.key}",
                hint="outputs already written are complete; build again when the cluster is back",
            )
        )

    def run(self, tasks: list[Task], on_result: Callable[[Task, Result], None]) -> int:
        return self.submit(tasks).collect(on_result)

    def close(self, *, abort: bool = False) -> None:
        """Cancels what is left, disconnects, and stops a local cluster."""
        client, cluster = self._client, self._cluster
        self._client = self._cluster = None
        if client is not None:
            try:
                if abort and self._futures:
                    client.cancel(list(self._futures), force=True)
                client.close(timeout=CONNECT_SECONDS)
            except Exception:
                pass
        if cluster is not None:
            try:
                cluster.close(timeout=10)
            except Exception:
                pass
        self._futures = {}

    def __enter__(self) -> "ClusterRenderer":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close(abort=exc_type is not None)
