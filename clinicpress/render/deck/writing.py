"""Writing paragraphs and runs into placeholders and text boxes, and the paragraphs slides use."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from pptx.util import Pt

from ...load import schema
from .. import pptx_adapter as ad
from .colours import colour_run, text_colour
from .fit import balance, check_fit
from .layouts import Page, Slots, Target, as_target, body_area, new_slide, textbox
from .text import Para, Run

DISPLAY_ROLES = ("title", "number")
"""Text set large, whose line breaks are balanced (no short word left alone on a line)."""

if TYPE_CHECKING:
    from .renderer import DeckRenderer

T = TypeVar("T")


def write(
    r: DeckRenderer,
    target: Target | None,
    paras: list[Para],
    *,
    slide_no: int,
    title: str,
    role: str,
    index: int | None,
    anchor: str | None = None,
) -> None:
    """Writes paragraphs into a placeholder or text box, then checks that they fit."""
    if target is None:
        return
    if role in DISPLAY_ROLES:
        paras = [balance(r, target, para) for para in paras]
    shape = target.shape
    tf = shape.text_frame
    tf.word_wrap = True
    if anchor:
        ad.set_body_anchor(tf, anchor)
    for i, para in enumerate(paras):
        p = tf.paragraphs[0] if i == 0 else tf.add_paragraph()
        ad.clear_runs(p)
        if para.level:
            p.level = para.level
        ad.set_paragraph(
            p,
            bullet=para.bullet,
            autonum_start=para.autonum,
            mar_l=para.mar_l,
            indent=para.indent,
            align=para.align,
            space_before=para.space_before,
            line_pct=para.line,
            bullet_color="accent1" if para.bullet == "autonum" else None,
        )
        if para.bullet == "autonum" and text_colour(r, "accent1").startswith("#"):
            ad.paragraph_colours_rgb(p, text_colour(r, "accent1"))  # the numbers are text too
        _write_runs(r, p, para)
    check_fit(r, target, paras, slide_no=slide_no, title=title, role=role, index=index)


def _write_runs(r: DeckRenderer, p, para: Para) -> None:
    """Adds a paragraph's runs with their formatting; empty runs are left out."""
    for run in para.runs:
        if not run.text:
            continue
        out = p.add_run()
        out.text = run.text
        if run.bold or para.bold:
            out.font.bold = True
        if run.italic or para.italic:
            out.font.italic = True
        if para.size:
            out.font.size = Pt(para.size)
        if para.color:
            colour_run(r, out, para.color)
        if para.font:
            ad.set_run_font_ref(out, para.font)
        if run.sup:
            ad.set_superscript(out)
        if run.link:
            out.hyperlink.address = run.link
        ad.set_run_lang(out, r.lang)


def title_para(r: DeckRenderer, text: str) -> list[Para]:
    """Returns a title as paragraphs (formatting from the title placeholder)."""
    return [Para(r.runs(text))]


def bullet_paras(r: DeckRenderer, items: list, explicit: bool) -> list[Para]:
    """Returns bullets and sub-bullets as paragraphs (sized and indented when `explicit`)."""
    out: list[Para] = []
    for item in items:
        text, subs = (item, []) if isinstance(item, str) else (item.text, item.sub)
        out.append(_bullet(r, r.runs(text), 0, explicit))
        for sub in subs:
            out.append(_bullet(r, r.runs(sub), 1, explicit))
    return out


def _bullet(r: DeckRenderer, runs: list[Run], level: int, explicit: bool) -> Para:
    if not explicit:
        return Para(runs, level=level)
    if level == 0:
        return Para(runs, 0, bullet="\u2022", size=28, mar_l=r.emu(0.4), indent=-r.emu(0.4), space_before=14)
    return Para(runs, 1, bullet="\u2013", size=24, mar_l=r.emu(0.9), indent=-r.emu(0.35), space_before=6)


def plain(r: DeckRenderer, text: str | None, *, size: float | None = None, **kw) -> Para:
    """Returns a paragraph without a bullet or indent."""
    return Para(r.runs(text), bullet="none", mar_l=0, indent=0, size=size, **kw)


def put_title(r: DeckRenderer, slide, slots: Slots, all_phs, text: str, index: int | None, slide_no: int):
    """Writes the slide title into the title placeholder, or a drawn box; returns its target."""
    target = as_target(slots.title())
    if target is None:
        area = body_area(r, all_phs)
        box = ad.Box(area.x, int(r.H * 0.05), area.w, int(r.H * 0.14))
        target = textbox(slide, box, "Title")
        paras = [Para(r.runs(text), size=36, bold=True, font="+mj-lt", color="tx2")]
    else:
        paras = title_para(r, text)
    write(r, target, paras, slide_no=slide_no, title=text, role="title", index=index)
    return target


def open_slide(r: DeckRenderer, kind: str, index: int | None, title: str) -> Page:
    """Adds a slide of `kind` and writes its title."""
    pg = new_slide(r, kind, index)
    pg.title = title
    pg.title_target = put_title(r, pg.slide, pg.slots, pg.all_phs, title, index, pg.n)
    return pg


def required(value: T | None) -> T:
    """Returns a field the schema requires for the slide's kind (so it is never None here)."""
    assert value is not None, "the schema requires this field for the slide's kind"
    return value


def content_slide(sl: schema.Slide | None) -> tuple[schema.Slide, str]:
    """Returns a content slide and its title (content kinds always come from the YAML, and the
    schema requires them to have a title)."""
    sl = required(sl)
    return sl, required(sl.title)
