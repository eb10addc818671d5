"""Print variants of a handout (standard, large print, print shop) and their page geometry."""

from __future__ import annotations

from dataclasses import dataclass

MIN_BODY_PT = 12.0
"""Smallest body text size of a handout (standards: at least 12 pt)."""


@dataclass(frozen=True)
class Variant:
    """Print options for one handout build."""

    name: str = "standard"
    """standard, large-print or print-shop; becomes part of the output file name."""
    paper: str | None = None
    """letter or a4; None means the practice's setting."""
    columns: int | None = None
    """1 or 2; None means the practice's setting (large print is always 1)."""
    large_print: bool = False
    bleed: bool = False
    max_pages: int = 2
    """Page budget: more pages than this is a `handout.pages` warning. A handout is one sheet
    printed on both sides; large print (18 pt type, wider margins) fits about 60% as many lines
    on a page, each holding two thirds of the words, so it gets three sheets."""

    @property
    def suffix(self) -> str:
        return "" if self.name == "standard" else f".{self.name}"


VARIANTS = {
    "standard": Variant(),
    "large-print": Variant("large-print", columns=1, large_print=True, max_pages=6),
    "print-shop": Variant("print-shop", bleed=True),
}


@dataclass(frozen=True)
class PageSetup:
    """Paper, margins and footer size of one variant (used by the @page rules and the band)."""

    size: str
    margin_top: str
    margin_x: str
    margin_bottom: str
    first_top: str
    footer_size: str
    footer_gap: str = "2.5mm"
    draft_gap: str = "1.6mm"
    """Space above the draft mark at the top of the page (inside the top margin)."""
    bleed: str = "3mm"


def page_setup(paper: str, variant: Variant) -> PageSetup:
    """Returns the page geometry for a paper size and variant (large print: wider margins)."""
    size = "A4" if paper == "a4" else "letter"
    if variant.large_print:
        return PageSetup(
            size,
            margin_top="20mm",
            margin_x="20mm",
            margin_bottom="34mm",
            first_top="14mm",
            footer_size="14pt",  # large print: nothing under 14 pt, the footer included
            footer_gap="3mm",
        )
    return PageSetup(
        size, margin_top="11mm", margin_x="13mm", margin_bottom="17mm", first_top="11mm", footer_size="8.5pt"
    )
