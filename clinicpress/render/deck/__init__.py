"""Deck + practice → an editable PPTX on the practice's master (or the default master).

`renderer` opens the master and empties it, restyles its theme from the brand, then builds
one slide per YAML slide (plus the references and closing slides a deck needs) through an
explicit table of slide builders (`slides_text`, `slides_data`, `slides_refs`), checks that the
text fits (`fit`), sets the file properties and writes bytes that are the same for the same
input. Slide kinds map to master layouts through `templates/deck/layouts.yml` (`layouts`);
placeholders are filled by role, so a master made by someone else works too. XML-level work
lives in `pptx_adapter`; this package decides what goes where.
"""

from .constants import DECK_TEMPLATES, MIN_BODY_PT
from .layouts import layout_spec
from .pictures import svg_png
from .renderer import BUILDERS, builder_for, render_deck
from .text import FontBook, Run, count_lines, font_metrics


def reset_caches() -> None:
    """Forgets everything the deck package keeps between documents in one process (the layout
    map, font metrics, rasterised SVGs and the Markdown parser), so edited templates and fonts
    are read again."""
    from . import text

    for cache in (layout_spec, font_metrics, svg_png, text._markdown):
        cache.cache_clear()


__all__ = [
    "BUILDERS",
    "DECK_TEMPLATES",
    "MIN_BODY_PT",
    "FontBook",
    "Run",
    "builder_for",
    "count_lines",
    "font_metrics",
    "layout_spec",
    "render_deck",
    "reset_caches",
    "svg_png",
]
