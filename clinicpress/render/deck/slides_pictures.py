"""Builders of the picture slides that use the picture library (`load.pictures`): a diagram
beside bullets, and a row of icons with a few words under each. Pictures are drawn in the
practice's primary colour (made readable on the slide), rasterised at build time (the same
input gives the same PNG), and carry their alternative text as the picture's description;
the speaker notes describe each picture."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from ...load import schema
from ...load.pictures import is_library_name
from .. import pptx_adapter as ad
from .constants import EMU_PER_IN
from .finish import finish
from .fit import check_size, text_height
from .layouts import Target, as_target, body_area, textbox
from .pictures import PICTURE_DPI, described, library_png, picture_bytes, place_picture, svg_size
from .slides_data import write_caption
from .slides_text import count_bullets
from .writing import bullet_paras, content_slide, open_slide, plain, required, write

if TYPE_CHECKING:
    from .renderer import DeckRenderer

SPARE = 1.05
"""Text is given 5% more height than its estimate needs when a picture shares the body with it."""
LABEL_SIZES = (28, 24)
"""Sizes of the words under the icons of an icon row, in points, largest first."""
PICTURE_SHARES = (0.42, 0.38, 0.34, 0.30, 0.26, 0.22)
"""The shares of the body's width a picture may take beside its text, widest first: the first
that leaves the text room to fit is used."""


def _figure_png(r: DeckRenderer, fig: schema.Figure, box: ad.Box, index: int | None, n: int) -> bytes | None:
    if is_library_name(fig.src):
        return library_png(r, fig.src, box.w / EMU_PER_IN)
    path = (r.root / r.source_path).parent / fig.src
    return picture_bytes(r, path, max(1200, int(box.w / EMU_PER_IN * PICTURE_DPI)), index, f"slide {n} diagram")


def _aspect(r: DeckRenderer, fig: schema.Figure) -> float:
    """Width over height of a library picture (1 for an image file: it goes beside the text)."""
    if not is_library_name(fig.src):
        return 1.0
    w, h = svg_size(r.pictures.file(fig.src, r.practice.templates_dir).read_bytes())
    return w / h


def _drawn(w: float, h: float, aspect: float) -> float:
    """The area a picture of `aspect` (width over height) is drawn at in a `w` x `h` box."""
    scale = min(w / aspect, h)
    return scale * scale * aspect


def build_diagram(r: DeckRenderer, index: int | None, sl: schema.Slide | None) -> None:
    """Bullets (or a key number and its explanation) and a picture (a diagram or an icon of the
    library, or an image file) with its caption, under the text or beside it, wherever the
    picture is drawn larger."""
    sl, title = content_slide(sl)
    fig = required(sl.image)
    pg = open_slide(r, "diagram", index, title)
    target = as_target(pg.slots.text(largest=True))
    explicit = target is None
    area = target.box if target is not None else body_area(r, pg.all_phs)
    gap = r.emu(0.35)
    body: Target = target if target is not None else textbox(pg.slide, area, "Content")
    number = [replace(plain(r, sl.number, size=60), bold=True, color="accent1", font="+mj-lt", line=0.9)]
    paras = (
        (number if sl.number else [])
        + ([plain(r, sl.text, size=28 if explicit or sl.number else None)] if sl.text else [])
        + bullet_paras(r, sl.bullets, explicit)
    )

    def need(width: int) -> int:
        """The text's height at `width`, with a little room to spare (the estimate's leeway)."""
        return r.emu(text_height(r, body, paras, width) * SPARE / 72)

    aspect = _aspect(r, fig)
    below = area.h - need(area.w) - gap
    share = next((x for x in PICTURE_SHARES if need(area.w - int(area.w * x) - gap) <= area.h), PICTURE_SHARES[-1])
    pic_w = int(area.w * share)
    # the picture goes under the text, across the body, or beside it (taking the width the text
    # can spare): wherever it is drawn larger
    if below > 0 and _drawn(area.w, below, aspect) > _drawn(pic_w, area.h, aspect):
        text_box = ad.Box(area.x, area.y, area.w, area.h - below - gap)
        pic_box = ad.Box(area.x, text_box.bottom + gap, area.w, below)
    else:
        text_box = ad.Box(area.x, area.y, area.w - pic_w - gap, area.h)
        pic_box = ad.Box(area.right - pic_w, area.y, pic_w, area.h)
    ad.set_box(body.shape, text_box)
    body = Target(text_box, body.shape, body.ph)
    write(r, body, paras, slide_no=pg.n, title=title, role="body", index=index)
    check_size(r, body, paras, slide_no=pg.n, title=title, index=index)
    count_bullets(r, sl.bullets, pg.n, title, index, "bullets")
    caption = None
    if fig.caption:
        cap_h = r.emu(0.9)
        caption = textbox(pg.slide, ad.Box(pic_box.x, pic_box.bottom - cap_h, pic_box.w, cap_h), "Caption")
        pic_box = ad.Box(pic_box.x, pic_box.y, pic_box.w, pic_box.h - cap_h - r.emu(0.1))
    data = _figure_png(r, fig, pic_box, index, pg.n)
    if data is not None:
        place_picture(pg.slide, None, pic_box, data, alt=fig.alt, name="Diagram", decorative=fig.decorative)
    write_caption(r, caption, fig.caption, pg.n, title, index)
    finish(r, pg, index, described(r, sl.notes, [] if fig.decorative else [fig.alt]), authored=bool(sl.notes))


def build_icon_row(r: DeckRenderer, index: int | None, sl: schema.Slide | None) -> None:
    """An optional lead sentence, then two to four icons side by side, a few words under each.
    Each icon's description is its meaning in the deck's language."""
    sl, title = content_slide(sl)
    pg = open_slide(r, "icon_row", index, title)
    pair = pg.slots.text(largest=True)
    area = pair[0].box if pair is not None and pair[0].box is not None else body_area(r, pg.all_phs)
    if pair is not None:
        ad.remove_shape(pair[1])
    top = area.y
    if sl.text:
        lead = textbox(pg.slide, ad.Box(area.x, top, area.w, r.emu(0.8)), "Lead")
        write(r, lead, [plain(r, sl.text, size=28)], slide_no=pg.n, title=title, role="lead", index=index)
        top += r.emu(0.95)
    n = len(sl.icons)
    col_w = area.w // n
    available = area.bottom - top
    gap = r.emu(0.2)
    inset = r.emu(0.1)
    targets = [
        textbox(pg.slide, ad.Box(area.x + i * col_w + inset, top, col_w - 2 * inset, available), "Label")
        for i in range(n)
    ]
    for size in LABEL_SIZES:  # the largest size whose words leave the icons at least half the height
        labels = [[replace(plain(r, point.text, size=size), align="ctr")] for point in sl.icons]
        need = max(r.emu(text_height(r, t, paras) / 72) for t, paras in zip(targets, labels, strict=True))
        if need <= available // 2:
            break
    # the icons are as large as the columns allow, leaving their words room to fit under them
    side = max(r.emu(0.8), min(int(col_w * 0.75), available - need - gap))
    alts = []
    for i, point in enumerate(sl.icons):
        x = area.x + i * col_w
        alt = r.pictures.alt(point.icon, r.deck.language)
        alts.append(alt)
        label_box = ad.Box(x + inset, top + side + gap, col_w - 2 * inset, available - side - gap)
        ad.set_box(targets[i].shape, label_box)
        write(
            r,
            Target(label_box, targets[i].shape, None),
            labels[i],
            slide_no=pg.n,
            title=title,
            role=f"icon {i + 1} label",
            index=index,
        )
        data = library_png(r, point.icon, side / EMU_PER_IN)
        place_picture(
            pg.slide, None, ad.Box(x + (col_w - side) // 2, top, side, side), data, alt=alt, name=f"Icon {i + 1}"
        )
    finish(r, pg, index, described(r, sl.notes, alts), authored=bool(sl.notes))
