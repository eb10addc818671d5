"""Locales of one language: English content printed with UK spelling for a practice in GB.

A locale's language record (templates/languages/en-GB.yml) maps US words to the local spelling
(`spelling`) and lists proper names never respelled (`keep`). `Spelling.respell` changes whole
words only, keeps their case, and never touches links, e-mail addresses, citation keys or the
kept names; `Spelling.left` lists the US forms a text still has (a form the map does not list,
or a word in a practice's own text), for the check that names them (`checks/spelling.py`).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from babel import UnknownLocaleError
from pydantic import BaseModel

from .i18n import html_lang, language

NOT_PROSE = frozenset({"slug", "language", "translation_of", "src", "layout", "kind", "deck", "by"})
"""Fields that are identifiers or names, never respelled."""
SUFFIXES = ("s", "es", "ed", "al", "ic", "ing", "ful", "less", "ly")
"""Endings the check looks for after a US word (diarrheal, colors): forms the map must list."""
_PROTECTED = r"https?://\S+|www\.\S+|\S+@\S+\.\S+|\[@[^\]]*\]|\]\([^)]*\)"


@dataclass(frozen=True)
class Spelling:
    """A locale's spelling map, ready to apply: the locale, the map and the kept names."""

    locale: str
    words: tuple[tuple[str, str], ...]
    keep: tuple[str, ...]

    @functools.cached_property
    def _mapping(self) -> dict[str, str]:
        return {us.lower(): local for us, local in self.words}

    @functools.cached_property
    def _word_re(self) -> re.Pattern:
        keys = sorted(self._mapping, key=len, reverse=True)
        return re.compile(r"\b(" + "|".join(re.escape(k) for k in keys) + r")\b", re.IGNORECASE)

    @functools.cached_property
    def _left_re(self) -> re.Pattern:
        keys = sorted(self._mapping, key=len, reverse=True)
        ends = "|".join(SUFFIXES)
        return re.compile(r"\b((?:" + "|".join(re.escape(k) for k in keys) + r")(?:" + ends + r")?)\b", re.IGNORECASE)

    def _protected(self, text: str, keep: tuple[str, ...]) -> re.Pattern:
        names = "|".join(re.escape(n) for n in sorted({*self.keep, *keep}, key=len, reverse=True) if n)
        return re.compile(_PROTECTED + (f"|{names}" if names else ""), re.IGNORECASE)

    def _outside(self, text: str, keep: tuple[str, ...]):
        """Yields (is_prose, piece): the text cut at links, citations and kept names."""
        at = 0
        for m in self._protected(text, keep).finditer(text):
            yield True, text[at : m.start()]
            yield False, m.group(0)
            at = m.end()
        yield True, text[at:]

    def respell(self, text: str, keep: tuple[str, ...] = ()) -> str:
        """`text` with every whole US word of the map in the local spelling, its case kept."""

        def swap(m: re.Match) -> str:
            word, local = m.group(0), self._mapping[m.group(0).lower()]
            if word.isupper() and len(word) > 1:
                return local.upper()
            return local[:1].upper() + local[1:] if word[:1].isupper() else local

        return "".join(self._word_re.sub(swap, piece) if prose else piece for prose, piece in self._outside(text, keep))

    def left(self, text: str, keep: tuple[str, ...] = ()) -> list[str]:
        """The US spellings still in `text` (outside links, citations and kept names), in order, once each."""
        found: list[str] = []
        for prose, piece in self._outside(text, keep):
            if prose:
                for m in self._left_re.finditer(piece):
                    if m.group(1).lower() not in {w.lower() for w in found} and m.group(1).lower() not in self._local:
                        found.append(m.group(1))
        return found

    @functools.cached_property
    def _local(self) -> set[str]:
        return {local.lower() for local in self._mapping.values()}

    def respell_model(self, model: Any, keep: tuple[str, ...] = ()) -> Any:
        """A copy of a content model with its prose respelled (identifiers and names left alone)."""
        return type(model).model_validate(self._walk(model, keep))

    def _walk(self, value: Any, keep: tuple[str, ...], name: str = "") -> Any:
        if isinstance(value, BaseModel):
            return {
                field: self._walk(getattr(value, field), keep, field)
                for field in type(value).model_fields
                if field in value.model_fields_set or getattr(value, field) is not None
            }
        if isinstance(value, (list, tuple)):
            return [self._walk(v, keep, name) for v in value]
        if isinstance(value, str) and name not in NOT_PROSE:
            return self.respell(value, keep)
        return value


def spelling_for(root: Path, content_language: str, country: str) -> Spelling | None:
    """The spelling map for content in `content_language` printed in `country` (en + GB → en-GB's
    map), or None when that locale has no map or the content is already in it."""
    locale = html_lang(content_language, country)
    if locale == content_language:
        return None
    try:
        info = language(root, locale)
    except (ValueError, LookupError, UnknownLocaleError):
        return None
    if not info.spelling:
        return None
    return Spelling(locale, info.spelling, info.keep)
