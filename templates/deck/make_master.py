"""Builds templates/deck/default-master.pptx, the default 16:9 talk master, from scratch.

Run `python templates/deck/make_master.py` after changing a layout; `--check` exits 1 when
the committed file differs from what this script builds (the test suite runs it). Every
colour is a theme reference (dk1/lt1/dk2/lt2, accent1-6) and every typeface is the theme's
major (+mj-lt, titles) or minor (+mn-lt, text) font, so ClinicPress restyles the whole master
for a practice by rewriting the theme alone. The committed master carries neutral defaults.

Layout names are what `layouts.yml` maps the slide kinds to. Picture placeholders named
"Logo", "Logo (reverse)" (for dark backgrounds) and "QR Code" receive the practice logo and
the booking QR code; a designer can use the same names in a practice's own master.
"""
from __future__ import annotations

import argparse
import io
import sys
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "default-master.pptx"

NS = ('xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
      'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
      'xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"')
XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
FIXED_DATE = (2024, 1, 1, 0, 0, 0)
FONT = "Atkinson Hyperlegible"

# Neutral defaults (the same as clinicpress.load.practice.DEFAULT_COLORS); a build replaces them.
DEFAULT_SCHEME = {
    "dk1": "1F2933", "lt1": "FFFFFF", "dk2": "1D4E89", "lt2": "E4ECF5",
    "accent1": "1D4E89", "accent2": "52606D", "accent3": "0B6E99", "accent4": "2F7D32",
    "accent5": "8A5A00", "accent6": "B3261E", "hlink": "0B6E99", "folHlink": "52606D",
}

EMU = 914400
W, H = 13.333, 7.5
SLIDE_CX, SLIDE_CY = 12192000, 6858000
M = 0.75                      # side margin
CONTENT_W = W - 2 * M         # 11.833 in
BODY_TOP = 2.0                # body area starts under the title rule
BODY_BOTTOM = 6.75            # and ends above the footer band
FOOT_Y, FOOT_H = 6.95, 0.55   # footer band

SLIDENUM_FIELD_ID = "{" + str(uuid.uuid5(uuid.NAMESPACE_URL, "clinicpress:slidenum")).upper() + "}"


def emu(inches: float) -> int:
    return int(round(inches * EMU))


# --------------------------------------------------------------------------- XML pieces
def clr(name: str, *mods: tuple[str, int]) -> str:
    inner = "".join(f'<a:{m} val="{v}"/>' for m, v in mods)
    return f'<a:schemeClr val="{name}">{inner}</a:schemeClr>' if inner else f'<a:schemeClr val="{name}"/>'


def fill(name: str | None, *mods) -> str:
    return "<a:noFill/>" if name is None else f"<a:solidFill>{clr(name, *mods)}</a:solidFill>"


def xfrm(x: float, y: float, w: float, h: float) -> str:
    return (f'<a:xfrm><a:off x="{emu(x)}" y="{emu(y)}"/>'
            f'<a:ext cx="{emu(w)}" cy="{emu(h)}"/></a:xfrm>')


@dataclass
class Lvl:
    """Paragraph and run defaults for one outline level of a placeholder or text style."""

    size: float | None = None          # points
    bold: bool | None = None
    italic: bool | None = None
    color: str | None = None           # scheme colour name
    font: str | None = None            # "+mj-lt" or "+mn-lt"
    align: str | None = None           # l, ctr, r
    bullet: str | None = None          # None: inherit; "none"; a character; "autonum"
    bullet_color: str | None = None
    mar_l: float | None = None         # inches
    indent: float | None = None        # inches (negative for a hanging bullet)
    space_before: float | None = None  # points
    line: int | None = None            # line spacing in percent

    def xml(self, level: int, tag: str | None = None) -> str:
        tag = tag or f"a:lvl{level}pPr"
        attrs = []
        if self.mar_l is not None:
            attrs.append(f'marL="{emu(self.mar_l)}"')
        if self.indent is not None:
            attrs.append(f'indent="{emu(self.indent)}"')
        if self.align:
            attrs.append(f'algn="{self.align}"')
        inner = ""
        if self.line is not None:
            inner += f'<a:lnSpc><a:spcPct val="{self.line * 1000}"/></a:lnSpc>'
        if self.space_before is not None:
            inner += f'<a:spcBef><a:spcPts val="{int(self.space_before * 100)}"/></a:spcBef>'
        if self.bullet == "none":
            inner += "<a:buNone/>"
        elif self.bullet == "autonum":
            inner += f"<a:buClr>{clr(self.bullet_color or 'accent1')}</a:buClr>"
            inner += '<a:buFont typeface="+mj-lt"/><a:buAutoNum type="arabicPeriod"/>'
        elif self.bullet:
            if self.bullet_color:
                inner += f"<a:buClr>{clr(self.bullet_color)}</a:buClr>"
            inner += f'<a:buFontTx/><a:buChar char="{escape(self.bullet)}"/>'
        rattrs = []
        if self.size is not None:
            rattrs.append(f'sz="{int(self.size * 100)}"')
        if self.bold is not None:
            rattrs.append(f'b="{int(self.bold)}"')
        if self.italic is not None:
            rattrs.append(f'i="{int(self.italic)}"')
        rinner = fill(self.color) if self.color else ""
        if self.font:
            kind = self.font[:4]  # +mj- or +mn-
            rinner += f'<a:latin typeface="{kind}lt"/><a:ea typeface="{kind}ea"/><a:cs typeface="{kind}cs"/>'
        rpr = f'<a:defRPr {" ".join(rattrs)}>{rinner}</a:defRPr>' if (rattrs or rinner) else ""
        return f'<{tag} {" ".join(attrs)}>{inner}{rpr}</{tag}>'


def lst_style(*levels: Lvl) -> str:
    return "<a:lstStyle>" + "".join(lv.xml(i + 1) for i, lv in enumerate(levels)) + "</a:lstStyle>"


def body_pr(anchor: str = "t", *, l: float = 0.1, r: float = 0.1, t: float = 0.05, b: float = 0.05,
            wrap: str = "square") -> str:
    return (f'<a:bodyPr vert="horz" wrap="{wrap}" lIns="{emu(l)}" tIns="{emu(t)}" rIns="{emu(r)}" '
            f'bIns="{emu(b)}" rtlCol="0" anchor="{anchor}"><a:noAutofit/></a:bodyPr>')


class Shapes:
    """Collects the shapes of one spTree and numbers their ids."""

    def __init__(self):
        self.items: list[str] = []
        self.next_id = 2

    def _id(self) -> int:
        i = self.next_id
        self.next_id += 1
        return i

    def rect(self, name: str, x, y, w, h, color: str, *mods, geom: str = "rect") -> None:
        self.items.append(
            f'<p:sp><p:nvSpPr><p:cNvPr id="{self._id()}" name="{escape(name)}"/><p:cNvSpPr/>'
            f'<p:nvPr userDrawn="1"/></p:nvSpPr><p:spPr>{xfrm(x, y, w, h)}'
            f'<a:prstGeom prst="{geom}"><a:avLst/></a:prstGeom>{fill(color, *mods)}<a:ln><a:noFill/></a:ln>'
            f'</p:spPr><p:txBody><a:bodyPr rtlCol="0" anchor="ctr"/><a:lstStyle/><a:p>'
            f'<a:endParaRPr lang="en-US"/></a:p></p:txBody></p:sp>')

    def glyph(self, name: str, x, y, w, h, text: str, size: float, color: str) -> None:
        """A decorative character (the big quotation mark) in the heading font."""
        self.items.append(
            f'<p:sp><p:nvSpPr><p:cNvPr id="{self._id()}" name="{escape(name)}"/><p:cNvSpPr txBox="1"/>'
            f'<p:nvPr userDrawn="1"/></p:nvSpPr><p:spPr>{xfrm(x, y, w, h)}'
            f'<a:prstGeom prst="rect"><a:avLst/></a:prstGeom><a:noFill/></p:spPr>'
            f'<p:txBody>{body_pr("t", l=0, r=0, t=0, b=0, wrap="none")}<a:lstStyle/><a:p><a:pPr>'
            f'<a:lnSpc><a:spcPct val="80000"/></a:lnSpc></a:pPr><a:r>'
            f'<a:rPr lang="en-US" sz="{int(size * 100)}" b="1">{fill(color)}<a:latin typeface="+mj-lt"/></a:rPr>'
            f'<a:t>{escape(text)}</a:t></a:r></a:p></p:txBody></p:sp>')

    def ph(self, name: str, ph: str, box: tuple | None = None, *, prompt: str = "", anchor: str | None = None,
           levels: tuple[Lvl, ...] = (), sp_fill: str | None = None, insets: dict | None = None,
           field: bool = False) -> None:
        """A placeholder: `ph` is the inner attributes of <p:ph>, e.g. 'type="body" idx="13"'."""
        sp = f"<p:spPr>{xfrm(*box) if box else ''}"
        if sp_fill:
            sp += fill(sp_fill)
        sp += "</p:spPr>"
        body = body_pr(anchor, **(insets or {})) if anchor else "<a:bodyPr/>"
        if field:
            para = (f'<a:p><a:fld id="{SLIDENUM_FIELD_ID}" type="slidenum"><a:rPr lang="en-US"/>'
                    f'<a:t>‹#›</a:t></a:fld><a:endParaRPr lang="en-US"/></a:p>')
        elif prompt:
            para = f'<a:p><a:r><a:rPr lang="en-US"/><a:t>{escape(prompt)}</a:t></a:r></a:p>'
        else:
            para = '<a:p><a:endParaRPr lang="en-US"/></a:p>'
        self.items.append(
            f'<p:sp><p:nvSpPr><p:cNvPr id="{self._id()}" name="{escape(name)}"/>'
            f'<p:cNvSpPr><a:spLocks noGrp="1"/></p:cNvSpPr><p:nvPr><p:ph {ph}/></p:nvPr></p:nvSpPr>'
            f'{sp}<p:txBody>{body}{lst_style(*levels) if levels else "<a:lstStyle/>"}{para}</p:txBody></p:sp>')

    def tree(self) -> str:
        return ('<p:spTree><p:nvGrpSpPr><p:cNvPr id="1" name=""/><p:cNvGrpSpPr/><p:nvPr/></p:nvGrpSpPr>'
                '<p:grpSpPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="0" cy="0"/><a:chOff x="0" y="0"/>'
                '<a:chExt cx="0" cy="0"/></a:xfrm></p:grpSpPr>' + "".join(self.items) + "</p:spTree>")


NO_BULLET = dict(bullet="none", mar_l=0, indent=0)


def footer_placeholders(s: Shapes, *, on_dark: bool = False) -> None:
    """Footer and slide-number placeholders of a layout (positions come from the master)."""
    color = "bg1" if on_dark else None
    s.ph("Footer Placeholder", 'type="ftr" sz="quarter" idx="11"',
         levels=(Lvl(color=color),) if color else ())
    s.ph("Slide Number Placeholder", 'type="sldNum" sz="quarter" idx="12"', field=True)


# --------------------------------------------------------------------------- layouts
def band_motif(s: Shapes, top: float, height: float) -> None:
    """The coloured band with a darker circle breaking out of its right edge."""
    s.rect("Decoration: band", 0, top, W, height, "accent1")
    d = height * 1.15
    s.rect("Decoration: circle", W - d * 0.62, top - d * 0.28, d, d, "accent1", ("lumMod", 80000), geom="ellipse")
    small = min(1.2, height * 0.28)
    s.rect("Decoration: small circle", W - 2.7, top + height - small * 0.55, small, small, "accent2",
           geom="ellipse")
    s.rect("Decoration: stripe", 0, top + height, W, 0.12, "accent2")


def layout_title() -> tuple[str, str, Shapes, str]:
    s = Shapes()
    band_motif(s, 0, 4.75)
    s.ph("Title", 'type="ctrTitle"', (M, 0.9, 9.6, 2.35), prompt="Talk title", anchor="b",
         levels=(Lvl(size=44, color="bg1", line=90, align="l"),))
    s.ph("Subtitle", 'type="subTitle" idx="1"', (M, 3.4, 9.6, 1.15), prompt="Subtitle", anchor="t",
         levels=(Lvl(size=24, color="bg1", align="l", space_before=0, **NO_BULLET),))
    s.ph("Logo", 'type="pic" sz="quarter" idx="13"', (M, 5.3, 4.4, 1.45), prompt="Logo", anchor="ctr")
    s.ph("Byline", 'type="body" sz="quarter" idx="14"', (5.55, 5.3, W - M - 5.55, 1.45), prompt="Practice",
         anchor="ctr", levels=(Lvl(size=20, color="tx1", align="r", space_before=0, **NO_BULLET),
                               Lvl(size=20, color="tx1", align="r", space_before=0, **NO_BULLET)))
    return "Title", "title", s, ' showMasterSp="0"'


def layout_section() -> tuple[str, str, Shapes, str]:
    s = Shapes()
    d = 6.2
    s.rect("Decoration: circle", -d * 0.38, H - d * 0.55, d, d, "accent1", ("lumMod", 80000), geom="ellipse")
    s.rect("Decoration: small circle", W - 2.1, 0.7, 1.1, 1.1, "accent2", geom="ellipse")
    s.rect("Decoration: rule", M, 2.45, 1.6, 0.1, "accent2")
    s.ph("Title", 'type="title"', (M, 2.7, 11.2, 1.75), prompt="Section title", anchor="t",
         levels=(Lvl(color="bg1"),))
    s.ph("Subtitle", 'type="body" idx="1"', (M, 4.5, 11.2, 1.3), prompt="What this part is about",
         anchor="t", levels=(Lvl(size=28, color="bg1", space_before=0, **NO_BULLET),))
    footer_placeholders(s, on_dark=True)
    return "Section", "secHead", s, ' showMasterSp="0"'


def layout_bullets():
    s = Shapes()
    s.ph("Title", 'type="title"', prompt="Slide title")
    s.ph("Content", 'idx="1"', prompt="Bullet")
    footer_placeholders(s)
    return "Title and Bullets", "obj", s, ""


def layout_two_columns():
    s = Shapes()
    gap = 0.5
    cw = (CONTENT_W - gap) / 2
    right = M + cw + gap
    heading = (Lvl(size=28, bold=True, color="accent1", space_before=0, **NO_BULLET),)
    column = (Lvl(size=24, space_before=10), Lvl(size=24, space_before=4))
    s.ph("Title", 'type="title"', prompt="Slide title")
    s.ph("Left Heading", 'type="body" sz="quarter" idx="13"', (M, BODY_TOP - 0.05, cw, 0.62),
         prompt="Left heading", anchor="b", levels=heading)
    s.ph("Left Content", 'sz="half" idx="1"', (M, BODY_TOP + 0.65, cw, BODY_BOTTOM - BODY_TOP - 0.65),
         prompt="Bullet", anchor="t", levels=column)
    s.ph("Right Heading", 'type="body" sz="quarter" idx="14"', (right, BODY_TOP - 0.05, cw, 0.62),
         prompt="Right heading", anchor="b", levels=heading)
    s.ph("Right Content", 'sz="half" idx="2"', (right, BODY_TOP + 0.65, cw, BODY_BOTTOM - BODY_TOP - 0.65),
         prompt="Bullet", anchor="t", levels=column)
    s.rect("Decoration: column rule", M + cw + gap / 2 - 0.01, BODY_TOP + 0.1, 0.02, BODY_BOTTOM - BODY_TOP - 0.2,
           "bg2")
    footer_placeholders(s)
    return "Two Columns", "twoTxTwoObj", s, ""


def layout_image():
    s = Shapes()
    pic_w = 7.9
    cap_x = M + pic_w + 0.4
    s.ph("Title", 'type="title"', prompt="Slide title")
    s.ph("Picture", 'type="pic" idx="13"', (M, BODY_TOP, pic_w, BODY_BOTTOM - BODY_TOP), prompt="Picture",
         anchor="ctr")
    s.ph("Caption", 'type="body" sz="half" idx="14"', (cap_x, BODY_TOP, W - M - cap_x, BODY_BOTTOM - BODY_TOP),
         prompt="Caption", anchor="t", levels=(Lvl(size=24, space_before=0, **NO_BULLET),))
    footer_placeholders(s)
    return "Image with Caption", "picTx", s, ""


def layout_big_number():
    s = Shapes()
    s.ph("Title", 'type="title"', prompt="Slide title")
    s.ph("Number", 'type="body" sz="quarter" idx="13"', (M, BODY_TOP, CONTENT_W, 2.3), prompt="70%",
         anchor="b", levels=(Lvl(size=96, bold=True, color="accent1", font="+mj-lt", line=90, space_before=0,
                                 **NO_BULLET),))
    s.rect("Decoration: number rule", M + 0.08, BODY_TOP + 2.45, 1.6, 0.08, "accent2")
    s.ph("Explanation", 'type="body" sz="half" idx="14"', (M, BODY_TOP + 2.7, 10.6, BODY_BOTTOM - BODY_TOP - 2.7),
         prompt="What the number means", anchor="t", levels=(Lvl(size=28, space_before=0, **NO_BULLET),))
    footer_placeholders(s)
    return "Big Number", "cust", s, ""


def layout_quote():
    s = Shapes()
    s.ph("Title", 'type="title"', prompt="Slide title")
    s.glyph("Decoration: quotation mark", M - 0.05, BODY_TOP - 0.1, 1.5, 1.9, "\u201c", 180, "accent2")
    s.ph("Quote", 'type="body" idx="13"', (M + 1.3, BODY_TOP + 0.15, CONTENT_W - 1.6, 3.2), prompt="Quotation",
         anchor="ctr", levels=(Lvl(size=32, italic=True, color="tx2", line=100, space_before=0, **NO_BULLET),))
    s.ph("Attribution", 'type="body" sz="quarter" idx="14"', (M + 1.3, BODY_TOP + 3.55, CONTENT_W - 1.6, 0.9),
         prompt="Who said it", anchor="t", levels=(Lvl(size=24, bold=True, color="accent1", space_before=0,
                                                        **NO_BULLET),))
    footer_placeholders(s)
    return "Quote", "cust", s, ""


def _graphic_layout(name: str, kind: str, ph_type: str, prompt: str):
    s = Shapes()
    s.ph("Title", 'type="title"', prompt="Slide title")
    s.ph(prompt, f'type="{ph_type}" idx="13"', (M, BODY_TOP, CONTENT_W, 3.9), prompt=prompt, anchor="ctr")
    s.ph("Caption", 'type="body" sz="quarter" idx="14"', (M, BODY_TOP + 3.95, CONTENT_W, BODY_BOTTOM - BODY_TOP - 3.95),
         prompt="Source or explanation", anchor="t",
         levels=(Lvl(size=18, color="tx1", space_before=0, line=100, **NO_BULLET),))
    footer_placeholders(s)
    return name, kind, s, ""


def layout_chart():
    return _graphic_layout("Chart", "chart", "chart", "Chart")


def layout_table():
    return _graphic_layout("Table", "tbl", "tbl", "Table")


def layout_references():
    s = Shapes()
    s.ph("Title", 'type="title"', prompt="References")
    s.ph("References", 'type="body" idx="1"', (M, BODY_TOP, CONTENT_W, BODY_BOTTOM - BODY_TOP), prompt="Reference",
         anchor="t", levels=(Lvl(size=18, bullet="autonum", bullet_color="accent1", mar_l=0.5, indent=-0.5,
                                 space_before=6, line=100),))
    footer_placeholders(s)
    return "References", "cust", s, ""


def layout_closing():
    s = Shapes()
    band_motif(s, 0, 3.1)
    s.ph("Title", 'type="title"', (M, 0.55, 7.9, 1.35), prompt="Thank you", anchor="b",
         levels=(Lvl(size=44, color="bg1"),))
    s.ph("Subtitle", 'type="subTitle" idx="1"', (M, 1.95, 7.9, 0.9), prompt="Questions?", anchor="t",
         levels=(Lvl(size=28, color="bg1", space_before=0, **NO_BULLET),))
    s.ph("Logo (reverse)", 'type="pic" sz="quarter" idx="13"', (8.95, 0.7, W - M - 8.95 - 0.9, 1.75),
         prompt="Logo for dark backgrounds", anchor="ctr")
    s.ph("Contact", 'type="body" idx="14"', (M, 3.55, 8.6, BODY_BOTTOM - 3.55 + 0.45), prompt="Contact details",
         anchor="t", levels=(Lvl(size=22, space_before=4, line=100, **NO_BULLET),))
    qr = 2.35
    qx = W - M - qr
    s.ph("QR Code", 'type="pic" sz="quarter" idx="15"', (qx, 3.55, qr, qr), prompt="QR code", anchor="ctr")
    s.ph("QR Caption", 'type="body" sz="quarter" idx="16"', (qx - 0.6, 3.55 + qr + 0.05, qr + 1.2, 0.85),
         prompt="Scan to book", anchor="t",
         levels=(Lvl(size=18, align="ctr", space_before=0, line=100, **NO_BULLET),))
    return "Closing", "cust", s, ' showMasterSp="0"'


LAYOUTS = (layout_title, layout_section, layout_bullets, layout_two_columns, layout_image, layout_big_number,
           layout_quote, layout_chart, layout_table, layout_references, layout_closing)
BACKGROUNDS = {"Section": "accent1"}


def layout_xml(builder) -> tuple[str, str]:
    name, kind, shapes, extra = builder()
    bg = ""
    if name in BACKGROUNDS:
        bg = f'<p:bg><p:bgPr>{fill(BACKGROUNDS[name])}<a:effectLst/></p:bgPr></p:bg>'
    xml = (f'{XML_DECL}<p:sldLayout {NS}{extra} type="{kind}" preserve="1">'
           f'<p:cSld name="{escape(name)}">{bg}{shapes.tree()}</p:cSld>'
           f'<p:clrMapOvr><a:masterClrMapping/></p:clrMapOvr></p:sldLayout>')
    return name, xml


# --------------------------------------------------------------------------- master
def master_xml() -> str:
    s = Shapes()
    s.rect("Decoration: top band", 0, 0, W, 0.14, "accent1")
    s.rect("Decoration: footer band", 0, FOOT_Y, W, FOOT_H, "bg2")
    s.rect("Decoration: title rule", M, 1.74, 1.6, 0.07, "accent2")
    s.ph("Title Placeholder", 'type="title"', (M, 0.22, CONTENT_W, 1.46), prompt="Slide title", anchor="b",
         insets=dict(t=0.03, b=0.03))
    s.ph("Text Placeholder", 'type="body" idx="1"', (M, BODY_TOP, CONTENT_W, BODY_BOTTOM - BODY_TOP),
         prompt="Bullet", anchor="t")
    s.ph("Footer Placeholder", 'type="ftr" sz="quarter" idx="3"', (M, FOOT_Y, 9.8, FOOT_H), anchor="ctr",
         levels=(Lvl(size=14, color="tx1", align="l"),))
    s.ph("Slide Number Placeholder", 'type="sldNum" sz="quarter" idx="4"', (W - 1.25, FOOT_Y, 1.25, FOOT_H),
         anchor="ctr", sp_fill="accent1", field=True,
         levels=(Lvl(size=16, bold=True, color="bg1", align="ctr"),))
    title = Lvl(size=40, bold=True, color="tx2", font="+mj-lt", align="l", line=90, space_before=0,
                bullet="none")
    body = [
        Lvl(size=28, color="tx1", font="+mn-lt", bullet="\u2022", bullet_color="accent1", mar_l=0.4,
            indent=-0.4, space_before=14, line=100, align="l"),
        Lvl(size=24, color="tx1", font="+mn-lt", bullet="\u2013", bullet_color="accent2", mar_l=0.9,
            indent=-0.35, space_before=6, line=100, align="l"),
    ]
    for lvl in range(3, 10):
        body.append(Lvl(size=20, color="tx1", font="+mn-lt", bullet="\u2022", bullet_color="accent2",
                        mar_l=0.9 + 0.45 * (lvl - 2), indent=-0.3, space_before=4, line=100, align="l"))
    other = [Lvl(size=18, color="tx1", font="+mn-lt", mar_l=0.5 * i) for i in range(9)]
    tx_styles = ("<p:txStyles>"
                 f'<p:titleStyle>{title.xml(1)}</p:titleStyle>'
                 f'<p:bodyStyle>{"".join(lv.xml(i + 1) for i, lv in enumerate(body))}</p:bodyStyle>'
                 f'<p:otherStyle>{Lvl().xml(0, "a:defPPr")}'
                 f'{"".join(lv.xml(i + 1) for i, lv in enumerate(other))}</p:otherStyle>'
                 "</p:txStyles>")
    ids = "".join(f'<p:sldLayoutId id="{2147483649 + i}" r:id="rId{i + 1}"/>' for i in range(len(LAYOUTS)))
    return (f'{XML_DECL}<p:sldMaster {NS}><p:cSld><p:bg><p:bgPr>{fill("bg1")}<a:effectLst/></p:bgPr></p:bg>'
            f'{s.tree()}</p:cSld>'
            '<p:clrMap bg1="lt1" tx1="dk1" bg2="lt2" tx2="dk2" accent1="accent1" accent2="accent2" '
            'accent3="accent3" accent4="accent4" accent5="accent5" accent6="accent6" hlink="hlink" '
            'folHlink="folHlink"/>'
            f'<p:sldLayoutIdLst>{ids}</p:sldLayoutIdLst>{tx_styles}</p:sldMaster>')


def theme_xml() -> str:
    scheme = "".join(f'<a:{k}><a:srgbClr val="{v}"/></a:{k}>' for k, v in DEFAULT_SCHEME.items())

    def fonts(tag: str) -> str:
        return f'<a:{tag}><a:latin typeface="{FONT}"/><a:ea typeface=""/><a:cs typeface=""/></a:{tag}>'

    solid = '<a:solidFill><a:schemeClr val="phClr"/></a:solidFill>'
    tint = '<a:solidFill><a:schemeClr val="phClr"><a:tint val="50000"/></a:schemeClr></a:solidFill>'
    shade = '<a:solidFill><a:schemeClr val="phClr"><a:shade val="80000"/></a:schemeClr></a:solidFill>'
    lines = "".join(f'<a:ln w="{w}" cap="flat" cmpd="sng" algn="ctr">{solid}<a:prstDash val="solid"/>'
                    '<a:miter lim="800000"/></a:ln>' for w in (9525, 19050, 28575))
    effects = "<a:effectStyle><a:effectLst/></a:effectStyle>" * 3
    return (f'{XML_DECL}<a:theme xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
            'name="ClinicPress"><a:themeElements>'
            f'<a:clrScheme name="ClinicPress">{scheme}</a:clrScheme>'
            f'<a:fontScheme name="ClinicPress">{fonts("majorFont")}{fonts("minorFont")}</a:fontScheme>'
            '<a:fmtScheme name="ClinicPress">'
            f'<a:fillStyleLst>{solid}{tint}{shade}</a:fillStyleLst>'
            f'<a:lnStyleLst>{lines}</a:lnStyleLst>'
            f'<a:effectStyleLst>{effects}</a:effectStyleLst>'
            f'<a:bgFillStyleLst>{solid}{tint}{shade}</a:bgFillStyleLst>'
            '</a:fmtScheme></a:themeElements><a:objectDefaults/><a:extraClrSchemeLst/></a:theme>')


def presentation_xml() -> str:
    levels = "".join(
        f'<a:lvl{i}pPr marL="{457200 * (i - 1)}" algn="l" defTabSz="914400" rtl="0" eaLnBrk="1" '
        f'latinLnBrk="0" hangingPunct="1"><a:defRPr sz="1800" kern="1200">{fill("tx1")}'
        '<a:latin typeface="+mn-lt"/><a:ea typeface="+mn-ea"/><a:cs typeface="+mn-cs"/></a:defRPr></a:lvl'
        f'{i}pPr>' for i in range(1, 10))
    return (f'{XML_DECL}<p:presentation {NS} saveSubsetFonts="1">'
            '<p:sldMasterIdLst><p:sldMasterId id="2147483648" r:id="rId1"/></p:sldMasterIdLst>'
            f'<p:sldSz cx="{SLIDE_CX}" cy="{SLIDE_CY}"/><p:notesSz cx="6858000" cy="9144000"/>'
            f'<p:defaultTextStyle><a:defPPr><a:defRPr lang="en-US"/></a:defPPr>{levels}</p:defaultTextStyle>'
            '</p:presentation>')


def rels(items: list[tuple[str, str, str]]) -> str:
    body = "".join(f'<Relationship Id="{i}" Type="{t}" Target="{target}"/>' for i, t, target in items)
    return (f'{XML_DECL}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'{body}</Relationships>')


R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
CT = "application/vnd.openxmlformats-officedocument."


def package() -> dict[str, str]:
    """Returns every part of the master package, by zip name, in writing order."""
    layouts = [layout_xml(b) for b in LAYOUTS]
    n = len(layouts)
    overrides = [
        ("/ppt/presentation.xml", CT + "presentationml.presentation.main+xml"),
        ("/ppt/slideMasters/slideMaster1.xml", CT + "presentationml.slideMaster+xml"),
        *[(f"/ppt/slideLayouts/slideLayout{i + 1}.xml", CT + "presentationml.slideLayout+xml") for i in range(n)],
        ("/ppt/theme/theme1.xml", CT + "theme+xml"),
        ("/ppt/presProps.xml", CT + "presentationml.presProps+xml"),
        ("/ppt/viewProps.xml", CT + "presentationml.viewProps+xml"),
        ("/ppt/tableStyles.xml", CT + "presentationml.tableStyles+xml"),
        ("/docProps/core.xml", "application/vnd.openxmlformats-package.core-properties+xml"),
        ("/docProps/app.xml", CT + "extended-properties+xml"),
    ]
    content_types = (
        f'{XML_DECL}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        + "".join(f'<Override PartName="{p}" ContentType="{c}"/>' for p, c in overrides) + "</Types>")
    layout_names = ", ".join(name for name, _ in layouts)
    parts = {
        "[Content_Types].xml": content_types,
        "_rels/.rels": rels([
            ("rId1", R + "officeDocument", "ppt/presentation.xml"),
            ("rId2", "http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties",
             "docProps/core.xml"),
            ("rId3", R + "extended-properties", "docProps/app.xml"),
        ]),
        "docProps/core.xml": (
            f'{XML_DECL}<cp:coreProperties '
            'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            '<dc:title>ClinicPress default talk master</dc:title><dc:creator>ClinicPress</dc:creator>'
            f'<dc:description>16:9 master with layouts: {escape(layout_names)}</dc:description>'
            '<cp:revision>1</cp:revision>'
            '<dcterms:created xsi:type="dcterms:W3CDTF">2024-01-01T00:00:00Z</dcterms:created>'
            '<dcterms:modified xsi:type="dcterms:W3CDTF">2024-01-01T00:00:00Z</dcterms:modified>'
            '</cp:coreProperties>'),
        "docProps/app.xml": (
            f'{XML_DECL}<Properties '
            'xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
            '<Application>ClinicPress</Application><PresentationFormat>Widescreen</PresentationFormat>'
            '<Slides>0</Slides></Properties>'),
        "ppt/presentation.xml": presentation_xml(),
        "ppt/_rels/presentation.xml.rels": rels([
            ("rId1", R + "slideMaster", "slideMasters/slideMaster1.xml"),
            ("rId2", R + "presProps", "presProps.xml"),
            ("rId3", R + "viewProps", "viewProps.xml"),
            ("rId4", R + "theme", "theme/theme1.xml"),
            ("rId5", R + "tableStyles", "tableStyles.xml"),
        ]),
        "ppt/presProps.xml": f'{XML_DECL}<p:presentationPr {NS}/>',
        "ppt/viewProps.xml": (f'{XML_DECL}<p:viewPr {NS}><p:normalViewPr><p:restoredLeft sz="15620"/>'
                              '<p:restoredTop sz="94660"/></p:normalViewPr><p:gridSpacing cx="76200" cy="76200"/>'
                              '</p:viewPr>'),
        "ppt/tableStyles.xml": ('{}<a:tblStyleLst xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
                                'def="{{5C22544A-7EE6-4342-B048-85BDC9FD1C3A}}"/>').format(XML_DECL),
        "ppt/theme/theme1.xml": theme_xml(),
        "ppt/slideMasters/slideMaster1.xml": master_xml(),
        "ppt/slideMasters/_rels/slideMaster1.xml.rels": rels(
            [(f"rId{i + 1}", R + "slideLayout", f"../slideLayouts/slideLayout{i + 1}.xml") for i in range(n)]
            + [(f"rId{n + 1}", R + "theme", "../theme/theme1.xml")]),
    }
    for i, (_, xml) in enumerate(layouts):
        parts[f"ppt/slideLayouts/slideLayout{i + 1}.xml"] = xml
        parts[f"ppt/slideLayouts/_rels/slideLayout{i + 1}.xml.rels"] = rels(
            [("rId1", R + "slideMaster", "../slideMasters/slideMaster1.xml")])
    return parts


def build() -> bytes:
    """Returns the master as .pptx bytes; the same every time (fixed dates, fixed order)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in package().items():
            info = zipfile.ZipInfo(name, FIXED_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, text.encode("utf-8"))
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed master is out of date")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    data = build()
    if args.check:
        current = args.output.read_bytes() if args.output.exists() else b""
        if current != data:
            print(f"{args.output} is out of date: run python templates/deck/make_master.py", file=sys.stderr)
            return 1
        return 0
    args.output.write_bytes(data)
    print(f"wrote {args.output} ({len(data)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
