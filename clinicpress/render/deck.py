"""Deck + practice → an editable PPTX on the practice's master (or the default master).

Reads top to bottom: open the master and empty it, restyle its theme from the brand, then
build one slide per YAML slide (plus the references and closing slides a deck needs), check
that the text fits, set the file properties and write bytes that are the same for the same
input. Slide kinds map to master layouts through `templates/deck/layouts.yml`; placeholders
are filled by role, so a master made by someone else works too. XML-level work lives in
`pptx_adapter`; this module decides what goes where.
"""
from __future__ import annotations

import datetime as dt
import functools
import html
import io
import re
from dataclasses import dataclass, replace
from pathlib import Path

import yaml
from lxml import etree
from pptx.oxml.ns import qn

from ..load import schema
from ..load.citations import Bibliography, Numbering, compress
from ..load.colour import Inks, to_hex
from ..errors import Finding
from ..load.practice import DEFAULT_FONT, PracticeContext
from ..load.schema import CITE_RE
from .templating import strip_citations
from . import pptx_adapter as ad

DECK_TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "deck"
DEFAULT_MASTER = "default-master.pptx"
LAYOUT_MAP = "layouts.yml"
BUNDLED_FONTS = Path(__file__).resolve().parents[2] / "templates" / "handout" / "fonts"
EMU_PER_PT = 12700
EMU_PER_IN = 914400
MAX_BULLETS = 6
MAX_TABLE_ROWS = 5
FALLBACK_WIDTH, FALLBACK_LINE = 1.15, 1.05
"""How much wider, and how much taller its lines, a presenter's fallback font may set text than
the brand font: LibreOffice sets DejaVu Sans (its fallback here) about 14% wider and with 4%
taller lines than Atkinson Hyperlegible (measured on the sample deck's table). PPTX files do not
carry their fonts, so tables are sized to fit their area in such a font too."""
MIN_BODY_PT = 24
NOT_CONTENT = ("title", "closing")

# Built-in words the message catalogues (templates/i18n) do not have yet; a catalogue key of
# the same name wins.
BUILTIN = {
    "en": {
        "deck_notes_title": "Welcome everyone and introduce the talk: {title}.",
        "deck_notes_references": "These are the sources for the facts in this talk, numbered in the order "
                                 "they appear on the slides.",
        "deck_notes_closing": "Thank everyone for coming and invite questions. The practice's contact "
                              "details and a QR code for booking are on this slide.",
        "deck_notes_image": "The picture shows: {alt}",
        "deck_qr_alt": "QR code linking to {url}",
        "deck_logo_alt": "{name} logo",
    },
    "es": {
        "deck_notes_title": "Dé la bienvenida y presente la charla: {title}.",
        "deck_notes_references": "Estas son las fuentes de los datos de esta charla, numeradas en el orden "
                                 "en que aparecen en las diapositivas.",
        "deck_notes_closing": "Agradezca la asistencia e invite a hacer preguntas. Los datos de contacto "
                              "y un código QR para pedir cita están en esta diapositiva.",
        "deck_notes_image": "La imagen muestra: {alt}",
        "deck_qr_alt": "Código QR que enlaza a {url}",
        "deck_logo_alt": "Logotipo de {name}",
    },
}


# --------------------------------------------------------------------------- text model
@dataclass
class Run:
    """A piece of text with one formatting."""

    text: str
    bold: bool = False
    italic: bool = False
    sup: bool = False
    link: str | None = None


@dataclass
class Para:
    """A paragraph to write; None fields are inherited from the layout and master."""

    runs: list[Run]
    level: int = 0
    bullet: str | None = None        # None inherit, "none", a character, "autonum"
    autonum: int | None = None
    size: float | None = None
    bold: bool | None = None
    italic: bool | None = None
    color: str | None = None         # theme slot
    font: str | None = None          # "+mj-lt" / "+mn-lt"
    align: str | None = None
    mar_l: int | None = None         # EMU
    indent: int | None = None
    space_before: float | None = None
    line: float | None = None

    @property
    def text(self) -> str:
        return "".join(r.text for r in self.runs)


@functools.cache
def _markdown():
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.disable(["image", "html_inline"])
    return md


_CITE_MARK = re.compile("\ue000(\\d+)\ue001")


def inline_runs(text: str, numbering: Numbering) -> list[Run]:
    """Inline CommonMark (**bold**, *italic*, links) → runs; [@key] → superscript numbers."""
    groups: list[list[str]] = []

    def stash(m: re.Match) -> str:
        groups.append([p.strip().lstrip("@") for p in m.group(1).split(";")])
        return f"\ue000{len(groups) - 1}\ue001"

    source = re.sub(r"\s+(?=\ue000)", "", CITE_RE.sub(stash, text or ""))
    runs: list[Run] = []
    bold = italic = 0
    link: str | None = None

    def emit(s: str) -> None:
        pos = 0
        for m in _CITE_MARK.finditer(s):
            if m.start() > pos:
                runs.append(Run(s[pos:m.start()], bold > 0, italic > 0, False, link))
            nums = numbering.numbers(groups[int(m.group(1))])
            if nums:
                runs.append(Run(compress(nums), bold > 0, italic > 0, True, None))
            pos = m.end()
        if pos < len(s):
            runs.append(Run(s[pos:], bold > 0, italic > 0, False, link))

    tokens = _markdown().parseInline(source)[0].children or []
    for tok in tokens:
        kind = tok.type
        if kind in ("text", "code_inline"):
            emit(tok.content)
        elif kind in ("softbreak", "hardbreak"):
            emit(" ")
        elif kind == "strong_open":
            bold += 1
        elif kind == "strong_close":
            bold -= 1
        elif kind == "em_open":
            italic += 1
        elif kind == "em_close":
            italic -= 1
        elif kind == "link_open":
            href = tok.attrGet("href") or ""
            link = href if href.startswith(("https://", "http://", "mailto:", "tel:")) else None
        elif kind == "link_close":
            link = None
    merged: list[Run] = []
    for r in runs:
        if merged and (merged[-1].bold, merged[-1].italic, merged[-1].sup, merged[-1].link) == \
                (r.bold, r.italic, r.sup, r.link):
            merged[-1] = replace(merged[-1], text=merged[-1].text + r.text)
        else:
            merged.append(r)
    return merged or [Run("")]


def html_runs(fragment: str) -> list[Run]:
    """A formatted reference (citeproc HTML: <i>, <b>, <sup>) → runs."""
    runs: list[Run] = []
    state = {"i": 0, "b": 0, "sup": 0}
    for piece in re.split(r"(<[^>]+>)", fragment):
        if not piece:
            continue
        m = re.fullmatch(r"<(/?)(\w+)[^>]*>", piece)
        if m:
            tag = m.group(2).lower()
            if tag in state:
                state[tag] += -1 if m.group(1) else 1
            continue
        runs.append(Run(html.unescape(piece), state["b"] > 0, state["i"] > 0, state["sup"] > 0))
    return runs or [Run("")]


# --------------------------------------------------------------------------- font metrics
class Metrics:
    """Advance widths and line height of one font file (fontTools)."""

    def __init__(self, path: Path):
        from fontTools.ttLib import TTFont

        font = TTFont(str(path), lazy=True)
        self.path = path
        self.upem = font["head"].unitsPerEm
        hmtx = font["hmtx"].metrics
        self.widths = {cp: hmtx[name][0] for cp, name in font.getBestCmap().items() if name in hmtx}
        self.fallback = self.widths.get(ord("n"), self.upem // 2)
        hhea = font["hhea"]
        self.line = max(1.15, (hhea.ascent - hhea.descent + hhea.lineGap) / self.upem)

    def width(self, text: str, size: float) -> float:
        """Returns the width of `text` at `size` points, in points."""
        return sum(self.widths.get(ord(c), self.fallback) for c in text) * size / self.upem


@functools.lru_cache(maxsize=32)
def _metrics(path: Path) -> Metrics:
    return Metrics(path)


class FontBook:
    """Finds the font file (and so the metrics) for a theme font reference and weight."""

    def __init__(self, practice: PracticeContext, major: str, minor: str):
        self.major, self.minor = major, minor
        files: dict[str, list[tuple[int, str, Path]]] = {}
        for f in practice.theme.fonts:
            weight = f.weight if isinstance(f.weight, int) else 400
            files.setdefault(f.family, []).append((weight, f.style, f.path))
        bundled = {"Regular": (400, "normal"), "Bold": (700, "normal"), "Italic": (400, "italic"),
                   "BoldItalic": (700, "italic")}
        for suffix, (weight, style) in bundled.items():
            path = BUNDLED_FONTS / f"AtkinsonHyperlegible-{suffix}.ttf"
            if path.is_file():
                files.setdefault(DEFAULT_FONT, []).append((weight, style, path))
        self.files = files

    def family(self, ref: str | None) -> str:
        if ref in (None, "", "+mn-lt", "+mn-ea", "+mn-cs"):
            return self.minor
        if ref.startswith("+mj"):
            return self.major
        return ref

    def metrics(self, ref: str | None, bold: bool) -> Metrics | None:
        family = self.family(ref)
        options = self.files.get(family) or self.files.get(self.minor) or self.files.get(DEFAULT_FONT)
        if not options:
            return None
        want = 700 if bold else 400
        normal = [o for o in options if o[1] == "normal"] or options
        best = min(normal, key=lambda o: (abs(o[0] - want), o[0]))
        return _metrics(best[2])


def count_lines(runs: list[Run], width_pt: float, size: float, book: FontBook, font: str | None,
                bold: bool) -> int:
    """Greedy word wrap of `runs` in `width_pt`; returns the number of lines."""
    if width_pt <= 0:
        return 99
    words: list[tuple[str, bool, float]] = []
    for r in runs:
        for piece in re.split(r"(\s+)", r.text):
            if piece:
                words.append((piece, r.bold or bold, size * (0.65 if r.sup else 1.0)))
    lines, x = 1, 0.0
    for word, is_bold, word_size in words:
        m = book.metrics(font, is_bold)
        if m is None:
            return 1
        w = m.width(word, word_size)
        if word.isspace():
            x += w
            continue
        if x + w <= width_pt or x == 0:
            if w > width_pt and x == 0:
                extra = int(w // width_pt)
                lines += extra
                x = w - extra * width_pt
            else:
                x += w
        else:
            lines += 1
            x = w if w <= width_pt else w % width_pt
    return lines


# --------------------------------------------------------------------------- SVG and images
@functools.lru_cache(maxsize=32)
def _svg_png(path: Path, stamp: tuple, width_px: int, roots: tuple[Path, ...]) -> bytes:
    """Rasterises an SVG to a transparent PNG with WeasyPrint (SVG → PDF) and PDFium."""
    import pypdfium2 as pdfium
    from weasyprint import HTML

    from .handout import SafeFetcher

    w, h = _svg_size(path.read_bytes())
    page = (f"<!doctype html><html><head><style>@page {{ size: {w}px {h}px; margin: 0 }} "
            f"html, body {{ margin: 0; padding: 0 }} img {{ display: block; width: {w}px; height: {h}px }}"
            f"</style></head><body><img src=\"{path.as_uri()}\" alt=\"\"></body></html>")
    pdf = HTML(string=page, base_url=str(path.parent), url_fetcher=SafeFetcher(list(roots))).write_pdf()
    doc = pdfium.PdfDocument(pdf)
    try:
        scale = width_px / (w * 0.75)
        bitmap = doc[0].render(scale=scale, fill_color=(255, 255, 255, 0))
        image = bitmap.to_pil()
        out = io.BytesIO()
        image.save(out, format="PNG", optimize=True)
        return out.getvalue()
    finally:
        doc.close()


def _svg_size(data: bytes) -> tuple[float, float]:
    """Returns the intrinsic (width, height) of an SVG in CSS pixels (viewBox if no width/height)."""
    head = data[:4000].decode("utf-8", "replace")
    tag = re.search(r"<svg\b[^>]*>", head, re.S)
    attrs = tag.group(0) if tag else ""

    def num(name: str) -> float | None:
        m = re.search(rf'\s{name}="([\d.]+)(px)?"', attrs)
        return float(m.group(1)) if m else None

    w, h = num("width"), num("height")
    vb = re.search(r'viewBox="([-\d.\s,]+)"', attrs)
    if (w is None or h is None) and vb:
        parts = [float(p) for p in re.split(r"[\s,]+", vb.group(1).strip())]
        if len(parts) == 4:
            if w is None and h is None:
                w, h = parts[2], parts[3]
            elif w is None:
                w = h * parts[2] / parts[3]
            else:
                h = w * parts[3] / parts[2]
    return (w or 300.0, h or 150.0)


def _image_size(data: bytes) -> tuple[int, int]:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        return im.size


def fit_box(box: ad.Box, img_w: float, img_h: float, align: str = "center") -> ad.Box:
    """Returns the largest box of the image's aspect inside `box`, aligned left/center/right."""
    scale = min(box.w / img_w, box.h / img_h)
    w, h = int(img_w * scale), int(img_h * scale)
    y = box.y + (box.h - h) // 2
    x = box.x if align == "left" else box.right - w if align == "right" else box.x + (box.w - w) // 2
    return ad.Box(x, y, w, h)


# --------------------------------------------------------------------------- layout map
@functools.lru_cache(maxsize=4)
def _layout_spec(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _norm(name: str) -> str:
    return re.sub(r"[\W_]+", "", (name or "").casefold())


@dataclass
class Target:
    """Where one piece of a slide goes: a slide placeholder (and its layout twin) or a free box."""

    box: ad.Box
    shape: object = None
    ph: ad.Ph | None = None


class Slots:
    """The placeholders of a new slide, handed out by role."""

    def __init__(self, pairs: list[tuple[ad.Ph, object]]):
        self.free = list(pairs)

    def _pop(self, pred, key=None) -> tuple[ad.Ph, object] | None:
        found = [p for p in self.free if pred(p[0])]
        if not found:
            return None
        if key:
            found.sort(key=lambda pair: key(pair[0]))
        self.free.remove(found[0])
        return found[0]

    def title(self):
        return self._pop(lambda p: p.kind == "title")

    def picture(self, *words: str, exclude: tuple[str, ...] = ()):
        def ok(p: ad.Ph) -> bool:
            name = p.name.casefold()
            if p.kind != "picture" or any(w in name for w in exclude):
                return False
            return all(w in name for w in words) if words else True
        return self._pop(ok)

    def of_kind(self, kind: str):
        return self._pop(lambda p: p.kind == kind)

    def text(self, *, largest: bool = False, prefer: str | None = None, obj_only: bool = False):
        """Next text placeholder in reading order (or the largest); `prefer` a ph type first."""
        def ok(p: ad.Ph) -> bool:
            return p.kind == "text" and p.box is not None and (not obj_only or p.type == "obj")
        if prefer:
            got = self._pop(lambda p: ok(p) and p.type == prefer, key=lambda p: (p.box.y, p.box.x))
            if got:
                return got
        if largest:
            return self._pop(ok, key=lambda p: -p.box.area)
        return self._pop(ok, key=lambda p: (p.box.y, p.box.x))

    def texts(self) -> list[tuple[ad.Ph, object]]:
        return [p for p in self.free if p[0].kind == "text" and p[0].box is not None]

    def take(self, pair) -> None:
        self.free.remove(pair)


# --------------------------------------------------------------------------- renderer
def render_deck(deck: schema.Deck, practice: PracticeContext, bib: Bibliography, root: Path,
                source_path: str) -> tuple[bytes, list[Finding]]:
    """Builds the deck and returns the PPTX bytes and any findings (overflow, approximated layouts)."""
    return DeckRenderer(deck, practice, bib, root, source_path).render()


class DeckRenderer:
    """One deck for one practice."""

    def __init__(self, deck: schema.Deck, practice: PracticeContext, bib: Bibliography, root: Path,
                 source_path: str):
        from ..load.i18n import messages

        self.deck, self.practice, self.bib, self.root = deck, practice, bib, Path(root)
        self.source_path = source_path
        self.findings: list[Finding] = []
        self.numbering = Numbering(bib)
        self.lang = f"{deck.language}-{practice.info.country}"
        self.t = messages(self.root, deck.language, practice.templates_dir)
        self.positions = self._positions()
        self.templates = self.root / "templates" / "deck"
        if not (self.templates / LAYOUT_MAP).is_file():
            self.templates = DECK_TEMPLATES
        self.spec = _layout_spec(self.templates / LAYOUT_MAP)
        self.layout_cache: dict[str, tuple[object, bool]] = {}
        self.titles: dict[str, int] = {}
        self.size_warned: set[str] = set()
        self.notes_count = 0

    # ----------------------------------------------------------------- helpers
    def _positions(self) -> dict:
        from ..load.loading import load_yaml

        path = self.root / self.source_path
        try:
            return load_yaml(path, self.root)[1] if path.is_file() else {}
        except Exception:
            return {}

    def line(self, index: int | None, *loc) -> int | None:
        if index is None:
            return None
        for n in range(len(loc), -1, -1):
            key = ("slides", index, *loc[:n])
            if key in self.positions:
                return self.positions[key][0]
        return None

    def find(self, check: str, severity: str, message: str, index: int | None = None, field_: str | None = None,
             hint: str | None = None, loc: tuple = (), **data) -> None:
        fld = field_ or (f"slides[{index}]" if index is not None else None)
        self.findings.append(Finding(check, severity, message, self.source_path, self.line(index, *loc), fld,
                                     hint, data))

    def word(self, key: str, **values) -> str:
        text = self.t.get(key) or BUILTIN.get(self.deck.language, BUILTIN["en"]).get(key) or BUILTIN["en"][key]
        return text.format(**values) if values else text

    def emu(self, inches: float) -> int:
        return int(inches * EMU_PER_IN)

    # ----------------------------------------------------------------- build
    def render(self) -> tuple[bytes, list[Finding]]:
        self.prs = self._open_master()
        self._pick_masters()
        ad.remove_all_slides(self.prs)
        ad.drop_thumbnail(self.prs)
        theme = self.practice.theme
        self.major, self.minor = theme.heading_family, theme.base_family
        self.inks = Inks.of(theme)
        self.scheme = self._scheme()
        ad.apply_theme(self.prs, self.scheme, self.major, self.minor, self.practice.info.name)
        self._readable_master_text()
        self.book = FontBook(self.practice, self.major, self.minor)
        self.W, self.H = int(self.prs.slide_width), int(self.prs.slide_height)

        plan = self._plan()
        for kind, index, sl in plan:
            getattr(self, f"_slide_{kind}")(index, sl)

        self._properties()
        out = io.BytesIO()
        self.prs.save(out)
        return ad.normalise_zip(out.getvalue(), self.deck.reviewed.date), self.findings

    def _open_master(self):
        from ..errors import BuildError, Problem, rel

        path = self.practice.master
        if path is None:
            path = self.templates / DEFAULT_MASTER
        try:
            prs = ad.open_presentation(path)
            if not len(prs.slide_masters) or not len(prs.slide_masters[0].slide_layouts):
                raise ValueError("it has no slide master with layouts")
            return prs
        except Exception as exc:  # python-pptx raises many kinds for a bad package
            raise BuildError(Problem(rel(path, self.root), message=f"cannot open the deck master: {exc}",
                                     hint="save the master from PowerPoint or LibreOffice as .pptx or .potx, "
                                          "or remove deck_master from practice.yml to use the default")) from None

    def _pick_masters(self) -> None:
        """Learns from the template's sample slides which master is for title slides and which
        for content (LibreOffice exports one master per page style); else uses the first."""
        masters = list(self.prs.slide_masters)
        names = [m.part.partname for m in masters]
        used = [names.index(s.slide_layout.slide_master.part.partname) for s in self.prs.slides]
        first = used[0] if used else 0
        rest = used[1:] or [first]
        content = max(sorted(set(rest)), key=rest.count)
        others = [m for i, m in enumerate(masters) if i not in (first, content)]
        self.title_masters = [masters[first]] + ([masters[content]] if content != first else []) + others
        self.content_masters = [masters[content]] + ([masters[first]] if content != first else []) + others
        self.master = masters[content]

    # ----------------------------------------------------------------- colours
    def _scheme(self) -> dict[str, str]:
        """Theme colours from the brand. Fills keep the brand colours (accent1 = primary for bands,
        bars and rules); the slots only text uses get readable colours (`colour.Inks`): dk2
        (titles, quotations), hlink and folHlink (links). lt2 is the tertiary tint, lightened if
        body text (dk1) on it would be unreadable (footer band, table stripes)."""
        c, inks = self.practice.theme.colors, self.inks
        heading = self.practice.theme.heading_color or c["dark"]
        return {
            "dk1": c["foreground"], "lt1": c["background"],
            "dk2": inks.text(heading, on="background"), "lt2": inks.surfaces["tertiary"],
            "accent1": c["primary"], "accent2": c["secondary"], "accent3": c["info"], "accent4": c["success"],
            "accent5": c["warning"], "accent6": c["danger"],
            "hlink": inks.text("info", on="background"), "folHlink": inks.text("secondary", on="background"),
        }

    def text_colour(self, slot: str) -> str:
        """The colour text in theme slot `slot` is printed in: the slot itself when the brand colour
        is readable where that text sits, else a readable colour as `#RRGGBB`.

        Accent text sits on the slide background; background-coloured text (bg1/lt1) sits on the
        primary colour (title, section and closing bands, table headers, the slide number).
        """
        slot = {"tx1": "dk1", "bg1": "lt1", "tx2": "dk2", "bg2": "lt2"}.get(slot, slot)
        brand = self.scheme.get(slot)
        if brand is None:
            return slot
        if slot.startswith("accent"):
            printed = self.inks.text(brand, on="background")
        elif slot == "lt1":
            printed = self.inks.text("background", on="primary")
        else:
            return slot  # dk1 is body text (never substituted); dk2, lt2 and the links are readable already
        return slot if printed == to_hex(brand) else printed

    def _readable_master_text(self) -> None:
        """Text the masters and layouts colour with a theme slot whose brand colour is not
        readable where it sits (e.g. a pale primary for big numbers and column headings, white on
        a pale band) gets the readable colour of `text_colour` written in instead. Fills, lines
        and bullets other than numbers keep the theme references."""
        text_props = {"defRPr", "rPr", "endParaRPr"}
        for master in self.prs.slide_masters:
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
                    if not ((tag == "solidFill" and owner in text_props) or numbered):
                        continue
                    val = scheme.get("val")
                    if val in ("bg1", "lt1") and not normal:
                        continue
                    printed = self.text_colour(val)
                    if printed.startswith("#"):
                        _set_rgb(scheme, printed)

    def colour_run(self, run, slot: str) -> None:
        """Colours a run with theme slot `slot`, or with the readable colour that replaces it."""
        printed = self.text_colour(slot)
        if printed.startswith("#"):
            from pptx.dml.color import RGBColor

            run.font.color.rgb = RGBColor.from_string(printed.lstrip("#"))
        else:
            ad.run_color_theme(run, slot)

    def _plan(self) -> list[tuple[str, int | None, schema.Slide | None]]:
        """Slides in order; a references slide is added when the deck cites and has none, and a
        closing slide (contact details, QR code) when the deck has none."""
        for sl in self.deck.slides:
            for text in _slide_texts(sl):
                self.numbering.numbers(schema.cite_keys(text))
        plan: list[tuple[str, int | None, schema.Slide | None]] = [
            (sl.layout, i, sl) for i, sl in enumerate(self.deck.slides)]
        kinds = [k for k, _, _ in plan]
        if self.numbering.order and "references" not in kinds:
            at = max((i for i, k in enumerate(kinds) if k == "closing"), default=len(plan))
            plan.insert(at, ("references", None, None))
        if "closing" not in kinds:
            plan.append(("closing", None, None))
            self.find("deck.closing", "info", "no closing slide in the deck: one with the practice's contact "
                      "details and QR code is added at the end", field_="slides")
        return plan

    # ----------------------------------------------------------------- layouts
    def layout_for(self, kind: str, index: int | None):
        if kind in self.layout_cache:
            return self.layout_cache[kind]
        spec = self.spec.get(kind, {})
        masters = self.title_masters if kind in ("title", "section", "closing") else self.content_masters
        chosen, how = None, "exact"
        for key, found in (("names", "exact"), ("approximate", "name")):
            for master in masters:
                by_name: dict[str, object] = {}
                for lay in master.slide_layouts:
                    by_name.setdefault(_norm(lay.name), lay)
                match = next((by_name[_norm(n)] for n in spec.get(key, []) if _norm(n) in by_name), None)
                if match is not None:
                    chosen, how = match, found
                    break
            if chosen is not None:
                break
        if chosen is None:
            layouts = list(masters[0].slide_layouts)
            chosen, how = self._layout_by_placeholders(layouts, spec.get("needs", ["title", "text"]), kind), "types"
        approximated = how != "exact"
        if approximated:
            wanted = spec.get("names", [kind])[0]
            why = ("its name is a near fit" if how == "name" else "its placeholders are the closest match")
            self.find("deck.layout", "warning",
                      f"slide kind {kind!r}: the master has no {wanted!r} layout; approximated with "
                      f"{chosen.name!r} ({why})", index, field_=f"slides[{index}].layout" if index is not None
                      else None, loc=("layout",),
                      hint=f"add a layout named {wanted!r} to the master (see templates/deck/layouts.yml)",
                      kind=kind, layout=chosen.name)
        self.layout_cache[kind] = (chosen, approximated)
        return chosen, approximated

    def _layout_by_placeholders(self, layouts, needs: list[str], kind: str):
        """Scores layouts by how many needed placeholders they have (and, as a tie-break, by a
        title-slide look for title kinds or by the size of the text boxes for the others)."""
        best, best_score = layouts[0], -1e9
        slide_area = max(self.W * self.H, 1)
        for lay in layouts:
            phs = [p for p in ad.layout_placeholders(lay) if p.kind != "latent"]
            free = list(phs)
            score = 0.0
            text_areas: list[int] = []
            for need in needs:
                match = next((p for p in free if p.kind == need), None)
                weight = 1.0
                if match is None and need in ("picture", "chart", "table"):
                    match, weight = next((p for p in free if p.type == "obj"), None), 0.8
                if match is not None:
                    free.remove(match)
                    score += weight
                    if need == "text" and match.box is not None:
                        text_areas.append(match.box.area)
            score -= 0.1 * len(free)
            if kind in ("title", "section", "closing"):
                score += 0.5 * any(p.type in ("ctrTitle", "subTitle") for p in phs)
            else:
                # The smallest text box the kind uses: two columns want two big boxes.
                score += 0.5 * min(text_areas, default=0) / slide_area
            if score > best_score:
                best, best_score = lay, score
        return best

    def new_slide(self, kind: str, index: int | None):
        layout, approximated = self.layout_for(kind, index)
        self.master = layout.slide_master
        slide = self.prs.slides.add_slide(layout)
        all_phs = ad.layout_placeholders(layout)
        phs = [p for p in all_phs if p.kind != "latent"]
        shapes = [s for s in slide.shapes if s.is_placeholder]  # document order, as cloned
        pairs = list(zip(phs, shapes))
        if ad.has_duplicate_idx(phs):
            for ph, shape in pairs:
                if ph.box is not None:
                    ad.set_box(shape, ph.box)
        return slide, layout, all_phs, Slots(pairs), approximated

    def body_area(self, all_phs: list[ad.Ph]) -> ad.Box:
        """The free area under the title and above the footer (for drawn text boxes)."""
        title = next((p.box for p in all_phs if p.kind == "title" and p.box), None)
        latent = [p.box.y for p in all_phs if p.kind == "latent" and p.box and p.box.y > self.H * 0.6]
        top = title.bottom + self.emu(0.15) if title else int(self.H * 0.2)
        bottom = (min(latent) - self.emu(0.1)) if latent else int(self.H * 0.9)
        left = title.x if title else int(self.W * 0.06)
        right = title.right if title else int(self.W * 0.94)
        if bottom - top < self.H * 0.25:
            top, bottom = int(self.H * 0.2), int(self.H * 0.9)
        return ad.Box(left, top, right - left, bottom - top)

    def finish(self, slide, slots: Slots, all_phs, kind: str, index: int | None, notes: str | None,
               title: str, *, footer: bool = True, authored: bool | None = None) -> None:
        """Removes unused placeholders, adds footer and slide number, notes; checks notes and title.

        `authored` says whether the notes came from the YAML (default: whether there are any).
        """
        for _, shape in slots.free:
            ad.remove_shape(shape)
        slots.free.clear()
        number = len(self.prs.slides)
        if footer:
            self._footer(slide, all_phs, number)
        if not (notes if authored is None else authored):
            if kind not in NOT_CONTENT and index is not None:
                self.find("deck.notes", "warning", f"slide {number} ({title!r}) has no speaker notes", index,
                          hint="add notes: what to say, in full sentences, and a description of any image")
        self._notes(slide, notes or "")
        key = title.casefold().strip()
        if key in self.titles and index is not None:
            self.find("deck.title", "warning", f"slide {number} has the same title as slide {self.titles[key]}: "
                      f"{title!r}", index, loc=("title",), hint="give every slide its own title")
        self.titles.setdefault(key, number)

    def _footer(self, slide, all_phs: list[ad.Ph], number: int) -> None:
        """Footer (practice name) and slide number: the layout's placeholders, else text boxes."""
        from pptx.util import Pt

        text = self.practice.info.name
        for kind, ph_type in (("ftr", "ftr"), ("sldNum", "sldNum")):
            ph = next((p for p in all_phs if p.type == ph_type and p.box is not None), None)
            if ph is not None:
                ad.add_latent_placeholder(slide, kind, ph.idx, ph.box, text, self.lang, number)
                continue
            base = ad.master_placeholder(self.master, ph_type)
            box = ad._xfrm_box(base) if base is not None else None
            if box is None:
                h = int(self.H * 0.06)
                box = (ad.Box(int(self.W * 0.05), self.H - h - int(self.H * 0.02), int(self.W * 0.6), h)
                       if kind == "ftr" else
                       ad.Box(int(self.W * 0.85), self.H - h - int(self.H * 0.02), int(self.W * 0.1), h))
            tb = slide.shapes.add_textbox(box.x, box.y, box.w, box.h)
            ad.set_shape_name(tb, "Footer" if kind == "ftr" else "Slide Number")
            tf = tb.text_frame
            tf.word_wrap = True
            p = tf.paragraphs[0]
            if kind == "ftr":
                r = p.add_run()
                r.text = text
                r.font.size = Pt(12)
                ad.set_run_lang(r, self.lang)
            else:
                ad.set_paragraph(p, align="r")
                ad.add_slide_number_field(p, number, self.lang)

    def _notes(self, slide, text: str) -> None:
        tf = slide.notes_slide.notes_text_frame
        if tf is None:
            return
        tf.text = strip_citations(text).strip()
        ad.set_lang_everywhere(tf, self.lang)
        self.notes_count += 1

    # ----------------------------------------------------------------- writing text
    def write(self, target: Target | None, paras: list[Para], *, slide_no: int, title: str, role: str,
              index: int | None, anchor: str | None = None) -> None:
        """Writes paragraphs into a placeholder or text box, then checks that they fit."""
        from pptx.util import Pt

        if target is None:
            return
        shape = target.shape
        tf = shape.text_frame
        tf.word_wrap = True
        if anchor:
            ad.set_body_anchor(tf, anchor)
        for i, para in enumerate(paras):
            p = tf.paragraphs[0] if i == 0 else tf.add_paragraph()
            for r in list(p.runs):
                r._r.getparent().remove(r._r)
            if para.level:
                p.level = para.level
            ad.set_paragraph(p, bullet=para.bullet, autonum_start=para.autonum, mar_l=para.mar_l,
                             indent=para.indent, align=para.align, space_before=para.space_before,
                             line_pct=para.line, bullet_color="accent1" if para.bullet == "autonum" else None)
            if para.bullet == "autonum" and self.text_colour("accent1").startswith("#"):
                for scheme in list(p._p.pPr.iter(qn("a:schemeClr"))):  # the numbers are text too
                    _set_rgb(scheme, self.text_colour("accent1"))
            for run in para.runs:
                if not run.text:
                    continue
                r = p.add_run()
                r.text = run.text
                if run.bold or para.bold:
                    r.font.bold = True
                if run.italic or para.italic:
                    r.font.italic = True
                if para.size:
                    r.font.size = Pt(para.size)
                if para.color:
                    self.colour_run(r, para.color)
                if para.font:
                    ad.set_run_font_ref(r, para.font)
                if run.sup:
                    ad.set_superscript(r)
                if run.link:
                    r.hyperlink.address = run.link
                ad.set_run_lang(r, self.lang)
        self.check_fit(target, paras, slide_no=slide_no, title=title, role=role, index=index)

    def textbox(self, slide, box: ad.Box, name: str) -> Target:
        tb = slide.shapes.add_textbox(box.x, box.y, box.w, box.h)
        ad.set_shape_name(tb, name)
        tb.text_frame.word_wrap = True
        return Target(box, tb, None)

    def target(self, pair) -> Target | None:
        if pair is None:
            return None
        ph, shape = pair
        return Target(ph.box or ad.Box(int(shape.left), int(shape.top), int(shape.width), int(shape.height)),
                      shape, ph)

    def style(self, target: Target, para: Para) -> ad.TextStyle:
        if target.ph is not None:
            st = ad.inherited_style(target.ph.element, self.master, para.level)
        else:
            st = ad.TextStyle(size=18, bold=False, font="+mn-lt", mar_l=0, indent=0, space_before=0,
                              line_pct=1.0)
        explicit = ad.TextStyle(size=para.size, bold=para.bold, font=para.font, mar_l=para.mar_l,
                                indent=para.indent, space_before=para.space_before, line_pct=para.line)
        return explicit.merged(st)

    def text_height(self, target: Target, paras: list[Para], width_emu: int | None = None) -> float:
        """Estimated height of `paras` in `target`, in points, from the fonts' real metrics."""
        if target.ph is not None:
            chain = [target.shape._element if target.shape is not None else None, target.ph.element,
                     ad.master_placeholder(self.master, target.ph.type)]
        else:
            chain = [target.shape._element if target.shape is not None else None]
        l_ins, t_ins, r_ins, b_ins = ad.body_insets(chain)
        width = (width_emu if width_emu is not None else target.box.w) - l_ins - r_ins
        total = (t_ins + b_ins) / EMU_PER_PT
        for i, para in enumerate(paras):
            st = self.style(target, para)
            size = st.size or 18
            avail = (width - (st.mar_l or 0)) / EMU_PER_PT
            m = self.book.metrics(st.font, bool(st.bold))
            factor = m.line if m else 1.2
            lines = count_lines(para.runs, avail, size, self.book, st.font, bool(st.bold))
            line_h = st.line_pts if st.line_pts else size * factor * (st.line_pct or 1.0)
            total += lines * line_h
            if i > 0:
                total += st.space_before if st.space_before is not None else (
                    (st.space_before_pct or 0) * size)
        return total

    def check_fit(self, target: Target, paras: list[Para], *, slide_no: int, title: str, role: str,
                  index: int | None) -> None:
        need = self.text_height(target, paras)
        have = target.box.h / EMU_PER_PT
        if need > have * 1.03:
            font = self.book.family(self.style(target, paras[0]).font if paras else None)
            self.find("deck.overflow", "warning",
                      f"slide {slide_no} ({title!r}): the {role} text does not fit its box "
                      f"(needs about {need / 72:.1f} in, has {have / 72:.1f} in; estimated with {font} metrics)",
                      index, hint="shorten the text or split the slide", slide=slide_no, role=role,
                      need_pt=round(need, 1), have_pt=round(have, 1))

    def check_size(self, target: Target, paras: list[Para], *, slide_no: int, title: str, index: int | None):
        """Body text of a talk should be at least 24 pt (reported once per master layout)."""
        layout = target.shape.part.slide_layout.name if target.ph is not None else "(text box)"
        if layout in self.size_warned:
            return
        for para in paras:
            size = self.style(target, para).size or 18
            if size < MIN_BODY_PT:
                self.size_warned.add(layout)
                self.find("deck.font_size", "warning",
                          f"slide {slide_no} ({title!r}): body text is {size:g} pt (layout {layout!r}); talks "
                          f"need at least {MIN_BODY_PT} pt", index,
                          hint="set the master's body text to 24 pt or more; every slide on this layout is affected")
                return

    def shrink(self, target: Target, para: Para, sizes: tuple[float, ...], n: int, title: str,
               index: int | None) -> Para:
        """Returns `para` at the first of `sizes` that fits when its own size does not (display text)."""
        limit = target.box.h / EMU_PER_PT * 1.03
        if self.text_height(target, [para]) <= limit:
            return para
        for size in sizes:
            smaller = replace(para, size=size)
            if self.text_height(target, [smaller]) <= limit:
                self.find("deck.font_size", "info", f"slide {n} ({title!r}): {para.text!r} set at {size:g} pt "
                          "to fit its box", index)
                return smaller
        return para

    def runs(self, text: str | None) -> list[Run]:
        return inline_runs(text or "", self.numbering)

    def title_para(self, text: str) -> list[Para]:
        return [Para(self.runs(text))]

    def bullet_paras(self, items: list, explicit: bool) -> list[Para]:
        out: list[Para] = []
        for item in items:
            text, subs = (item, []) if isinstance(item, str) else (item.text, item.sub)
            out.append(self._bullet(self.runs(text), 0, explicit))
            for sub in subs:
                out.append(self._bullet(self.runs(sub), 1, explicit))
        return out

    def _bullet(self, runs: list[Run], level: int, explicit: bool) -> Para:
        if not explicit:
            return Para(runs, level=level)
        if level == 0:
            return Para(runs, 0, bullet="\u2022", size=28, mar_l=self.emu(0.4), indent=-self.emu(0.4),
                        space_before=14)
        return Para(runs, 1, bullet="\u2013", size=24, mar_l=self.emu(0.9), indent=-self.emu(0.35),
                    space_before=6)

    def plain(self, text: str | None, *, size: float | None = None, **kw) -> Para:
        return Para(self.runs(text), bullet="none", mar_l=0, indent=0, size=size, **kw)

    def put_title(self, slide, slots: Slots, all_phs, text: str, index, slide_no: int):
        target = self.target(slots.title())
        if target is None:
            area = self.body_area(all_phs)
            box = ad.Box(area.x, int(self.H * 0.05), area.w, int(self.H * 0.14))
            target = self.textbox(slide, box, "Title")
            paras = [Para(self.runs(text), size=36, bold=True, font="+mj-lt", color="tx2")]
        else:
            paras = self.title_para(text)
        self.write(target, paras, slide_no=slide_no, title=text, role="title", index=index)
        return target

    # ----------------------------------------------------------------- pictures
    def picture_bytes(self, path: Path, width_px: int, index: int | None, what: str) -> bytes | None:
        """PNG/JPEG bytes for a picture; SVG is rasterised. None (with a finding) if that fails."""
        if path.suffix.lower() != ".svg":
            return path.read_bytes()
        try:
            st = path.stat()
            return _svg_png(path.resolve(), (st.st_mtime_ns, st.st_size), width_px,
                            (self.root.resolve(), self.practice.root.resolve()))
        except Exception as exc:  # WeasyPrint/PDFium errors vary
            self.find("deck.image", "warning", f"{what}: cannot rasterise SVG {path.name} for PowerPoint ({exc}); "
                      "it is left out", index, hint="give a PNG version of the image")
            return None

    def place_picture(self, slide, pair, box: ad.Box | None, data: bytes, *, alt: str, name: str,
                      align: str = "center", decorative: bool = False):
        """Puts a picture in a picture placeholder (kept, so it stays replaceable) or in a box, uncropped."""
        from pptx.shapes.placeholder import PicturePlaceholder

        img_w, img_h = _image_size(data)
        if pair is not None:
            ph, shape = pair
            area = box or ph.box
            holder = PicturePlaceholder(shape._element, shape._parent)
            pic = holder.insert_picture(io.BytesIO(data))
            ad.uncrop(pic)
            ad.set_box(pic, fit_box(area, img_w, img_h, align))
        else:
            fitted = fit_box(box, img_w, img_h, align)
            pic = slide.shapes.add_picture(io.BytesIO(data), fitted.x, fitted.y, fitted.w, fitted.h)
        ad.set_shape_name(pic, name)
        ad.set_alt_text(pic, alt, decorative=decorative)
        return pic

    def logo(self, slide, slots: Slots, index, fallback: ad.Box) -> None:
        theme = self.practice.theme
        logo = theme.logo("large", "medium")
        pair = slots.picture("logo")
        if logo is None:
            if pair:
                ad.remove_shape(pair[1])
            return
        reverse = pair is not None and any(w in pair[0].name.casefold() for w in ("reverse", "dark"))
        reverse = reverse and self.text_colour("bg1") == "lt1"  # a pale band (dark text on it) takes the normal logo
        path = (logo.dark or logo.light) if reverse else logo.light
        area = pair[0].box if pair else fallback
        width_px = max(600, int(area.w / EMU_PER_IN * 300))
        data = self.picture_bytes(path, width_px, index, "logo")
        if data is None:
            if pair:
                ad.remove_shape(pair[1])
            return
        align = "left" if (area.x + area.w / 2) < self.W / 2 else "right"
        alt = logo.alt or self.word("deck_logo_alt", name=self.practice.info.name)
        self.place_picture(slide, pair, area, data, alt=alt, name="Logo", align=align)

    # ----------------------------------------------------------------- slide kinds
    def _slide_title(self, index, sl: schema.Slide | None):
        slide, layout, all_phs, slots, approx = self.new_slide("title", index)
        n = len(self.prs.slides)
        title = (sl.title if sl and sl.title else None) or self.deck.title
        self.put_title(slide, slots, all_phs, title, index, n)
        subtitle = (sl.subtitle if sl else None) or self.deck.subtitle
        sub = slots.text(prefer="subTitle")
        if subtitle and sub:
            self.write(self.target(sub), [self.plain(subtitle)], slide_no=n, title=title, role="subtitle",
                       index=index)
        elif sub:
            ad.remove_shape(sub[1])
        byline = slots.text()
        if byline:
            info = self.practice.info
            paras = [self.plain(info.name, bold=True)]
            if info.tagline:
                paras.append(self.plain(info.tagline))
            self.write(self.target(byline), paras, slide_no=n, title=title, role="byline", index=index)
        h = int(self.H * 0.13)
        corner = ad.Box(self.W - int(self.W * 0.05) - int(self.W * 0.3), self.H - h - int(self.H * 0.05),
                        int(self.W * 0.3), h)
        self.logo(slide, slots, index, corner)
        notes = (sl.notes if sl else None) or self.word("deck_notes_title", title=title)
        self.finish(slide, slots, all_phs, "title", index, notes, title, footer=False)

    def _slide_section(self, index, sl: schema.Slide):
        slide, layout, all_phs, slots, approx = self.new_slide("section", index)
        n = len(self.prs.slides)
        self.put_title(slide, slots, all_phs, sl.title, index, n)
        if sl.subtitle or sl.text:
            target = self.target(slots.text(prefer="subTitle"))
            if target is None:
                area = self.body_area(all_phs)
                target = self.textbox(slide, ad.Box(area.x, area.y, area.w, area.h // 3), "Subtitle")
            self.write(target, [self.plain(sl.subtitle or sl.text, size=28 if target.ph is None else None)],
                       slide_no=n, title=sl.title, role="subtitle", index=index)
        self.finish(slide, slots, all_phs, "section", index, sl.notes, sl.title)

    def _slide_bullets(self, index, sl: schema.Slide):
        slide, layout, all_phs, slots, approx = self.new_slide("bullets", index)
        n = len(self.prs.slides)
        self.put_title(slide, slots, all_phs, sl.title, index, n)
        target = self.target(slots.text(largest=True))
        explicit = target is None
        if target is None:
            target = self.textbox(slide, self.body_area(all_phs), "Content")
        paras = ([self.plain(sl.text, size=28 if explicit else None)] if sl.text else []) + \
            self.bullet_paras(sl.bullets, explicit)
        self.write(target, paras, slide_no=n, title=sl.title, role="body", index=index)
        self.check_size(target, paras, slide_no=n, title=sl.title, index=index)
        self._count_bullets(sl.bullets, n, sl.title, index, "bullets")
        self.finish(slide, slots, all_phs, "bullets", index, sl.notes, sl.title)

    def _count_bullets(self, items, n, title, index, where) -> None:
        count = sum(1 + (0 if isinstance(b, str) else len(b.sub)) for b in items)
        if count > MAX_BULLETS:
            self.find("deck.bullets", "warning", f"slide {n} ({title!r}) has {count} bullet lines in {where}; "
                      f"keep to {MAX_BULLETS} or fewer", index, loc=(where,),
                      hint="split the slide or merge points", count=count)

    def _slide_two_column(self, index, sl: schema.Slide):
        slide, layout, all_phs, slots, approx = self.new_slide("two_column", index)
        n = len(self.prs.slides)
        self.put_title(slide, slots, all_phs, sl.title, index, n)
        texts = slots.texts()
        columns = sorted(sorted(texts, key=lambda p: -p[0].box.area)[:2], key=lambda p: p[0].box.x)
        for pair in columns:
            slots.take(pair)
        headings: list = [None, None]
        for pair in sorted(slots.texts(), key=lambda p: (p[0].box.y, p[0].box.x)):
            for i, col in enumerate(columns):
                cb = col[0].box
                if headings[i] is None and pair[0].box.y < cb.y and abs(pair[0].box.x - cb.x) < cb.w / 2:
                    headings[i] = pair
                    slots.take(pair)
                    break
        targets: list[Target] = [self.target(c) for c in columns]
        explicit = [False, False]
        if len(targets) < 2:
            area = self.body_area(all_phs)
            if targets:
                area = targets[0].box
            gap = self.emu(0.4)
            half = (area.w - gap) // 2
            left_box = ad.Box(area.x, area.y, half, area.h)
            right_box = ad.Box(area.x + half + gap, area.y, half, area.h)
            if targets:
                ad.set_box(targets[0].shape, left_box)
                targets[0] = Target(left_box, targets[0].shape, targets[0].ph)
                targets.append(self.textbox(slide, right_box, "Right Content"))
                explicit = [False, True]
            else:
                targets = [self.textbox(slide, left_box, "Left Content"), self.textbox(slide, right_box,
                                                                                        "Right Content")]
                explicit = [True, True]
        for i, (col, name) in enumerate(((sl.left, "left"), (sl.right, "right"))):
            paras = []
            if col.heading and headings[i] is not None:
                self.write(self.target(headings[i]), [self.plain(col.heading)], slide_no=n, title=sl.title,
                           role=f"{name} heading", index=index)
            elif col.heading:
                paras.append(self.plain(col.heading, bold=True, color="accent1",
                                        size=28 if explicit[i] else None))
            paras += self.bullet_paras(col.bullets, explicit[i])
            if explicit[i]:
                paras = [replace(p, size=min(p.size or 24, 24)) for p in paras]
            if paras:
                self.write(targets[i], paras, slide_no=n, title=sl.title, role=f"{name} column", index=index)
                self.check_size(targets[i], paras, slide_no=n, title=sl.title, index=index)
            self._count_bullets(col.bullets, n, sl.title, index, name)
        self.finish(slide, slots, all_phs, "two_column", index, sl.notes, sl.title)

    def _graphic_area(self, slide, slots: Slots, all_phs, kind: str):
        """Returns (placeholder pair or None, box) for a picture/chart/table, and the caption target."""
        pair = slots.of_kind(kind) if kind != "picture" else slots.picture(exclude=("logo", "qr"))
        if pair is None:
            pair = slots.text(largest=True, obj_only=True) or slots.text(largest=True)
        caption = self.target(slots.text(largest=True))
        box = pair[0].box if pair else self.body_area(all_phs)
        if caption is None:
            cap_h = min(int(box.h * 0.2), self.emu(0.9))
            caption = self.textbox(slide, ad.Box(box.x, box.bottom - cap_h, box.w, cap_h), "Caption")
            box = ad.Box(box.x, box.y, box.w, box.h - cap_h - self.emu(0.05))
            if pair is not None:
                ad.set_box(pair[1], box)
                pair = (replace(pair[0], box=box), pair[1])
        return pair, box, caption

    def _caption(self, caption: Target, text: str | None, n, title, index) -> None:
        if caption is None:
            return
        if not text:
            ad.remove_shape(caption.shape)
            return
        self.write(caption, [self.plain(text, size=18 if caption.ph is None else None)], slide_no=n, title=title,
                   role="caption", index=index)

    def _slide_image(self, index, sl: schema.Slide):
        slide, layout, all_phs, slots, approx = self.new_slide("image", index)
        n = len(self.prs.slides)
        self.put_title(slide, slots, all_phs, sl.title, index, n)
        pair, box, caption = self._graphic_area(slide, slots, all_phs, "picture")
        fig = sl.image
        if not fig.caption and caption is not None and caption.ph is not None and caption.box.x >= box.right:
            box = ad.Box(box.x, box.y, caption.box.right - box.x, box.h)  # no caption: the picture takes its place
        path = (self.root / self.source_path).parent / fig.src
        data = self.picture_bytes(path, max(1200, int(box.w / EMU_PER_IN * 200)), index, f"slide {n} image")
        if data is not None:
            if pair is not None and pair[0].kind != "picture":
                ad.remove_shape(pair[1])
                pair = None
            self.place_picture(slide, pair, box, data, alt=fig.alt, name="Picture", decorative=fig.decorative)
        elif pair is not None:
            ad.remove_shape(pair[1])
        self._caption(caption, fig.caption, n, sl.title, index)
        notes = sl.notes or ""
        if not fig.decorative and fig.alt.casefold() not in notes.casefold():
            notes = (notes + "\n" if notes else "") + self.word("deck_notes_image", alt=fig.alt)
        self.finish(slide, slots, all_phs, "image", index, notes, sl.title, authored=bool(sl.notes))

    def _slide_big_number(self, index, sl: schema.Slide):
        slide, layout, all_phs, slots, approx = self.new_slide("big_number", index)
        n = len(self.prs.slides)
        self.put_title(slide, slots, all_phs, sl.title, index, n)
        texts = sorted(slots.texts(), key=lambda p: (p[0].box.y, p[0].box.x))
        number_para = self.plain(sl.number)
        text_paras = [self.plain(sl.text)] if sl.text else []
        if len(texts) >= 2:
            slots.take(texts[0])
            slots.take(texts[1])
            target = self.target(texts[0])
            number_para = self.shrink(target, number_para, (80, 72, 64, 56), n, sl.title, index)
            self.write(target, [number_para], slide_no=n, title=sl.title, role="number", index=index)
            if text_paras:
                self.write(self.target(texts[1]), text_paras, slide_no=n, title=sl.title, role="explanation",
                           index=index)
            else:
                ad.remove_shape(texts[1][1])
        else:
            target = self.target(texts[0]) if texts else None
            if texts:
                slots.take(texts[0])
            else:
                target = self.textbox(slide, self.body_area(all_phs), "Number")
            number_para = replace(number_para, size=80, bold=True, color="accent1", font="+mj-lt", line=0.9)
            text_paras = [replace(p, size=28, space_before=18) for p in text_paras]
            self.write(target, [number_para] + text_paras, slide_no=n, title=sl.title, role="number",
                       index=index)
        self.finish(slide, slots, all_phs, "big_number", index, sl.notes, sl.title)

    def _slide_quote(self, index, sl: schema.Slide):
        slide, layout, all_phs, slots, approx = self.new_slide("quote", index)
        n = len(self.prs.slides)
        self.put_title(slide, slots, all_phs, sl.title, index, n)
        quote = self.target(slots.text(largest=True))
        attribution = self.target(slots.text())
        text = sl.quote.text
        who = f"\u2014 {sl.quote.attribution}" if sl.quote.attribution else None
        if approx or quote is None:
            text = f"\u201c{text}\u201d"
        explicit = approx or quote is None
        if quote is None:
            quote = self.textbox(slide, self.body_area(all_phs), "Quote")
        qpara = self.plain(text, italic=True, size=32 if explicit else None)
        if who and attribution is not None:
            self.write(quote, [qpara], slide_no=n, title=sl.title, role="quote", index=index)
            self.write(attribution, [self.plain(who)], slide_no=n, title=sl.title, role="attribution", index=index)
        else:
            paras = [qpara] + ([self.plain(who, size=24 if explicit else None, bold=True, color="accent1",
                                           space_before=18)] if who else [])
            self.write(quote, paras, slide_no=n, title=sl.title, role="quote", index=index)
            if attribution is not None:
                ad.remove_shape(attribution.shape)
        self.finish(slide, slots, all_phs, "quote", index, sl.notes, sl.title)

    def _slide_chart(self, index, sl: schema.Slide):
        from pptx.shapes.placeholder import ChartPlaceholder

        slide, layout, all_phs, slots, approx = self.new_slide("chart", index)
        n = len(self.prs.slides)
        self.put_title(slide, slots, all_phs, sl.title, index, n)
        pair, box, caption = self._graphic_area(slide, slots, all_phs, "chart")
        chart_type, data = self._chart_data(sl.chart)
        if pair is not None:
            holder = ChartPlaceholder(pair[1]._element, pair[1]._parent)
            frame = holder.insert_chart(chart_type, data)
        else:
            frame = slide.shapes.add_chart(chart_type, box.x, box.y, box.w, box.h, data)
        self._style_chart(frame.chart, sl.chart)
        ad.set_shape_name(frame, "Chart")
        ad.set_alt_text(frame, self._chart_summary(sl.title, sl.chart))
        self._caption(caption, sl.chart.caption, n, sl.title, index)
        self.finish(slide, slots, all_phs, "chart", index, sl.notes, sl.title)

    def _chart_data(self, chart: schema.Chart):
        from pptx.chart.data import CategoryChartData
        from pptx.enum.chart import XL_CHART_TYPE

        types = {"bar": XL_CHART_TYPE.BAR_CLUSTERED, "column": XL_CHART_TYPE.COLUMN_CLUSTERED,
                 "line": XL_CHART_TYPE.LINE_MARKERS, "pie": XL_CHART_TYPE.PIE}
        data = CategoryChartData(number_format=chart.number_format)
        data.categories = chart.categories
        for s in chart.series:
            data.add_series(s.name, s.values)
        return types[chart.type], data

    def _style_chart(self, chart, spec: schema.Chart) -> None:
        from pptx.enum.chart import XL_LABEL_POSITION, XL_LEGEND_POSITION
        from pptx.enum.dml import MSO_THEME_COLOR
        from pptx.util import Pt

        accents = [MSO_THEME_COLOR.ACCENT_1, MSO_THEME_COLOR.ACCENT_2, MSO_THEME_COLOR.ACCENT_3,
                   MSO_THEME_COLOR.ACCENT_4, MSO_THEME_COLOR.ACCENT_5, MSO_THEME_COLOR.ACCENT_6]
        chart.font.size = Pt(18)
        chart.font.color.theme_color = MSO_THEME_COLOR.TEXT_1
        chart.has_title = False
        plot = chart.plots[0]
        multi = len(spec.series) > 1 or spec.type == "pie"
        chart.has_legend = multi
        if multi:
            chart.legend.position = XL_LEGEND_POSITION.BOTTOM
            chart.legend.include_in_layout = False
            chart.legend.font.size = Pt(18)
        plot.has_data_labels = True
        labels = plot.data_labels
        labels.number_format = spec.number_format
        labels.number_format_is_linked = False
        labels.font.size = Pt(18)
        if spec.type == "pie":
            plot.vary_by_categories = True
            labels.position = XL_LABEL_POSITION.OUTSIDE_END
            for j, point in enumerate(plot.series[0].points):
                point.format.fill.solid()
                point.format.fill.fore_color.theme_color = accents[j % 6]
            return
        if spec.type in ("bar", "column"):
            plot.gap_width = 60
            plot.overlap = 0
            labels.position = XL_LABEL_POSITION.OUTSIDE_END
        else:
            labels.position = XL_LABEL_POSITION.ABOVE
        for i, series in enumerate(plot.series):
            color = accents[i % 6]
            if spec.type == "line":
                series.format.line.color.theme_color = color
                series.format.line.width = Pt(3.5)
                series.smooth = False
                series.marker.size = 10
                series.marker.format.fill.solid()
                series.marker.format.fill.fore_color.theme_color = color
                series.marker.format.line.color.theme_color = color
            else:
                series.format.fill.solid()
                series.format.fill.fore_color.theme_color = color
        value_axis, category_axis = chart.value_axis, chart.category_axis
        value_axis.has_major_gridlines = True
        value_axis.major_gridlines.format.line.color.theme_color = MSO_THEME_COLOR.BACKGROUND_2
        value_axis.major_gridlines.format.line.width = Pt(1)
        value_axis.tick_labels.number_format = spec.number_format
        value_axis.tick_labels.number_format_is_linked = False
        value_axis.tick_labels.font.size = Pt(16)
        value_axis.format.line.fill.background()
        category_axis.tick_labels.font.size = Pt(18)
        category_axis.format.line.color.theme_color = MSO_THEME_COLOR.TEXT_1
        category_axis.has_major_gridlines = False
        if spec.type == "bar":
            # Categories read top to bottom in YAML order, with the value axis kept at the bottom.
            category_axis.reverse_order = True
            ad.set_value_axis_crossing(chart.value_axis, "max")

    def _chart_summary(self, title: str, chart: schema.Chart) -> str:
        kind = {"bar": "Bar chart", "column": "Column chart", "line": "Line chart", "pie": "Pie chart"}[chart.type]
        parts = []
        for s in chart.series:
            values = "; ".join(f"{c}: {v:g}" for c, v in zip(chart.categories, s.values))
            parts.append(f"{s.name}: {values}")
        return f"{kind}, {strip_citations(title)}. " + ". ".join(parts)

    def _slide_table(self, index, sl: schema.Slide):
        from pptx.shapes.placeholder import TablePlaceholder
        from pptx.util import Emu, Pt

        slide, layout, all_phs, slots, approx = self.new_slide("table", index)
        n = len(self.prs.slides)
        self.put_title(slide, slots, all_phs, sl.title, index, n)
        pair, box, caption = self._graphic_area(slide, slots, all_phs, "table")
        table = sl.table
        rows, cols = len(table.rows) + 1, len(table.header)
        if pair is not None:
            holder = TablePlaceholder(pair[1]._element, pair[1]._parent)
            frame = holder.insert_table(rows, cols)
        else:
            frame = slide.shapes.add_table(rows, cols, box.x, box.y, box.w, box.h)
        ad.set_shape_name(frame, "Table")
        ad.set_alt_text(frame, strip_citations(table.caption or sl.title))
        tbl = frame.table
        tbl.first_row = True
        tbl.horz_banding = True
        cells = [[self.runs(h) for h in table.header]] + [[self.runs(c) for c in row] for row in table.rows]
        size, widths, heights, fallback_height, fits = self._table_layout(cells, box)
        for j, w in enumerate(widths):
            tbl.columns[j].width = Emu(w)
        for i, row in enumerate(cells):
            tbl.rows[i].height = Emu(heights[i])
            for j, runs in enumerate(row):
                cell = tbl.cell(i, j)
                ad.cell_fill_theme(cell, "accent1" if i == 0 else ("bg2" if i % 2 == 0 else "bg1"))
                tf = cell.text_frame
                tf.word_wrap = True
                p = tf.paragraphs[0]
                for run in runs:
                    if not run.text:
                        continue
                    r = p.add_run()
                    r.text = run.text
                    r.font.size = Pt(size)
                    if i == 0 or run.bold:
                        r.font.bold = True
                    if run.italic:
                        r.font.italic = True
                    if run.sup:
                        ad.set_superscript(r)
                    self.colour_run(r, "bg1" if i == 0 else "tx1")  # header on accent1, body on bg1/bg2
                    ad.set_run_lang(r, self.lang)
        frame.height = Emu(sum(heights))
        if caption is not None and caption.ph is not None and caption.box.y >= box.bottom - self.emu(0.1):
            # A short table keeps its caption close under it, below the height the table
            # reaches in a wider fallback font (a presenter's machine may lack the brand font).
            top = int(frame.top) + max(sum(heights), fallback_height) + self.emu(0.15)
            if top < caption.box.y:
                moved = ad.Box(caption.box.x, top, caption.box.w, caption.box.h)
                ad.set_box(caption.shape, moved)
                caption = Target(moved, caption.shape, caption.ph)
        if size < MIN_BODY_PT:
            self.find("deck.font_size", "info", f"slide {n} ({sl.title!r}): table text set at {size:g} pt to fit",
                      index, loc=("table",))
        if not fits:
            self.find("deck.overflow", "warning", f"slide {n} ({sl.title!r}): the table does not fit its area even "
                      f"at {size:g} pt", index, loc=("table",), hint="fewer rows or shorter cells; split the table")
        elif fallback_height > box.h:
            self.find("deck.overflow", "info", f"slide {n} ({sl.title!r}): the table fits in the brand font, but "
                      "may run into the caption on a computer without that font (PPTX files do not carry fonts)",
                      index, loc=("table",), hint="shorter cells, or install the brand fonts where the talk is given")
        if len(table.rows) > MAX_TABLE_ROWS:
            self.find("deck.table_rows", "warning", f"slide {n} ({sl.title!r}) has {len(table.rows)} table rows; "
                      f"keep to about {MAX_TABLE_ROWS}", index, loc=("table", "rows"))
        self._caption(caption, table.caption, n, sl.title, index)
        self.finish(slide, slots, all_phs, "table", index, sl.notes, sl.title)

    def _table_layout(self, cells: list[list[list[Run]]], box: ad.Box):
        """Picks the largest font size (24 down to 18 pt) at which the table fits; column widths by content.

        Returns (size, column widths, row heights in the brand font, height in a fallback font
        FALLBACK_WIDTH wider, fits). A size must fit in both fonts; if none does, the largest
        that fits in the brand font is taken.
        """
        margin_w, margin_h = 2 * 91440, 2 * 45720
        cols = len(cells[0])
        tried = []
        for size in (24, 22, 20, 18):
            natural, minimum = [], []
            for j in range(cols):
                nat = mini = 0.0
                for i, row in enumerate(cells):
                    m = self.book.metrics(None, i == 0)
                    text = "".join(r.text for r in row[j])
                    nat = max(nat, m.width(text, size) if m else len(text) * size * 0.5)
                    for word in text.split():
                        mini = max(mini, m.width(word, size) if m else len(word) * size * 0.5)
                natural.append(nat * EMU_PER_PT + margin_w)
                minimum.append(mini * EMU_PER_PT + margin_w)
            total = box.w
            if sum(natural) <= total:
                widths = [int(w * total / sum(natural)) for w in natural]
            else:
                spare = max(total - sum(minimum), 0)
                extra = [max(n - m, 0) for n, m in zip(natural, minimum)]
                widths = [int(m + (spare * e / sum(extra) if sum(extra) else spare / cols)) for m, e in
                          zip(minimum, extra)]
            widths[-1] += total - sum(widths)

            def row_heights(squeeze: float, tall: float = 1.0) -> list[int]:
                heights = []
                for i, row in enumerate(cells):
                    m = self.book.metrics(None, i == 0)
                    factor = (m.line if m else 1.2) * tall
                    lines = max(count_lines(runs, (widths[j] - margin_w) / EMU_PER_PT / squeeze, size, self.book,
                                            None, i == 0) for j, runs in enumerate(row))
                    heights.append(int((lines * size * factor) * EMU_PER_PT + margin_h))
                return heights

            heights, fallback = row_heights(1.0), sum(row_heights(FALLBACK_WIDTH, FALLBACK_LINE))
            tried.append((size, widths, heights, fallback, sum(heights) <= box.h))
            if fallback <= box.h:
                return size, widths, heights, fallback, True
        return next((t for t in tried if t[-1]), tried[-1])

    def _slide_references(self, index, sl: schema.Slide | None):
        entries = self.numbering.entries()
        title = (sl.title if sl and sl.title else None) or self.t.references_slide
        notes = (sl.notes if sl else None) or self.word("deck_notes_references")
        if not entries:
            if sl is not None:
                self.find("deck.references", "warning", "the deck has a references slide but cites nothing", index)
            return
        numbers = [num for num, _ in entries]
        made = [self.new_slide("references", index)]
        target, explicit = self._references_target(*made[0])
        # An explicit size keeps pagination honest on any master (the estimate needs a size).
        paras = [Para(html_runs(entry.html), bullet="autonum", size=11,
                      mar_l=self.emu(0.4) if explicit else None, indent=-self.emu(0.4) if explicit else None,
                      space_before=3) for _, entry in entries]
        pages = self._paginate(target, paras)
        at = 0
        for k, chunk in enumerate(pages):
            if k > 0:
                made.append(self.new_slide("references", index))
                target, _ = self._references_target(*made[k])
            slide, layout, all_phs, slots, approx = made[k]
            n = len(self.prs.slides)
            chunk = [replace(p, autonum=numbers[at]) for p in chunk]
            at += len(chunk)
            page_title = title if len(pages) == 1 else f"{title} ({k + 1}/{len(pages)})"
            self.put_title(slide, slots, all_phs, page_title, index, n)
            self.write(target, chunk, slide_no=n, title=page_title, role="references", index=index)
            self.finish(slide, slots, all_phs, "references", None if k else index, notes, page_title)

    def _references_target(self, slide, layout, all_phs, slots, approx) -> tuple[Target, bool]:
        target = self.target(slots.text(largest=True))
        if target is None:
            return self.textbox(slide, self.body_area(all_phs), "References"), True
        return target, approx

    def _paginate(self, target: Target, paras: list[Para]) -> list[list[Para]]:
        """Splits a list over as few boxes as it needs, then evens out the pages."""
        limit = target.box.h / EMU_PER_PT

        def greedy(cap: int) -> list[list[Para]]:
            pages: list[list[Para]] = [[]]
            for para in paras:
                page = pages[-1]
                if page and (len(page) >= cap or self.text_height(target, page + [para]) > limit):
                    pages.append([])
                pages[-1].append(para)
            return pages

        pages = greedy(len(paras))
        if len(pages) > 1:
            even = greedy(-(-len(paras) // len(pages)))
            if len(even) == len(pages):
                pages = even
        return pages

    def _slide_closing(self, index, sl: schema.Slide | None):
        from .qr import qr_png

        slide, layout, all_phs, slots, approx = self.new_slide("closing", index)
        n = len(self.prs.slides)
        info = self.practice.info
        title = (sl.title if sl and sl.title else None) or self.t.closing_title
        subtitle = (sl.subtitle if sl else None) or self.t.closing_subtitle
        title_target = self.put_title(slide, slots, all_phs, title, index, n)
        sub = slots.text(prefer="subTitle")
        if sub is not None and sub[0].type != "subTitle" and len(slots.texts()) < 2:
            slots.free.append(sub)
            sub = None
        if sub is not None:
            self.write(self.target(sub), [self.plain(subtitle)], slide_no=n, title=title, role="subtitle",
                       index=index)
        contact = self.target(slots.text(largest=True))
        qr_pair = slots.picture("qr")
        qr_caption = self.target(slots.text())
        area = self.body_area(all_phs)
        if contact is None:
            top = max(area.y, title_target.box.bottom + self.emu(0.2)) if title_target else area.y
            contact = self.textbox(slide, ad.Box(area.x, top, int(area.w * 0.62), area.bottom - top), "Contact")
        elif qr_pair is None and contact.box.w > area.w * 0.7:
            narrow = ad.Box(contact.box.x, contact.box.y, int(contact.box.w * 0.62), contact.box.h)
            ad.set_box(contact.shape, narrow)
            contact = Target(narrow, contact.shape, contact.ph)
        explicit = contact.ph is None or approx
        size = 22 if explicit else None
        paras: list[Para] = []
        if sub is None:
            paras.append(self.plain(subtitle, size=28 if explicit else None, bold=True, color="accent1"))
        if sl is not None and sl.text:
            paras.append(self.plain(sl.text, size=size))
        paras.append(self.plain(info.name, size=size, bold=True))
        paras.append(self.plain(", ".join(info.address), size=size))
        paras.append(Para([Run(f"{self.t.phone}: {info.phone}")], bullet="none", mar_l=0, indent=0, size=size))
        if info.email:
            paras.append(Para([Run(f"{self.t.email}: "), Run(info.email, link=f"mailto:{info.email}")],
                              bullet="none", mar_l=0, indent=0, size=size))
        web = self.practice.qr_url
        paras.append(Para([Run(f"{self.t.web}: "), Run(re.sub(r"^https://", "", info.website),
                                                        link=info.website)],
                          bullet="none", mar_l=0, indent=0, size=size))
        self.write(contact, paras, slide_no=n, title=title, role="contact", index=index)
        # QR code to the booking page (or website), beside the contact details.
        qr_box = qr_pair[0].box if qr_pair else None
        if qr_box is None:
            side = min(int(area.h * 0.62), int(area.w * 0.3))
            qr_box = ad.Box(area.right - side, contact.box.y, side, side)
        data = qr_png(web, dark=self.practice.theme.colors["foreground"])
        self.place_picture(slide, qr_pair, qr_box, data, alt=self.word("deck_qr_alt", url=web), name="QR Code")
        if qr_caption is None:
            qr_caption = self.textbox(slide, ad.Box(qr_box.x - self.emu(0.4), qr_box.bottom + self.emu(0.05),
                                                    qr_box.w + self.emu(0.8), self.emu(0.7)), "QR Caption")
        self.write(qr_caption, [self.plain(self.t.scan, size=14 if qr_caption.ph is None else None, align="ctr")],
                   slide_no=n, title=title, role="QR caption", index=index)
        h = int(self.H * 0.13)
        corner = ad.Box(self.W - int(self.W * 0.05) - int(self.W * 0.3), int(self.H * 0.05), int(self.W * 0.3), h)
        self.logo(slide, slots, index, corner)
        notes = (sl.notes if sl else None) or self.word("deck_notes_closing")
        self.finish(slide, slots, all_phs, "closing", index, notes, title, footer=False)

    # ----------------------------------------------------------------- properties
    def _properties(self) -> None:
        deck, info = self.deck, self.practice.info
        props = self.prs.core_properties
        stamp = dt.datetime.combine(deck.reviewed.date, dt.time())
        props.title = deck.title
        props.author = info.name
        props.last_modified_by = info.name
        props.subject = deck.description or deck.subtitle or deck.title
        props.keywords = ", ".join(deck.keywords)
        props.comments = deck.description or ""
        props.category = "Patient talk"
        props.content_status = f"Reviewed {deck.reviewed.date.isoformat()} by {deck.reviewed.by}"
        props.identifier = deck.slug
        props.language = self.lang
        props.version = ""
        props.created = props.modified = props.last_printed = stamp
        props.revision = 1
        ad.set_app_properties(self.prs, slides=len(self.prs.slides), notes=self.notes_count, company=info.name)


def _set_rgb(scheme_clr, colour: str) -> None:
    """Replaces an a:schemeClr element with an a:srgbClr of `colour` (#RRGGBB) in place."""
    rgb = etree.Element(qn("a:srgbClr"))
    rgb.set("val", colour.lstrip("#").upper())
    scheme_clr.getparent().replace(scheme_clr, rgb)


def _slide_texts(sl: schema.Slide):
    """Every prose field of a slide, in the order the renderer writes them (for citation numbers)."""
    yield sl.title or ""
    yield sl.subtitle or ""
    if sl.layout == "big_number":
        yield sl.number or ""
    yield sl.text or ""
    columns = [(None, sl.bullets)] + [(c.heading, c.bullets) for c in (sl.left, sl.right) if c is not None]
    for heading, items in columns:
        yield heading or ""
        for b in items:
            if isinstance(b, str):
                yield b
            else:
                yield b.text
                yield from b.sub
    if sl.image and sl.image.caption:
        yield sl.image.caption
    if sl.quote:
        yield sl.quote.text
    if sl.chart and sl.chart.caption:
        yield sl.chart.caption
    if sl.table:
        yield from sl.table.header
        for row in sl.table.rows:
            yield from row
        yield sl.table.caption or ""


def reset_caches() -> None:
    """Forgets the layout maps and font metrics read so far (after a template or font changed on disk)."""
    _layout_spec.cache_clear()
    _metrics.cache_clear()
