"""BuildSettings: what one build or check is asked to do, typed, made by the CLI or the API."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .errors import Problem, UsageError


@dataclass(frozen=True)
class BuildSettings:
    """The options of `build` and `check`; every field has the default the CLI has."""

    root: Path = Path(".")
    """The project folder (content/, practices/, templates/)."""
    output: Path | None = None
    """The output folder; None means ROOT/output."""
    practices: tuple[str, ...] = ()
    """Only these practices (slugs); empty means every practice."""
    only: tuple[str, ...] = ()
    """Only these handouts and decks (slugs); empty means all."""
    formats: tuple[str, ...] = ()
    """Only these formats (pdf, html, pptx); empty means all."""
    variants: tuple[str, ...] = ()
    """Handout variants (standard, large-print, print-shop); empty means each practice's own list."""
    strict: bool = False
    """Warnings fail the build as errors do."""
    jobs: int | None = None
    """Worker processes; None means one per core this process may use, 1 renders in this process."""
    scheduler: str | None = None
    """Where to render: a Dask scheduler address (tcp://HOST:8786), `local-cluster`, or `local`
    (the process pool); None means the project's `executor`/`scheduler` options (default local)."""
    no_cache: bool = False
    """Render every selected job again, re-hashing every file (outputs outside the selection stay valid)."""
    slide_images: bool = True
    """Draw each deck's first slide for output/index.html with LibreOffice."""
    quiet: bool = False
    """Plain, minimal output (for CI logs)."""
    verbose: bool = False
    """Say why each document is rendered, list notes as well as errors and warnings, show tracebacks of internal errors."""
    report_format: str = "table"
    """How `check` reports: a table for people, or `json` (the report.json shape) on standard output for scripts."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root).resolve())
        if self.output is not None:
            object.__setattr__(self, "output", Path(self.output).resolve())
        for name in ("practices", "only", "formats", "variants"):
            object.__setattr__(self, name, tuple(getattr(self, name) or ()))

    @property
    def out_root(self) -> Path:
        """The output folder, resolved."""
        return self.output or self.root / "output"

    def workers(self) -> int:
        """-j N, or the number of CPUs this process may run on (which a container may limit)."""
        if self.jobs is None:
            try:
                return len(os.sched_getaffinity(0)) or 1
            except (AttributeError, OSError):
                return os.cpu_count() or 1
        if self.jobs < 1:
            raise UsageError(
                Problem(
                    "build.py",
                    field="-j",
                    message=f"needs at least 1 worker, got {self.jobs}",
                    hint="use -j 1 to render in this process",
                )
            )
        return self.jobs

    def fingerprint_options(self) -> dict:
        """The options that change what a build produces (part of the project fingerprint)."""
        return {
            "practice": sorted(self.practices),
            "only": sorted(self.only),
            "format": sorted(self.formats),
            "variant": sorted(self.variants),
            "strict": self.strict,
            "slide_images": self.slide_images,
            "output": os.path.relpath(self.out_root, self.root),
        }

    def wants(self, slug: str) -> bool:
        """True if the item with this slug is part of this build (--only)."""
        return not self.only or slug in self.only


def require_project(root: Path) -> None:
    """Refuses a folder that is not a ClinicPress project (before anything is read or written)."""
    if not root.is_dir():
        raise UsageError(Problem(str(root), message="no such folder", hint="pass --root with your project folder"))
    if not any((root / part).is_dir() for part in ("content", "practices")):
        raise UsageError(
            Problem(
                str(root),
                message="not a ClinicPress project: there is no content/ or practices/ folder here",
                hint="run the command in your project folder, or pass --root PROJECT",
            )
        )
