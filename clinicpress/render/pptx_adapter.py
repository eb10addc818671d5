"""The XML-level work python-pptx has no API for, kept in one place.

Opening a .potx, removing a template's sample slides without orphan parts, rewriting the
theme's colours and fonts, reading the text style a placeholder inherits, footer and
slide-number placeholders on slides, alt text, bullets and superscripts, and rewriting the
saved zip so the same input gives the same bytes. Nothing here knows about decks or practices.
"""
from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass, fields
from pathlib import Path

from lxml import etree
from pptx import Presentation
from pptx.opc.constants import RELATIONSHIP_TYPE as RT
from pptx.oxml.ns import qn
from pptx.util import Emu

A_NS = "http://schemas.openxmlformats.org/drawingml/2006/main"
P_NS = "http://schemas.openxmlformats.org/presentationml/2006/main"
P14_SECTIONS = "{http://schemas.microsoft.com/office/powerpoint/2010/main}sectionLst"
DECORATIVE_EXT = "{C183D7F6-B498-43B3-948B-1728B52AA6E4}"
DECORATIVE_NS = "http://schemas.microsoft.com/office/drawing/2017/decorative"
TEMPLATE_MAIN = "application/vnd.openxmlformats-officedocument.presentationml.template.main+xml"
PRESENTATION_MAIN = "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"
THUMBNAIL_RT = "http://schemas.openxmlformats.org/package/2006/relationships/metadata/thumbnail"
SLIDENUM_FIELD_ID = "{F5A1C6C2-7B1D-5C8E-9E0A-3C1B2D4E5F60}"

def _theme_slots() -> dict:
    from pptx.enum.dml import MSO_THEME_COLOR as C

    return {"tx1": C.TEXT_1, "tx2": C.TEXT_2, "bg1": C.BACKGROUND_1, "bg2": C.BACKGROUND_2,
            "accent1": C.ACCENT_1, "accent2": C.ACCENT_2, "accent3": C.ACCENT_3, "accent4": C.ACCENT_4,
            "accent5": C.ACCENT_5, "accent6": C.ACCENT_6}


THEME_SLOTS = _theme_slots()

SCHEME_SLOTS = ("dk1", "lt1", "dk2", "lt2", "accent1", "accent2", "accent3", "accent4", "accent5", "accent6",
                "hlink", "folHlink")

TITLE_TYPES = ("title", "ctrTitle", "vertTitle")
TEXT_TYPES = ("body", "obj", "subTitle", "vertBody")
LATENT_TYPES = ("dt", "ftr", "sldNum")  # never copied to slides by python-pptx


# --------------------------------------------------------------------------- opening
def open_presentation(path: Path):
    """Opens a .pptx or .potx (a .potx gets the presentation content type, python-pptx #1070)."""
    data = path.read_bytes()
    if path.suffix.lower() == ".potx":
        data = _retype_template(data)
    return Presentation(io.BytesIO(data))


def _retype_template(data: bytes) -> bytes:
    return swap_main_content_type(data, TEMPLATE_MAIN, PRESENTATION_MAIN)


def swap_main_content_type(data: bytes, old: str, new: str) -> bytes:
    """Rewrites the main part's content type in [Content_Types].xml (.potx <-> .pptx, #1070)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            blob = src.read(info.filename)
            if info.filename == "[Content_Types].xml":
                blob = blob.replace(old.encode(), new.encode())
            dst.writestr(info, blob)
    return out.getvalue()


def remove_all_slides(prs) -> int:
    """Removes every slide: sldId and relationship together, then stale sections and custom shows."""
    pres = prs.part._element
    sld_id_lst = prs.slides._sldIdLst
    removed = 0
    for sld_id in list(sld_id_lst):
        rid = sld_id.rId
        sld_id_lst.remove(sld_id)
        prs.part.drop_rel(rid)
        removed += 1
    # Sections (p14:sectionLst) and custom shows name the removed slides: drop them.
    for section_list in list(pres.iter(P14_SECTIONS)):
        ext = section_list.getparent()
        ext.getparent().remove(ext)
    for ext_lst in pres.findall(qn("p:extLst")):
        if len(ext_lst) == 0:
            pres.remove(ext_lst)
    for cust in pres.findall(qn("p:custShowLst")):
        for rel_id in cust.iter(qn("p:sld")):
            rid = rel_id.get(qn("r:id"))
            if rid:
                rel_id.getparent().remove(rel_id)
                prs.part.drop_rel(rid)
        pres.remove(cust)
    show = pres.find(qn("p:showPr"))
    if show is not None:
        for custom in show.findall(qn("p:custShow")):
            show.remove(custom)
    return removed


def drop_thumbnail(prs) -> None:
    """Drops the template's thumbnail (a picture of its sample slides)."""
    pkg = prs.part.package
    for rid, rel in list(pkg._rels.items()):
        if rel.reltype == THUMBNAIL_RT:
            pkg._rels.pop(rid)


# --------------------------------------------------------------------------- theme
def theme_parts(prs) -> list:
    """Returns the theme parts of every slide master and of the notes master, once each."""
    found = []
    masters = list(prs.slide_masters)
    owners = [m.part for m in masters]
    try:
        owners.append(prs.part.notes_master_part)
    except Exception:  # a package without a notes master and no way to add one
        pass
    for owner in owners:
        try:
            part = owner.part_related_by(RT.THEME)
        except KeyError:
            continue
        if part not in found:
            found.append(part)
    return found


def apply_theme(prs, scheme: dict[str, str], major: str, minor: str, name: str) -> None:
    """Sets the colour scheme (hex per slot) and the major/minor Latin fonts of every theme."""
    for part in theme_parts(prs):
        root = etree.fromstring(part.blob)
        elements = root.find(f"{{{A_NS}}}themeElements")
        if elements is None:
            continue
        clr = elements.find(f"{{{A_NS}}}clrScheme")
        if clr is not None:
            clr.set("name", name)
            for slot in SCHEME_SLOTS:
                if slot not in scheme:
                    continue
                el = clr.find(f"{{{A_NS}}}{slot}")
                if el is None:
                    el = etree.SubElement(clr, f"{{{A_NS}}}{slot}")
                for child in list(el):
                    el.remove(child)
                etree.SubElement(el, f"{{{A_NS}}}srgbClr").set("val", scheme[slot].lstrip("#").upper())
        fonts = elements.find(f"{{{A_NS}}}fontScheme")
        if fonts is not None:
            fonts.set("name", name)
            for tag, family in (("majorFont", major), ("minorFont", minor)):
                group = fonts.find(f"{{{A_NS}}}{tag}")
                if group is None:
                    continue
                latin = group.find(f"{{{A_NS}}}latin")
                if latin is None:
                    latin = etree.Element(f"{{{A_NS}}}latin")
                    group.insert(0, latin)
                latin.attrib.clear()
                latin.set("typeface", family)
        part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def theme_colors(prs) -> dict[str, str]:
    """Returns the first master's colour scheme as {slot: RRGGBB} (srgbClr or sysClr lastClr)."""
    part = prs.slide_master.part.part_related_by(RT.THEME)
    root = etree.fromstring(part.blob)
    out = {}
    clr = root.find(f".//{{{A_NS}}}clrScheme")
    for el in clr if clr is not None else []:
        slot = etree.QName(el).localname
        for child in el:
            out[slot] = child.get("val") if etree.QName(child).localname == "srgbClr" else child.get("lastClr")
    return out


def theme_fonts(prs) -> tuple[str | None, str | None]:
    part = prs.slide_master.part.part_related_by(RT.THEME)
    root = etree.fromstring(part.blob)
    major = root.find(f".//{{{A_NS}}}majorFont/{{{A_NS}}}latin")
    minor = root.find(f".//{{{A_NS}}}minorFont/{{{A_NS}}}latin")
    return (major.get("typeface") if major is not None else None,
            minor.get("typeface") if minor is not None else None)


# --------------------------------------------------------------------------- placeholders
@dataclass
class Box:
    """A rectangle in EMU."""

    x: int
    y: int
    w: int
    h: int

    @property
    def bottom(self) -> int:
        return self.y + self.h

    @property
    def right(self) -> int:
        return self.x + self.w

    @property
    def area(self) -> int:
        return self.w * self.h


@dataclass
class Ph:
    """A layout placeholder as the renderer sees it."""

    order: int
    type: str
    idx: int
    name: str
    box: Box | None
    element: object  # the layout's p:sp

    @property
    def kind(self) -> str:
        if self.type in TITLE_TYPES:
            return "title"
        if self.type in TEXT_TYPES:
            return "text"
        if self.type in ("pic", "clipArt"):
            return "picture"
        if self.type == "chart":
            return "chart"
        if self.type == "tbl":
            return "table"
        if self.type in LATENT_TYPES:
            return "latent"
        return "other"


def ph_type(sp) -> str:
    ph = sp.find(f".//{qn('p:nvPr')}/{qn('p:ph')}")
    return ph.get("type", "obj") if ph is not None else ""


def _xfrm_box(sp) -> Box | None:
    off = sp.find(f"{qn('p:spPr')}/{qn('a:xfrm')}/{qn('a:off')}")
    ext = sp.find(f"{qn('p:spPr')}/{qn('a:xfrm')}/{qn('a:ext')}")
    if off is None or ext is None:
        return None
    return Box(int(off.get("x")), int(off.get("y")), int(ext.get("cx")), int(ext.get("cy")))


def master_placeholder(master, type_: str):
    """Returns the master's p:sp a layout placeholder of `type_` inherits from."""
    want = {"ctrTitle": "title", "vertTitle": "title", "subTitle": "body", "obj": "body", "vertBody": "body",
            "pic": "body", "chart": "body", "tbl": "body", "clipArt": "body", "media": "body"}.get(type_, type_)
    for sp in master._element.iter(qn("p:sp")):
        if ph_type(sp) == want:
            return sp
    return None


def layout_placeholders(layout) -> list[Ph]:
    """Returns a layout's placeholders in document order, with boxes resolved through the master."""
    out = []
    master = layout.slide_master
    for i, shape in enumerate(layout.placeholders):
        sp = shape._element
        t = ph_type(sp)
        box = _xfrm_box(sp)
        if box is None:
            base = master_placeholder(master, t)
            box = _xfrm_box(base) if base is not None else None
        out.append(Ph(i, t, shape.placeholder_format.idx, shape.name, box, sp))
    return out


def has_duplicate_idx(phs: list[Ph]) -> bool:
    seen = [p.idx for p in phs if p.kind != "latent"]
    return len(seen) != len(set(seen))


def set_box(shape, box: Box) -> None:
    shape.left, shape.top, shape.width, shape.height = Emu(box.x), Emu(box.y), Emu(box.w), Emu(box.h)


def remove_shape(shape) -> None:
    el = shape._element
    el.getparent().remove(el)


@dataclass
class TextStyle:
    """What a paragraph level resolves to, after walking slide → layout → master → text styles."""

    size: float | None = None        # points
    bold: bool | None = None
    font: str | None = None          # "+mj-lt", "+mn-lt" or a family name
    mar_l: int | None = None         # EMU
    indent: int | None = None        # EMU
    space_before: float | None = None  # points
    space_before_pct: float | None = None
    line_pct: float | None = None    # 1.0 = single
    line_pts: float | None = None

    def merged(self, other: "TextStyle") -> "TextStyle":
        """Fills this style's gaps from `other` (a more general level)."""
        return TextStyle(**{f.name: getattr(self, f.name) if getattr(self, f.name) is not None
                            else getattr(other, f.name) for f in fields(self)})


def _level_style(container, level: int) -> TextStyle:
    """Reads a:lvlNpPr (N = level + 1) of a lstStyle, titleStyle, bodyStyle or otherStyle."""
    if container is None:
        return TextStyle()
    ppr = container.find(f"{{{A_NS}}}lvl{level + 1}pPr")
    if ppr is None:
        return TextStyle()
    return paragraph_style(ppr)


def paragraph_style(ppr) -> TextStyle:
    """Reads the style a:pPr (or a:lvlNpPr) sets itself."""
    st = TextStyle()
    if ppr.get("marL") is not None:
        st.mar_l = int(ppr.get("marL"))
    if ppr.get("indent") is not None:
        st.indent = int(ppr.get("indent"))
    ln = ppr.find(f"{{{A_NS}}}lnSpc")
    if ln is not None and len(ln):
        child = ln[0]
        if etree.QName(child).localname == "spcPct":
            st.line_pct = int(child.get("val")) / 100000
        else:
            st.line_pts = int(child.get("val")) / 100
    sb = ppr.find(f"{{{A_NS}}}spcBef")
    if sb is not None and len(sb):
        child = sb[0]
        if etree.QName(child).localname == "spcPts":
            st.space_before = int(child.get("val")) / 100
        else:
            st.space_before_pct = int(child.get("val")) / 100000
    rpr = ppr.find(f"{{{A_NS}}}defRPr")
    if rpr is not None:
        if rpr.get("sz"):
            st.size = int(rpr.get("sz")) / 100
        if rpr.get("b") is not None:
            st.bold = rpr.get("b") in ("1", "true")
        latin = rpr.find(f"{{{A_NS}}}latin")
        if latin is not None:
            st.font = latin.get("typeface")
    return st


def inherited_style(layout_sp, master, level: int) -> TextStyle:
    """Returns the style a slide placeholder cloned from `layout_sp` gets at `level`."""
    t = ph_type(layout_sp) if layout_sp is not None else ""
    chain = []
    if layout_sp is not None:
        chain.append(layout_sp.find(f"{qn('p:txBody')}/{qn('a:lstStyle')}"))
        base = master_placeholder(master, t)
        if base is not None:
            chain.append(base.find(f"{qn('p:txBody')}/{qn('a:lstStyle')}"))
    tx = master._element.find(qn("p:txStyles"))
    if tx is not None:
        if t in TITLE_TYPES:
            chain.append(tx.find(qn("p:titleStyle")))
        elif t in TEXT_TYPES or t in ("pic", "chart", "tbl"):
            chain.append(tx.find(qn("p:bodyStyle")))
        else:
            chain.append(tx.find(qn("p:otherStyle")))
    style = TextStyle()
    for container in chain:
        style = style.merged(_level_style(container, level))
    return style.merged(TextStyle(size=18, bold=False, mar_l=0, indent=0, space_before=0, line_pct=1.0))


def body_insets(sp_chain) -> tuple[int, int, int, int]:
    """Returns (left, top, right, bottom) insets in EMU from the first bodyPr that sets them."""
    vals = {"lIns": None, "tIns": None, "rIns": None, "bIns": None}
    for sp in sp_chain:
        if sp is None:
            continue
        bp = sp.find(f"{qn('p:txBody')}/{qn('a:bodyPr')}")
        if bp is None:
            continue
        for k in vals:
            if vals[k] is None and bp.get(k) is not None:
                vals[k] = int(bp.get(k))
    return (vals["lIns"] if vals["lIns"] is not None else 91440, vals["tIns"] if vals["tIns"] is not None else 45720,
            vals["rIns"] if vals["rIns"] is not None else 91440, vals["bIns"] if vals["bIns"] is not None else 45720)


# --------------------------------------------------------------------------- text
def set_paragraph(p, *, bullet: str | None = None, autonum_start: int | None = None, mar_l: int | None = None,
                  indent: int | None = None, align: str | None = None, space_before: float | None = None,
                  line_pct: float | None = None, bullet_color: str | None = None) -> None:
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
    _sort_ppr(ppr)


_PPR_ORDER = ["lnSpc", "spcBef", "spcAft", "buClrTx", "buClr", "buSzTx", "buSzPct", "buSzPts", "buFontTx",
              "buFont", "buNone", "buAutoNum", "buChar", "buBlip", "tabLst", "defRPr", "extLst"]


def _sort_children(element, order: list[str]) -> None:
    """Puts the children of `element` in the order the OOXML schema requires (unknown ones last)."""
    rank = {name: i for i, name in enumerate(order)}
    for child in sorted(element, key=lambda c: rank.get(etree.QName(c).localname, len(order))):
        element.append(child)


def _sort_ppr(ppr) -> None:
    _sort_children(ppr, _PPR_ORDER)


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
    _sort_rpr(rpr)


_RPR_ORDER = ["ln", "noFill", "solidFill", "gradFill", "blipFill", "pattFill", "grpFill", "effectLst",
              "effectDag", "highlight", "uLnTx", "uLn", "uFillTx", "uFill", "latin", "ea", "cs", "sym",
              "hlinkClick", "hlinkMouseOver", "rtl", "extLst"]


def _sort_rpr(rpr) -> None:
    _sort_children(rpr, _RPR_ORDER)


def set_lang_everywhere(text_frame, lang: str) -> None:
    for p in text_frame.paragraphs:
        for r in p.runs:
            set_run_lang(r, lang)


def set_body_anchor(text_frame, anchor: str) -> None:
    text_frame._txBody.get_or_add_bodyPr().set("anchor", anchor)


# --------------------------------------------------------------------------- shapes
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


def add_latent_placeholder(slide, kind: str, idx: int, box: Box, text: str | None, lang: str,
                           number: int | None = None) -> None:
    """Adds a footer (`ftr`) or slide-number (`sldNum`) placeholder to a slide.

    python-pptx never copies these from the layout (#64); the position is written out so the
    slide does not depend on how a reader matches it to the layout.
    """
    sp_id = _next_shape_id(slide)
    name = {"ftr": "Footer", "sldNum": "Slide Number"}[kind] + f" Placeholder {sp_id}"
    if kind == "sldNum":
        para = (f'<a:p><a:fld id="{SLIDENUM_FIELD_ID}" type="slidenum"><a:rPr lang="{lang}"/>'
                f'<a:t>{number}</a:t></a:fld><a:endParaRPr lang="{lang}"/></a:p>')
    else:
        para = f'<a:p><a:r><a:rPr lang="{lang}"/><a:t>{_xml_escape(text or "")}</a:t></a:r></a:p>'
    xml = (f'<p:sp xmlns:a="{A_NS}" xmlns:p="{P_NS}"><p:nvSpPr><p:cNvPr id="{sp_id}" name="{name}"/>'
           f'<p:cNvSpPr><a:spLocks noGrp="1"/></p:cNvSpPr><p:nvPr><p:ph type="{kind}" sz="quarter" idx="{idx}"/>'
           f'</p:nvPr></p:nvSpPr><p:spPr><a:xfrm><a:off x="{box.x}" y="{box.y}"/><a:ext cx="{box.w}" '
           f'cy="{box.h}"/></a:xfrm></p:spPr><p:txBody><a:bodyPr/><a:lstStyle/>{para}</p:txBody></p:sp>')
    slide.shapes._spTree.append(etree.fromstring(xml))


def add_slide_number_field(paragraph, number: int, lang: str) -> None:
    """Appends a slide-number field to a paragraph of a text box."""
    fld = etree.SubElement(paragraph._p, qn("a:fld"))
    fld.set("id", SLIDENUM_FIELD_ID)
    fld.set("type", "slidenum")
    etree.SubElement(fld, qn("a:rPr")).set("lang", lang)
    etree.SubElement(fld, qn("a:t")).text = str(number)


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


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


def run_color_theme(run, slot: str) -> None:
    rpr = run._r.get_or_add_rPr()
    for old in rpr.findall(qn("a:solidFill")):
        rpr.remove(old)
    sf = etree.SubElement(rpr, qn("a:solidFill"))
    etree.SubElement(sf, qn("a:schemeClr")).set("val", slot)
    _sort_rpr(rpr)


# --------------------------------------------------------------------------- package
def set_app_properties(prs, *, slides: int, notes: int, company: str) -> None:
    """Rewrites docProps/app.xml so it describes this deck, not the template's sample."""
    pkg = prs.part.package
    for rel in pkg._rels.values():
        if rel.reltype == RT.EXTENDED_PROPERTIES:
            xml = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                   '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
                   f'<Application>ClinicPress</Application><PresentationFormat>On-screen Show</PresentationFormat>'
                   f'<Slides>{slides}</Slides><Notes>{notes}</Notes><HiddenSlides>0</HiddenSlides>'
                   f'<Company>{_xml_escape(company)}</Company></Properties>')
            rel.target_part._blob = xml.encode("utf-8")


def normalise_zip(data: bytes, when: dt.date) -> bytes:
    """Rewrites a saved package with fixed zip dates in the same entry order (same input, same bytes).

    Embedded workbooks (chart data written by XlsxWriter) carry the time of writing in their
    own core properties and zip entries: those are fixed too.
    """
    stamp = (max(when.year, 1980), when.month, when.day, 0, 0, 0)
    iso = f"{stamp[0]:04d}-{stamp[1]:02d}-{stamp[2]:02d}T00:00:00Z"
    src = zipfile.ZipFile(io.BytesIO(data))
    is_workbook = "xl/workbook.xml" in src.namelist()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            blob = src.read(info.filename)
            if info.filename.endswith(".xlsx"):
                blob = normalise_zip(blob, when)
            elif is_workbook and info.filename == "docProps/core.xml":
                blob = _fix_core_dates(blob, iso)
            zi = zipfile.ZipInfo(info.filename, stamp)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.create_system = 3
            zi.external_attr = 0o644 << 16
            dst.writestr(zi, blob)
    return out.getvalue()


def _fix_core_dates(blob: bytes, iso: str) -> bytes:
    return re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)", rb"\g<1>" + iso.encode() + rb"\g<2>",
                  blob)


def reachable_parts(data: bytes) -> tuple[set[str], set[str]]:
    """Returns (zip entries, parts reachable from the package relationships): for orphan checks."""
    zf = zipfile.ZipFile(io.BytesIO(data))
    names = set(zf.namelist())
    seen: set[str] = set()
    todo = ["/"]
    while todo:
        source = todo.pop()
        folder, _, base = source.rpartition("/")
        rels_name = f"{folder}/_rels/{base}.rels".lstrip("/") if source != "/" else "_rels/.rels"
        if rels_name not in names:
            continue
        root = etree.fromstring(zf.read(rels_name))
        for rel in root:
            if rel.get("TargetMode") == "External":
                continue
            target = rel.get("Target")
            path = _resolve(folder if source != "/" else "", target)
            if path not in seen:
                seen.add(path)
                todo.append("/" + path)
    return names, seen


def _resolve(folder: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    parts = [p for p in folder.strip("/").split("/") if p]
    for piece in target.split("/"):
        if piece == "..":
            parts.pop()
        elif piece and piece != ".":
            parts.append(piece)
    return "/".join(parts)
