"""A talk deck: its slides, each of one kind (title, bullets, chart, table, ...)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field, model_validator

from .base import CaseFolded, Language, Markdown, Model, Slug
from .parts import Figure, Icon, Reviewed, Table


class Bullet(Model):
    """A bullet with optional sub-bullets (one level down)."""

    text: Markdown
    """The bullet's text (inline CommonMark: **bold**, *italic*, [@key])."""
    sub: list[Markdown] = Field(default_factory=list)
    """Sub-bullets shown one level down."""


BulletItem = Markdown | Bullet


class Column(Model):
    """One side of a two-column slide."""

    heading: str | None = None
    """Optional heading above the column."""
    icon: Icon | None = None
    """Optional icon at the top of the column (a name from the picture library)."""
    bullets: list[BulletItem] = Field(default_factory=list)
    """Bullets in the column."""


class Quote(Model):
    """A quotation and who said it."""

    text: Markdown
    """The quoted words."""
    attribution: str | None = None
    """Who said or wrote it."""


class Series(Model):
    """One data series of a chart."""

    name: str = Field(min_length=1)
    """Legend name of the series."""
    values: list[float] = Field(min_length=1)
    """One value per category."""


class Chart(Model):
    """A native, editable PowerPoint chart."""

    type: Annotated[Literal["bar", "column", "line", "pie"], CaseFolded]
    """Chart type: bar (horizontal), column (vertical), line or pie."""
    categories: list[str] = Field(min_length=1)
    """Category labels (x axis, or pie slices)."""
    series: list[Series] = Field(min_length=1)
    """Data series; a pie chart takes exactly one."""
    number_format: str = "General"
    """Excel number format for data labels and the value axis, e.g. '0%' or '0.0'."""
    caption: Markdown | None = None
    """Source or explanation shown under the chart."""

    @model_validator(mode="after")
    def _shape(self) -> "Chart":
        for s in self.series:
            if len(s.values) != len(self.categories):
                raise ValueError(f"series {s.name!r} has {len(s.values)} values for {len(self.categories)} categories")
        if self.type == "pie" and len(self.series) != 1:
            raise ValueError("a pie chart takes exactly one series")
        return self


class IconPoint(Model):
    """One icon of an icon row and the short text under it."""

    icon: Icon
    """The icon (a name from the picture library); its alternative text is the icon's meaning."""
    text: Markdown
    """A few words under the icon (inline CommonMark)."""


SlideLayout = Literal[
    "title",
    "section",
    "bullets",
    "two_column",
    "image",
    "diagram",
    "icon_row",
    "big_number",
    "quote",
    "chart",
    "table",
    "references",
    "closing",
]


class Slide(Model):
    """One slide: a layout name, the fields that layout uses, and speaker notes."""

    layout: Annotated[SlideLayout, CaseFolded]
    """Which layout to use; maps to a layout of the practice's (or the default) master."""
    title: str | None = Field(default=None, max_length=120)
    """Slide title (unique within the deck). Title and closing slides default to the deck's."""
    subtitle: str | None = None
    """Subtitle (title and section slides)."""
    bullets: list[BulletItem] = Field(default_factory=list)
    """Bullets (bullets layout)."""
    left: Column | None = None
    """Left column (two_column layout)."""
    right: Column | None = None
    """Right column (two_column layout)."""
    image: Figure | None = None
    """Picture with alt text and caption (image layout: the picture fills the slide; diagram
    layout: the picture beside the bullets)."""
    icons: list[IconPoint] = Field(default_factory=list, max_length=4)
    """Two to four icons in a row, each with a few words under it (icon_row layout)."""
    number: str | None = None
    """The big number or key fact, e.g. "About 70%" (big_number layout; diagram layout: above the text)."""
    text: Markdown | None = None
    """Explanation under the big number, or a short paragraph."""
    quote: Quote | None = None
    """The quotation (quote layout)."""
    chart: Chart | None = None
    """Chart data (chart layout)."""
    table: Table | None = None
    """Table data (table layout)."""
    notes: str | None = None
    """Speaker notes: what to say, in full sentences, and a description of any image."""

    @model_validator(mode="after")
    def _fields_for_layout(self) -> "Slide":
        needs = {
            "bullets": ("bullets",),
            "two_column": ("left", "right"),
            "image": ("image",),
            "diagram": ("image",),
            "icon_row": ("icons",),
            "big_number": ("number",),
            "quote": ("quote",),
            "chart": ("chart",),
            "table": ("table",),
        }.get(self.layout, ())
        missing = [f for f in needs if not getattr(self, f)]
        if self.layout == "diagram" and not (self.bullets or self.text or self.number):
            raise ValueError("layout 'diagram' needs bullets, text or a number beside its image")
        if self.layout == "icon_row" and len(self.icons) == 1:
            raise ValueError("an icon row needs two to four icons")
        if missing:
            raise ValueError(f"layout {self.layout!r} needs {', '.join(missing)}")
        if self.layout not in ("title", "closing", "references") and not self.title:
            raise ValueError(f"layout {self.layout!r} needs a title")
        return self


class Deck(Model):
    """A talk: slides in order, each with speaker notes."""

    slug: Slug
    """Identifier used in output file names; must match the file name without .yml."""
    title: str = Field(min_length=3, max_length=120)
    """Talk title (title slide and file properties)."""
    subtitle: str | None = None
    """Subtitle on the title slide."""
    language: Language = "en"
    """Language of the slides."""
    translation_of: Slug | None = None
    """For a translation: the slug of the English original."""
    translated_from_review: dt.date | None = None
    """For a translation: the original's reviewed date the translation is based on."""
    translator_review: Literal["needed", "done"] | None = None
    """For a translation: `needed` until a qualified medical translator has checked it (`check` notes it)."""
    description: str | None = None
    """One-sentence description for file properties and the index."""
    keywords: list[str] = Field(default_factory=list)
    """Keywords for the file properties."""
    reviewed: Reviewed
    """Last clinical review (date and reviewer)."""
    handout: Slug | None = None
    """Slug of the audience handout that goes with the talk."""
    slides: list[Slide] = Field(min_length=1)
    """The slides in order. A references slide is added if none is given and the deck cites."""
