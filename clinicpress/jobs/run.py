"""Renders one job in memory (nothing is written here) and measures the process doing it.

`execute` is the one function both the serial path and the pool's workers run, so serial and
parallel builds give the same bytes. Caches kept between documents (the compiled templates)
live here and are cleared by `reset_caches()`.
"""

from __future__ import annotations

import gc
import hashlib
import os
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import BUDGET_HINT, OverBudget, Problem, UserError, rel
from .budget import Budget, enforced
from .model import Job, Result, Task

if TYPE_CHECKING:  # pragma: no cover
    from ..load.project import Project
    from ..render.templating import Templates


def run_job(
    project: "Project", job: Job, out_root: Path, budget: Budget | None = None, *, stop_process: bool = False
) -> Result:
    """Renders one job in memory, within its time and memory budget; nothing is written here.

    `stop_process`: end this process should rendering still run at the hard limit (where no
    other process watches it: -j 1, the preview's renderer; see jobs/budget.py).

    Running over the budget is the user's problem to fix (a template too slow or too large):
    a template reports it at its line (render/templating.py); anywhere else it is reported for
    the document and its practice's templates."""
    budget = budget or Budget.of()
    try:
        what = f"rendering {rel(job.source.path, project.root)} for {job.practice.slug}"
        with enforced(budget, stop_process=what if stop_process else None):
            return _render(project, job, out_root)
    except (OverBudget, MemoryError) as exc:
        what = (
            f"took longer than {budget.seconds:g} s, its budget, and was stopped"
            if isinstance(exc, OverBudget)
            else f"needed more than {budget.memory_mib} MiB of memory, its budget, and was stopped"
        )
        raise UserError(budget_problem(project, job, what, budget)) from None


def budget_problem(project: "Project", job: Job, what: str, budget: Budget) -> Problem:
    """The error for a document stopped while rendering: the document, what happened, its templates."""
    templates = job.practice.root / "templates"
    where = rel(templates if templates.is_dir() else project.root / "templates", project.root)
    return Problem(
        rel(job.source.path, project.root),
        message=f"rendering this {job.source.kind} for {job.practice.slug} {what} (templates: {where})",
        hint=BUDGET_HINT,
    )


def _render(project: "Project", job: Job, out_root: Path) -> Result:
    src = job.source
    shown = rel(src.path, project.root)
    result = Result(job.key)
    if src.kind == "handout":
        from ..render.handout import page_budget, print_handout, render_document
        from ..render.handout.subset import bound_cuts

        bound_cuts()  # between documents: a long-running process keeps its font cuts bounded
        out_dir = out_root / job.practice.slug
        rendered = render_document(
            src.model,
            job.practice,
            project.bibliography,
            job.variant,
            templates(project.root),
            src.path.parent,
            out_dir,
            project.signoff(job.practice.slug, src),
            pictures=project.pictures,
        )
        html = rendered.html
        result.files = {"html": html.encode("utf-8")}
        if "pdf" in job.formats:  # an HTML-only job lays out no pages (as `check`, it has no page budget)
            printed = print_handout(
                html,
                base_url=out_dir,
                root=project.root,
                practice=job.practice,
                reviewed=src.model.reviewed.date,
                source_path=shown,
                language=src.language,
                required=rendered.required,
            )
            result.files["pdf"] = printed.pdf
            result.pages = printed.pages
            result.findings.extend(page_budget(printed, job.variant, job.practice, shown))
    else:
        from ..render.deck import render_deck

        pptx, findings = render_deck(
            src, job.practice, project.bibliography, project.root, signoff=project.signoff(job.practice.slug, src)
        )
        result.files = {"pptx": pptx}  # also when only the presenter's PDF is written: slide count, thumbnail
        result.findings.extend(findings)
        if "slides-pdf" in job.formats:
            result.files["slides-pdf"] = presenter_pdf(pptx, shown)
    return result


def presenter_pdf(pptx: bytes, shown: str) -> bytes:
    """The presenter's PDF of a deck (notes pages, through LibreOffice); a UserError says why not."""
    from ..render import raster

    try:
        return raster.notes_pdf(pptx)
    except raster.RasterError as exc:
        raise UserError(
            Problem(
                shown,
                message=f"cannot make the presenter's PDF (--format slides-pdf): {exc}",
                hint="install LibreOffice (https://www.libreoffice.org) or build without --format slides-pdf; "
                "the PPTX itself does not need it",
            )
        ) from None


_TEMPLATES: dict[Path, Templates] = {}
"""Compiled template environments, one per project root, kept warm between documents."""


def templates(root: Path) -> Templates:
    """Returns the project's template environment, compiled once per process."""
    from ..render.templating import Templates

    if root not in _TEMPLATES:
        _TEMPLATES[root] = Templates(root)
    return _TEMPLATES[root]


def reset_caches() -> None:
    """Forgets every compiled template, parsed stylesheet, loaded font and font cut (after a
    template, stylesheet, font or translation changed on disk)."""
    _TEMPLATES.clear()
    pdf = sys.modules.get("clinicpress.render.handout.pdf")
    if pdf is not None:
        pdf.reset_sheets()
    fetcher = sys.modules.get("clinicpress.render.handout.fetcher")
    if fetcher is not None:  # fonts loaded by URL: a font file replaced under its name is read again
        fetcher.reset_fonts()


def reset_render_caches(changed: list[str] | None = None) -> bool:
    """Drops what the renderers keep between documents, so an edited template, catalogue or font
    shows; returns whether it did (`changed` None: always).

    A build is one short process; the preview's renderer and `build --watch` live on. Their
    compiled templates, message catalogues, deck layout map and font metrics may come from any
    file under templates/ or practices/, so a change there drops them all.
    """
    if changed is not None and not any(p.startswith(("templates/", "practices/")) for p in changed):
        return False
    # Only what this process has loaded keeps anything (a handouts-only session never imports the deck).
    for name in (
        "clinicpress.jobs.run",
        "clinicpress.load.i18n",
        "clinicpress.load.helplines",
        "clinicpress.render.deck",
    ):
        module = sys.modules.get(name)
        if module is not None:
            module.reset_caches()
    return True


def execute(
    project: "Project",
    task: Task,
    out_root: Path,
    *,
    slide_images: bool = True,
    budget: Budget | None = None,
    stop_process: bool = False,
    watch: Callable[[str | None], None] | None = None,
) -> Result:
    """Renders a job and adds its page count and thumbnail; failures come back in the Result.

    The one function both the serial path and the workers run. `watch` is told the job's key
    when rendering starts and None when it ends (a pool's watchdog times the rendering);
    `stop_process`: see `run_job`.
    """
    import traceback

    from ..render import raster

    started = time.perf_counter()
    job = task.job
    try:
        if watch is not None:
            watch(job.key)
        result = run_job(project, job, out_root, budget, stop_process=stop_process)
        if watch is not None:
            watch(None)
        # `thumbnail_of` says what the output's thumbnail shows: a PDF's bytes, a deck's slide
        # one (pptx_adapter.slide_one_digest). The picture is drawn only when that changed.
        if "pdf" in result.files:
            pdf = result.files["pdf"]
            result.thumbnail_of = hashlib.sha256(pdf).hexdigest()
            if result.thumbnail_of != task.thumbnail_of:
                result.thumbnail = raster.pdf_thumbnail(pdf)
        elif "pptx" in result.files:
            pptx = result.files["pptx"]
            result.slides = raster.pptx_slides(pptx)
            from ..render.pptx_adapter import slide_one_digest

            result.thumbnail_of = slide_one_digest(pptx)
            if result.thumbnail_of != task.thumbnail_of:
                result.thumbnail = raster.slide_thumbnail(pptx) if slide_images else None
                if result.thumbnail is None:
                    result.thumbnail_of = None
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


def warm_up(project: "Project", kinds: Iterable[str]) -> None:
    """Imports and prepares what rendering needs, once per process (an optimisation only)."""
    kinds = set(kinds)
    try:
        if "handout" in kinds:
            import weasyprint

            from ..render import handout

            fonts = handout.font_config()
            # A first tiny document loads Pango, HarfBuzz and the user-agent stylesheet.
            weasyprint.HTML(string="<p>warm</p>").write_pdf(font_config=fonts)
            templates(project.root)
        if "deck" in kinds:
            import pptx  # noqa: F401
        import pypdfium2  # noqa: F401  (page counts and thumbnails)
    except Exception:  # a failed warm-up shows up again, with a proper message, in the job itself
        pass
    # What is alive now (modules, fonts, the project, compiled templates) lives as long as the
    # process: the cyclic collector need not walk it again. Without this, its full collections
    # cost 50 warm handout renders 1.0-1.2 s in all, about a tenth of their time; with it, 0.3 s.
    # (A kept worker's project is later replaced whole; it holds no reference cycles, so
    # reference counting still frees the old one.)
    gc.freeze()
