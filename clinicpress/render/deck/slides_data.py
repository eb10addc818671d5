"""Builders of the data slides: image, chart and table, each with an optional caption."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from pptx.util import Emu, Pt

from ...load import schema
from .. import pptx_adapter as ad
from ..templating import strip_citations
from .charts import chart_data, chart_summary, style_chart
from .colours import colour_run
from .constants import EMU_PER_IN, MAX_TABLE_ROWS, MIN_BODY_PT
from .finish import finish
from .fit import table_layout
from .layouts import Page, Target, as_target, body_area, textbox
from .pictures import described, picture_bytes, place_picture
from .text import Run
from .writing import content_slide, open_slide, plain, required, write

if TYPE_CHECKING:
    from .renderer import DeckRenderer


def graphic_area(r: DeckRenderer, pg: Page, kind: str):
    """Returns (placeholder pair or None, box) for a picture/chart/table, and the caption target."""
    pair = pg.slots.of_kind(kind) if kind != "picture" else pg.slots.picture(exclude=("logo", "qr"))
    if pair is None:
        pair = pg.slots.text(largest=True, obj_only=True) or pg.slots.text(largest=True)
    caption = as_target(pg.slots.text(largest=True))
    box = pair[0].box if pair else body_area(r, pg.all_phs)
    if caption is None:
        cap_h = min(int(box.h * 0.2), r.emu(0.9))
        caption = textbox(pg.slide, ad.Box(box.x, box.bottom - cap_h, box.w, cap_h), "Caption")
        box = ad.Box(box.x, box.y, box.w, box.h - cap_h - r.emu(0.05))
        if pair is not None:
            ad.set_box(pair[1], box)
            pair = (replace(pair[0], box=box), pair[1])
    return pair, box, caption


def write_caption(
    r: DeckRenderer, caption: Target | None, text: str | None, n: int, title: str, index: int | None
) -> None:
    """Writes a caption, or removes its placeholder when there is no caption."""
    if caption is None:
        return
    if not text:
        ad.remove_shape(caption.shape)
        return
    write(
        r,
        caption,
        [plain(r, text, size=18 if caption.ph is None else None)],
        slide_no=n,
        title=title,
        role="caption",
        index=index,
    )


def build_image(r: DeckRenderer, index: int | None, sl: schema.Slide | None) -> None:
    """A picture, uncropped, with its caption; its alt text goes into the notes too."""
    sl, title = content_slide(sl)
    pg = open_slide(r, "image", index, title)
    pair, box, caption = graphic_area(r, pg, "picture")
    fig = required(sl.image)
    if not fig.caption and caption is not None and caption.ph is not None and caption.box.x >= box.right:
        box = ad.Box(box.x, box.y, caption.box.right - box.x, box.h)  # no caption: the picture takes its place
    path = (r.root / r.source_path).parent / fig.src
    data = picture_bytes(r, path, max(1200, int(box.w / EMU_PER_IN * 200)), index, f"slide {pg.n} image")
    if data is not None:
        if pair is not None and pair[0].kind != "picture":
            ad.remove_shape(pair[1])
            pair = None
        place_picture(pg.slide, pair, box, data, alt=fig.alt, name="Picture", decorative=fig.decorative)
    elif pair is not None:
        ad.remove_shape(pair[1])
    write_caption(r, caption, fig.caption, pg.n, title, index)
    finish(r, pg, index, described(r, sl.notes, [] if fig.decorative else [fig.alt]), authored=bool(sl.notes))


def build_chart(r: DeckRenderer, index: int | None, sl: schema.Slide | None) -> None:
    """A native chart (editable in PowerPoint) with its caption."""
    sl, title = content_slide(sl)
    spec = required(sl.chart)
    pg = open_slide(r, "chart", index, title)
    pair, box, caption = graphic_area(r, pg, "chart")
    chart_type, data = chart_data(spec)
    frame = ad.add_chart(pg.slide, pair[1] if pair else None, box, chart_type, data)
    style_chart(frame.chart, spec)
    ad.set_shape_name(frame, "Chart")
    ad.set_alt_text(frame, chart_summary(title, spec))
    write_caption(r, caption, spec.caption, pg.n, title, index)
    finish(r, pg, index, sl.notes)


def build_table(r: DeckRenderer, index: int | None, sl: schema.Slide | None) -> None:
    """A native table, its text as large as fits (24 down to 18 pt), with its caption."""
    sl, title = content_slide(sl)
    table = required(sl.table)
    pg = open_slide(r, "table", index, title)
    pair, box, caption = graphic_area(r, pg, "table")
    frame = ad.add_table(pg.slide, pair[1] if pair else None, box, len(table.rows) + 1, len(table.header))
    ad.set_shape_name(frame, "Table")
    ad.set_alt_text(frame, strip_citations(table.caption or title))
    cells = [[r.runs(h) for h in table.header]] + [[r.runs(c) for c in row] for row in table.rows]
    size, widths, heights, fallback_height, fits = table_layout(r.book, cells, box)
    _fill_table(r, frame.table, cells, size, widths, heights)
    frame.height = Emu(sum(heights))
    if caption is not None and caption.ph is not None and caption.box.y >= box.bottom - r.emu(0.1):
        caption = _caption_under(r, caption, int(frame.top) + max(sum(heights), fallback_height))
    where = f"slide {pg.n} ({title!r})"
    if size < MIN_BODY_PT:
        r.find("deck.font_size", "info", f"{where}: table text set at {size:g} pt to fit", index, loc=("table",))
    if not fits:
        r.find(
            "deck.overflow",
            "warning",
            f"{where}: the table does not fit its area even at {size:g} pt",
            index,
            loc=("table",),
            hint="fewer rows or shorter cells; split the table",
        )
    elif fallback_height > box.h:
        r.find(
            "deck.overflow",
            "info",
            f"{where}: the table fits in the brand font, but may run into the caption "
            "on a computer without that font (PPTX files do not carry fonts)",
            index,
            loc=("table",),
            hint="shorter cells, or install the brand fonts where the talk is given",
        )
    if len(table.rows) > MAX_TABLE_ROWS:
        r.find(
            "deck.table_rows",
            "warning",
            f"{where} has {len(table.rows)} table rows; keep to about {MAX_TABLE_ROWS}",
            index,
            loc=("table", "rows"),
        )
    write_caption(r, caption, table.caption, pg.n, title, index)
    finish(r, pg, index, sl.notes)


def _caption_under(r: DeckRenderer, caption: Target, table_bottom: int) -> Target:
    """Moves a caption placeholder up to just under a short table. `table_bottom` is where the
    table ends in a wider fallback font (a presenter's machine may lack the brand font)."""
    top = table_bottom + r.emu(0.15)
    if top >= caption.box.y:
        return caption
    moved = ad.Box(caption.box.x, top, caption.box.w, caption.box.h)
    ad.set_box(caption.shape, moved)
    return Target(moved, caption.shape, caption.ph)


def _fill_table(
    r: DeckRenderer, tbl, cells: list[list[list[Run]]], size: float, widths: list[int], heights: list[int]
) -> None:
    """Writes the cells at `size` pt (header bold on accent1, body rows banded) and sets the sizes."""
    tbl.first_row = True
    tbl.horz_banding = True
    for j, w in enumerate(widths):
        tbl.columns[j].width = Emu(w)
    for i, row in enumerate(cells):
        tbl.rows[i].height = Emu(heights[i])
        for j, runs in enumerate(row):
            cell = tbl.cell(i, j)
            ad.cell_fill_theme(cell, "accent1" if i == 0 else ("bg2" if i % 2 == 0 else "bg1"))
            tf = cell.text_frame
            tf.word_wrap = True
            p = tf.paragraphs[0]
            for run in runs:
                if not run.text:
                    continue
                out = p.add_run()
                out.text = run.text
                out.font.size = Pt(size)
                if i == 0 or run.bold:
                    out.font.bold = True
                if run.italic:
                    out.font.italic = True
                if run.sup:
                    ad.set_superscript(out)
                colour_run(r, out, "bg1" if i == 0 else "tx1")  # header on accent1, body on bg1/bg2
                ad.set_run_lang(out, r.lang)
