"""Fonts that travel: TrueType/OpenType fonts embedded in a deck the way PowerPoint does it.

PresentationML lists a deck's embedded fonts in `p:embeddedFontLst` of ppt/presentation.xml
(ECMA-376 Part 1, 19.2.1.9-19.2.1.13): one `p:embeddedFont` per typeface, with a `p:font`
(typeface, PANOSE, pitch and family, charset) and up to four r:ids, `p:regular`, `p:bold`,
`p:italic` and `p:boldItalic`, each naming a font part of content type
`application/x-fontdata` (ppt/fonts/fontN.fntdata). PowerPoint stores each part as an Embedded
OpenType (EOT, W3C Member Submission 2008) wrapper around the font. This module writes version
0x00020001 of that wrapper with no MTX compression, no XOR obfuscation and no subsetting
(Flags 0): the FontData is the font file byte for byte, so it can be checked and unwrapped.

Which fonts may be embedded is the font's own OS/2 `fsType` (OpenType spec, "OS/2 - fsType"):
  0x0000 installable        embedded
  0x0002 restricted licence  not embedded (the licence forbids it)
  0x0004 preview & print     embedded (PowerPoint opens such a deck read-only)
  0x0008 editable            embedded
  0x0100 no subsetting       embedded (the whole font is embedded anyway)
  0x0200 bitmap only         not embedded (there are no outlines to embed)
When several of bits 0-3 are set, the least restrictive one applies, as the spec says.
PowerPoint embeds TrueType-outline fonts only: a font with PostScript (CFF) outlines (an .otf
whose sfnt version is 'OTTO') does not travel either. A WOFF or WOFF2 file is embedded as the
TrueType font it compresses (`font_data`).
"""

from __future__ import annotations

import functools
import io
import struct
from dataclasses import dataclass
from pathlib import Path

from lxml import etree
from pptx.opc.constants import RELATIONSHIP_TYPE as RT
from pptx.opc.package import Part
from pptx.opc.packuri import PackURI
from pptx.oxml.ns import qn

FONT_DATA_TYPE = "application/x-fontdata"
EOT_VERSION = 0x00020001
EOT_MAGIC = 0x504C
SLOTS = ("regular", "bold", "italic", "boldItalic")
"""The four faces of an embedded typeface, in the schema's order."""

# What may follow p:embeddedFontLst in p:presentation (CT_Presentation's sequence).
_AFTER_FONTS = ("custShowLst", "photoAlbum", "custDataLst", "kinsoku", "defaultTextStyle", "modifyVerifier", "extLst")


@dataclass(frozen=True)
class Permission:
    """What a font's OS/2 fsType allows."""

    fs_type: int
    allowed: bool
    why: str


def embedding_permission(path: Path) -> Permission:
    """Reads the OS/2 fsType of a font file (fontTools) and says whether it may be embedded."""
    from fontTools.ttLib import TTFont

    font = TTFont(str(path), lazy=True)
    fs_type = int(font["OS/2"].fsType) if "OS/2" in font else 0
    if font.sfntVersion == "OTTO":
        return Permission(fs_type, False, "PostScript (CFF) outlines, which PowerPoint does not embed")
    return permission(fs_type)


def font_data(path: Path) -> bytes:
    """The TrueType font to embed from a font file: its bytes, or for WOFF/WOFF2 the font it compresses."""
    data = path.read_bytes()
    if data[:4] not in (b"wOFF", b"wOF2"):
        return data
    from fontTools.ttLib import TTFont

    # recalcTimestamp=False: saving would stamp head.modified with the time of the build, so the
    # same WOFF would embed as different bytes from one second to the next
    font = TTFont(io.BytesIO(data), recalcTimestamp=False)
    font.flavor = None
    out = io.BytesIO()
    font.save(out, reorderTables=False)
    return out.getvalue()


def permission(fs_type: int) -> Permission:
    """Decides from fsType bits (see the module notes) whether a font may travel in a deck."""
    if fs_type & 0x0200:
        return Permission(fs_type, False, "bitmap embedding only (fsType 0x0200)")
    usage = fs_type & 0x000F
    if usage == 0:
        return Permission(fs_type, True, "installable embedding")
    if usage & 0x0008:
        return Permission(fs_type, True, "editable embedding (fsType 0x0008)")
    if usage & 0x0004:
        return Permission(fs_type, True, "preview & print embedding (fsType 0x0004)")
    return Permission(fs_type, False, f"restricted licence embedding (fsType 0x{fs_type:04X})")


@dataclass(frozen=True)
class Face:
    """One font file to embed as one face of a typeface."""

    typeface: str
    slot: str  # one of SLOTS
    data: bytes


@functools.lru_cache(maxsize=16)
def eot_wrap(data: bytes) -> bytes:
    """Wraps a TrueType/OpenType font in an EOT header (version 0x00020001, Flags 0, no root string)."""
    from fontTools.ttLib import TTFont

    font = TTFont(io.BytesIO(data), lazy=True)
    os2, head, names = font["OS/2"], font["head"], font["name"]
    panose = _panose(os2)
    italic = 1 if (os2.fsSelection & 0x0001) else 0

    def name(*ids: int) -> bytes:
        for name_id in ids:
            value = names.getDebugName(name_id)
            if value:
                return value.encode("utf-16-le")
        return b""

    strings = [name(1), name(2), name(5), name(4), b""]  # family, style, version, full, root
    body = b""
    for i, s in enumerate(strings):
        body += struct.pack("<H", 0) if i else b""  # Padding2..Padding5 between the strings
        body += struct.pack("<H", len(s)) + s
    prefix_fields = struct.pack(
        "<10sBBIHH4I2II4IH",
        panose,
        1,  # Charset: DEFAULT_CHARSET
        italic,
        int(os2.usWeightClass),
        int(os2.fsType),
        EOT_MAGIC,
        int(os2.ulUnicodeRange1),
        int(os2.ulUnicodeRange2),
        int(os2.ulUnicodeRange3),
        int(os2.ulUnicodeRange4),
        int(getattr(os2, "ulCodePageRange1", 0)),
        int(getattr(os2, "ulCodePageRange2", 0)),
        int(head.checkSumAdjustment) & 0xFFFFFFFF,
        0,
        0,
        0,
        0,
        0,  # Padding1
    )
    header_len = 16 + len(prefix_fields) + len(body)
    return struct.pack("<IIII", header_len + len(data), len(data), EOT_VERSION, 0) + prefix_fields + body + data


def _panose(os2) -> bytes:
    p = os2.panose
    return bytes(
        int(getattr(p, f))
        for f in (
            "bFamilyType",
            "bSerifStyle",
            "bWeight",
            "bProportion",
            "bContrast",
            "bStrokeVariation",
            "bArmStyle",
            "bLetterForm",
            "bMidline",
            "bXHeight",
        )
    )


@functools.lru_cache(maxsize=16)
def _font_attributes(data: bytes) -> dict[str, str]:
    """The p:font attributes PowerPoint writes: PANOSE as hex, pitch and family, charset."""
    from fontTools.ttLib import TTFont

    panose = _panose(TTFont(io.BytesIO(data), lazy=True)["OS/2"])
    # Variable pitch (2) + FF_SWISS (0x20) for sans-serif PANOSE serif styles 11-13, else FF_ROMAN (0x10).
    family = 0x20 if panose[1] in (11, 12, 13) else 0x10 if panose[0] == 2 and panose[1] else 0x00
    return {"panose": panose.hex().upper(), "pitchFamily": str(family | 0x02), "charset": "0"}


def embed_fonts(prs, faces: list[Face]) -> None:
    """Replaces the deck's embedded-font list with `faces`: one EOT part per face, listed in
    presentation.xml by typeface in the order given (a master's own embedded fonts are dropped)."""
    part = prs.part
    pres = part._element
    for old in pres.findall(qn("p:embeddedFontLst")):
        for ref in old.iter():
            rid = ref.get(qn("r:id"))
            if rid:
                part.drop_rel(rid)
        pres.remove(old)
    if not faces:
        return
    lst = etree.Element(qn("p:embeddedFontLst"))
    by_face: dict[str, dict[str, Face]] = {}
    for face in faces:
        by_face.setdefault(face.typeface, {})[face.slot] = face
    n = 0
    for typeface, slots in by_face.items():
        entry = etree.SubElement(lst, qn("p:embeddedFont"))
        first = slots.get("regular") or next(iter(slots.values()))
        font_el = etree.SubElement(entry, qn("p:font"), typeface=typeface)
        for key, value in _font_attributes(first.data).items():
            font_el.set(key, value)
        for slot in (s for s in SLOTS if s in slots):
            n += 1
            blob = eot_wrap(slots[slot].data)
            font_part = Part(PackURI(f"/ppt/fonts/font{n}.fntdata"), FONT_DATA_TYPE, part.package, blob)
            rid = part.relate_to(font_part, RT.FONT)
            etree.SubElement(entry, qn(f"p:{slot}")).set(qn("r:id"), rid)
    following = next(
        (pres.find(qn(f"p:{name}")) for name in _AFTER_FONTS if pres.find(qn(f"p:{name}")) is not None), None
    )
    if following is not None:
        following.addprevious(lst)
    else:
        pres.append(lst)
