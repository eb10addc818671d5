"""Per-language message catalogues (templates/i18n/<lang>.yml) and locale-aware dates."""

from __future__ import annotations

import datetime as dt
import functools
import string
from pathlib import Path

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
    """Forgets every message catalogue read so far (after a catalogue changed on disk)."""
    _catalogue.cache_clear()


def messages(root: Path, language: str, practice_templates: Path | None = None) -> Messages:
    """Returns the catalogue for `language`: defaults, then the practice's overrides."""
    base = dict(_catalogue(root / "templates" / "i18n" / "en.yml", root))
    if language != "en":
        base.update(_catalogue(root / "templates" / "i18n" / f"{language}.yml", root))
    if practice_templates is not None:
        override = practice_templates / "i18n" / f"{language}.yml"
        if override.is_file():
            base.update(_catalogue(override, root))
    return Messages(base)


def locale_for(language: str, country: str) -> str:
    """Returns the Babel locale for a language in a country (en + GB → en_GB, zh-Hans + US → zh_Hans_US)."""
    return f"{language.replace('-', '_')}_{country}"


def long_date(value: dt.date, language: str, country: str) -> str:
    """Formats a date the way readers in that locale write it (November 2, 2026 / 2 November 2026)."""
    try:
        return format_date(value, format="long", locale=locale_for(language, country))
    except Exception:
        return format_date(value, format="long", locale=language.replace("-", "_"))
