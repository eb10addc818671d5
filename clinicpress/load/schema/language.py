"""A language record (templates/languages/<tag>.yml): what printing a language needs beyond its messages."""

from __future__ import annotations

from pydantic import Field

from .base import Model


class LanguageRecord(Model):
    """How handouts print one language: its script, the font family that covers it and its
    hyphenation dictionary. Text direction comes from Babel (`Locale.text_direction`), dates
    and numbers from Babel's data for the tag and the practice's country, and messages from
    templates/i18n/<tag>.yml (then the language without its region: `en-GB` falls back to `en`).
    A language with no record uses Babel's script, the theme's fonts and Pyphen's dictionary
    for the tag if it has one."""

    script: str | None = Field(default=None, pattern=r"^[A-Z][a-z]{3}$")
    """ISO 15924 script code, e.g. Latn, Arab, Hans, Deva."""
    font: str | None = Field(default=None, min_length=2, max_length=80)
    """Font family that covers the script (e.g. "Noto Sans Arabic"), used before the theme's
    fonts; it must be installed (see the README's set-up commands). Leave it out for Latin
    scripts the theme's fonts cover."""
    font_files: dict[int, str] = Field(default_factory=dict)
    """A font shipped with ClinicPress: its files in templates/handout/fonts/ by weight, e.g.
    `{400: Vazirmatn-Regular.ttf, 700: Vazirmatn-Bold.ttf}` (SIL OFL, with its licence). Leave
    out for a system font."""
    font_package: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9.+-]+$")
    """For a system font: the Debian package that installs it (named in the error when it is
    missing; scripts/setup.sh installs the shipped languages' packages)."""
    hyphenation: str | None = Field(default=None, pattern=r"^[a-z]{2,3}(?:_[A-Z]{2})?$")
    """Pyphen dictionary for `hyphens: auto` (e.g. en_GB); leave out to use the one for the tag."""
    language_help: str | None = Field(default=None, min_length=10, max_length=300)
    """The language-help tagline in this language and script ("Free help in <language>: call
    {phone}"), printed when a practice lists the language under `language_help`. {phone} is
    filled in with the practice's phone number."""
    spelling: dict[str, str] = Field(default_factory=dict)
    """For a locale of a language (en-GB): whole words of the language's content respelled when a
    practice in this locale prints it, e.g. `celiac: coeliac`. Keys are lower case; the case of
    the word printed is kept (Celiac → Coeliac). Never applied inside links, citations or the
    names in `keep`; list every form (`color`, `colors`, `colored`): the spelling check names
    forms the map misses."""
    keep: list[str] = Field(default_factory=list)
    """Proper names never respelled (e.g. "Celiac Disease Foundation"); the practice's own name
    is always kept."""
    language_help_reviewed: bool = False
    """True once a qualified translator has reviewed `language_help`; until then the shipped
    tagline is a draft."""
