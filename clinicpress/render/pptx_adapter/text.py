"""Paragraph and run properties python-pptx has no API for: bullets, spacing, language, fonts."""

from __future__ import annotations

import re

from lxml import etree
from pptx.oxml.ns import qn

from .oxml import SLIDENUM_FIELD_ID, scheme_to_rgb, sort_children

# The schema order of the children of a:pPr and a:rPr (ECMA-376); PowerPoint refuses other orders.
_PPR_ORDER = (
    "lnSpc spcBef spcAft buClrTx buClr buSzTx buSzPct buSzPts buFontTx buFont buNone buAutoNum buChar "
    "buBlip tabLst defRPr extLst"
).split()
_RPR_ORDER = (
    "ln noFill solidFill gradFill blipFill pattFill grpFill effectLst effectDag highlight uLnTx uLn "
    "uFillTx uFill latin ea cs sym hlinkClick hlinkMouseOver rtl extLst"
).split()


def set_paragraph(
    p,
    *,
    bullet: str | None = None,
    autonum_start: int | None = None,
    mar_l: int | None = None,
    indent: int | None = None,
    align: str | None = None,
    space_before: float | None = None,
    line_pct: float | None = None,
    bullet_color: str | None = None,
) -> None:
    """Sets paragraph properties python-pptx has no API for: bullets, margins, spacing.

    `bullet` is None (inherit), "none", a character, or "autonum" (numbered from `autonum_start`).
    """
    ppr = p._p.get_or_add_pPr()
    if mar_l is not None:
        ppr.set("marL", str(int(mar_l)))
    if indent is not None:
        ppr.set("indent", str(int(indent)))
    if align:
        ppr.set("algn", align)
    replace = []
    if line_pct is not None:
        replace.append("lnSpc")
    if space_before is not None:
        replace.append("spcBef")
    if bullet is not None:
        replace += ["buClr", "buClrTx", "buFont", "buFontTx", "buNone", "buChar", "buAutoNum", "buBlip"]
    for child in list(ppr):
        if etree.QName(child).localname in replace:
            ppr.remove(child)
    if line_pct is not None:
        ln = etree.SubElement(ppr, qn("a:lnSpc"))
        etree.SubElement(ln, qn("a:spcPct")).set("val", str(int(line_pct * 100000)))
    if space_before is not None:
        sb = etree.SubElement(ppr, qn("a:spcBef"))
        etree.SubElement(sb, qn("a:spcPts")).set("val", str(int(space_before * 100)))
    if bullet and bullet != "none" and bullet_color:
        bc = etree.SubElement(ppr, qn("a:buClr"))
        etree.SubElement(bc, qn("a:schemeClr")).set("val", bullet_color)
    if bullet == "none":
        etree.SubElement(ppr, qn("a:buNone"))
    elif bullet == "autonum":
        etree.SubElement(ppr, qn("a:buFont")).set("typeface", "+mj-lt")
        an = etree.SubElement(ppr, qn("a:buAutoNum"))
        an.set("type", "arabicPeriod")
        if autonum_start and autonum_start > 1:
            an.set("startAt", str(autonum_start))
    elif bullet:
        etree.SubElement(ppr, qn("a:buFontTx"))
        etree.SubElement(ppr, qn("a:buChar")).set("char", bullet)
    sort_children(ppr, _PPR_ORDER)


def set_run_lang(run, lang: str) -> None:
    run._r.get_or_add_rPr().set("lang", lang)


def set_superscript(run) -> None:
    run._r.get_or_add_rPr().set("baseline", "30000")


def set_run_font_ref(run, ref: str) -> None:
    """Points a run at a theme font: "+mj-lt" (headings) or "+mn-lt" (body)."""
    rpr = run._r.get_or_add_rPr()
    for tag in ("a:latin",):
        for old in rpr.findall(qn(tag)):
            rpr.remove(old)
    latin = etree.SubElement(rpr, qn("a:latin"))
    latin.set("typeface", ref)
    sort_children(rpr, _RPR_ORDER)


def set_lang_everywhere(text_frame, lang: str) -> None:
    for p in text_frame.paragraphs:
        for r in p.runs:
            set_run_lang(r, lang)


_RTL_LETTER = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")
_LTR_RUN = re.compile("[(+]?[0-9A-Za-z][^\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff\u200e]*[0-9A-Za-z)]|[0-9A-Za-z]")


def _text_frames(shapes):
    """Every text frame among `shapes`: text boxes, placeholders, grouped shapes and table cells."""
    for shape in shapes:
        if shape.shape_type is not None and shape.shape_type == 6:  # MSO_SHAPE_TYPE.GROUP
            yield from _text_frames(shape.shapes)
        elif getattr(shape, "has_table", False) and shape.has_table:
            for row in shape.table.rows:
                for cell in row.cells:
                    yield cell.text_frame
        elif shape.has_text_frame:
            yield shape.text_frame


def set_right_to_left(prs, lang: str, script_font: str) -> None:
    """Makes every paragraph of every slide and its speaker notes right to left, as PowerPoint
    stores it (python-pptx has no API for it): `a:pPr rtl="1"`, aligned right unless centred or
    justified, each run tagged `lang` with `script_font` in its complex-script slot (`a:cs`),
    the font PowerPoint draws Arabic with (the `a:latin` font draws only Latin)."""
    slides = list(prs.slides)
    frames = [tf for slide in slides for tf in _text_frames(slide.shapes)]
    frames += [slide.notes_slide.notes_text_frame for slide in slides if slide.has_notes_slide]
    for tf in frames:
        if tf is None:
            continue
        for p in tf.paragraphs:
            ppr = p._p.get_or_add_pPr()
            if ppr.get("algn") in (None, "l"):
                ppr.set("algn", "r")
            if not _RTL_LETTER.search(p.text):  # an address or a URL alone: left to right, on the right
                continue
            ppr.set("rtl", "1")
            for r in p.runs:
                # A phone number, URL or Latin name inside right-to-left text keeps its order: a
                # left-to-right mark on each side makes its digits and the spaces and brackets
                # between them left to right (Unicode bidi rules W7, N1); LibreOffice 7.4 ignores
                # the LRE … PDF and LRI … PDI controls.
                r.text = _LTR_RUN.sub(lambda m: f"\u200e{m.group(0)}\u200e", r.text)
                rpr = r._r.get_or_add_rPr()
                rpr.set("lang", lang)
                for old in rpr.findall(qn("a:cs")):
                    rpr.remove(old)
                etree.SubElement(rpr, qn("a:cs")).set("typeface", script_font)
                sort_children(rpr, _RPR_ORDER)


def set_body_anchor(text_frame, anchor: str) -> None:
    text_frame._txBody.get_or_add_bodyPr().set("anchor", anchor)


def add_slide_number_field(paragraph, number: int, lang: str) -> None:
    """Appends a slide-number field to a paragraph of a text box."""
    fld = etree.SubElement(paragraph._p, qn("a:fld"))
    fld.set("id", SLIDENUM_FIELD_ID)
    fld.set("type", "slidenum")
    etree.SubElement(fld, qn("a:rPr")).set("lang", lang)
    etree.SubElement(fld, qn("a:t")).text = str(number)


def run_color_theme(run, slot: str) -> None:
    rpr = run._r.get_or_add_rPr()
    for old in rpr.findall(qn("a:solidFill")):
        rpr.remove(old)
    sf = etree.SubElement(rpr, qn("a:solidFill"))
    etree.SubElement(sf, qn("a:schemeClr")).set("val", slot)
    sort_children(rpr, _RPR_ORDER)


def clear_runs(paragraph) -> None:
    """Removes a paragraph's runs (a placeholder's sample text), keeping its properties."""
    for r in list(paragraph.runs):
        r._r.getparent().remove(r._r)


def paragraph_colours_rgb(paragraph, colour: str) -> None:
    """Writes `colour` (#RRGGBB) over every theme colour of the paragraph's properties (a
    number bullet's colour, which is text too)."""
    ppr = paragraph._p.pPr
    for scheme in list(ppr.iter(qn("a:schemeClr")) if ppr is not None else []):
        scheme_to_rgb(scheme, colour)
