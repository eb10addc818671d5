"""A handout: what one printed patient sheet says, section by section."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from .base import Language, Markdown, Model, Slug
from .parts import Callout, Figure, GlossaryEntry, HumanReview, Icon, Reviewed, Table


class Step(Model):
    """A numbered step with an icon beside it."""

    text: Markdown
    """The step (inline CommonMark)."""
    icon: Icon
    """Icon printed beside the step (a name from the picture library)."""


class Section(Model):
    """One short, headed chunk of a handout."""

    heading: str = Field(min_length=1, max_length=120)
    """Informative heading that says what the section is about."""
    icon: Icon | None = None
    """Icon printed beside the heading (a name from the picture library); it costs no lines."""
    body: Markdown | None = None
    """Main prose (CommonMark); cite sources as [@key]."""
    bullets: list[Markdown] = Field(default_factory=list)
    """Optional bullet points shown after the body."""
    steps: list[Markdown | Step] = Field(default_factory=list)
    """Optional numbered steps shown after the bullets; a step may be `{text, icon}`."""
    callout: Callout | None = None
    """Optional boxed note."""
    figure: Figure | None = None
    """Optional figure with alt text and caption, printed small beside the text."""
    table: Table | None = None
    """Optional simple table."""
    no_claims: bool = False
    """True when the section states no factual claims (so it needs no citation)."""

    @model_validator(mode="after")
    def _not_empty(self) -> "Section":
        if not (self.body or self.bullets or self.steps or self.callout or self.figure or self.table):
            raise ValueError("a section needs a body, bullets, steps, a callout, a figure or a table")
        return self


EMERGENCY_WORDS = ("911", "999", "112", "emergency number", "número de emergencia", "crisis line", "línea de crisis")
"""Words that send the reader to an emergency or crisis line: only the `emergency` level may say them."""


def _no_emergency_words(item: str) -> str:
    low = item.casefold()
    word = next((w for w in EMERGENCY_WORDS if w in low), None)
    if word is not None:
        raise ValueError(
            f"{item!r} sends the reader to an emergency line ({word!r}); "
            "move it to `emergency` or reword it: the levels never mix"
        )
    return item


BelowEmergency = Annotated[Markdown, AfterValidator(_no_emergency_words)]
"""A warning sign of the `today` or `soon` level: it may not send the reader to an emergency line."""


class GetHelp(Model):
    """When to get help: three levels that never mix, printed in this order.

    Which level a warning sign belongs to is a clinical judgement: a clinician at the practice
    confirms it when approving the handout. The emergency number, the crisis lines and any
    urgent-advice line come from the practice's country (templates/help-lines.yml), never from here.
    """

    emergency: list[Markdown] = Field(min_length=1)
    """Signs that need the emergency number now (911 in the US, 999 in the UK)."""
    today: list[BelowEmergency] = Field(min_length=1)
    """Signs that need a call to the care team today."""
    soon: list[BelowEmergency] = Field(min_length=1)
    """Things to tell the care team at the next visit (not urgent)."""


class Handout(Model):
    """A patient handout: one to two printed pages on one topic."""

    slug: Slug
    """Identifier used in output file names; must match the file name without .yml."""
    title: str = Field(min_length=3, max_length=120)
    """Title at the top of page one and in the PDF metadata."""
    language: Language = "en"
    """Language of the text, a BCP 47 tag (en, es, zh-Hans, ar, ...) with a message catalogue in
    templates/i18n/ (sets direction, hyphenation, fonts, PDF language and messages)."""
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
    """"Questions for your next visit": shown as a checklist with tick boxes."""
    get_help: GetHelp
    """"When to get help": warning signs in three levels (emergency, today, soon)."""
    teach_back: list[Markdown] = Field(min_length=2, max_length=3)
    """"Say it back": two or three questions the reader answers in their own words (teach-back),
    printed near the end with a small "My notes" space of ruled lines."""
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
