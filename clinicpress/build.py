"""The build and check commands, top to bottom: load, plan, render, check, write, index."""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from . import __version__
from .console import Reporter
from .errors import Problem, UserError
from .pipeline import clean_temp_files, plan, run_job, sha256, write_json, write_outputs
from .project import load_project


def build(args: argparse.Namespace, reporter: Reporter) -> int:
    """Loads everything (writing nothing if any input is invalid), then renders and writes."""
    root = args.root.resolve()
    out_root = (args.output or root / "output").resolve()
    started = time.perf_counter()
    project = load_project(root, practices=args.practice)
    for w in project.warnings:
        reporter.problems([w])
    if args.strict and project.warnings:
        raise UserError([Problem(w.path, w.line, w.col, w.field, w.message, w.hint) for w in project.warnings])
    jobs = plan(project, only=args.only, formats=set(args.format) if args.format else None, variants=args.variant)
    if args.only and not jobs:
        known = sorted({s.slug for s in project.sources})
        raise UserError(Problem("content/", message=f"nothing matches --only {' '.join(args.only)}",
                                hint=f"known slugs: {', '.join(known)}"))
    clean_temp_files(out_root)
    results = []
    for job in jobs:
        result = run_job(project, job, out_root)
        written = write_outputs(job, result, out_root)
        results.append((job, result, written))
        if not args.quiet:
            reporter.info(f"  {job.key}: " + ", ".join(p.name for p in written.values()))
    manifest = {
        "tool": {"name": "clinicpress", "version": __version__},
        "outputs": {
            str(path.relative_to(out_root)): {"sha256": sha256(result.files[fmt]), "source": str(job.source.path.relative_to(root)),
                                              "practice": job.practice.slug, "language": job.source.language,
                                              "variant": job.variant.name, "format": fmt}
            for job, result, written in results for fmt, path in written.items()
        },
    }
    write_json(out_root / "manifest.json", manifest)
    reporter.info(f"built {len(results)} job(s) for {len(project.practices)} practice(s) "
                  f"in {time.perf_counter() - started:.1f} s → {out_root}")
    return 0


def check(args: argparse.Namespace, reporter: Reporter) -> int:
    """Validates every input and reports; writes nothing."""
    root = args.root.resolve()
    project = load_project(root, practices=args.practice)
    for w in project.warnings:
        reporter.problems([w])
    if args.strict and project.warnings:
        return 1
    reporter.info(f"checked {len(project.handouts)} handout(s), {len(project.decks)} deck(s), "
                  f"{len(project.practices)} practice(s): no errors")
    return 0
