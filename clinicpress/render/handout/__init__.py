"""Handout + practice → HTML (Jinja2) → tagged PDF/UA-1 (WeasyPrint).

The HTML written next to each PDF is the same document the PDF is made from, so a
designer can open it in a browser. WeasyPrint reads files only through `SafeFetcher`,
which refuses anything outside the project folder and every network scheme.

- `variants`: the print variants and their page geometry;
- `fetcher`: what WeasyPrint may read, and the shared font configuration;
- `style`: the CSS values the stylesheet receives (strings, counters, theme colours);
- `context`: everything the template receives;
- `pdf`: HTML, layout, the PDF and the page budget;
- `tags`: the PDF/UA-1 finishing of WeasyPrint's tagging.
"""

from .context import Passage, box_split, required_passages, section_groups
from .fetcher import SafeFetcher, font_config
from .pdf import (
    PDF_VARIANT,
    STYLESHEET,
    TEMPLATE,
    Rendered,
    layout,
    page_budget,
    print_handout,
    render_document,
    render_html,
    verify_pdf,
)
from .style import css_counter_content, css_str, css_variables
from .variants import VARIANTS, Variant

__all__ = [
    "PDF_VARIANT",
    "Passage",
    "Rendered",
    "STYLESHEET",
    "TEMPLATE",
    "VARIANTS",
    "SafeFetcher",
    "Variant",
    "box_split",
    "css_counter_content",
    "css_str",
    "css_variables",
    "font_config",
    "layout",
    "page_budget",
    "print_handout",
    "render_document",
    "render_html",
    "required_passages",
    "verify_pdf",
    "section_groups",
]
