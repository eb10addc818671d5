"""Parts handouts and decks share: review record, figures, tables, callouts, glossary entries."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field, model_validator

from .base import CaseFolded, Markdown, Model


class Reviewed(Model):
    """Who last checked the content against the evidence, and when."""

    date: dt.date
    """Date of the last clinical review (YYYY-MM-DD); shown as "Last reviewed"."""
    by: str = Field(min_length=2)
    """Name and credentials of the reviewer, e.g. "Dana Ortiz, MD"."""


PEMAT_HUMAN_ITEMS = (
    "purpose_evident",
    "logical_order",
    "no_distracting_content",
    "clear_illustrations",
    "actions_explained",
)


class HumanReview(Model):
    """A person's sign-off for the PEMAT-P items a program cannot judge."""

    by: str = Field(min_length=2)
    """Who judged the items."""
    date: dt.date
    """When they judged them."""
    items: list[Literal[PEMAT_HUMAN_ITEMS]] = Field(min_length=1)  # type: ignore[valid-type]
    """Which human-judged PEMAT-P items the reviewer confirms are met."""


ICON_RE = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
Icon = Annotated[str, Field(pattern=ICON_RE, max_length=40)]
"""The name of an icon of the picture library (`templates/pictures/icons.yml`), e.g. `medicines`.
It prints in the practice's primary colour; its alternative text is the icon's meaning from
the library, in the content's language."""


class Figure(Model):
    """A picture with the alternative text a screen reader speaks and a visible caption."""

    src: str = Field(min_length=1)
    """A picture of the library by name (`gut-gate`, `gut-brain`, `link-not-cause`, or an icon's
    name), drawn in the practice's primary colour; or an image path relative to the content
    file's folder (PNG, JPEG or SVG inside the project)."""
    alt: str = Field(min_length=1)
    """Alternative text: what the picture shows and means, for people who cannot see it. Required."""
    caption: Markdown | None = None
    """Visible caption under the image."""
    decorative: bool = False
    """True only for images that carry no information (then marked as an artifact)."""


class Table(Model):
    """A simple table: one header row, then data rows of the same width."""

    caption: str | None = None
    """Caption shown above the table and used as its accessible summary."""
    header: list[str] = Field(min_length=1)
    """Column headings (tagged as header cells)."""
    rows: list[list[str]] = Field(min_length=1)
    """Data rows; each must have as many cells as the header."""

    @model_validator(mode="after")
    def _rows_match_header(self) -> "Table":
        for i, row in enumerate(self.rows):
            if len(row) != len(self.header):
                raise ValueError(f"row {i + 1} has {len(row)} cells but the header has {len(self.header)}")
        return self


class Callout(Model):
    """A boxed note inside a section."""

    kind: Annotated[Literal["info", "tip", "warning"], CaseFolded] = "info"
    """Box style: info (neutral), tip (positive), warning (caution)."""
    title: str | None = None
    """Short heading inside the box."""
    icon: Icon | None = None
    """Icon printed beside the box's heading (a name from the picture library)."""
    body: Markdown
    """Text of the box (CommonMark)."""


class GlossaryEntry(Model):
    """A medical or technical word and its plain-language meaning."""

    term: str = Field(min_length=1)
    """The word as it appears in the text."""
    definition: Markdown
    """What it means, in plain words."""
