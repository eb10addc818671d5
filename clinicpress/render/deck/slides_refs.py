"""The references slide(s): every cited source, numbered in order of first citation."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from ...load import schema
from .constants import REFERENCE_PT
from .finish import finish
from .fit import paginate
from .layouts import Page, Target, as_target, body_area, new_slide, textbox
from .text import Para, html_runs
from .writing import put_title, write

if TYPE_CHECKING:
    from .renderer import DeckRenderer


def build_references(r: DeckRenderer, index: int | None, sl: schema.Slide | None) -> None:
    """The numbered sources cited on the slides, over as many slides as they need."""
    entries = r.numbering.entries()
    title = (sl.title if sl and sl.title else None) or r.t.references_slide
    notes = (sl.notes if sl else None) or r.word("deck_notes_references")
    if not entries:
        if sl is not None:
            r.find("deck.references", "warning", "the deck has a references slide but cites nothing", index)
        return
    numbers = [num for num, _ in entries]
    made = [new_slide(r, "references", index)]
    target, explicit = _references_target(r, made[0])
    # An explicit size keeps pagination honest on any master (the estimate needs a size).
    paras = [
        Para(
            html_runs(entry.html),
            bullet="autonum",
            size=REFERENCE_PT,
            mar_l=r.emu(0.5) if explicit else None,
            indent=-r.emu(0.5) if explicit else None,
            space_before=6,
        )
        for _, entry in entries
    ]
    pages = paginate(r, target, paras)
    at = 0
    for k, chunk in enumerate(pages):
        if k > 0:
            made.append(new_slide(r, "references", index))
            target, _ = _references_target(r, made[k])
        pg = made[k]
        chunk = [replace(p, autonum=numbers[at]) for p in chunk]
        at += len(chunk)
        pg.title = title if len(pages) == 1 else f"{title} ({k + 1}/{len(pages)})"
        put_title(r, pg.slide, pg.slots, pg.all_phs, pg.title, index, pg.n)
        write(r, target, chunk, slide_no=pg.n, title=pg.title, role="references", index=index)
        finish(r, pg, None if k else index, notes)


def _references_target(r: DeckRenderer, pg: Page) -> tuple[Target, bool]:
    """Returns where the list goes and whether its sizes must be explicit (no placeholder, or an
    approximated layout)."""
    target = as_target(pg.slots.text(largest=True))
    if target is None:
        return textbox(pg.slide, body_area(r, pg.all_phs), "References"), True
    return target, pg.approximated
