"""What the preview and its renderer process say to each other, pickled over their socket pair.

The conductor sends a request (`Reload`, `Render`, `Check`); the renderer answers `Loaded`,
`Rendered`, `Checked`, or `Failed` for any of them. `Item` and `View` travel inside the answers
and are what the page shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from ...errors import Finding, Problem
from ...render.raster import Image


@dataclass(frozen=True)
class Item:
    """One handout or deck of the chosen practice, as listed in the page."""

    id: str
    """The job's file stem (slug, plus `.es` for Spanish): unique within a practice."""
    kind: str
    title: str
    language: str
    path: str
    """The content file, relative to the project."""
    source_key: str


@dataclass(frozen=True)
class View:
    """The last good render of one item, and the problems of the latest attempt if it failed."""

    rev: int = 0
    """0 until the first good render; grows with each good render (image URLs carry it)."""
    pages: tuple[Image, ...] = ()
    """Handout pages, or deck slides (when LibreOffice is installed)."""
    note: str | None = None
    """Why there are no images (e.g. LibreOffice missing for a deck)."""
    html: bytes | None = None
    files: dict[str, bytes] = field(default_factory=dict)
    """Rendered files by format (pdf, pptx) for the download links."""
    findings: tuple[Finding, ...] = ()
    """Findings of the renderer itself (a deck's overflowing slide)."""
    rendered_at: float = 0.0
    seconds: float = 0.0
    input_key: str | None = None
    """The job's cache key when it was rendered; a change that moves the key re-renders."""
    problems: tuple[Problem, ...] = ()
    """Why the latest render failed (empty when it succeeded); the images stay the last good ones."""
    failed_at: float = 0.0


# --------------------------------------------------------------------------- requests
@dataclass(frozen=True)
class Reload:
    """Load the project again; `changed` are the files that changed since the last load (none at first)."""

    changed: list[str] = field(default_factory=list)
    task: ClassVar[str] = "load"


@dataclass(frozen=True)
class Render:
    """Render one item in memory."""

    item: str
    task: ClassVar[str] = "render"


@dataclass(frozen=True)
class Check:
    """Run every check over the loaded project."""

    task: ClassVar[str] = "check"


Request = Reload | Render | Check


# --------------------------------------------------------------------------- answers
@dataclass(frozen=True)
class Loaded:
    """The project loaded: its items, each job's cache key, the practice's warnings and name."""

    items: list[Item]
    keys: dict[str, str]
    warnings: list[Problem]
    practice_name: str


@dataclass(frozen=True)
class Rendered:
    """An item rendered (its `rev` and `input_key` are the conductor's to fill in)."""

    view: View


@dataclass(frozen=True)
class Checked:
    """The checks ran: findings by source key (`practice:<slug>` for the practice's own)."""

    findings: dict[str, list[Finding]]


@dataclass(frozen=True)
class Failed:
    """A request failed: the problems to show, and the traceback when it was a bug."""

    problems: list[Problem]
    traceback: str | None = None


Answer = Loaded | Rendered | Checked | Failed
