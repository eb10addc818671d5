"""The base model, slugs, languages and citation keys every input model shares."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

SLUG_RE = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
Slug = Annotated[str, Field(pattern=SLUG_RE, max_length=80)]
Markdown = Annotated[str, Field(min_length=1)]


def language_tag(value: object) -> object:
    """A BCP 47 language tag as ClinicPress spells it (`en`, `en-GB`, `zh-Hans`), checked with Babel.

    Case is folded to the usual spelling (`EN-gb` -> `en-GB`); a tag Babel does not know is an error.
    """
    if not isinstance(value, str):
        return value
    parts = value.strip().replace("_", "-").split("-")
    spelled = [parts[0].lower()] + [
        p.title() if len(p) == 4 and p.isalpha() else p.upper() if len(p) == 2 else p.lower() for p in parts[1:]
    ]
    tag = "-".join(spelled)
    from babel import Locale, UnknownLocaleError

    try:
        Locale.parse(tag, sep="-")
    except (UnknownLocaleError, ValueError, TypeError):
        raise ValueError(
            f"{value!r} is not a language tag Babel knows; write a BCP 47 tag such as en, en-GB, es, zh-Hans, ar or vi"
        ) from None
    return tag


Language = Annotated[str, BeforeValidator(language_tag), Field(max_length=35)]
"""A BCP 47 language tag (`en`, `en-GB`, `es`, `zh-Hans`, `ar`, ...); which ones can be printed is
data: a message catalogue in templates/i18n/ (see clinicpress.load.i18n)."""

PerLanguage = Annotated[dict[Language, Annotated[str, Field(min_length=1)]], Field(min_length=1)]
Localized = str | PerLanguage
"""Free text a practice may give per language: a plain string (in the practice's first language)
or a mapping `{en: ..., es: ...}`. A handout prints the text in its own language; a language the
field has no text for prints the default with a warning (clinicpress.load.practice)."""


def _fold_case(value: object) -> object:
    return value.strip().lower() if isinstance(value, str) else value


CaseFolded = BeforeValidator(_fold_case)
"""For a choice whose case carries no meaning (`paper: A4`, `kind: Warning`): any case is accepted."""


class Model(BaseModel):
    """Base for every input model: unknown keys are errors, docstrings describe fields."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True, str_strip_whitespace=True, frozen=True)


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
