"""Languages as data: message catalogues (templates/i18n/<tag>.yml), language records
(templates/languages/<tag>.yml: script, font, hyphenation, language-help tagline), text direction
and locale-aware dates from Babel. Adding a language is adding files, never Python.

A tag's messages come from the chain `en` → its language → the full tag (`en-GB` reads en.yml,
then en-GB.yml if there is one; `zh-Hans` reads en.yml, zh.yml, zh-Hans.yml): a missing message
falls back to the next file up. A language can be printed when the chain has a file of its own
(English always can).
"""

from __future__ import annotations

import datetime as dt
import functools
import string
from dataclasses import dataclass
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import format_date

from ..errors import Problem, UserError, rel
from .loading import load_yaml


class _PlainFormatter(string.Formatter):
    """str.format limited to plain `{name}` fields: a catalogue (practice overrides come from
    outside designers) must not walk attributes (`{x.__init__.__globals__}`) or pad to huge widths."""

    def get_field(self, field_name, args, kwargs):
        if not field_name.isidentifier():
            raise ValueError(f"field {{{field_name}}} is not a plain name")
        return kwargs[field_name], field_name

    def format_field(self, value, format_spec):
        if format_spec:
            raise ValueError("format specifications are not allowed in messages")
        return super().format_field(value, "")


_FORMATTER = _PlainFormatter()


class Messages(dict):
    """Catalogue for one language; `t.key` in templates, `t.fmt(key, **values)` in code."""

    def __getattr__(self, key: str) -> str:
        try:
            return self[key]
        except KeyError:
            raise AttributeError(f"no message {key!r}") from None

    def fmt(self, key: str, **values) -> str:
        try:
            return _FORMATTER.vformat(self[key], (), values)
        except (KeyError, ValueError, IndexError) as exc:
            raise UserError(
                Problem(
                    "templates/i18n",
                    field=key,
                    message=f"message {key!r} cannot be filled in: {exc}",
                    hint=f"it may use only these fields: {', '.join('{' + v + '}' for v in values)}",
                )
            ) from None


def _field_problem(text: str) -> str | None:
    """Why a message text is not a plain `{name}` template (None when it is)."""
    try:
        for _, name, spec, conversion in string.Formatter().parse(text):
            if name is None:
                continue
            if not name.isidentifier() or spec or conversion:
                return f"{{{name}{'!' + conversion if conversion else ''}{':' + spec if spec else ''}}} is not a plain {{name}} field"
    except ValueError as exc:
        return str(exc)
    return None


@functools.cache
def _catalogue(path: Path, root: Path) -> dict:
    data, positions = load_yaml(path, root)
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise UserError(Problem(rel(path, root), 1, None, None, "a message catalogue maps keys to strings"))
    problems = [
        Problem(
            rel(path, root),
            positions.get((key,), (None, None))[0],
            None,
            str(key),
            why,
            hint="messages may only use plain fields such as {number}; write {{ and }} for braces",
        )
        for key, text in data.items()
        if (why := _field_problem(text))
    ]
    if problems:
        raise UserError(problems)
    return data


def reset_caches() -> None:
    """Forgets every message catalogue and language record read so far (after one changed on disk)."""
    _catalogue.cache_clear()
    _language.cache_clear()


def chain(tag: str) -> list[str]:
    """The catalogue files a tag reads, most general first: en-GB → [en, en-GB]; zh-Hans → [en, zh, zh-Hans]."""
    parts = tag.split("-")
    out = ["en"]
    for n in range(1, len(parts) + 1):
        name = "-".join(parts[:n])
        if name not in out:
            out.append(name)
    return out


def has_catalogue(root: Path, tag: str) -> bool:
    """Whether `tag` can be printed: English, or a catalogue of its own somewhere in its chain."""
    return tag.split("-")[0] == "en" or any(
        (root / "templates" / "i18n" / f"{n}.yml").is_file() for n in chain(tag)[1:]
    )


def missing_catalogue_hint(tag: str) -> str:
    """What to add so that `tag` can be printed."""
    own = chain(tag)[1:]
    return (
        f"add templates/i18n/{own[-1]}.yml (copy templates/i18n/en.yml and translate each message)"
        + (f" or templates/i18n/{own[0]}.yml" if len(own) > 1 else "")
        + ", or fix the language tag"
    )


def no_catalogue(path: str, line: int | None, field: str, tag: str) -> Problem:
    """The error for a language that cannot be printed: which catalogue is missing, and what to add."""
    return Problem(
        path,
        line,
        None,
        field,
        f"language {tag!r} has no message catalogue: templates/i18n/{chain(tag)[-1]}.yml is missing",
        hint=missing_catalogue_hint(tag),
    )


def messages(root: Path, language: str, practice_templates: Path | None = None) -> Messages:
    """Returns the catalogue for `language`: each file of its chain (en first), then the practice's overrides."""
    base: dict = {}
    for name in chain(language):
        path = root / "templates" / "i18n" / f"{name}.yml"
        if name == "en" or path.is_file():
            base.update(_catalogue(path, root))
    if practice_templates is not None:
        for name in chain(language)[1 if language.split("-")[0] != "en" else 0 :]:
            override = practice_templates / "i18n" / f"{name}.yml"
            if override.is_file():
                base.update(_catalogue(override, root))
    return Messages(base)


@dataclass(frozen=True)
class LanguageInfo:
    """One language as printing needs it: its tag, direction, script, font, hyphenation and tagline."""

    tag: str
    name: str
    """The language's own name for itself (Babel), e.g. Español, العربية."""
    direction: str
    """"ltr" or "rtl" (Babel's `Locale.text_direction`)."""
    script: str
    font: str | None
    font_files: tuple[tuple[int, str], ...]
    """The font's files shipped in templates/handout/fonts/, by weight (none for a system font)."""
    font_package: str | None
    """The system package that installs the font (named when it is missing)."""
    hyphenation: str | None
    language_help: str | None
    language_help_reviewed: bool
    spelling: tuple[tuple[str, str], ...]
    """A locale's spelling map (US word → local word), e.g. en-GB's; see clinicpress.load.spelling."""
    keep: tuple[str, ...]
    """Proper names the spelling map never changes."""
    record: Path | None
    """The record file, if the language has one."""

    @property
    def rtl(self) -> bool:
        return self.direction == "rtl"

    def tagline(self, phone: str) -> str:
        """The language-help tagline as printed for a practice: its `{phone}` filled in."""
        return (self.language_help or "").replace("{phone}", phone)


def language(root: Path, tag: str) -> LanguageInfo:
    """The language record of `tag` (templates/languages/<tag>.yml, then the language without its
    region), with Babel's direction and script where the record says nothing."""
    return _language(root.resolve(), tag)


@functools.cache
def _language(root: Path, tag: str) -> LanguageInfo:
    from .loading import load_model
    from .schema.language import LanguageRecord

    record, path = None, None
    for name in reversed(chain(tag)[1:] if tag.split("-")[0] != "en" else chain(tag)):
        candidate = root / "templates" / "languages" / f"{name}.yml"
        if candidate.is_file():
            record, _ = load_model(candidate, LanguageRecord, root)
            path = candidate
            break
    locale = Locale.parse(tag, sep="-")
    script = (record.script if record else None) or locale.script or _likely_script(locale)
    hyphenation = record.hyphenation if record and record.hyphenation else _pyphen_for(tag)
    return LanguageInfo(
        tag=tag,
        name=locale.get_display_name(locale) or tag,
        direction=direction(tag),
        script=script,
        font=record.font if record else None,
        font_files=tuple(sorted(record.font_files.items())) if record else (),
        font_package=record.font_package if record else None,
        hyphenation=hyphenation,
        language_help=record.language_help if record else None,
        language_help_reviewed=bool(record and record.language_help_reviewed),
        spelling=tuple(record.spelling.items()) if record else (),
        keep=tuple(record.keep) if record else (),
        record=path,
    )


def _likely_script(locale: Locale) -> str:
    from babel.core import get_global

    likely = get_global("likely_subtags").get(locale.language, "")
    parts = likely.split("_")
    return parts[1] if len(parts) > 1 and len(parts[1]) == 4 else "Latn"


def _pyphen_for(tag: str) -> str | None:
    import pyphen

    name = tag.replace("-", "_")
    for candidate in (name, name.split("_")[0]):
        if candidate in pyphen.LANGUAGES:
            return candidate
    return None


def babel_locale(language: str, country: str) -> Locale:
    """The Babel locale for a language tag read in a country: the tag's own region wins
    (en-GB), else the practice's country (es + US → es_US), else the language alone."""
    locale = Locale.parse(language, sep="-")
    if html_lang(language, country) != language:
        try:
            return Locale.parse(f"{language}-{country}", sep="-")
        except (UnknownLocaleError, ValueError, TypeError):
            pass
    return locale


@functools.cache
def language_name(tag: str) -> str:
    """How a menu names a language: in itself, then in English for staff who do not read it
    ("Español — Spanish", "العربية — Arabic", "English"); the tag when Babel does not know it."""
    try:
        locale = Locale.parse(tag, sep="-")
    except (UnknownLocaleError, ValueError, TypeError):
        return tag
    native, english = locale.get_display_name(locale), locale.get_display_name("en")
    if not native or not english:
        return tag
    native = native[:1].upper() + native[1:]
    return english if native == english else f"{native} — {english}"


def direction(tag: str) -> str:
    """ "rtl" or "ltr": the direction of a language's script (Babel's `Locale.text_direction`)."""
    return "rtl" if Locale.parse(tag, sep="-").text_direction == "rtl" else "ltr"


def html_lang(language: str, country: str) -> str:
    """The `lang` attribute of a document in `language` printed for a practice in `country`:
    the tag with the country as region unless it names one (en + US → en-US; en-GB stays)."""
    has_region = any(len(p) == 2 or (len(p) == 3 and p.isdigit()) for p in language.split("-")[1:])
    return language if has_region else f"{language}-{country}"


def long_date(value: dt.date, language: str, country: str) -> str:
    """Formats a date the way readers in that locale write it (November 2, 2026 / 2 November 2026)."""
    return format_date(value, format="long", locale=babel_locale(language, country))
