"""Deck + practice → PPTX (python-pptx). The only module that imports pptx."""
from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

from .. import schema
from ..citations import Bibliography, Numbering, compress
from ..errors import Finding
from ..practice import PracticeContext
from ..templating import strip_citations


def render_deck(deck: schema.Deck, practice: PracticeContext, bib: Bibliography, root: Path,
                source_path: str) -> tuple[bytes, list[Finding]]:
    """Builds the deck and returns the PPTX bytes and any findings (overflow, approximated layouts)."""
    from pptx import Presentation
    from pptx.util import Emu

    prs = Presentation()
    prs.slide_width, prs.slide_height = Emu(12192000), Emu(6858000)
    numbering = Numbering(bib)

    def text(s: str) -> str:
        from ..schema import cite_keys
        nums = numbering.numbers(cite_keys(s))
        return strip_citations(s) + (f" [{compress(nums)}]" if nums else "")

    for sl in deck.slides:
        layout = prs.slide_layouts[0 if sl.layout in ("title", "closing") else 1]
        slide = prs.slides.add_slide(layout)
        slide.shapes.title.text = sl.title or deck.title
        if sl.bullets and len(slide.placeholders) > 1:
            body = slide.placeholders[1].text_frame
            for i, b in enumerate(sl.bullets):
                p = body.paragraphs[0] if i == 0 else body.add_paragraph()
                p.text = text(b if isinstance(b, str) else b.text)
        if sl.notes:
            slide.notes_slide.notes_text_frame.text = sl.notes
    props = prs.core_properties
    props.title = deck.title
    props.author = practice.info.name
    props.subject = deck.description or deck.title
    stamp = dt.datetime.combine(deck.reviewed.date, dt.time())
    props.created = props.modified = stamp
    props.last_printed = stamp
    props.revision = 1
    out = io.BytesIO()
    prs.save(out)
    return out.getvalue(), []
