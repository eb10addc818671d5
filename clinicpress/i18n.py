"""Per-language message catalogues (templates/i18n/<lang>.yml) and locale-aware dates."""
from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path

from babel.dates import format_date

from .errors import Problem, UserError, rel
from .loading import load_yaml


class Messages(dict):
    """Catalogue for one language; `t.key` in templates, `t.fmt(key, **values)` in code."""

    def __getattr__(self, key: str) -> str:
        try:
            return self[key]
        except KeyError:
            raise AttributeError(f"no message {key!r}") from None

    def fmt(self, key: str, **values) -> str:
        return self[key].format(**values)


@functools.cache
def _catalogue(path: Path, root: Path) -> dict:
    data, _ = load_yaml(path, root)
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise UserError(Problem(rel(path, root), 1, None, None, "a message catalogue maps keys to strings"))
    return data


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
    """Returns the Babel locale for a language in a country (en + GB → en_GB)."""
    return f"{language}_{country}"


def long_date(value: dt.date, language: str, country: str) -> str:
    """Formats a date the way readers in that locale write it (November 2, 2026 / 2 November 2026)."""
    try:
        return format_date(value, format="long", locale=locale_for(language, country))
    except Exception:
        return format_date(value, format="long", locale=language)
