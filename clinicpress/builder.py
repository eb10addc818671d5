"""The build and check commands, top to bottom: load, plan, render + check, write, report.

A build does only the work its inputs call for:

1. remove temporary files an interrupted build left behind;
2. if the project fingerprint (every input file, the tool, the options, today's date) is the
   one the last complete build recorded and every file it wrote is intact, stop here: nothing
   is loaded or imported, the last results are reported again (a no-op build);
3. load and validate everything (any invalid input: nothing is written);
4. plan the jobs and compute each one's inputs hash; a job whose hash and outputs match the
   manifest is up to date; the rest start rendering in a warm worker pool at once;
5. meanwhile run the quality checks; an item with an error (or, with --strict, a warning) is
   not rendered and its earlier outputs stay as they were; outputs whose source is gone are
   removed and listed;
6. write each rendered file atomically as it arrives (clinicpress.write.writer);
7. write output/manifest.json, output/report.json and output/index.html; report; save the state.
"""

from __future__ import annotations

import dataclasses
import gc
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .checker import blocks, failing_items, load, narrowed, print_table, run_checks
from .console import Reporter
from .errors import Problem, UsageError, rel
from .settings import BuildSettings, require_project
from .write import manifest as mf
from .write.cache import STATE_FILE, FileHashes, load_state, project_fingerprint, save_state
from .write.store import clean_temp_files

if TYPE_CHECKING:  # pragma: no cover
    from .checks import CheckResults
    from .jobs.cluster import ClusterRenderer
    from .jobs.model import Job, Result, Task
    from .jobs.pool import Renderer
    from .load.config import Config
    from .load.project import Project
    from .write.writer import OutputWriter

CHECKPOINT_SECONDS = 10.0
"""While rendering, the manifest is saved this often, so a killed build resumes where it was."""


@dataclass
class Plan:
    """Every job of this build and, for each, its inputs hash and whether its outputs are current."""

    jobs: list[Job]
    keys: dict[str, str]
    """Job key -> inputs hash (the cache key its outputs are recorded under)."""
    parts: dict[str, dict[str, str]]
    """Job key -> the digest of each input (kept to explain the next rebuild with -v)."""
    current: set[str]
    old_outputs: dict[str, dict]
    config: Config
    """The check thresholds, read once: the check keys are made with them and the checks run with them."""
    check_keys: dict[str, str]
    """Item key -> digest of what its quality checks read (their results are reused while it holds)."""

    @property
    def stale(self) -> list[Job]:
        return [job for job in self.jobs if job.key not in self.current]


@dataclass
class Outcome:
    """What rendering did: counts, problems, bugs and what the workers used."""

    rendered: int = 0
    failed: int = 0
    up_to_date: int = 0
    blocked: list[Job] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    fresh: set[str] = field(default_factory=set)
    """Jobs whose outputs now match their current inputs (rendered or up to date)."""
    planned: set[str] = field(default_factory=set)
    """Every output path this build's jobs make (rendered, up to date or blocked)."""
    problems: list[Problem] = field(default_factory=list)
    bugs: list[tuple[str, str]] = field(default_factory=list)
    peak: dict[int, float] = field(default_factory=dict)
    cpu: dict[int, float] = field(default_factory=dict)
    workers: int = 0
    summary: dict = field(default_factory=dict)
    """The numbers the build prints last and keeps in the state file."""


def build(settings: BuildSettings, reporter: Reporter) -> int:
    """Builds what changed; returns the exit code (0 ok, 1 content errors, 3 a bug)."""
    with _few_collections():
        return _build(settings, reporter)


@contextmanager
def _few_collections() -> Iterator[None]:
    """Keeps Python's cyclic collector out of the way while a build runs.

    A build makes hundreds of thousands of objects that live until it ends (the project, its
    models, the check results). With the default thresholds the collector walks them again and
    again: about 0.1 s of the 1 s this process spends on a one-word edit. So the build collects
    once (3 ms in a fresh process; in `build --watch` or a script it frees the last build's
    cycles), freezes what is alive, and collects the young generation less often. At the end
    everything is handed back to the collector with the caller's thresholds. Objects a caller
    froze itself are left frozen (the build then freezes nothing); nested or concurrent builds
    in one process leave this to the outermost.
    """
    with _COLLECTOR_LOCK:
        if _COLLECTOR["depth"] == 0:
            _COLLECTOR["thresholds"] = gc.get_threshold()
            _COLLECTOR["froze"] = gc.get_freeze_count() == 0
            if _COLLECTOR["froze"]:
                gc.collect()
                gc.freeze()
            gc.set_threshold(YOUNG_OBJECTS, *_COLLECTOR["thresholds"][1:])
        _COLLECTOR["depth"] += 1
    try:
        yield
    finally:
        with _COLLECTOR_LOCK:
            _COLLECTOR["depth"] -= 1
            if _COLLECTOR["depth"] == 0:
                gc.set_threshold(*_COLLECTOR["thresholds"])
                if _COLLECTOR["froze"]:
                    gc.unfreeze()


_COLLECTOR: dict = {"depth": 0, "thresholds": None, "froze": False}
_COLLECTOR_LOCK = threading.Lock()
YOUNG_OBJECTS = 20_000
"""Allocations between two young-generation collections while a build runs (Python's default: 700)."""


def _build(settings: BuildSettings, reporter: Reporter) -> int:
    started = time.perf_counter()
    require_project(settings.root)
    out_root = settings.out_root
    workers = settings.workers()
    clean_temp_files(out_root)
    # --no-cache re-hashes every file and renders every selected job, but still reads what the
    # last builds recorded, so the outputs outside this build's selection stay valid.
    state, manifest = _previous(out_root, reporter)
    if state is None or manifest is None:  # a state file was not trusted: build everything again
        state, manifest = state or {}, manifest or {}
        settings = dataclasses.replace(settings, no_cache=True)
    hashes = FileHashes(None if settings.no_cache else state.get("hashes"))
    fingerprint = project_fingerprint(settings.root, hashes, settings.fingerprint_options())
    if not settings.no_cache and _up_to_date(state, fingerprint, hashes, settings):
        return _report_up_to_date(state, manifest, settings, reporter, started, hashes)

    if workers > 1 and settings.scheduler in (None, "local"):
        from .jobs.pool import prestart

        prestart()  # warms the fork server while this process loads, validates and plans
    project = load(settings, reporter)
    plan = _plan(project, settings, state, manifest, hashes, reporter)
    renderer = _renderer(project, plan, settings, workers, fingerprint)
    try:
        renderer.submit([_task(job, plan, settings) for job in plan.stale])
        findings = run_checks(
            project, config=plan.config, keys=plan.check_keys, cached=None if settings.no_cache else state.get("checks")
        )
        failing = failing_items(findings, settings.strict)
        writer, outcome, tasks = _decide(project, plan, findings, failing, settings)
        _render(renderer, tasks, plan, writer, outcome, reporter)
    finally:
        renderer.close(abort=sys.exc_info()[0] is not None)

    written = writer.finish(findings, hashes, strict=settings.strict)
    selected = failing_items(narrowed(findings, project, settings), settings.strict)
    code = _report(project, findings, selected, writer, outcome, settings, reporter, started)
    _save(
        state,
        plan,
        writer,
        outcome,
        hashes,
        findings,
        {"fingerprint": fingerprint, "written": written, "exit_code": code, "failing": sorted(selected)},
    )
    return code


# --------------------------------------------------------------------------- phases
def _previous(out_root: Path, reporter: Reporter) -> tuple[dict | None, dict | None]:
    """The last build's cache state and manifest, read back as untrusted input ({}: none).

    A file that fails validation (clinicpress.write.state) is None, after one warning naming
    it and what was wrong."""
    from .write.state import BadState

    found: list[dict | None] = []
    for name, read in ((STATE_FILE, load_state), (mf.MANIFEST, mf.load_manifest)):
        try:
            found.append(read(out_root))
        except BadState as exc:
            reporter.warning(f"{rel(out_root / name)} {exc}; ignored it and building everything again")
            found.append(None)
    return found[0], found[1]


def _plan(
    project: Project, settings: BuildSettings, state: dict, manifest: dict, hashes: FileHashes, reporter: Reporter
) -> Plan:
    """Plans every job and finds the ones whose outputs are current."""
    from .jobs.model import plan
    from .write.cache import JobKeys, explain

    jobs = plan(
        project,
        only=list(settings.only) or None,
        formats=set(settings.formats) or None,
        variants=list(settings.variants) or None,
    )
    if settings.only and not jobs:
        known = sorted({s.slug for s in project.sources})
        raise UsageError(
            Problem(
                "content/",
                message=f"nothing matches --only {' '.join(settings.only)}",
                hint=f"known slugs: {', '.join(known)}",
            )
        )
    old_outputs = manifest.get("outputs", {})
    job_keys = JobKeys(project, hashes, settings.out_root)
    keys, parts = {}, {}
    for job in jobs:
        keys[job.key], parts[job.key] = job_keys.key_and_parts(job)
    current = (
        set()
        if settings.no_cache
        else {job.key for job in jobs if mf.is_current(job, keys[job.key], old_outputs, hashes, settings.out_root)}
    )
    from .load.config import load_config

    config = load_config(project.root)
    result = Plan(jobs, keys, parts, current, old_outputs, config, job_keys.check_keys(config))
    if settings.verbose:
        for job in result.stale:
            reporter.info(f"  to render {job.key}: {explain(state.get('inputs', {}).get(job.key), parts[job.key])}")
    return result


def _renderer(
    project: Project, plan: Plan, settings: BuildSettings, workers: int, fingerprint: str
) -> Renderer | ClusterRenderer:
    """The worker pool for the stale jobs (rendering starts while this process runs the checks),
    or a Dask cluster (--scheduler, or `executor = "dask"`)."""
    from .jobs.budget import Budget
    from .jobs.pool import Renderer, keeping

    stale = plan.stale
    scheduler = _scheduler(settings, plan.config)
    if scheduler is not None and stale:
        import functools

        from .jobs.cluster import ClusterRenderer
        from .write.cache import fingerprint_now

        return ClusterRenderer(
            project,
            settings.out_root,
            scheduler=scheduler,
            fingerprint=fingerprint,
            fingerprint_of=functools.partial(fingerprint_now, options=settings.fingerprint_options()),
            workers=min(workers, len(stale)),
            slide_images=settings.slide_images,
            budget=Budget.of(plan.config),
        )
    return Renderer(
        project,
        settings.out_root,
        # a kept pool (build --watch) has the workers asked for, so every edit finds it warm
        workers=(workers if keeping() else min(workers, len(stale))) if stale else 1,
        kinds={j.source.kind for j in stale},
        slide_images=settings.slide_images,
        budget=Budget.of(plan.config),
    )


def _scheduler(settings: BuildSettings, config: Config) -> str | None:
    """The Dask scheduler this build renders on (None: the local process pool)."""
    wanted = settings.scheduler
    if wanted is None:
        return config.scheduler if config.executor == "dask" else None
    if wanted == "local":
        return None
    if wanted != "local-cluster" and not wanted.startswith(("tcp://", "tls://")):
        raise UsageError(
            Problem(
                "build.py",
                field="--scheduler",
                message=f"not a scheduler address: {wanted!r}",
                hint="use tcp://HOST:8786, local-cluster (a cluster on this machine) or local (the process pool)",
            )
        )
    return wanted


def _task(job: Job, plan: Plan, settings: BuildSettings) -> Task:
    """A render task, telling the worker which PDF or PPTX the existing thumbnail shows."""
    from .jobs.model import Task

    main = job.main_format
    entry = (plan.old_outputs.get(job.output_names()[main]) or {}) if main else {}
    thumb = entry.get("thumbnail") or {}
    have_thumb = thumb.get("path") and (settings.out_root / thumb["path"]).is_file()
    return Task(job, thumb.get("of") if have_thumb else None)


def _decide(project: Project, plan: Plan, findings: CheckResults, failing: dict, settings: BuildSettings):
    """Sorts the jobs into blocked (a failing check), up to date and to render; removes gone outputs."""
    from .write.writer import OutputWriter

    writer = OutputWriter(settings.out_root, project, {key: [f.to_json() for f in fs] for key, fs in findings.items()})
    outcome = Outcome()
    tasks: list[Job] = []
    for job in plan.jobs:
        names = job.output_names()
        outcome.planned.update(names.values())
        previous = {fmt: plan.old_outputs.get(name) for fmt, name in names.items()}
        if job.source.key in failing or f"practice:{job.practice.slug}" in failing:
            outcome.blocked.append(job)
            writer.keep(job, previous, stale=True)
        elif job.key in plan.current:
            outcome.up_to_date += 1
            outcome.fresh.add(job.key)
            writer.keep(job, previous, stale=False)
            writer.repair_thumbnail(job)
        else:
            tasks.append(job)
    outcome.removed = writer.remove_gone(plan.old_outputs, outcome.planned)
    return writer, outcome, tasks


def _render(
    renderer: Renderer | ClusterRenderer,
    tasks: list[Job],
    plan: Plan,
    writer: OutputWriter,
    outcome: Outcome,
    reporter: Reporter,
) -> None:
    """Collects the rendered jobs, writing each as it arrives."""
    try:
        with reporter.progress(len(tasks)) as progress:
            collector = _Collector(plan, writer, outcome, progress)
            outcome.workers = renderer.collect(collector, skip={job.key for job in outcome.blocked})
        activity = getattr(renderer, "activity", None)
        if activity:  # a cluster build: what each worker did
            reporter.info(
                "cluster workers: "
                + "; ".join(f"{w} rendered {len(s)} in {sum(s):.1f} s" for w, s in sorted(activity.items()))
            )
    finally:  # also after Ctrl-C or a dead worker: record what was written
        if tasks or outcome.removed or plan.old_outputs != writer.outputs:
            writer.save_manifest()


class _Collector:
    """Receives each rendered job in this process: writes it, counts it, checkpoints the manifest."""

    def __init__(self, plan: Plan, writer: OutputWriter, outcome: Outcome, progress):
        self.plan, self.writer, self.outcome, self.progress = plan, writer, outcome, progress
        self.last_checkpoint = time.monotonic()

    def __call__(self, task: Task, result: Result) -> None:
        job, outcome = task.job, self.outcome
        outcome.peak[result.worker] = max(outcome.peak.get(result.worker, 0.0), result.peak_rss_mib)
        outcome.cpu[result.worker] = max(outcome.cpu.get(result.worker, 0.0), result.cpu_seconds)
        if not result.ok:
            outcome.failed += 1
            outcome.problems.extend(result.problems)
            if result.error:
                outcome.bugs.append((job.key, result.error))
            self.progress.advance(
                job.key,
                ok=False,
                note=": " + (result.problems[0].message if result.problems else "internal error (run with --verbose)"),
            )
            return
        self.writer.store(task, result, self.plan.keys[job.key])
        outcome.rendered += 1
        outcome.fresh.add(job.key)
        self.progress.advance(job.key, seconds=result.seconds, note=f" on {result.place}" if result.place else "")
        if time.monotonic() - self.last_checkpoint > CHECKPOINT_SECONDS:
            self.writer.save_manifest()
            self.last_checkpoint = time.monotonic()


def _report(
    project: Project,
    findings: CheckResults,
    selected: dict,
    writer: OutputWriter,
    outcome: Outcome,
    settings: BuildSettings,
    reporter: Reporter,
    started: float,
) -> int:
    """Prints the checks, warnings, blocked items, failures and the summary; returns the exit code."""
    from .jobs.run import cpu_seconds

    by_item = mf.render_warnings_by_item({n: e for n, e in writer.outputs.items() if n in outcome.planned})
    if not settings.quiet:  # the table counts what only the pages show too (a handout over its page budget)
        print_table(narrowed(findings, project, settings).plus(by_item), project, reporter, settings.strict)
    warnings = [f for fs in by_item.values() for f in fs]
    reporter.findings(warnings)
    for key in sorted(selected):
        if not blocks(key):  # drafts still print (with the draft mark); the findings say why it fails
            reporter.findings(selected[key])
            continue
        reporter.blocked(
            key,
            selected[key],
            len([j for j in outcome.blocked if key in (j.source.key, f"practice:{j.practice.slug}")]),
        )
    if outcome.problems:
        reporter.problems(outcome.problems, written=True)
    for key, trace in outcome.bugs:
        reporter.error(
            f"internal error while rendering {key}; this is a bug in ClinicPress. "
            + ("Traceback:\n" + trace if settings.verbose else "Run again with --verbose.")
        )
    code = 3 if outcome.bugs else 1 if (outcome.problems or selected or (settings.strict and warnings)) else 0
    elapsed = time.perf_counter() - started
    outcome.summary = {
        "rendered": outcome.rendered,
        "up_to_date": outcome.up_to_date,
        "removed": len(outcome.removed),
        "blocked": len(outcome.blocked),
        "failed": outcome.failed,
        "workers": outcome.workers,
        "worker_peak_rss_mib": round(max(outcome.peak.values()), 1) if outcome.peak else None,
        "seconds": round(elapsed, 3),
        "cpu_seconds": round(cpu_seconds() + sum(v for pid, v in outcome.cpu.items() if pid != os.getpid()), 3),
        "exit_code": code,
    }
    for name in outcome.removed:
        reporter.info(f"removed {name} (its source is gone)")
    reporter.summary(outcome.summary, len(project.practices), settings.out_root)
    return code


def _save(
    state: dict,
    plan: Plan,
    writer: OutputWriter,
    outcome: Outcome,
    hashes: FileHashes,
    findings: CheckResults,
    complete: dict,
) -> None:
    """Saves the cache state; only a build without failures records what a no-op build may trust.

    The items' check results are kept either way (they are keyed by what the checks read)."""
    # Per-job input digests, kept to explain the next rebuild (-v); jobs outside this build keep theirs.
    inputs = dict(state.get("inputs", {}))
    inputs.update({k: plan.parts[k] for k in outcome.fresh})
    present = {entry.get("job") for entry in writer.outputs.values()}
    inputs = {k: v for k, v in sorted(inputs.items()) if k in present}
    checked = sorted(set(findings.entries) - findings.reused)  # items whose checks ran (not reused)
    base = {
        "hashes": hashes.state(),
        "last_build": {**outcome.summary, "checked": checked},
        "inputs": inputs,
        "checks": findings.entries,
    }
    if not outcome.problems and not outcome.bugs:
        save_state(writer.out_root, {**complete, **base})
    else:
        save_state(writer.out_root, base)


# --------------------------------------------------------------------------- no-op builds
def _up_to_date(state: dict, fingerprint: str, hashes: FileHashes, settings: BuildSettings) -> bool:
    """True if the last complete build had these exact inputs and its files are untouched."""
    if not state.get("fingerprint") or state["fingerprint"] != fingerprint or not state.get("written"):
        return False
    return all(hashes.output(settings.out_root / name) == sha for name, sha in state["written"].items())


def _report_up_to_date(
    state: dict, manifest: dict, settings: BuildSettings, reporter: Reporter, started: float, hashes: FileHashes
) -> int:
    """Reports the last build's results again without loading anything."""
    out_root = settings.out_root
    items = manifest.get("items", {})
    findings = {key: [mf.finding_from_json(f) for f in item.get("findings", [])] for key, item in items.items()}
    failing = failing_items(findings, settings.strict)
    counts = {"pass": 0, "warn": 0, "fail": 0}
    for item in items.values():
        counts[mf.status_of(item.get("findings", []))] += 1
    if not settings.quiet and items:
        reporter.info(
            f"checks (unchanged since the last build): {counts['pass']} pass, {counts['warn']} with "
            f"warnings, {counts['fail']} failing; details in output/report.json or `build.py check`"
        )
    for key in state.get("failing", []):
        if blocks(key):
            reporter.blocked(key, failing.get(key, []), 0)
        else:
            reporter.findings(failing.get(key, []))
    warnings = mf.render_warnings(manifest.get("outputs", {}))
    reporter.findings(warnings)
    code = int(state.get("exit_code", 0)) or (1 if settings.strict and warnings else 0)
    elapsed = time.perf_counter() - started
    documents = len({e.get("job") for e in manifest.get("outputs", {}).values()})
    reporter.info(
        f"nothing to do: {documents} document(s) for {len(manifest.get('practices', {}))} practice(s) "
        f"are up to date ({elapsed:.2f} s) → {out_root}"
    )
    if hashes.hashed:  # remember the files just re-read, so the next no-op build only stats them
        last = dict(state.get("last_build") or {})
        last.update(
            {
                "rendered": 0,
                "up_to_date": documents,
                "removed": 0,
                "blocked": 0,
                "failed": 0,
                "workers": 0,
                "seconds": round(elapsed, 3),
                "worker_peak_rss_mib": None,
            }
        )
        save_state(out_root, {**state, "hashes": hashes.state(), "last_build": last})
    return code
