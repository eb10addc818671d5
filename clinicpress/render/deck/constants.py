"""Where the deck templates are, units, and the limits the renderer checks slides against.

The limits that the quality checks share (body size, bullets, table rows) are the defaults of
`clinicpress.load.config.Config`, so each number is written once.
"""

from __future__ import annotations

from pathlib import Path

from ...load.config import Config

_PROJECT = Path(__file__).resolve().parents[3]
DECK_TEMPLATES = _PROJECT / "templates" / "deck"
DEFAULT_MASTER = "default-master.pptx"
LAYOUT_MAP = "layouts.yml"
BUNDLED_FONTS = _PROJECT / "templates" / "handout" / "fonts"
EMU_PER_PT = 12700
EMU_PER_IN = 914400

_DEFAULTS = Config.model_validate({})
MIN_BODY_PT = _DEFAULTS.slide_body_pt_min
MAX_BULLETS = _DEFAULTS.slide_bullets_max
MAX_TABLE_ROWS = _DEFAULTS.slide_table_rows_max
FALLBACK_WIDTH, FALLBACK_LINE = 1.15, 1.05
"""How much wider, and how much taller its lines, a presenter's fallback font may set text than
the brand font: LibreOffice sets DejaVu Sans (its fallback here) about 14% wider and with 4%
taller lines than Atkinson Hyperlegible (measured on the sample deck's table). PPTX files do not
carry their fonts, so tables are sized to fit their area in such a font too."""
SMALLEST_PT = 18
"""The smallest text on a slide outside the footer and slide number (chart axes, captions,
references): readable from the back of a waiting room or a seminar room."""
REFERENCE_PT = SMALLEST_PT
"""References are set at the smallest readable size, over as many slides as they need."""
DISPLAY_FALLBACK_WIDTH = 1.25
"""The same for bold display text (titles, big numbers): DejaVu Sans Bold sets the shipped
titles 17-21% wider than Atkinson Hyperlegible Bold, Source Serif 4 Bold or Public Sans Bold
(measured with fontTools on the titles and big numbers of the sample talk)."""
TABLE_SIZES = (24, 22, 20, 18)
"""Table text sizes tried, largest first."""
NOT_CONTENT = ("title", "closing")
TITLE_KINDS = ("title", "section", "closing")
"""Slide kinds that use the title-slide master and look."""
