"""Phase two of a build: plan jobs, render them, write outputs atomically, record a manifest.

A job is one output file: (content item × practice × language × variant × format).
Outputs are written to a temporary file in the same folder and renamed into place, so a
reader never sees half a file and an interrupted build never loses the previous output.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .errors import BuildError, Finding, Problem, rel
from .practice import PracticeContext
from .project import Project, Source
from .render.handout import VARIANTS, Variant

TMP_PREFIX = ".clinicpress-tmp-"


@dataclass(frozen=True)
class Job:
    """One output to produce."""

    source: Source
    practice: PracticeContext
    variant: Variant
    formats: tuple[str, ...]
    """pdf+html for handouts (rendered together: the PDF is made from the HTML), pptx for decks."""

    @property
    def stem(self) -> str:
        lang = "" if self.source.language == "en" else f".{self.source.language}"
        return f"{self.source.slug}{lang}{self.variant.suffix}"

    @property
    def key(self) -> str:
        return f"{self.practice.slug}/{self.stem}"

    def outputs(self, out_root: Path) -> dict[str, Path]:
        folder = out_root / self.practice.slug
        return {fmt: folder / f"{self.stem}.{fmt}" for fmt in self.formats}


@dataclass
class Result:
    """What a job produced."""

    job_key: str
    files: dict[str, bytes] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    pages: int | None = None


def plan(project: Project, *, only: list[str] | None = None, formats: set[str] | None = None,
         variants: list[str] | None = None) -> list[Job]:
    """Returns every job, in a stable order: practice, kind, slug, language, variant."""
    jobs: list[Job] = []
    variant_names = variants or ["standard"]
    for pslug, practice in sorted(project.practices.items()):
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


def run_job(project: Project, job: Job, out_root: Path) -> Result:
    """Renders one job in memory; nothing is written here."""
    from .templating import Templates

    src = job.source
    shown = rel(src.path, project.root)
    result = Result(job.key)
    if src.kind == "handout":
        from .render.handout import render_html, render_pdf

        out_dir = out_root / job.practice.slug
        html = render_html(src.model, job.practice, project.bibliography, job.variant, _templates(project.root),
                           src.path.parent, out_dir)
        pdf = render_pdf(html, base_url=out_dir, root=project.root, practice=job.practice,
                         reviewed=src.model.reviewed.date, source_path=shown)
        result.files = {"pdf": pdf, "html": html.encode("utf-8")}
    else:
        from .render.deck import render_deck

        pptx, findings = render_deck(src.model, job.practice, project.bibliography, project.root, shown)
        result.files = {"pptx": pptx}
        result.findings.extend(findings)
    return result


_TEMPLATES: dict[Path, object] = {}


def _templates(root: Path):
    from .templating import Templates

    if root not in _TEMPLATES:
        _TEMPLATES[root] = Templates(root)
    return _TEMPLATES[root]


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
        try:
            write_atomic(path, result.files[fmt])
        except OSError as exc:
            raise BuildError(Problem(rel(path), message=f"cannot write output: {exc.strerror or exc}",
                                     hint=_write_hint(exc))) from None
        written[fmt] = path
    return written


def _write_hint(exc: OSError) -> str:
    import errno

    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return "the disk is full; free some space and build again (earlier outputs are intact)"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "the output folder is read-only; choose another with --output or fix its permissions"
    return "check the output folder"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def clean_temp_files(out_root: Path) -> list[Path]:
    """Removes temporary files left by an interrupted build; returns what was removed."""
    removed = []
    if out_root.is_dir():
        for p in out_root.rglob(TMP_PREFIX + "*"):
            try:
                p.unlink()
                removed.append(p)
            except OSError:
                pass
    return removed


def write_json(path: Path, data) -> None:
    write_atomic(path, (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8"))
