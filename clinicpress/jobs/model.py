"""The job model: one job is one document (content item x practice x language x variant).

A job is rendered to its formats together (a handout's PDF is made from its HTML; a deck is
one PPTX, and the presenter's PDF made from it when asked for). Each job has a stable key (`<practice>/<stem>`) and an inputs hash
(`clinicpress.write.cache.JobKeys`). Nothing heavy is imported here: a no-op build stays fast.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import Finding, Problem

if TYPE_CHECKING:  # pragma: no cover
    from ..load.practice import PracticeContext
    from ..load.project import Project, Source
    from ..render.handout import Variant

DECK_FORMATS = ("pptx", "slides-pdf")
"""A deck's formats: the PPTX, and the presenter's PDF (each slide above its speaker notes)."""
FILE_ENDINGS = {"slides-pdf": "slides.pdf"}
"""Formats whose file name does not end in the format's name."""


@dataclass(frozen=True)
class Job:
    """One document to produce."""

    source: "Source"
    practice: "PracticeContext"
    variant: "Variant"
    formats: tuple[str, ...]
    """The files to write: pdf and/or html for handouts (the PDF is made from the HTML), pptx for decks."""

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

    @property
    def main_format(self) -> str | None:
        """The format the thumbnail and page count come from (pdf or pptx); None for HTML only."""
        return next((f for f in ("pdf", "pptx") if f in self.formats), None)

    def outputs(self, out_root: Path) -> dict[str, Path]:
        folder = out_root / self.practice.slug
        return {fmt: folder / f"{self.stem}.{FILE_ENDINGS.get(fmt, fmt)}" for fmt in self.formats}

    def output_names(self) -> dict[str, str]:
        """Returns each format's path relative to the output folder (posix), as in the manifest."""
        return {fmt: f"{self.practice.slug}/{self.stem}.{FILE_ENDINGS.get(fmt, fmt)}" for fmt in self.formats}


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
    place: str = ""
    """The cluster worker that rendered it (its address); empty for the local pool."""

    @property
    def ok(self) -> bool:
        return not self.problems and self.error is None


@dataclass(frozen=True)
class Task:
    """A job plus what the worker should know to avoid redoing a thumbnail."""

    job: Job
    thumbnail_of: str | None = None
    """sha256 of the file the existing thumbnail shows; None if there is none."""


def plan(
    project: "Project",
    *,
    only: list[str] | None = None,
    formats: set[str] | None = None,
    variants: list[str] | None = None,
) -> list[Job]:
    """Returns every job, in a stable order: practice, kind, slug, language, variant."""
    from ..render.handout import VARIANTS

    jobs: list[Job] = []
    for _, practice in sorted(project.practices.items()):
        variant_names = variants or list(dict.fromkeys(practice.info.variants))
        for src in sorted(project.sources, key=lambda s: (s.kind, s.slug, s.language)):
            if only and src.slug not in only:
                continue
            if src.language not in practice.info.languages:
                continue
            if src.kind == "handout":
                wanted = tuple(f for f in ("pdf", "html") if not formats or f in formats)
                if not wanted:
                    continue
                for name in variant_names:
                    jobs.append(Job(src, practice, VARIANTS[name], wanted))
            else:
                # The presenter's PDF (LibreOffice, seconds per deck) only when asked for.
                wanted = tuple(f for f in DECK_FORMATS if (f in formats if formats else f == "pptx"))
                if not wanted:
                    continue
                jobs.append(Job(src, practice, VARIANTS["standard"], wanted))
    return jobs


def job_from_ident(project: "Project", ident: tuple) -> Job:
    from ..render.handout import VARIANTS

    source_key, practice, variant, formats = ident
    source = next(s for s in project.sources if s.key == source_key)
    return Job(source, project.practices[practice], VARIANTS[variant], tuple(formats))
