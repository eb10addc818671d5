"""A handout: what one printed patient sheet says, section by section."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from .base import CaseFolded, Language, Markdown, Model, Slug
from .parts import Callout, Figure, GlossaryEntry, HumanReview, Reviewed, Table


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
    language: Annotated[Language, CaseFolded] = "en"
    """Language of the text: en, es, ar or zh-Hans (sets direction, fonts, hyphenation, PDF language and messages)."""
    translation_of: Slug | None = None
    """For a translation: the slug of the English original it was translated from."""
    translated_from_review: dt.date | None = None
    """For a translation: the original's reviewed date the translation is based on."""
    translator_review: Literal["needed", "done"] | None = None
    """For a translation: `needed` until a qualified medical translator has checked it against the
    original; until then every printed page says so (in the footer, in the handout's language and
    in English) and `check` notes it; a practice prints it as a draft until it approves it."""
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
