"""Phase two of a build: plan jobs, render them (in a warm process pool), write outputs atomically.

A job is one document: (content item × practice × language × variant), rendered to its
formats together (a handout's PDF is made from its HTML; a deck is one PPTX). Each job
has a stable key (`<practice>/<stem>`) and an inputs hash (clinicpress.write.cache).

Rendering happens in worker processes started once per build and kept warm (WeasyPrint
imported, one FontConfiguration, the renderers' own warm-up hook if they have one) and
recycled after `MAX_TASKS_PER_WORKER` jobs. Workers only return bytes; the main process
writes every file via a temporary file and a rename, so a reader never sees half a file,
a killed worker leaves nothing behind and an interrupted build never loses an output.
With one worker everything runs in this process, through the same function, so serial
and parallel builds give the same bytes.

Nothing heavy is imported at module level: a no-op build must stay fast.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable

from .errors import BuildError, Finding, Problem, rel

if TYPE_CHECKING:  # pragma: no cover
    from .load.practice import PracticeContext
    from .load.project import Project, Source
    from .render.handout import Variant

TMP_PREFIX = ".clinicpress-tmp-"
MANIFEST = "manifest.json"
MANIFEST_FORMAT = 1
MAX_TASKS_PER_WORKER = 50
"""A worker is replaced after this many jobs, which bounds any slow growth of its memory."""
PRELOAD = ("clinicpress.pipeline", "clinicpress.write.index", "weasyprint", "pypdfium2", "pptx",
           "clinicpress.render.handout", "clinicpress.render.deck")
"""Modules the fork server imports once, so each new worker starts warm."""


@dataclass(frozen=True)
class Job:
    """One document to produce."""

    source: "Source"
    practice: "PracticeContext"
    variant: "Variant"
    formats: tuple[str, ...]
    """pdf+html for handouts (rendered together: the PDF is made from the HTML), pptx for decks."""

    @property
    def stem(self) -> str:
        lang = "" if self.source.language == "en" else f".{self.source.language}"
        return f"{self.source.slug}{lang}{self.variant.suffix}"

    @property
    def key(self) -> str:
        return f"{self.practice.slug}/{self.stem}"

    @property
    def ident(self) -> tuple[str, str, str, tuple[str, ...]]:
        """A small picklable id a worker turns back into the job (see `job_from_ident`)."""
        return (self.source.key, self.practice.slug, self.variant.name, self.formats)

    def outputs(self, out_root: Path) -> dict[str, Path]:
        folder = out_root / self.practice.slug
        return {fmt: folder / f"{self.stem}.{fmt}" for fmt in self.formats}

    def output_names(self) -> dict[str, str]:
        """Returns each format's path relative to the output folder (posix), as in the manifest."""
        return {fmt: f"{self.practice.slug}/{self.stem}.{fmt}" for fmt in self.formats}


@dataclass
class Result:
    """What a job produced (or why it did not)."""

    job_key: str
    files: dict[str, bytes] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    pages: int | None = None
    slides: int | None = None
    thumbnail: bytes | None = None
    thumbnail_of: str | None = None
    """sha256 of the file the thumbnail shows (a PDF or a PPTX)."""
    problems: list[Problem] = field(default_factory=list)
    """Why the job failed, for a failure the user can fix (template error, refused resource)."""
    error: str | None = None
    """A traceback, for a failure that is a bug."""
    seconds: float = 0.0
    worker: int = 0
    peak_rss_mib: float = 0.0
    cpu_seconds: float = 0.0
    """CPU time the worker process has used so far (all its jobs, warm-up included)."""

    @property
    def ok(self) -> bool:
        return not self.problems and self.error is None


@dataclass(frozen=True)
class Task:
    """A job plus what the worker should know to avoid redoing a thumbnail."""

    job: Job
    thumbnail_of: str | None = None
    """sha256 of the file the existing thumbnail shows; None if there is none."""


def plan(project: "Project", *, only: list[str] | None = None, formats: set[str] | None = None,
         variants: list[str] | None = None) -> list[Job]:
    """Returns every job, in a stable order: practice, kind, slug, language, variant."""
    from .render.handout import VARIANTS

    jobs: list[Job] = []
    for pslug, practice in sorted(project.practices.items()):
        variant_names = variants or list(dict.fromkeys(practice.info.variants))
        for src in sorted(project.sources, key=lambda s: (s.kind, s.slug, s.language)):
            if only and src.slug not in only:
                continue
            if src.language not in practice.info.languages:
                continue
            if src.kind == "handout":
                if formats and "pdf" not in formats and "html" not in formats:
                    continue
                for name in variant_names:
                    jobs.append(Job(src, practice, VARIANTS[name], ("pdf", "html")))
            else:
                if formats and "pptx" not in formats:
                    continue
                jobs.append(Job(src, practice, VARIANTS["standard"], ("pptx",)))
    return jobs


def job_from_ident(project: "Project", ident: tuple) -> Job:
    from .render.handout import VARIANTS

    source_key, practice, variant, formats = ident
    source = next(s for s in project.sources if s.key == source_key)
    return Job(source, project.practices[practice], VARIANTS[variant], tuple(formats))


def run_job(project: "Project", job: Job, out_root: Path) -> Result:
    """Renders one job in memory; nothing is written here."""
    src = job.source
    shown = rel(src.path, project.root)
    result = Result(job.key)
    if src.kind == "handout":
        from .render.handout import page_budget, print_handout, render_html

        out_dir = out_root / job.practice.slug
        html = render_html(src.model, job.practice, project.bibliography, job.variant, _templates(project.root),
                           src.path.parent, out_dir)
        printed = print_handout(html, base_url=out_dir, root=project.root, practice=job.practice,
                                reviewed=src.model.reviewed.date, source_path=shown)
        result.files = {"pdf": printed.pdf, "html": html.encode("utf-8")}
        result.pages = printed.pages
        result.findings.extend(page_budget(printed, job.variant, job.practice, shown))
    else:
        from .render.deck import render_deck

        pptx, findings = render_deck(src.model, job.practice, project.bibliography, project.root, shown)
        result.files = {"pptx": pptx}
        result.findings.extend(findings)
    return result


_TEMPLATES: dict[Path, object] = {}


def _templates(root: Path):
    from .render.templating import Templates

    if root not in _TEMPLATES:
        _TEMPLATES[root] = Templates(root)
    return _TEMPLATES[root]


def execute(project: "Project", task: Task, out_root: Path, *, slide_images: bool = True) -> Result:
    """Renders a job and adds its page count and thumbnail; failures come back in the Result.

    The one function both the serial path and the workers run.
    """
    import traceback

    from .write import index
    from .errors import UserError

    started = time.perf_counter()
    job = task.job
    try:
        result = run_job(project, job, out_root)
        if "pdf" in result.files:
            pdf = result.files["pdf"]
            digest = sha256(pdf)
            if digest != task.thumbnail_of:
                result.thumbnail, result.thumbnail_of = index.pdf_thumbnail(pdf), digest
        elif "pptx" in result.files:
            pptx = result.files["pptx"]
            result.slides = index.pptx_slides(pptx)
            digest = sha256(pptx)
            if slide_images and digest != task.thumbnail_of:
                png = index.slide_thumbnail(pptx)
                if png is not None:
                    result.thumbnail, result.thumbnail_of = png, digest
    except UserError as exc:
        result = Result(job.key, problems=list(exc.problems))
    except Exception:  # a bug: keep the traceback for --verbose, go on with the other jobs
        result = Result(job.key, error=traceback.format_exc())
    result.seconds = time.perf_counter() - started
    result.worker = os.getpid()
    result.peak_rss_mib = peak_rss_mib()
    result.cpu_seconds = cpu_seconds()
    return result


def cpu_seconds() -> float:
    """Returns the CPU time (user + system) this process has used."""
    try:
        import resource

        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime
    except (ImportError, OSError):
        return time.process_time()


def peak_rss_mib() -> float:
    """Returns this process's peak resident memory in MiB (0 where unknown)."""
    try:
        import resource
        import sys

        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024
    except (ImportError, OSError):
        return 0.0


# --------------------------------------------------------------------------- the worker pool
_WORKER: dict = {}


def warm_up(project: "Project", kinds: Iterable[str]) -> None:
    """Imports and prepares what rendering needs, once per process (an optimisation only)."""
    kinds = set(kinds)
    try:
        if "handout" in kinds:
            import weasyprint

            from .render import handout

            fonts = handout._font_config()
            hook = getattr(handout, "warm_up", None)
            if callable(hook):
                hook(project.root)
            # A first tiny document loads Pango, HarfBuzz and the user-agent stylesheet.
            weasyprint.HTML(string="<p>warm</p>").write_pdf(font_config=fonts)
            _templates(project.root)
        if "deck" in kinds:
            from .render import deck

            hook = getattr(deck, "warm_up", None)
            if callable(hook):
                hook(project.root)
        import pypdfium2  # noqa: F401  (page counts and thumbnails)
    except Exception:  # a failed warm-up shows up again, with a proper message, in the job itself
        pass


def _init_worker(project_blob: bytes, kinds: tuple[str, ...], slide_images: bool, build_pid: int) -> None:
    """Runs once in each new worker: ignore Ctrl-C (the main process handles it), load, warm up."""
    import pickle
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _watch_build(build_pid)
    project = pickle.loads(project_blob)
    _WORKER.update(project=project, slide_images=slide_images)
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
    return execute(project, task, Path(out_root), slide_images=_WORKER["slide_images"])


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
        raise BuildError(Problem("build.py", message=f"cannot hand the project to worker processes: {exc}",
                                 hint="build with -j 1 and report this as a bug")) from None


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

    def __init__(self, project: "Project", out_root: Path, *, workers: int, kinds: Iterable[str] = ("handout", "deck"),
                 slide_images: bool = True, max_tasks_per_worker: int = MAX_TASKS_PER_WORKER):
        self.project = project
        self.out_root = out_root
        self.workers = max(1, workers)
        self.kinds = tuple(sorted(set(kinds)))
        self.slide_images = slide_images
        self.max_tasks = max_tasks_per_worker
        self._pool = None
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
                    max_workers=self.workers, mp_context=_context(), initializer=_init_worker,
                    initargs=(blob, self.kinds, self.slide_images, os.getpid()), max_tasks_per_child=self.max_tasks)
            tasks = self._tasks
            # Decks take longest: start them first so no worker is left with one at the end.
            for i in sorted(range(len(tasks)), key=lambda i: (tasks[i].job.source.kind != "deck", i)):
                task = tasks[i]
                future = self._pool.submit(_work, task.job.ident, str(self.out_root), task.thumbnail_of)
                self._futures[future] = (i, task)
        except BaseException as exc:  # raised again by collect(), in the main thread
            self._start_error = exc

    def _started_pool(self) -> None:
        starter = getattr(self, "_starter", None)
        if starter is not None:
            starter.join()
            self._starter = None
        error = getattr(self, "_start_error", None)
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
                on_result(task, execute(self.project, task, self.out_root, slide_images=self.slide_images))
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
                        raise BuildError(Problem(
                            "build.py", message="a worker process stopped unexpectedly (killed, or out of memory?); "
                            f"{len(left)} document(s) not rendered: {', '.join(sorted(left)[:5])}"
                            + (" …" if len(left) > 5 else ""),
                            hint="outputs already written are complete; build again, with fewer workers (-j 1) "
                                 "if memory is short")) from None
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
        starter = getattr(self, "_starter", None)
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


def render_all(project: "Project", tasks: list[Task], out_root: Path, *, workers: int,
               on_result: Callable[[Task, Result], None], slide_images: bool = True,
               max_tasks_per_worker: int = MAX_TASKS_PER_WORKER) -> int:
    """Renders every task with at most `workers` processes; see Renderer."""
    if not tasks:
        return 0
    kinds = {t.job.source.kind for t in tasks}
    with Renderer(project, out_root, workers=min(workers, len(tasks)), kinds=kinds, slide_images=slide_images,
                  max_tasks_per_worker=max_tasks_per_worker) as renderer:
        return renderer.run(tasks, on_result)


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


# --------------------------------------------------------------------------- writing
def write_atomic(path: Path, data: bytes) -> None:
    """Writes `data` to `path` via a temporary file and a rename; never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_outputs(job: Job, result: Result, out_root: Path) -> dict[str, Path]:
    """Writes every file of a job atomically; a failure names the file and the reason."""
    written = {}
    for fmt, path in job.outputs(out_root).items():
        write_file(path, result.files[fmt])
        written[fmt] = path
    return written


def write_file(path: Path, data: bytes) -> None:
    """write_atomic, with an OSError turned into a BuildError naming the file and the fix."""
    try:
        write_atomic(path, data)
    except OSError as exc:
        raise BuildError(Problem(rel(path), message=f"cannot write output: {exc.strerror or exc}",
                                 hint=_write_hint(exc))) from None


def _write_hint(exc: OSError) -> str:
    import errno

    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return "the disk is full; free some space and build again (earlier outputs are intact)"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "the output folder is read-only; choose another with --output or fix its permissions"
    return "check the output folder"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


TEMP_PATTERNS = (TMP_PREFIX + "*", ".report.json.*.tmp")
"""Temporary files an interrupted build can leave: ours, and the report writer's."""


def clean_temp_files(out_root: Path) -> list[Path]:
    """Removes temporary files left by an interrupted build; returns what was removed."""
    removed = []
    if out_root.is_dir():
        for p in (p for pattern in TEMP_PATTERNS for p in out_root.rglob(pattern)):
            try:
                p.unlink()
                removed.append(p)
            except OSError:
                pass
    return removed


def json_bytes(data) -> bytes:
    return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def write_json(path: Path, data) -> None:
    write_file(path, json_bytes(data))


# --------------------------------------------------------------------------- manifest
def load_manifest(out_root: Path) -> dict:
    """Reads output/manifest.json; an unreadable or older manifest counts as empty."""
    try:
        data = json.loads((out_root / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT or not isinstance(data.get("outputs"), dict):
        return {}
    return data


def status_of(findings: Iterable[dict]) -> str:
    """pass, warn or fail, from findings in their JSON form."""
    severities = {f.get("severity") for f in findings}
    return "fail" if "error" in severities else "warn" if "warning" in severities else "pass"


def finding_from_json(data: dict) -> Finding:
    names = Finding.__dataclass_fields__
    return Finding(**{k: v for k, v in data.items() if k in names})


def remove_output(out_root: Path, name: str, entry: dict) -> list[str]:
    """Deletes an output and its thumbnail; returns what was deleted (relative paths)."""
    removed = []
    for rel_path in (name, (entry.get("thumbnail") or {}).get("path")):
        if not rel_path:
            continue
        path = out_root / rel_path
        try:
            path.unlink()
            removed.append(rel_path)
        except FileNotFoundError:
            pass
        for folder in (path.parent, path.parent.parent):
            if folder != out_root and folder.is_relative_to(out_root):
                try:
                    folder.rmdir()  # only if empty
                except OSError:
                    pass
    return removed
