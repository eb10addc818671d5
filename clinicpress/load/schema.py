"""Pydantic models for handouts, decks and practices: the one description of valid input.

Every model forbids unknown keys and documents each field with a docstring, which the
error messages and `clinicpress schema` reuse. Prose fields are CommonMark and may cite
sources as `[@key]`, keys into `content/references.json`.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SLUG_RE = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
Slug = Annotated[str, Field(pattern=SLUG_RE, max_length=80)]
Markdown = Annotated[str, Field(min_length=1)]
Language = Literal["en", "es"]
LANGUAGES = ("en", "es")


class Model(BaseModel):
    """Base for every input model: unknown keys are errors, docstrings describe fields."""

    model_config = ConfigDict(
        extra="forbid",
        use_attribute_docstrings=True,
        str_strip_whitespace=True,
        frozen=True,
    )


# --------------------------------------------------------------------------- shared parts
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


class Figure(Model):
    """An image with the alternative text a screen reader speaks and a visible caption."""

    src: str = Field(min_length=1)
    """Image path relative to the content file's folder (PNG, JPEG or SVG inside the project)."""
    alt: str = Field(min_length=1)
    """Alternative text: what the image shows, for people who cannot see it. Required."""
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
                raise ValueError(
                    f"row {i + 1} has {len(row)} cells but the header has {len(self.header)}"
                )
        return self


class Callout(Model):
    """A boxed note inside a section."""

    kind: Literal["info", "tip", "warning"] = "info"
    """Box style: info (neutral), tip (positive), warning (caution)."""
    title: str | None = None
    """Short heading inside the box."""
    body: Markdown
    """Text of the box (CommonMark)."""


class GlossaryEntry(Model):
    """A medical or technical word and its plain-language meaning."""

    term: str = Field(min_length=1)
    """The word as it appears in the text."""
    definition: Markdown
    """What it means, in plain words."""


# --------------------------------------------------------------------------- handout
class Section(Model):
    """One short, headed chunk of a handout."""

    heading: str = Field(min_length=1, max_length=120)
    """Informative heading that says what the section is about."""
    body: Markdown | None = None
    """Main prose (CommonMark); cite sources as [@key]."""
    bullets: list[Markdown] = Field(default_factory=list)
    """Optional bullet points shown after the body."""
    steps: list[Markdown] = Field(default_factory=list)
    """Optional numbered steps shown after the bullets."""
    callout: Callout | None = None
    """Optional boxed note."""
    figure: Figure | None = None
    """Optional figure with alt text and caption."""
    table: Table | None = None
    """Optional simple table."""
    no_claims: bool = False
    """True when the section states no factual claims (so it needs no citation)."""

    @model_validator(mode="after")
    def _not_empty(self) -> "Section":
        if not (self.body or self.bullets or self.steps or self.callout or self.figure or self.table):
            raise ValueError("a section needs a body, bullets, steps, a callout, a figure or a table")
        return self


class Handout(Model):
    """A patient handout: one to two printed pages on one topic."""

    slug: Slug
    """Identifier used in output file names; must match the file name without .yml."""
    title: str = Field(min_length=3, max_length=120)
    """Title at the top of page one and in the PDF metadata."""
    language: Language = "en"
    """Language of the text: en or es (sets hyphenation, PDF language and messages)."""
    translation_of: Slug | None = None
    """For a translation: the slug of the English original it was translated from."""
    translated_from_review: dt.date | None = None
    """For a translation: the original's reviewed date the translation is based on."""
    description: str | None = None
    """One-sentence description for the PDF metadata and the output index."""
    keywords: list[str] = Field(default_factory=list)
    """Keywords for the PDF metadata."""
    main_message: Markdown
    """The one thing the reader should remember; shown first, in a highlighted box."""
    summary: Markdown
    """Two or three sentences that sum up the handout."""
    sections: list[Section] = Field(min_length=1)
    """The body of the handout, in reading order."""
    actions: list[Markdown] = Field(min_length=1)
    """"What you can do": concrete steps, shown as a numbered list."""
    questions: list[Markdown] = Field(min_length=1)
    """"Questions to ask at your next visit": shown as a checklist with tick boxes."""
    get_help: list[Markdown] = Field(min_length=1)
    """"When to get help": warning signs that need a call or a visit."""
    glossary: list[GlossaryEntry] = Field(default_factory=list)
    """Medical words used in the handout, with plain meanings."""
    reviewed: Reviewed
    """Last clinical review (date and reviewer)."""
    human_review: HumanReview | None = None
    """Sign-off for PEMAT-P items that need a person's judgement."""
    deck: Slug | None = None
    """For an audience handout: the slug of the talk deck it accompanies."""

    @field_validator("glossary")
    @classmethod
    def _unique_terms(cls, v: list[GlossaryEntry]) -> list[GlossaryEntry]:
        seen: set[str] = set()
        for entry in v:
            key = entry.term.casefold()
            if key in seen:
                raise ValueError(f"glossary term {entry.term!r} is defined twice")
            seen.add(key)
        return v


# --------------------------------------------------------------------------- deck
class Bullet(Model):
    """A bullet with optional sub-bullets (one level down)."""

    text: Markdown
    """The bullet's text (inline CommonMark: **bold**, *italic*, [@key])."""
    sub: list[Markdown] = Field(default_factory=list)
    """Sub-bullets shown one level down."""


BulletItem = Union[Markdown, Bullet]


class Column(Model):
    """One side of a two-column slide."""

    heading: str | None = None
    """Optional heading above the column."""
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

    type: Literal["bar", "column", "line", "pie"]
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
                raise ValueError(
                    f"series {s.name!r} has {len(s.values)} values for {len(self.categories)} categories"
                )
        if self.type == "pie" and len(self.series) != 1:
            raise ValueError("a pie chart takes exactly one series")
        return self


SlideLayout = Literal[
    "title",
    "section",
    "bullets",
    "two_column",
    "image",
    "big_number",
    "quote",
    "chart",
    "table",
    "references",
    "closing",
]


class Slide(Model):
    """One slide: a layout name, the fields that layout uses, and speaker notes."""

    layout: SlideLayout
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
    """Picture with alt text and caption (image layout)."""
    number: str | None = None
    """The big number or key fact, e.g. "About 70%" (big_number layout)."""
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
            "big_number": ("number",),
            "quote": ("quote",),
            "chart": ("chart",),
            "table": ("table",),
        }.get(self.layout, ())
        missing = [f for f in needs if not getattr(self, f)]
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


# --------------------------------------------------------------------------- practice
class Clinician(Model):
    """A clinician at the practice."""

    name: str = Field(min_length=2)
    """Full name."""
    credentials: str | None = None
    """Degrees and titles, e.g. "MD, FACR"."""
    role: str | None = None
    """Role, e.g. "Rheumatologist"."""


class Notices(Model):
    """Legally required or locally expected notices (e.g. US Section 1557 taglines)."""

    language_assistance: str | None = None
    """Notice that free language assistance is available."""
    nondiscrimination: str | None = None
    """Nondiscrimination notice."""


class Practice(Model):
    """One medical practice: who they are, how to reach them, how their handouts print."""

    name: str = Field(min_length=2, max_length=100)
    """Practice name as shown on handouts and slides."""
    tagline: str | None = None
    """Short line under the name, e.g. "Rheumatology and autoimmune care"."""
    clinicians: list[Clinician] = Field(default_factory=list)
    """Clinicians who present talks and see patients."""
    address: list[str] = Field(min_length=1)
    """Postal address, one line per item."""
    phone: str = Field(min_length=3)
    """Main phone number as it should be printed."""
    fax: str | None = None
    """Fax number."""
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    """Contact email."""
    website: str = Field(pattern=r"^https://[^\s]+$")
    """Practice website (https). The QR code links here unless booking_url is set."""
    booking_url: str | None = Field(default=None, pattern=r"^https://[^\s]+$")
    """Online booking page (https); preferred for the QR code."""
    hours: list[str] = Field(default_factory=list)
    """Opening hours, one line per item."""
    languages: list[Language] = Field(default_factory=lambda: ["en"], min_length=1)
    """Languages the practice offers; a handout is built in each one that exists."""
    paper: Literal["letter", "a4"] = "letter"
    """Paper size for handouts: letter (US) or a4."""
    columns: Literal[1, 2] = 1
    """Handout body in one or two columns."""
    variants: list[Literal["standard", "large-print", "print-shop"]] = Field(
        default_factory=lambda: ["standard"], min_length=1)
    """Handout variants every build makes for this practice: standard, large-print (18 pt, one
    column) and print-shop (3 mm bleed and crop marks). `--variant` on the command line wins."""
    reviewer: str | None = None
    """Clinical reviewer shown on handouts; defaults to each handout's own reviewer."""
    country: str = Field(default="US", pattern=r"^[A-Z]{2}$")
    """ISO country code (US, GB, ...): sets date formats and spelling of built-in texts."""
    emergency_number: str = "911"
    """Local emergency number printed in the disclaimer (911 in the US, 999 in the UK)."""
    notices: Notices | None = None
    """Optional language-assistance and nondiscrimination notices for the back page."""
    footer_note: str | None = None
    """Optional extra line in the footer."""
    deck_master: str | None = None
    """Optional PowerPoint master (.pptx or .potx) in the practice folder."""

    @field_validator("languages")
    @classmethod
    def _unique_languages(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError("a language is listed twice")
        return v


CITE_RE = re.compile(r"\[(@[A-Za-z0-9_:.\-]+(?:\s*;\s*@[A-Za-z0-9_:.\-]+)*)\]")
"""A citation group in prose: `[@key]` or `[@key1; @key2]`."""


def cite_keys(text: str) -> list[str]:
    """Returns the citation keys in `text`, in order of first appearance."""
    keys: list[str] = []
    for m in CITE_RE.finditer(text or ""):
        for part in m.group(1).split(";"):
            key = part.strip().lstrip("@")
            if key not in keys:
                keys.append(key)
    return keys
