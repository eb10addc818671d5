"""Layout placeholders as the renderer sees them, and the text style they hand down."""

from __future__ import annotations

import weakref
from dataclasses import dataclass, fields

from lxml import etree
from pptx.oxml.ns import qn

from .oxml import A_NS, LATENT_TYPES, TEXT_TYPES, TITLE_TYPES


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


def xfrm_box(sp) -> Box | None:
    off = sp.find(f"{qn('p:spPr')}/{qn('a:xfrm')}/{qn('a:off')}")
    ext = sp.find(f"{qn('p:spPr')}/{qn('a:xfrm')}/{qn('a:ext')}")
    if off is None or ext is None:
        return None
    return Box(int(off.get("x")), int(off.get("y")), int(ext.get("cx")), int(ext.get("cy")))


def master_placeholder(master, type_: str):
    """Returns the master's p:sp a layout placeholder of `type_` inherits from."""
    want = {
        "ctrTitle": "title",
        "vertTitle": "title",
        "subTitle": "body",
        "obj": "body",
        "vertBody": "body",
        "pic": "body",
        "chart": "body",
        "tbl": "body",
        "clipArt": "body",
        "media": "body",
    }.get(type_, type_)
    found = _MASTER_PLACEHOLDERS.setdefault(master._element, {})
    if want not in found:
        found[want] = next((sp for sp in master._element.iter(qn("p:sp")) if ph_type(sp) == want), None)
    return found[want]


_MASTER_PLACEHOLDERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
"""Per master element (forgotten with it), its placeholder of each type: fitting text asks for
the same few hundreds of times a deck, and each answer walked every shape of the master. A
master's placeholders and their types do not change while a deck is built (only their text
style and colours do)."""


def layout_placeholders(layout) -> list[Ph]:
    """Returns a layout's placeholders in document order, with boxes resolved through the master."""
    out = []
    master = layout.slide_master
    for i, shape in enumerate(layout.placeholders):
        sp = shape._element
        t = ph_type(sp)
        box = xfrm_box(sp) or master_placeholder_box(master, t)
        out.append(Ph(i, t, shape.placeholder_format.idx, shape.name, box, sp))
    return out


def has_duplicate_idx(phs: list[Ph]) -> bool:
    seen = [p.idx for p in phs if p.kind != "latent"]
    return len(seen) != len(set(seen))


@dataclass
class TextStyle:
    """What a paragraph level resolves to, after walking slide → layout → master → text styles."""

    size: float | None = None  # points
    bold: bool | None = None
    font: str | None = None  # "+mj-lt", "+mn-lt" or a family name
    mar_l: int | None = None  # EMU
    indent: int | None = None  # EMU
    space_before: float | None = None  # points
    space_before_pct: float | None = None
    line_pct: float | None = None  # 1.0 = single
    line_pts: float | None = None

    def merged(self, other: TextStyle) -> TextStyle:
        """Fills this style's gaps from `other` (a more general level)."""
        return TextStyle(
            **{
                f.name: getattr(self, f.name) if getattr(self, f.name) is not None else getattr(other, f.name)
                for f in fields(self)
            }
        )


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
    st.line_pct, st.line_pts = _spacing(ppr, "lnSpc")
    st.space_before_pct, st.space_before = _spacing(ppr, "spcBef")
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


def _spacing(ppr, tag: str) -> tuple[float | None, float | None]:
    """Returns (fraction, points) of a:lnSpc or a:spcBef: one is set, by a:spcPct or a:spcPts."""
    el = ppr.find(f"{{{A_NS}}}{tag}")
    if el is None or not len(el):
        return None, None
    child = el[0]
    if etree.QName(child).localname == "spcPct":
        return int(child.get("val")) / 100000, None
    return None, int(child.get("val")) / 100


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
    defaults = {"lIns": 91440, "tIns": 45720, "rIns": 91440, "bIns": 45720}
    vals: dict[str, int] = {}
    for sp in sp_chain:
        bp = sp.find(f"{qn('p:txBody')}/{qn('a:bodyPr')}") if sp is not None else None
        if bp is None:
            continue
        for k in defaults:
            if k not in vals and bp.get(k) is not None:
                vals[k] = int(bp.get(k))
    left, top, right, bottom = (vals.get(k, default) for k, default in defaults.items())
    return left, top, right, bottom


def master_placeholder_box(master, type_: str) -> Box | None:
    """Returns the box of the master placeholder a layout placeholder of `type_` inherits from."""
    base = master_placeholder(master, type_)
    return xfrm_box(base) if base is not None else None


def text_insets(shape, ph: Ph | None, master) -> tuple[int, int, int, int]:
    """Returns the text insets of a slide shape, inherited through its layout placeholder (if it
    has one) and the master's."""
    chain = [shape._element if shape is not None else None]
    if ph is not None:
        chain += [ph.element, master_placeholder(master, ph.type)]
    return body_insets(chain)


def master_body_size(master, level: int) -> float | None:
    """Returns the size in points the master's body text style sets at `level` (0 = bullets)."""
    tx = master._element.find(qn("p:txStyles"))
    return _level_style(tx.find(qn("p:bodyStyle")) if tx is not None else None, level).size


def masters_of_slides(prs) -> list[int]:
    """Returns, for each slide in order, the index of the slide master its layout belongs to."""
    names = [m.part.partname for m in prs.slide_masters]
    return [names.index(s.slide_layout.slide_master.part.partname) for s in prs.slides]


def layout_name(shape) -> str:
    """Returns the name of the layout of the slide a shape is on."""
    return shape.part.slide_layout.name


def raise_body_text(master, minimum: float) -> list[tuple[int, float]]:
    """Sets the master's body text (bullets and sub-bullets: levels 1-2 of its body text style,
    of its body placeholder and of each layout's main content placeholder) to `minimum` points
    where it is smaller. Returns (level, old size) for each level of the body text style that
    was raised (0 = bullets). Levels that set no size are left alone."""
    raised: list[tuple[int, float]] = []
    tx = master._element.find(qn("p:txStyles"))
    body = tx.find(qn("p:bodyStyle")) if tx is not None else None
    containers = [body] if body is not None else []
    base = master_placeholder(master, "body")
    if base is not None:
        containers.append(base.find(f"{qn('p:txBody')}/{qn('a:lstStyle')}"))
    for layout in master.slide_layouts:
        for sp in layout.placeholders:
            el = sp._element
            if ph_type(el) in ("body", "obj") and sp.placeholder_format.idx == 1:
                containers.append(el.find(f"{qn('p:txBody')}/{qn('a:lstStyle')}"))
    for container in containers:
        if container is None:
            continue
        for level in (0, 1):
            rpr = container.find(f"{{{A_NS}}}lvl{level + 1}pPr/{{{A_NS}}}defRPr")
            if rpr is None or rpr.get("sz") is None:
                continue
            size = int(rpr.get("sz")) / 100
            if size + 1e-9 < minimum:
                rpr.set("sz", str(round(minimum * 100)))
                if container is body:
                    raised.append((level, size))
    return raised
