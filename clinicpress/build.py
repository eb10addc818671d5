"""The build and check commands, top to bottom: load, check, plan, render, write, index.

A build does only the work its inputs call for:

1. remove temporary files an interrupted build left behind;
2. if the project fingerprint (every input file, the tool, the options, today's date) is the
   one the last complete build recorded and every file it wrote is intact, stop here: nothing
   is loaded or imported, the last results are reported again (a no-op build);
3. load and validate everything (any invalid input: nothing is written);
4. run the quality checks; an item with an error (or, with --strict, a warning) is not
   rendered and its earlier outputs stay as they were;
5. plan the jobs and compute each one's inputs hash; a job whose hash and outputs match the
   manifest is skipped; outputs whose source is gone are removed and listed;
6. render the rest in a warm worker pool, writing each file atomically as it arrives;
7. write output/manifest.json, output/report.json and output/index.html.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from . import __version__
from .write.cache import FileHashes, load_state, project_fingerprint, save_state
from .console import Reporter, _esc
from .errors import Finding, Problem, UsageError, UserError
from .pipeline import (MANIFEST, MANIFEST_FORMAT, Result, Task, clean_temp_files, cpu_seconds,
                       finding_from_json, json_bytes, load_manifest, remove_output, sha256, status_of,
                       write_file)

CHECKPOINT_SECONDS = 10.0
"""While rendering, the manifest is saved this often, so a killed build resumes where it was."""


def build(args: argparse.Namespace, reporter: Reporter) -> int:
    """Builds what changed; returns the exit code (0 ok, 1 content errors, 3 a bug)."""
    started = time.perf_counter()
    root = args.root.resolve()
    out_root = (getattr(args, "output", None) or root / "output").resolve()
    workers = _workers(getattr(args, "jobs", None))
    no_cache = bool(getattr(args, "no_cache", False))
    slide_images = not getattr(args, "no_slide_images", False)
    strict = bool(args.strict)

    clean_temp_files(out_root)
    state = {} if no_cache else load_state(out_root)
    hashes = FileHashes(state.get("hashes"))
    fingerprint = project_fingerprint(root, hashes, _options(args, root, out_root, slide_images))
    if not no_cache and _up_to_date(state, fingerprint, hashes, out_root):
        return _report_up_to_date(state, out_root, reporter, args, started, hashes, fingerprint)

    # ---- 3. load and validate everything
    from .write.cache import JobKeys
    from .checks import check_project
    from .pipeline import Renderer, plan
    from .load.project import load_project

    project = load_project(root, practices=args.practice)
    for w in project.warnings:
        reporter.problems([w])
    if strict and project.warnings:
        raise UserError([Problem(w.path, w.line, w.col, w.field, w.message, w.hint) for w in project.warnings])
    jobs = plan(project, only=args.only, formats=set(args.format) if args.format else None, variants=args.variant)
    if args.only and not jobs:
        known = sorted({s.slug for s in project.sources})
        raise UsageError(Problem("content/", message=f"nothing matches --only {' '.join(args.only)}",
                                 hint=f"known slugs: {', '.join(known)}"))

    # ---- 4. plan: which jobs are up to date (their inputs hash and files match the manifest)
    old = {} if no_cache else load_manifest(out_root)
    old_outputs: dict[str, dict] = old.get("outputs", {})
    keys = JobKeys(project, hashes, out_root)
    job_keys, job_parts = {}, {}
    for job in jobs:
        job_keys[job.key], job_parts[job.key] = keys.key_and_parts(job)
    current = {job.key: _is_current(job, job_keys[job.key], old_outputs, hashes, out_root) for job in jobs}
    stale = [job for job in jobs if not current[job.key]]
    if getattr(args, "verbose", False):
        from .write.cache import explain

        for job in stale:
            reporter.info(f"  to render {job.key}: {explain(state.get('inputs', {}).get(job.key), job_parts[job.key])}")

    # Rendering starts now, in the workers, while this process runs the quality checks.
    candidates = {job.key: _task(job, old_outputs, out_root) for job in stale}
    renderer = Renderer(project, out_root, workers=min(workers, len(stale)) if stale else 1,
                        kinds={j.source.kind for j in stale}, slide_images=slide_images)
    try:
        renderer.submit(list(candidates.values()))

        # ---- 5. quality checks: failing items are not rendered (or their results not written)
        findings = check_project(project)
        failing = _failing(findings, strict)
        selected = _selected(failing, project, args.only)
        item_json = {key: [f.to_json() for f in fs] for key, fs in findings.items()}

        outputs: dict[str, dict] = {}
        planned: set[str] = set()
        tasks: list[Task] = []
        blocked: list = []
        fresh: set[str] = set()
        """Jobs whose outputs now match their current inputs (rendered or up to date)."""
        up_to_date = 0
        for job in jobs:
            names = job.output_names()
            planned.update(names.values())
            previous = {fmt: old_outputs.get(name) for fmt, name in names.items()}
            if job.source.key in failing or f"practice:{job.practice.slug}" in failing:
                blocked.append(job)
                for fmt, name in names.items():
                    if previous[fmt] is not None and (out_root / name).is_file():
                        outputs[name] = _refresh(previous[fmt], job, item_json, stale=True)
                continue
            if current[job.key]:
                up_to_date += 1
                fresh.add(job.key)
                for fmt, name in names.items():
                    outputs[name] = _refresh(previous[fmt], job, item_json, stale=False)
                _repair_thumbnail(outputs[names["pdf"]] if "pdf" in names else None, names, out_root)
                continue
            tasks.append(candidates[job.key])

        # Outputs whose content item, practice or language is gone are removed.
        removed: list[str] = []
        for name, entry in sorted(old_outputs.items()):
            if name in outputs or name in planned:
                continue
            if _source_gone(entry, project, root):
                removed.extend(remove_output(out_root, name, entry))
            else:  # outside this build's selection (--only, --practice, --format, --variant): kept as is
                outputs[name] = entry

        # ---- 6. render, writing each file as it arrives
        problems: list[Problem] = []
        bugs: list[tuple[str, str]] = []
        peak: dict[int, float] = {}
        cpu: dict[int, float] = {}
        rendered = failed = 0
        last_checkpoint = time.monotonic()

        def save_manifest() -> None:
            write_file(out_root / MANIFEST, json_bytes(_manifest(project, outputs, item_json)))

        def on_result(task: Task, result: Result) -> None:
            nonlocal rendered, failed, last_checkpoint
            job = task.job
            peak[result.worker] = max(peak.get(result.worker, 0.0), result.peak_rss_mib)
            cpu[result.worker] = max(cpu.get(result.worker, 0.0), result.cpu_seconds)
            if not result.ok:
                failed += 1
                problems.extend(result.problems)
                if result.error:
                    bugs.append((job.key, result.error))
                progress.advance(job.key, ok=False, note=": " + (result.problems[0].message if result.problems
                                                                else "internal error (run with --verbose)"))
                return
            _store(job, task, result, job_keys[job.key], out_root, outputs, item_json, project)
            rendered += 1
            fresh.add(job.key)
            progress.advance(job.key, seconds=result.seconds)
            if time.monotonic() - last_checkpoint > CHECKPOINT_SECONDS:
                save_manifest()
                last_checkpoint = time.monotonic()

        used_workers = 0
        try:
            with reporter.progress(len(tasks)) as progress:
                used_workers = renderer.collect(on_result, skip={job.key for job in blocked})
        finally:  # also after Ctrl-C or a dead worker: record what was written
            if tasks or removed or old.get("outputs") != outputs:
                save_manifest()
    finally:
        renderer.close(abort=sys.exc_info()[0] is not None)

    # ---- 7. report, index, state
    written: dict[str, str] = {}
    manifest_data = _manifest(project, outputs, item_json)
    manifest_bytes = json_bytes(manifest_data)
    _write_if_changed(out_root / MANIFEST, manifest_bytes)
    written[MANIFEST] = sha256(manifest_bytes)
    report_path = _write_report(out_root, project, findings, strict)
    if report_path is not None:
        written[report_path] = hashes.file(out_root / report_path)
    from .write.index import render_index

    index_bytes = render_index(manifest_data).encode("utf-8")
    _write_if_changed(out_root / "index.html", index_bytes)
    written["index.html"] = sha256(index_bytes)
    for name, entry in outputs.items():
        written[name] = entry["sha256"]
        thumb = entry.get("thumbnail") or {}
        if thumb.get("path") and (sha := hashes.maybe(out_root / thumb["path"])):
            written[thumb["path"]] = sha

    if not args.quiet:
        keep = {s.key for s in project.sources if not args.only or s.slug in args.only}
        keep |= {k for k in findings if k not in {s.key for s in project.sources}}
        _print_table(_narrow(findings, keep) if args.only else findings, project, reporter, strict)
    render_warnings = _render_warnings({n: e for n, e in outputs.items() if n in planned})
    reporter.findings(render_warnings)
    for key in sorted(selected):
        _print_blocked(key, selected[key], [j for j in blocked if key in (j.source.key, f"practice:{j.practice.slug}")],
                       reporter)
    if problems:
        reporter.problems(problems, written=True)
    for key, trace in bugs:
        reporter.error(f"internal error while rendering {key}; this is a bug in ClinicPress. "
                       + ("Traceback:\n" + trace if getattr(args, "verbose", False) else "Run again with --verbose."))

    code = 3 if bugs else 1 if (problems or selected or (strict and render_warnings)) else 0
    # Per-job input digests, kept to explain the next rebuild (-v); jobs outside this build keep theirs.
    inputs = dict(state.get("inputs", {}))
    inputs.update({k: job_parts[k] for k in fresh})
    present = {entry.get("job") for entry in outputs.values()}
    inputs = {k: v for k, v in sorted(inputs.items()) if k in present}
    elapsed = time.perf_counter() - started
    summary = {
        "rendered": rendered, "up_to_date": up_to_date, "removed": len(removed), "blocked": len(blocked),
        "failed": failed, "workers": used_workers,
        "worker_peak_rss_mib": round(max(peak.values()), 1) if peak else None, "seconds": round(elapsed, 3),
        "cpu_seconds": round(cpu_seconds() + sum(v for pid, v in cpu.items() if pid != os.getpid()), 3),
        "exit_code": code,
    }
    for name in removed:
        reporter.info(f"removed {name} (its source is gone)")
    _print_summary(reporter, summary, len(project.practices), out_root)
    if not problems and not bugs:
        save_state(out_root, {"fingerprint": fingerprint, "written": written, "hashes": hashes.state(),
                              "exit_code": code, "failing": sorted(selected), "last_build": summary,
                              "inputs": inputs})
    else:
        save_state(out_root, {"hashes": hashes.state(), "last_build": summary, "inputs": inputs})
    return code


# --------------------------------------------------------------------------- helpers
def _workers(jobs: int | None) -> int:
    """-j N, or the number of CPUs this process may run on (which a container may limit)."""
    if jobs is None:
        try:
            return len(os.sched_getaffinity(0)) or 1
        except (AttributeError, OSError):
            return os.cpu_count() or 1
    if jobs < 1:
        raise UsageError(Problem("build.py", field="-j", message=f"needs at least 1 worker, got {jobs}",
                                 hint="use -j 1 to render in this process"))
    return jobs


def _options(args, root: Path, out_root: Path, slide_images: bool) -> dict:
    """The options that change what a build produces (part of the project fingerprint)."""
    return {
        "practice": sorted(args.practice or []), "only": sorted(args.only or []),
        "format": sorted(getattr(args, "format", None) or []), "variant": sorted(getattr(args, "variant", None) or []),
        "strict": bool(args.strict), "slide_images": slide_images, "output": os.path.relpath(out_root, root),
    }


def _is_current(job, key: str, old_outputs: dict, hashes: FileHashes, out_root: Path) -> bool:
    """True if every output of the job is in the manifest with this inputs hash and unchanged on disk."""
    for name in job.output_names().values():
        entry = old_outputs.get(name)
        if entry is None or entry.get("inputs") != key or hashes.maybe(out_root / name) != entry.get("sha256"):
            return False
    return True


def _task(job, old_outputs: dict, out_root: Path) -> Task:
    """A render task, telling the worker which PDF or PPTX the existing thumbnail shows."""
    names = job.output_names()
    main = "pdf" if "pdf" in names else "pptx"
    thumb = (old_outputs.get(names[main]) or {}).get("thumbnail") or {}
    have_thumb = thumb.get("path") and (out_root / thumb["path"]).is_file()
    return Task(job, thumb.get("of") if have_thumb else None)


def _failing(findings: dict[str, list[Finding]], strict: bool) -> dict[str, list[Finding]]:
    """Items (and practices) that must not be rendered, with the findings that stop them."""
    stop = {"error", "warning"} if strict else {"error"}
    out = {}
    for key, fs in findings.items():
        bad = [f for f in fs if f.severity in stop]
        if bad:
            out[key] = bad
    return out


def _selected(failing: dict, project, only: list[str] | None) -> dict:
    """The failing items this build is about: not filtered out by --only (practices always count)."""
    sources = {s.key for s in project.sources}
    wanted = {s.key for s in project.sources if not only or s.slug in only}
    return {k: v for k, v in failing.items() if k in wanted or k not in sources}


def _source_gone(entry: dict, project, root: Path) -> bool:
    """True if an output's content item, practice or language no longer exists."""
    if entry.get("item") not in {s.key for s in project.sources}:
        return True
    practice = entry.get("practice", "")
    if not (root / "practices" / practice / "practice.yml").is_file():
        return True
    loaded = project.practices.get(practice)
    return loaded is not None and entry.get("language") not in loaded.info.languages


def _entry_findings(job, item_json: dict, render: list[dict]) -> list[dict]:
    return item_json.get(job.source.key, []) + item_json.get(f"practice:{job.practice.slug}", []) + render


def _refresh(entry: dict, job, item_json: dict, *, stale: bool) -> dict:
    """An existing manifest entry with today's findings (the file itself is unchanged)."""
    entry = dict(entry)
    entry["findings"] = _entry_findings(job, item_json, entry.get("render_findings", []))
    entry["status"] = status_of(entry["findings"])
    entry.pop("stale", None)
    if stale:
        entry["stale"] = True
    return entry


def _store(job, task: Task, result: Result, key: str, out_root: Path, outputs: dict, item_json: dict,
           project) -> None:
    """Writes a job's files (and thumbnail) atomically and records them in the manifest."""
    from .errors import rel
    from .write.index import thumb_path

    names = job.output_names()
    for fmt, name in names.items():
        _write_if_changed(out_root / name, result.files[fmt])
    main = "pdf" if "pdf" in names else "pptx"
    thumb_name = thumb_path(names[main])
    main_sha = sha256(result.files[main])
    thumbnail = None
    if result.thumbnail is not None:
        write_file(out_root / thumb_name, result.thumbnail)
        thumbnail = {"path": thumb_name, "of": result.thumbnail_of}
    elif task.thumbnail_of is not None and task.thumbnail_of == main_sha:
        thumbnail = {"path": thumb_name, "of": main_sha}  # the picture already shows these bytes
    else:
        try:
            (out_root / thumb_name).unlink()  # it showed an earlier version
        except FileNotFoundError:
            pass
    render_findings = [f.to_json() for f in result.findings]
    src = job.source
    for fmt, name in names.items():
        entry = {
            "job": job.key, "item": src.key, "kind": src.kind, "title": src.model.title,
            "source": rel(src.path, project.root), "practice": job.practice.slug, "language": src.language,
            "variant": job.variant.name, "format": fmt, "inputs": key, "sha256": sha256(result.files[fmt]),
        }
        if result.pages is not None:
            entry["pages"] = result.pages
        if result.slides is not None:
            entry["slides"] = result.slides
        if render_findings:
            entry["render_findings"] = render_findings
        entry["findings"] = _entry_findings(job, item_json, render_findings)
        entry["status"] = status_of(entry["findings"])
        if fmt == main and thumbnail:
            entry["thumbnail"] = thumbnail
        outputs[name] = entry


def _repair_thumbnail(entry: dict | None, names: dict, out_root: Path) -> None:
    """Redraws a missing or outdated thumbnail of an up-to-date PDF (decks keep theirs until they change)."""
    from .write.index import pdf_thumbnail, thumb_path

    if entry is None:
        return
    thumb = entry.get("thumbnail") or {}
    if thumb.get("of") == entry["sha256"] and (out_root / thumb.get("path", "")).is_file():
        return
    name = thumb_path(names["pdf"])
    write_file(out_root / name, pdf_thumbnail((out_root / names["pdf"]).read_bytes()))
    entry["thumbnail"] = {"path": name, "of": entry["sha256"]}


def _write_if_changed(path: Path, data: bytes) -> None:
    """Writes a file atomically unless it already holds exactly these bytes (its mtime is then kept)."""
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return
    except OSError:
        pass
    write_file(path, data)


def _manifest(project, outputs: dict, item_json: dict) -> dict:
    from .errors import rel

    items = {}
    for src in project.sources:
        fs = item_json.get(src.key, [])
        items[src.key] = {"kind": src.kind, "title": src.model.title, "source": rel(src.path, project.root),
                          "language": src.language, "findings": fs, "status": status_of(fs)}
    for slug in project.practices:
        fs = item_json.get(f"practice:{slug}", [])
        items[f"practice:{slug}"] = {"kind": "practice", "source": f"practices/{slug}", "findings": fs,
                                     "status": status_of(fs)}
    for key, fs in item_json.items():
        if key not in items:
            items[key] = {"kind": key.split(":", 1)[0], "findings": fs, "status": status_of(fs)}
    practices = {slug: {"name": p.info.name, "languages": list(p.info.languages)}
                 for slug, p in project.practices.items()}
    return {
        "format": MANIFEST_FORMAT,
        "tool": {"name": "clinicpress", "version": __version__},
        "practices": practices,
        "items": items,
        "outputs": dict(sorted(outputs.items())),
    }


def _report_module():
    try:
        from .write import report
    except ImportError:
        return None
    return report


def _write_report(out_root: Path, project, findings: dict, strict: bool) -> str | None:
    """Writes output/report.json with the checks' own writer (clinicpress.write.report); returns its name."""
    report = _report_module()
    if report is None or not hasattr(report, "write_report"):
        return None
    path = out_root / "report.json"
    report.write_report(findings, project, path, strict=strict)
    return "report.json" if path.is_file() else None


def _print_table(findings: dict, project, reporter: Reporter, strict: bool) -> None:
    """Prints the checks' table (clinicpress.write.report.print_table), or the warnings if it is missing."""
    report = _report_module()
    if report is not None and hasattr(report, "print_table"):
        report.print_table(findings, project, reporter.console, strict=strict)
        return
    warnings = [f for fs in findings.values() for f in fs if f.severity == "warning"]
    if warnings:
        reporter.findings(warnings)


def _narrow(findings: dict, keep: set[str]) -> dict:
    """The same check results (scores and config included) for some keys only."""
    out = type(findings)((k, v) for k, v in findings.items() if k in keep)
    if hasattr(findings, "__dict__"):
        out.__dict__.update(vars(findings))
    return out


def _print_blocked(key: str, why: list[Finding], jobs: list, reporter: Reporter) -> None:
    where = f" ({len(jobs)} document(s); earlier outputs left as they were)" if jobs else ""
    reporter.console.print(f"[bold red]not rendered:[/bold red] {_esc(key)}{_esc(where)}")
    reporter.findings(why)


def _print_summary(reporter: Reporter, s: dict, practices: int, out_root: Path) -> None:
    parts = [f"{s['rendered']} rendered", f"{s['up_to_date']} up to date"]
    if s["removed"]:
        parts.append(f"{s['removed']} removed")
    if s["blocked"]:
        parts.append(f"{s['blocked']} not rendered (checks failed)")
    if s["failed"]:
        parts.append(f"{s['failed']} failed")
    how = f", {s['workers']} workers" if s["workers"] else ""
    reporter.info(f"{', '.join(parts)} for {practices} practice(s) in {s['seconds']:.2f} s{how} → {out_root}")


# --------------------------------------------------------------------------- no-op builds
def _render_warnings(outputs: dict) -> list[Finding]:
    """Warnings only the rendered files show (page budget, deck layout fit), once per document.

    They are kept in the manifest, so a build that renders nothing still lists them.
    """
    seen: dict[tuple, Finding] = {}
    for _, entry in sorted(outputs.items()):
        for data in entry.get("render_findings", []):
            if data.get("severity") == "warning":
                f = finding_from_json(data)
                seen.setdefault((entry.get("job"), f.check, f.message), f)
    return list(seen.values())


def _up_to_date(state: dict, fingerprint: str, hashes: FileHashes, out_root: Path) -> bool:
    """True if the last complete build had these exact inputs and its files are untouched."""
    if not state.get("fingerprint") or state["fingerprint"] != fingerprint or not state.get("written"):
        return False
    return all(hashes.maybe(out_root / name) == sha for name, sha in state["written"].items())


def _report_up_to_date(state: dict, out_root: Path, reporter: Reporter, args, started: float,
                       hashes: FileHashes, fingerprint: str) -> int:
    """Reports the last build's results again without loading anything."""
    manifest = load_manifest(out_root)
    items = manifest.get("items", {})
    findings = {key: [finding_from_json(f) for f in item.get("findings", [])] for key, item in items.items()}
    failing = _failing(findings, bool(args.strict))
    counts = {"pass": 0, "warn": 0, "fail": 0}
    for key, item in items.items():
        counts[status_of(item.get("findings", []))] += 1
    if not args.quiet and items:
        reporter.info(f"checks (unchanged since the last build): {counts['pass']} pass, {counts['warn']} with "
                      f"warnings, {counts['fail']} failing; details in output/report.json or `build.py check`")
    for key in state.get("failing", []):
        _print_blocked(key, failing.get(key, []), [], reporter)
    render_warnings = _render_warnings(manifest.get("outputs", {}))
    reporter.findings(render_warnings)
    code = int(state.get("exit_code", 0)) or (1 if args.strict and render_warnings else 0)
    elapsed = time.perf_counter() - started
    documents = len({e.get("job") for e in manifest.get("outputs", {}).values()})
    reporter.info(f"nothing to do: {documents} document(s) for {len(manifest.get('practices', {}))} practice(s) "
                  f"are up to date ({elapsed:.2f} s) → {out_root}")
    if hashes.hashed:  # remember the files just re-read, so the next no-op build only stats them
        last = dict(state.get("last_build") or {})
        last.update({"rendered": 0, "up_to_date": documents, "removed": 0, "blocked": 0, "failed": 0, "workers": 0,
                     "seconds": round(elapsed, 3), "worker_peak_rss_mib": None})
        save_state(out_root, {**state, "hashes": hashes.state(), "last_build": last})
    return code


# --------------------------------------------------------------------------- check
def check(args: argparse.Namespace, reporter: Reporter) -> int:
    """Validates every input and runs the quality checks; writes nothing."""
    from .checks import check_project
    from .load.project import load_project

    root = args.root.resolve()
    project = load_project(root, practices=args.practice)
    for w in project.warnings:
        reporter.problems([w])
    findings = check_project(project)
    if args.only:
        keep = {s.key for s in project.sources if s.slug in args.only}
        keep |= {k for k in findings if k not in {s.key for s in project.sources}}
        findings = _narrow(findings, keep)
    failing = _failing(findings, bool(args.strict))
    if not args.quiet:
        _print_table(findings, project, reporter, bool(args.strict))
    for key, why in sorted(failing.items()):
        reporter.console.print(f"[bold red]fails[/bold red] {key}:")
        reporter.findings(why)
    if args.strict and project.warnings:
        return 1
    counts = {"error": 0, "warning": 0}
    for fs in findings.values():
        for f in fs:
            if f.severity in counts:
                counts[f.severity] += 1
    reporter.info(f"checked {len(project.handouts)} handout(s), {len(project.decks)} deck(s), "
                  f"{len(project.practices)} practice(s): {counts['error']} error(s), {counts['warning']} warning(s)")
    return 1 if failing else 0
