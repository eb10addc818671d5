"""Shapes on a slide: names, alt text, boxes, footer placeholders, fills, chart axes."""

from __future__ import annotations

from lxml import etree
from pptx.oxml.ns import qn
from pptx.util import Emu

from .oxml import A_NS, DECORATIVE_EXT, DECORATIVE_NS, P_NS, SLIDENUM_FIELD_ID, THEME_SLOTS, xml_escape
from .placeholders import Box


def set_box(shape, box: Box) -> None:
    shape.left, shape.top, shape.width, shape.height = Emu(box.x), Emu(box.y), Emu(box.w), Emu(box.h)


def remove_shape(shape) -> None:
    el = shape._element
    el.getparent().remove(el)


def set_alt_text(shape, descr: str, *, decorative: bool = False, title: str | None = None) -> None:
    """Sets a shape's alternative text (cNvPr/@descr); decorative shapes get Office's flag."""
    cnvpr = shape._element.xpath("./*[1]/p:cNvPr")[0]
    cnvpr.set("descr", descr)
    if title:
        cnvpr.set("title", title)
    if decorative:
        ext_lst = cnvpr.find(qn("a:extLst"))
        if ext_lst is None:
            ext_lst = etree.SubElement(cnvpr, qn("a:extLst"))
        ext = etree.SubElement(ext_lst, qn("a:ext"))
        ext.set("uri", DECORATIVE_EXT)
        flag = etree.SubElement(ext, f"{{{DECORATIVE_NS}}}decorative", nsmap={"adec": DECORATIVE_NS})
        flag.set("val", "1")


def set_shape_name(shape, name: str) -> None:
    shape._element.xpath("./*[1]/p:cNvPr")[0].set("name", name)


def uncrop(picture) -> None:
    for side in ("crop_left", "crop_right", "crop_top", "crop_bottom"):
        setattr(picture, side, 0.0)


def _next_shape_id(slide) -> int:
    ids = [int(i) for i in slide.shapes._spTree.xpath("//p:cNvPr/@id")]
    return max(ids + [1]) + 1


def add_latent_placeholder(
    slide, kind: str, idx: int, box: Box, text: str | None, lang: str, number: int | None = None
) -> None:
    """Adds a footer (`ftr`) or slide-number (`sldNum`) placeholder to a slide.

    python-pptx never copies these from the layout (#64); the position is written out so the
    slide does not depend on how a reader matches it to the layout.
    """
    sp_id = _next_shape_id(slide)
    name = {"ftr": "Footer", "sldNum": "Slide Number"}[kind] + f" Placeholder {sp_id}"
    if kind == "sldNum":
        para = (
            f'<a:p><a:fld id="{SLIDENUM_FIELD_ID}" type="slidenum"><a:rPr lang="{lang}"/>'
            f'<a:t>{number}</a:t></a:fld><a:endParaRPr lang="{lang}"/></a:p>'
        )
    else:
        para = f'<a:p><a:r><a:rPr lang="{lang}"/><a:t>{xml_escape(text or "")}</a:t></a:r></a:p>'
    xml = (
        f'<p:sp xmlns:a="{A_NS}" xmlns:p="{P_NS}"><p:nvSpPr><p:cNvPr id="{sp_id}" name="{name}"/>'
        f'<p:cNvSpPr><a:spLocks noGrp="1"/></p:cNvSpPr><p:nvPr><p:ph type="{kind}" sz="quarter" idx="{idx}"/>'
        f'</p:nvPr></p:nvSpPr><p:spPr><a:xfrm><a:off x="{box.x}" y="{box.y}"/><a:ext cx="{box.w}" '
        f'cy="{box.h}"/></a:xfrm></p:spPr><p:txBody><a:bodyPr/><a:lstStyle/>{para}</p:txBody></p:sp>'
    )
    slide.shapes._spTree.append(etree.fromstring(xml))


def cell_fill_theme(cell, slot: str) -> None:
    """Fills a table cell with a theme colour (so a restyled theme recolours it)."""
    cell.fill.solid()
    cell.fill.fore_color.theme_color = THEME_SLOTS[slot]


def set_value_axis_crossing(value_axis, where: str) -> None:
    """Sets where the value axis crosses the category axis ("max" keeps it at the bottom of a
    bar chart whose categories are reversed); python-pptx only sets the opposite crossing."""
    el = value_axis._element
    crosses = el.find(qn("c:crosses"))
    if crosses is None:
        crosses = el.find(qn("c:crossesAt"))
    if crosses is None:
        return
    new = etree.Element(qn("c:crosses"))
    new.set("val", where)
    crosses.addprevious(new)
    el.remove(crosses)


def insert_picture(placeholder, stream):
    """Puts a picture in a slide placeholder (of any type) and returns the picture shape."""
    from pptx.shapes.placeholder import PicturePlaceholder

    return PicturePlaceholder(placeholder._element, placeholder._parent).insert_picture(stream)


def add_chart(slide, placeholder, box: Box, chart_type, data):
    """Puts a chart in a slide placeholder (of any type), else in `box`; returns the graphic frame."""
    from pptx.shapes.placeholder import ChartPlaceholder

    if placeholder is None:
        return slide.shapes.add_chart(chart_type, box.x, box.y, box.w, box.h, data)
    return ChartPlaceholder(placeholder._element, placeholder._parent).insert_chart(chart_type, data)


def add_table(slide, placeholder, box: Box, rows: int, cols: int):
    """Puts an empty table in a slide placeholder (of any type), else in `box`; returns the graphic frame."""
    from pptx.shapes.placeholder import TablePlaceholder

    if placeholder is None:
        return slide.shapes.add_table(rows, cols, box.x, box.y, box.w, box.h)
    return TablePlaceholder(placeholder._element, placeholder._parent).insert_table(rows, cols)
