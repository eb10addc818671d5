"""The base model, slugs, languages and citation keys every input model shares."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

SLUG_RE = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
Slug = Annotated[str, Field(pattern=SLUG_RE, max_length=80)]
Markdown = Annotated[str, Field(min_length=1)]
LANGUAGES = ("en", "es", "ar", "zh-Hans")


def _language_case(value: object) -> object:
    """A language tag in any case (`zh-hans`, after case folding) becomes its canonical spelling."""
    if isinstance(value, str):
        return next((tag for tag in LANGUAGES if tag.lower() == value.strip().lower()), value)
    return value


Language = Annotated[Literal["en", "es", "ar", "zh-Hans"], BeforeValidator(_language_case)]


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
