"""What every slide gets last: unused placeholders removed, footer and slide number, speaker
notes, and the notes and title checks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pptx.util import Pt

from .. import pptx_adapter as ad
from ..templating import strip_citations
from .constants import NOT_CONTENT
from .fit import EMPTY_EXEMPT, MAX_EMPTY, empty_share
from .layouts import Page, body_area

if TYPE_CHECKING:
    from .renderer import DeckRenderer


def finish(
    r: DeckRenderer,
    pg: Page,
    index: int | None,
    notes: str | None,
    *,
    footer: bool = True,
    authored: bool | None = None,
) -> None:
    """Removes unused placeholders, adds footer and slide number, notes; checks notes and title.

    `authored` says whether the notes came from the YAML (default: whether there are any).
    """
    title = pg.title
    for _, shape in pg.slots.free:
        ad.remove_shape(shape)
    pg.slots.free.clear()
    number = len(r.prs.slides)
    if footer:
        _footer(r, pg.slide, pg.all_phs, number)
    if not (notes if authored is None else authored) and pg.kind not in NOT_CONTENT and index is not None:
        r.find(
            "deck.notes",
            "warning",
            f"slide {number} ({title!r}) has no speaker notes",
            index,
            hint="add notes: what to say, in full sentences, and a description of any image",
        )
    _notes(r, pg.slide, notes or "")
    if pg.kind not in EMPTY_EXEMPT and index is not None:
        _check_empty(r, pg, index)
    key = title.casefold().strip()
    if key in r.titles and index is not None:
        r.find(
            "deck.title",
            "warning",
            f"slide {number} has the same title as slide {r.titles[key]}: {title!r}",
            index,
            loc=("title",),
            hint="give every slide its own title",
        )
    r.titles.setdefault(key, number)


def _check_empty(r: DeckRenderer, pg, index: int) -> None:
    """Reports a content slide that leaves more than MAX_EMPTY of its body area empty."""
    share = empty_share(r, pg.slide, pg.n, body_area(r, pg.all_phs))
    if share > MAX_EMPTY:
        r.find(
            "deck.empty",
            "warning",
            f"slide {pg.n} ({pg.title!r}) leaves {share:.0%} of its body area empty (at most {MAX_EMPTY:.0%})",
            index,
            hint="add a picture that carries meaning (layout: diagram or icon_row), or merge it with the next slide",
            slide=pg.n,
            share=round(share, 2),
        )


def _footer(r: DeckRenderer, slide, all_phs: list[ad.Ph], number: int) -> None:
    """Footer (practice name) and slide number: the layout's placeholders, else text boxes."""
    text = r.practice.info.name
    for kind, ph_type in (("ftr", "ftr"), ("sldNum", "sldNum")):
        ph = next((p for p in all_phs if p.type == ph_type and p.box is not None), None)
        if ph is not None and ph.box is not None:
            ad.add_latent_placeholder(slide, kind, ph.idx, ph.box, text, r.lang, number)
            continue
        box = ad.master_placeholder_box(r.master, ph_type)
        if box is None:
            h = int(r.H * 0.06)
            box = (
                ad.Box(int(r.W * 0.05), r.H - h - int(r.H * 0.02), int(r.W * 0.6), h)
                if kind == "ftr"
                else ad.Box(int(r.W * 0.85), r.H - h - int(r.H * 0.02), int(r.W * 0.1), h)
            )
        tb = slide.shapes.add_textbox(box.x, box.y, box.w, box.h)
        ad.set_shape_name(tb, "Footer" if kind == "ftr" else "Slide Number")
        tf = tb.text_frame
        tf.word_wrap = True
        p = tf.paragraphs[0]
        if kind == "ftr":
            out = p.add_run()
            out.text = text
            out.font.size = Pt(12)
            ad.set_run_lang(out, r.lang)
        else:
            ad.set_paragraph(p, align="r")
            ad.add_slide_number_field(p, number, r.lang)


def _notes(r: DeckRenderer, slide, text: str) -> None:
    """Writes the speaker notes (citation keys left out)."""
    tf = ad.notes_slide(slide, r.notes_model).notes_text_frame
    if tf is None:
        return
    tf.text = strip_citations(text).strip()
    ad.set_lang_everywhere(tf, r.lang)
    r.notes_count += 1
