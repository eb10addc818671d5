"""Namespaces, part types and element helpers the adapter modules share."""

from __future__ import annotations

from lxml import etree
from pptx.oxml.ns import qn

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

    return {
        "tx1": C.TEXT_1,
        "tx2": C.TEXT_2,
        "bg1": C.BACKGROUND_1,
        "bg2": C.BACKGROUND_2,
        "accent1": C.ACCENT_1,
        "accent2": C.ACCENT_2,
        "accent3": C.ACCENT_3,
        "accent4": C.ACCENT_4,
        "accent5": C.ACCENT_5,
        "accent6": C.ACCENT_6,
    }


THEME_SLOTS = _theme_slots()

SCHEME_SLOTS = (
    "dk1",
    "lt1",
    "dk2",
    "lt2",
    "accent1",
    "accent2",
    "accent3",
    "accent4",
    "accent5",
    "accent6",
    "hlink",
    "folHlink",
)

TITLE_TYPES = ("title", "ctrTitle", "vertTitle")
TEXT_TYPES = ("body", "obj", "subTitle", "vertBody")
LATENT_TYPES = ("dt", "ftr", "sldNum")  # never copied to slides by python-pptx


def xml_escape(text: str) -> str:
    """Escapes text for an XML element written out as a string."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def sort_children(element, order: list[str]) -> None:
    """Puts the children of `element` in the order the OOXML schema requires (unknown ones last)."""
    rank = {name: i for i, name in enumerate(order)}
    for child in sorted(element, key=lambda c: rank.get(etree.QName(c).localname, len(order))):
        element.append(child)


def scheme_to_rgb(scheme_clr, colour: str) -> None:
    """Replaces an a:schemeClr element with an a:srgbClr of `colour` (#RRGGBB) in place."""
    rgb = etree.Element(qn("a:srgbClr"))
    rgb.set("val", colour.lstrip("#").upper())
    scheme_clr.getparent().replace(scheme_clr, rgb)
