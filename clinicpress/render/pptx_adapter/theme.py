"""The theme: colour scheme and fonts, and text the masters colour through it."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from lxml import etree
from pptx.opc.constants import RELATIONSHIP_TYPE as RT
from pptx.oxml.ns import qn

from .oxml import A_NS, SCHEME_SLOTS, scheme_to_rgb


def theme_parts(prs) -> list:
    """Returns the theme parts of every slide master and of the notes master, once each."""
    found = []
    masters = list(prs.slide_masters)
    owners = [m.part for m in masters]
    with contextlib.suppress(Exception):  # a package without a notes master and no way to add one
        owners.append(prs.part.notes_master_part)
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
    return (major.get("typeface") if major is not None else None, minor.get("typeface") if minor is not None else None)


TEXT_PROPS = ("defRPr", "rPr", "endParaRPr")


def recolour_master_text(prs, printed: Callable[[str], str]) -> None:
    """Writes fixed colours over the theme slots that masters and layouts colour text with.

    `printed(slot)` returns the slot (the reference stays) or the `#RRGGBB` to write instead.
    Only text fills (run properties) and the colour of numbered bullets change; fills, lines
    and other bullets keep the theme reference. bg1/lt1 stay on a master whose colour map is
    not the usual one (bg1 = lt1, tx1 = dk1), as the slot does not mean the same colour there.
    """
    for master in prs.slide_masters:
        clr_map = master._element.find(qn("p:clrMap"))
        normal = clr_map is None or (clr_map.get("bg1") == "lt1" and clr_map.get("tx1") == "dk1")
        for part in [master, *master.slide_layouts]:
            for scheme in list(part._element.iter(qn("a:schemeClr"))):
                fill = scheme.getparent()
                holder = fill.getparent() if fill is not None else None
                if holder is None or len(scheme):
                    continue
                tag = etree.QName(fill).localname
                owner = etree.QName(holder).localname
                numbered = tag == "buClr" and holder.find(qn("a:buAutoNum")) is not None
                if not ((tag == "solidFill" and owner in TEXT_PROPS) or numbered):
                    continue
                val = scheme.get("val")
                if val in ("bg1", "lt1") and not normal:
                    continue
                colour = printed(val)
                if colour.startswith("#"):
                    scheme_to_rgb(scheme, colour)
