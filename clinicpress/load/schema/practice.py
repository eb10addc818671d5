"""A practice (practice.yml): name, clinicians, contact details, languages, variants."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from .base import CaseFolded, Language, Localized, Model

VariantName = Literal["standard", "large-print", "print-shop"]


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

    language_assistance: Localized | None = None
    """Notice that free language assistance is available, in the handout's language (text or per
    language, `{en: ..., es: ...}`); other languages are reached by the taglines (`language_help`)."""
    nondiscrimination: Localized | None = None
    """Nondiscrimination notice; per language, a handout prints its own language's text."""


class Practice(Model):
    """One medical practice: who they are, how to reach them, how their handouts print."""

    name: str = Field(min_length=2, max_length=100)
    """Practice name as shown on handouts and slides."""
    tagline: Localized | None = None
    """Short line under the name, e.g. "Rheumatology and autoimmune care"; text or per language
    (`{en: ..., es: ...}`)."""
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
    hours: list[Localized] = Field(default_factory=list)
    """Opening hours, one line per item; each item text or per language (`{en: ..., es: ...}`)."""
    languages: list[Language] = Field(default_factory=lambda: ["en"], min_length=1)
    """Languages the practice offers (BCP 47 tags: en, en-GB, es, zh-Hans, ar, ...); a handout is
    built in each one that exists. Each needs a message catalogue in templates/i18n/."""
    paper: Annotated[Literal["letter", "a4"], CaseFolded] = "letter"
    """Paper size for handouts: letter (US) or a4."""
    columns: Literal[1, 2] = 1
    """Handout body in one or two columns."""
    variants: list[Annotated[VariantName, CaseFolded]] = Field(
        default_factory=lambda: list[VariantName](["standard"]), min_length=1
    )
    """Handout variants every build makes for this practice: standard, large-print (18 pt, one
    column) and print-shop (3 mm bleed and crop marks). `--variant` on the command line wins."""
    reviewer: str | None = None
    """No longer printed (a warning): a handout names the clinician who approved its exact text,
    recorded in approvals.yml by `python build.py approve`."""
    country: str = Field(default="US", pattern=r"^[A-Z]{2}$")
    """ISO country code (US, GB, ...): sets date formats, spelling of built-in texts and the
    emergency and crisis numbers printed (templates/help-lines.yml; a country with none is an error)."""
    emergency_number: str | None = None
    """No longer read (a warning): the emergency and crisis numbers come from `country`, in
    templates/help-lines.yml."""
    language_help: list[Language] = Field(default_factory=list, max_length=15)
    """Languages the language-help notice must reach (US Section 1557: the top 15 of the state),
    e.g. [es, zh-Hans, vi, ko, tl]. Each prints its tagline (templates/languages/<tag>.yml
    `language_help`) in its own script with its own `lang`, in a compact block under the
    notices, as do the practice's other `languages`; the handout's own language is left out."""
    notices: Notices | None = None
    """Optional language-assistance and nondiscrimination notices for the back page."""
    footer_note: Localized | None = None
    """Optional extra line in the footer; text or per language (`{en: ..., es: ...}`)."""
    deck_master: str | None = None
    """Optional PowerPoint master (.pptx or .potx) in the practice folder."""
    sample: bool = False
    """True for a fictional practice shipped to try ClinicPress with: its placeholder details
    (555 numbers, `.example` addresses) are expected, so they are one note, not a warning each."""

    @field_validator("languages", "language_help")
    @classmethod
    def _unique_languages(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError("a language is listed twice")
        return v
