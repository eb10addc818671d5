"""Pydantic models for handouts, decks and practices: the one description of valid input.

Every model forbids unknown keys and documents each field with a docstring, which the
error messages and `clinicpress schema` reuse. Prose fields are CommonMark and may cite
sources as `[@key]`, keys into `content/references.json`.
"""

from __future__ import annotations

from .base import CITE_RE, SLUG_RE, Language, Markdown, Model, Slug, cite_keys
from .deck import Bullet, BulletItem, Chart, Column, Deck, IconPoint, Quote, Series, Slide, SlideLayout
from .handout import GetHelp, Handout, Section, Step
from .parts import ICON_RE, PEMAT_HUMAN_ITEMS, Callout, Figure, GlossaryEntry, HumanReview, Icon, Reviewed, Table
from .practice import Clinician, Notices, Practice

__all__ = [
    "Bullet",
    "BulletItem",
    "Callout",
    "Chart",
    "cite_keys",
    "CITE_RE",
    "Clinician",
    "Column",
    "Deck",
    "Figure",
    "GlossaryEntry",
    "GetHelp",
    "Handout",
    "HumanReview",
    "Icon",
    "ICON_RE",
    "IconPoint",
    "Language",
    "Markdown",
    "Model",
    "Notices",
    "PEMAT_HUMAN_ITEMS",
    "Practice",
    "Quote",
    "Reviewed",
    "Section",
    "Series",
    "Step",
    "Slide",
    "SlideLayout",
    "Slug",
    "SLUG_RE",
    "Table",
]
