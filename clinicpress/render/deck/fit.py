"""Measuring text and checking that it fits: text heights from font metrics, overflow and body
size findings, display text shrunk to fit, table sizes, and lists split over slides."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from .. import pptx_adapter as ad
from .constants import DISPLAY_FALLBACK_WIDTH, EMU_PER_PT, FALLBACK_LINE, FALLBACK_WIDTH, MIN_BODY_PT, TABLE_SIZES
from .text import FontBook, Para, Run, count_lines

if TYPE_CHECKING:
    from .layouts import Target
    from .renderer import DeckRenderer

CELL_MARGIN_W, CELL_MARGIN_H = 2 * 91440, 2 * 45720
"""A table cell's left + right and top + bottom text insets (python-pptx defaults), in EMU."""


def style(r: DeckRenderer, target: Target, para: Para) -> ad.TextStyle:
    """Returns the style a paragraph gets in `target`: its own settings, then the placeholder's inherited ones."""
    if target.ph is not None:
        key = (target.ph.element, para.level)
        st = r.inherited.get(key)
        if st is None:  # an XPath walk up the layout and the master: once per placeholder and level
            st = r.inherited[key] = ad.inherited_style(target.ph.element, r.master, para.level)
    else:
        st = ad.TextStyle(size=18, bold=False, font="+mn-lt", mar_l=0, indent=0, space_before=0, line_pct=1.0)
    p = para  # the paragraph's own settings, in TextStyle's field order
    explicit = ad.TextStyle(p.size, p.bold, p.font, p.mar_l, p.indent, p.space_before, line_pct=p.line)
    return explicit.merged(st)


def text_height(r: DeckRenderer, target: Target, paras: list[Para], width_emu: int | None = None) -> float:
    """Estimated height of `paras` in `target`, in points, from the fonts' real metrics."""
    l_ins, t_ins, r_ins, b_ins = ad.text_insets(target.shape, target.ph, r.master)
    width = (width_emu if width_emu is not None else target.box.w) - l_ins - r_ins
    total = (t_ins + b_ins) / EMU_PER_PT
    for i, para in enumerate(paras):
        st = style(r, target, para)
        size = st.size or 18
        avail = (width - (st.mar_l or 0)) / EMU_PER_PT
        m = r.book.metrics(st.font, bool(st.bold))
        factor = m.line if m else 1.2
        key = (tuple((run.text, run.bold, run.sup) for run in para.runs), avail, size, st.font, bool(st.bold))
        lines = r.line_counts.get(key)
        if lines is None:
            lines = r.line_counts[key] = count_lines(para.runs, avail, size, r.book, st.font, bool(st.bold))
        line_h = st.line_pts if st.line_pts else size * factor * (st.line_pct or 1.0)
        total += lines * line_h
        if i > 0:
            total += st.space_before if st.space_before is not None else ((st.space_before_pct or 0) * size)
    return total


def check_fit(
    r: DeckRenderer, target: Target, paras: list[Para], *, slide_no: int, title: str, role: str, index: int | None
) -> None:
    """Reports text that needs more height than its box has (3% leeway for the estimate); keeps
    the height it needs for the slide's empty-space check (`check_empty`)."""
    need = text_height(r, target, paras)
    if target.shape is not None:
        r.text_need[(slide_no, target.shape.shape_id)] = need
    have = target.box.h / EMU_PER_PT
    if need > have * 1.03:
        font = r.book.family(style(r, target, paras[0]).font if paras else None)
        r.find(
            "deck.overflow",
            "warning",
            f"slide {slide_no} ({title!r}): the {role} text does not fit its box "
            f"(needs about {need / 72:.1f} in, has {have / 72:.1f} in; estimated with {font} metrics)",
            index,
            hint="shorten the text or split the slide",
            slide=slide_no,
            role=role,
            need_pt=round(need, 1),
            have_pt=round(have, 1),
        )


def check_size(
    r: DeckRenderer, target: Target, paras: list[Para], *, slide_no: int, title: str, index: int | None
) -> None:
    """Body text of a talk should be at least MIN_BODY_PT (reported once per master layout)."""
    layout = ad.layout_name(target.shape) if target.ph is not None else "(text box)"
    if layout in r.size_warned:
        return
    for para in paras:
        size = style(r, target, para).size or 18
        if size < MIN_BODY_PT:
            r.size_warned.add(layout)
            r.find(
                "deck.font_size",
                "warning",
                f"slide {slide_no} ({title!r}): body text is {size:g} pt (layout {layout!r}); talks "
                f"need at least {MIN_BODY_PT:g} pt",
                index,
                hint=f"set the master's body text to {MIN_BODY_PT:g} pt or more; every slide on this layout "
                "is affected",
            )
            return


def shrink(
    r: DeckRenderer, target: Target, para: Para, sizes: tuple[float, ...], n: int, title: str, index: int | None
) -> Para:
    """Returns `para` at the first of `sizes` that fits when its own size does not (display text)."""
    limit = target.box.h / EMU_PER_PT * 1.03
    if text_height(r, target, [para]) <= limit:
        return para
    for size in sizes:
        smaller = replace(para, size=size)
        if text_height(r, target, [smaller]) <= limit:
            r.find(
                "deck.font_size",
                "info",
                f"slide {n} ({title!r}): {para.text!r} set at {size:g} pt to fit its box",
                index,
            )
            return smaller
    return para


def table_layout(book: FontBook, cells: list[list[list[Run]]], box: ad.Box):
    """Picks the largest font size (24 down to 18 pt) at which the table fits; column widths by content.

    Returns (size, column widths, row heights in the brand font, height in a fallback font
    FALLBACK_WIDTH wider, fits). A size must fit in both fonts; if none does, the largest
    that fits in the brand font is taken.
    """
    tried = []
    for size in TABLE_SIZES:
        widths = _column_widths(book, cells, size, box.w)
        heights = _row_heights(book, cells, widths, size, 1.0)
        fallback = sum(_row_heights(book, cells, widths, size, FALLBACK_WIDTH, FALLBACK_LINE))
        tried.append((size, widths, heights, fallback, sum(heights) <= box.h))
        if fallback <= box.h:
            return size, widths, heights, fallback, True
    return next((t for t in tried if t[-1]), tried[-1])


def _column_widths(book: FontBook, cells: list[list[list[Run]]], size: float, total: int) -> list[int]:
    """Shares `total` EMU among the columns by their natural widths, or, when those do not fit,
    gives every column its longest word and shares the rest by what each still needs."""
    cols = len(cells[0])
    natural, minimum = [], []
    for j in range(cols):
        nat = mini = 0.0
        for i, row in enumerate(cells):
            m = book.metrics(None, i == 0)
            text = "".join(run.text for run in row[j])
            nat = max(nat, m.width(text, size) if m else len(text) * size * 0.5)
            for word in text.split():
                mini = max(mini, m.width(word, size) if m else len(word) * size * 0.5)
        natural.append(nat * EMU_PER_PT + CELL_MARGIN_W)
        minimum.append(mini * EMU_PER_PT + CELL_MARGIN_W)
    if sum(natural) <= total:
        widths = [int(w * total / sum(natural)) for w in natural]
    else:
        spare = max(total - sum(minimum), 0)
        extra = [max(n - m, 0) for n, m in zip(natural, minimum, strict=True)]
        widths = [
            int(m + (spare * e / sum(extra) if sum(extra) else spare / cols))
            for m, e in zip(minimum, extra, strict=True)
        ]
    widths[-1] += total - sum(widths)
    return widths


def _row_heights(
    book: FontBook, cells: list[list[list[Run]]], widths: list[int], size: float, squeeze: float, tall: float = 1.0
) -> list[int]:
    """Row heights in EMU, with text `squeeze` times wider and lines `tall` times taller than the brand font's."""
    heights = []
    for i, row in enumerate(cells):
        m = book.metrics(None, i == 0)
        factor = (m.line if m else 1.2) * tall
        lines = max(
            count_lines(runs, (widths[j] - CELL_MARGIN_W) / EMU_PER_PT / squeeze, size, book, None, i == 0)
            for j, runs in enumerate(row)
        )
        heights.append(int((lines * size * factor) * EMU_PER_PT + CELL_MARGIN_H))
    return heights


SHORT_WORD = 2
"""Display text never ends a line with a word this short (characters: "de", "a", "y", "7"),
nor leaves one alone on its last line ("10" in "Cerca de 7 de cada 10")."""
NBSP = "\u00a0"


def balance(r: DeckRenderer, target: Target, para: Para) -> Para:
    """Display text (titles, big numbers) broken well: a short word stays with the next one, a
    short last word with the one before it, and text that takes several lines gets lines of
    even length (as CSS `text-wrap: balance`). Written as no-break spaces between the words
    that must share a line, so PowerPoint and LibreOffice break where the measure did. Words
    are only bound while each bound group still fits the line in a font DISPLAY_FALLBACK_WIDTH
    wider (a presenter without the fonts)."""
    words = para.text.split(" ")
    st = style(r, target, para)
    m = r.book.metrics(st.font, bool(st.bold))
    if len(words) < 2 or m is None:
        return para
    size = st.size or 18
    l_ins, _, r_ins, _ = ad.text_insets(target.shape, target.ph, r.master)
    avail = (target.box.w - l_ins - r_ins - (st.mar_l or 0)) / EMU_PER_PT
    gap = m.width(" ", size)
    widths = [m.width(w, size) for w in words]

    def width_of(group: list[int]) -> float:
        return sum(widths[k] for k in group) + gap * (len(group) - 1)

    def groups(glued: set[int]) -> list[list[int]]:
        """Words in groups that must share a line (word k is glued to word k + 1)."""
        out = [[0]]
        for k in range(1, len(words)):
            if k - 1 in glued:
                out[-1].append(k)
            else:
                out.append([k])
        return out

    def lines_at(width: float, glued: set[int]) -> list[list[int]]:
        lines: list[list[int]] = [[]]
        for group in groups(glued):
            if lines[-1] and width_of(lines[-1] + group) > width:
                lines.append([])
            lines[-1].extend(group)
        return lines

    last = len(words) - 2
    widow = {last} if 0 < len(words[-1]) <= SHORT_WORD + 1 else set()
    short = {k for k in range(len(words) - 1) if 0 < len(words[k]) <= SHORT_WORD}
    for glued in (short | widow, widow):
        lines = lines_at(avail, glued)
        if len(lines) > 1:  # the narrowest width that still gives as many lines
            lo, hi = avail / len(lines), avail
            for _ in range(8):
                mid = (lo + hi) / 2
                lo, hi = (lo, mid) if len(lines_at(mid, glued)) <= len(lines) else (mid, hi)
            even = lines_at(hi, glued)
            if all(width_of(line) * DISPLAY_FALLBACK_WIDTH <= avail for line in even):
                glued = glued | {k for line in even for k in line[:-1]}
        if all(width_of(g) * DISPLAY_FALLBACK_WIDTH <= avail for g in groups(glued)):
            break
    else:
        return para
    keep = {sum(len(w) + 1 for w in words[: k + 1]) - 1 for k in glued}  # offsets of the bound spaces
    runs, at = [], 0
    for run in para.runs:
        runs.append(replace(run, text="".join(NBSP if at + i in keep else c for i, c in enumerate(run.text))))
        at += len(run.text)
    return replace(para, runs=runs)


def paginate(r: DeckRenderer, target: Target, paras: list[Para]) -> list[list[Para]]:
    """Splits a list over as few boxes as it needs, then evens out the pages."""
    limit = target.box.h / EMU_PER_PT

    def greedy(cap: int) -> list[list[Para]]:
        pages: list[list[Para]] = [[]]
        for para in paras:
            page = pages[-1]
            if page and (len(page) >= cap or text_height(r, target, page + [para]) > limit):
                pages.append([])
            pages[-1].append(para)
        return pages

    pages = greedy(len(paras))
    if len(pages) > 1:
        even = greedy(-(-len(paras) // len(pages)))
        if len(even) == len(pages):
            pages = even
    return pages


MAX_EMPTY = 0.40
"""The largest share of a content slide's body area (under the title, above the footer) that may
be left empty. The sample talk's text-only slides left 35-45% of it empty (issue 21); a picture
beside the bullets, or an icon row, fills it with something that carries meaning."""
EMPTY_EXEMPT = ("title", "section", "closing", "references")
"""Slide kinds the empty-space check leaves alone (their look is a band, or a list that runs on)."""


def empty_share(r: DeckRenderer, slide, n: int, body: ad.Box) -> float:
    """The share of `body` that nothing on the slide covers: pictures, charts and tables by their
    boxes, text by its box's width times the height the text needs (`check_fit` measured it; the
    title sits above the body and the footer below it)."""
    covered = 0
    for shape in slide.shapes:
        box = _shape_box(r, slide, shape)
        if getattr(shape, "has_text_frame", False) and shape.has_text_frame:
            need = r.text_need.get((n, shape.shape_id))
            if need is None:
                continue
            box = ad.Box(box.x, box.y, box.w, min(box.h, int(need * EMU_PER_PT)))
        x0, x1 = max(box.x, body.x), min(box.right, body.right)
        y0, y1 = max(box.y, body.y), min(box.bottom, body.bottom)
        if x1 > x0 and y1 > y0:
            covered += (x1 - x0) * (y1 - y0)
    return max(0.0, 1 - covered / max(1, body.w * body.h))


def _shape_box(r: DeckRenderer, slide, shape) -> ad.Box:
    """The shape's box as python-pptx reports it (`left`, `top`, `width`, `height`; missing
    ones 0), where a placeholder's values not set on the slide come from its layout placeholder.
    Those are read once per layout and idx: python-pptx would find the layout placeholder again,
    walking the layout's shapes, for each of the four values of each placeholder of each slide."""
    el = shape._element
    own = (el.x, el.y, el.cx, el.cy)
    if None in own and shape.is_placeholder:
        key = (slide.part.slide_layout.part, el.ph_idx)
        if key not in r.inherited_boxes:
            base = shape._base_placeholder
            r.inherited_boxes[key] = (
                (base.left, base.top, base.width, base.height) if base is not None else (None, None, None, None)
            )
        own = tuple(o if o is not None else b for o, b in zip(own, r.inherited_boxes[key], strict=True))
    x, y, w, h = (int(v or 0) for v in own)
    return ad.Box(x, y, w, h)
