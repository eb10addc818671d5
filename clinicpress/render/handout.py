"""Handout + practice → HTML (Jinja2) → tagged PDF/UA-1 (WeasyPrint).

The HTML written next to each PDF is the same document the PDF is made from, so a
designer can open it in a browser. WeasyPrint reads files only through `SafeFetcher`,
which refuses anything outside the project folder and every network scheme.
"""
from __future__ import annotations

import datetime as dt
import functools
import html as html_lib
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from markupsafe import Markup

from ..load import schema
from ..load.citations import Bibliography, Numbering
from ..load.colour import TEXT_MIN, WHITE, Inks, contrast
from ..errors import BuildError, Problem
from ..load.i18n import long_date, messages
from ..load.practice import PracticeContext
from .templating import Templates, strip_citations

TEMPLATE = "handout/handout.html.j2"
STYLESHEET = "handout/handout.css"
PDF_VARIANT = "pdf/ua-1"
MIN_BODY_PT = 12.0
"""Smallest body text size of a handout (standards: at least 12 pt)."""


@dataclass(frozen=True)
class Variant:
    """Print options for one handout build."""

    name: str = "standard"
    """standard, large-print or print-shop; becomes part of the output file name."""
    paper: str | None = None
    """letter or a4; None means the practice's setting."""
    columns: int | None = None
    """1 or 2; None means the practice's setting (large print is always 1)."""
    large_print: bool = False
    bleed: bool = False
    max_pages: int = 2
    """Page budget: more pages than this is a `handout.pages` warning. A handout is one sheet
    printed on both sides; large print (18 pt type, wider margins) fits about 60% as many lines
    on a page, each holding two thirds of the words, so it gets three sheets."""

    @property
    def suffix(self) -> str:
        return "" if self.name == "standard" else f".{self.name}"


VARIANTS = {
    "standard": Variant(),
    "large-print": Variant("large-print", columns=1, large_print=True, max_pages=6),
    "print-shop": Variant("print-shop", bleed=True),
}


class SafeFetcher:
    """URL fetcher that reads only files under the allowed roots; no network, no data: URLs."""

    def __init__(self, roots: list[Path]):
        import weasyprint.urls

        self._urls = weasyprint.urls
        self.roots = [r.resolve() for r in roots]
        self.refused: list[str] = []

    def __call__(self, url: str, headers=None):
        return self.fetch(url, headers)

    def fetch(self, url: str, headers=None):
        urls = self._urls
        parsed = urlparse(url)
        if parsed.scheme != "file":
            return self._refuse(url, f"scheme {parsed.scheme or '(none)'}: is not allowed")
        path = Path(unquote(parsed.path))
        try:
            real = path.resolve(strict=True)
        except (OSError, RuntimeError):
            return self._refuse(url, "file not found")
        if not any(real.is_relative_to(root) for root in self.roots):
            return self._refuse(url, "file is outside the project folder")
        if not real.is_file():
            return self._refuse(url, "not a regular file")
        return urls.URLFetcherResponse(real.as_uri(), body=real.read_bytes(), headers={})

    def _refuse(self, url: str, why: str):
        self.refused.append(f"{url[:120]} ({why})")
        raise self._urls.FatalURLFetchingError(f"refused {url[:120]}: {why}")


@functools.cache
def font_config():
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


# --------------------------------------------------------------------------- page geometry
@dataclass(frozen=True)
class PageSetup:
    """Paper, margins and footer size of one variant (used by the @page rules and the band)."""

    size: str
    margin_top: str
    margin_x: str
    margin_bottom: str
    first_top: str
    footer_size: str
    footer_gap: str = "2.5mm"
    bleed: str = "3mm"


def page_setup(paper: str, variant: Variant) -> PageSetup:
    """Returns the page geometry for a paper size and variant (large print: wider margins)."""
    size = "A4" if paper == "a4" else "letter"
    if variant.large_print:
        return PageSetup(size, margin_top="20mm", margin_x="20mm", margin_bottom="34mm", first_top="14mm",
                         footer_size="12pt", footer_gap="3mm")
    return PageSetup(size, margin_top="11mm", margin_x="13mm", margin_bottom="17mm", first_top="11mm",
                     footer_size="8.5pt")


# --------------------------------------------------------------------------- CSS values
_HEX_RE = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")


def css_str(text: str) -> Markup:
    """Returns `text` as a quoted CSS string, safe inside a <style> element."""
    out = []
    for ch in str(text):
        if ch in '"\\<>&\'' or ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\{ord(ch):x} ")
        else:
            out.append(ch)
    return Markup('"' + "".join(out) + '"')


def css_counter_content(template: str) -> Markup:
    """Turns a catalogue text like "Page {page} of {pages}" into a CSS `content` value."""
    parts = []
    for piece in re.split(r"(\{page\}|\{pages\})", template):
        if piece == "{page}":
            parts.append("counter(page)")
        elif piece == "{pages}":
            parts.append("counter(pages)")
        elif piece:
            parts.append(css_str(piece))
    return Markup(" ".join(parts) or '""')


def _hex(value: str | None, fallback: str) -> str:
    if isinstance(value, str) and _HEX_RE.match(value):
        if len(value) == 4:
            value = "#" + "".join(c * 2 for c in value[1:])
        return value.lower()
    return fallback


TEXT_SURFACES = {
    "c-heading": ("background", "tertiary"),           # headings; main-message label, action box on the tint
    "c-link": ("background", "tertiary", "light"),      # links anywhere
    "c-muted": ("background", "tertiary", "light"),     # footer, captions, citation numbers, review line
    "c-secondary-text": ("background",),                # questions box heading
    "c-danger": ("background", "light"),                # help box, call line; emergency line in the disclaimer
}
"""The page surfaces each text colour variable of handout.css is printed on."""


def css_variables(theme, band_dark: bool) -> dict[str, Markup]:
    """Returns the theme as CSS custom properties, every value checked (hex colours, quoted fonts).

    Text colours come from `clinicpress.load.colour.Inks`, the rule the deck and the contrast check
    share: a brand colour is printed as text only where it reaches 4.5:1, else a readable
    substitute; tints are lightened until body text is readable on them.
    """
    from ..load.practice import DEFAULT_COLORS

    c = {name: _hex(theme.colors.get(name), default) for name, default in DEFAULT_COLORS.items()}
    heading = _hex(theme.heading_color, c["primary"])
    inks = Inks(c, heading)
    on = TEXT_SURFACES
    danger = inks.text("danger", on=on["c-danger"])  # also the emergency band and the help box's border
    on_primary = inks.text("background", on="primary")
    values = {
        "c-fg": c["foreground"], "c-bg": c["background"], "c-primary": c["primary"], "c-secondary": c["secondary"],
        "c-tint": inks.surfaces["tertiary"], "c-light": inks.surfaces["light"], "c-success": c["success"],
        "c-warning": c["warning"], "c-danger": danger,
        "c-heading": inks.text("heading", on=on["c-heading"]),
        "c-link": inks.text("primary", on=on["c-link"]),
        "c-muted": inks.text("secondary", on=on["c-muted"]),
        "c-secondary-text": inks.text("secondary", on=on["c-secondary-text"]),
        "c-rule": c["tertiary"] if contrast(c["tertiary"], c["background"]) > 1.15 else c["secondary"],
        "c-on-primary": on_primary,
        "c-on-danger": inks.text("background", on=danger),
        "c-band": c["primary"] if band_dark else c["background"],
        "c-on-band": on_primary if band_dark else inks.text("heading", on="background"),
        "c-band-rule": c["secondary"] if band_dark else c["primary"],
    }
    out = {k: Markup(v.lower()) for k, v in values.items()}
    fallback = '"Atkinson Hyperlegible", Arial, Helvetica, sans-serif'
    out["f-base"] = Markup(f"{css_str(theme.base_family)}, {fallback}")
    out["f-heading"] = Markup(f"{css_str(theme.heading_family)}, {fallback}")
    weight = theme.heading_weight if isinstance(theme.heading_weight, int) else 700
    out["heading-weight"] = Markup(str(weight))
    out["line-height"] = Markup(str(max(1.5, float(theme.line_height))))
    out["base-size"] = Markup(f"{base_size_pt(theme):g}pt")
    return out


def base_size_pt(theme) -> float:
    """Body text size of the standard handout: the brand's `typography.base.size`, at least 12 pt
    (the large-print variant sets its own 18 pt in the stylesheet)."""
    try:
        size = float(getattr(theme, "base_size_pt", MIN_BODY_PT))
    except (TypeError, ValueError):
        size = MIN_BODY_PT
    return max(MIN_BODY_PT, size) if size == size else MIN_BODY_PT  # NaN → the minimum


# --------------------------------------------------------------------------- context
def handout_context(handout: schema.Handout, practice: PracticeContext, bib: Bibliography,
                    variant: Variant, root: Path, content_dir: Path, out_dir: Path) -> dict:
    """Returns everything the handout template receives (documented in templates/handout/README.md).

    File URLs are relative to `out_dir`, where the HTML is written next to the PDF, so the
    HTML opens in a browser from the output folder and the PDF is made from the same text.
    """
    from .qr import qr_svg

    def url(path: Path) -> str:
        return Path(os.path.relpath(path.resolve(), out_dir.resolve())).as_posix()

    info = practice.info
    t = messages(root, handout.language, practice.templates_dir)
    reviewer = info.reviewer or handout.reviewed.by
    paper = variant.paper or info.paper
    columns = 1 if variant.large_print else (variant.columns or info.columns)
    logo = _logo(practice, url)
    band_dark = logo is None or logo["dark_uri"] is not None
    if band_dark:
        primary = _hex(practice.theme.colors.get("primary"), "#1d4e89")
        band_dark = contrast(WHITE, primary) >= TEXT_MIN
    if logo is not None:
        logo["band_uri"] = logo["dark_uri"] if band_dark and logo["dark_uri"] else logo["uri"]
    qr_label = practice.qr_url.removeprefix("https://").rstrip("/")
    classes = [f"paper-{paper}", f"cols-{columns}", f"variant-{variant.name}",
               "band-dark" if band_dark else "band-light"]
    if variant.large_print:
        classes.append("large-print")
    notices = []
    if info.notices:
        for text in (info.notices.language_assistance, info.notices.nondiscrimination):
            notices.extend(p.strip() for p in (text or "").split("\n") if p.strip())

    return {
        "handout": handout,
        "practice": info,
        "theme": practice.theme,
        "logo": logo,
        "t": t,
        "lang": handout.language,
        "locale": f"{handout.language}-{info.country}",
        "numbering": Numbering(bib),
        "reviewed_line": t.fmt("last_reviewed", date=long_date(handout.reviewed.date, handout.language, info.country),
                               name=reviewer),
        "reviewed_iso": handout.reviewed.date.isoformat(),
        "emergency_line": t.fmt("emergency", number=info.emergency_number),
        "qr_svg": qr_svg(practice.qr_url, dark=_hex(practice.theme.colors.get("foreground"), "#000000"),
                         title=t.fmt("qr_alt", url=qr_label)),
        "qr_url": practice.qr_url,
        "qr_label": qr_label,
        "paper": paper,
        "columns": columns,
        "variant": variant,
        "page": page_setup(paper, variant),
        "page_counter": css_counter_content(t.page_x_of_y),
        "html_classes": " ".join(classes),
        "css_vars": css_variables(practice.theme, band_dark),
        "css_str": css_str,
        "notices": notices,
        "section_groups": section_groups(handout.sections),
        "box_columns": box_split(handout.actions, handout.questions, t.what_you_can_do, t.questions,
                                 line_chars=round((80 if paper == "a4" else 84) * MIN_BODY_PT
                                                  / base_size_pt(practice.theme))),
        "figure_uri": lambda src: url(content_dir / src),
        "font_faces": [
            {"family": f.family, "uri": url(f.path), "weight": _font_weight(f.weight),
             "style": f.style if f.style in ("normal", "italic", "oblique") else "normal"}
            for f in practice.theme.fonts
        ],
        "default_fonts_uri": url(root / "templates" / "handout" / "fonts"),
    }


def section_groups(sections) -> list[dict]:
    """Splits sections into runs: sections with a table are "wide" (full width in two columns)."""
    groups: list[dict] = []
    for section in sections:
        wide = section.table is not None
        if not groups or groups[-1]["wide"] != wide:
            groups.append({"wide": wide, "sections": []})
        groups[-1]["sections"].append(section)
    return groups


def box_split(left: list[str], right: list[str], left_title: str, right_title: str, *,
              line_chars: int = 84) -> str:
    """Returns grid columns ("1.1fr 0.9fr") that give two side-by-side boxes about equal height.

    `line_chars` is about how many characters of 12 pt text fit across both boxes; each
    split is scored by the estimated number of lines of the taller box.
    """
    def lines(items: list[str], title: str, chars: float) -> int:
        body = sum(-(-len(strip_citations(i)) // max(8, int(chars - 4))) for i in items)
        return body + -(-int(len(title) * 1.2) // max(8, int(chars)))

    best, best_share = None, 0.5
    for share in [x / 100 for x in range(38, 63)]:
        score = max(lines(left, left_title, line_chars * share), lines(right, right_title, line_chars * (1 - share)))
        if best is None or score < best or (score == best and abs(share - 0.5) < abs(best_share - 0.5)):
            best, best_share = score, share
    return f"{best_share:.2f}fr {1 - best_share:.2f}fr"


def _font_weight(value) -> str:
    if isinstance(value, int) and 1 <= value <= 1000:
        return str(value)
    return "normal"


def _logo(practice: PracticeContext, url) -> dict | None:
    logo = practice.theme.logo("medium", "large")
    if logo is None:
        return None
    return {"uri": url(logo.light), "dark_uri": url(logo.dark) if logo.dark else None,
            "alt": logo.alt or f"{practice.info.name} logo"}


def render_html(handout: schema.Handout, practice: PracticeContext, bib: Bibliography, variant: Variant,
                templates: Templates, content_dir: Path, out_dir: Path) -> str:
    """Renders the handout's HTML (the same document the PDF is made from)."""
    ctx = handout_context(handout, practice, bib, variant, templates.root, content_dir, out_dir)
    return templates.render(TEMPLATE, practice.templates_dir, **ctx)


def layout(html: str, *, base_url: Path, root: Path, source_path: str = "handout",
           fetcher: SafeFetcher | None = None):
    """Lays out the handout HTML into pages (a WeasyPrint Document); files only from `root`."""
    import weasyprint

    fetcher = fetcher or SafeFetcher([root])
    try:
        document = weasyprint.HTML(string=html, base_url=str(base_url.resolve()) + os.sep,
                                   url_fetcher=fetcher).render(font_config=font_config(), pdf_variant=PDF_VARIANT)
    except BaseException as exc:  # FatalURLFetchingError derives from BaseException
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        if fetcher.refused:
            raise _refused(fetcher, source_path) from None
        raise
    return document


def _refused(fetcher: SafeFetcher, source_path: str) -> BuildError:
    return BuildError(Problem(source_path, message=f"a resource was refused: {fetcher.refused[0]}",
                              hint="images, fonts and styles must be files inside the project"))


@dataclass(frozen=True)
class Printed:
    """A rendered handout: the PDF and how its text sits on the pages."""

    pdf: bytes
    pages: int
    last_page_lines: float
    """How much text the last page holds, in lines of body text (its height / body line height)."""
    page_lines: float
    """How many lines of body text a full page holds."""


def print_handout(html: str, *, base_url: Path, root: Path, practice: PracticeContext, reviewed: dt.date,
                  source_path: str, language: str = "en") -> Printed:
    """Lays out and writes the handout as a tagged PDF/UA-1 document with fixed dates.

    A refused file fails the build even where WeasyPrint swallows the error (inside SVG).
    """
    fetcher = SafeFetcher([root])
    document = layout(html, base_url=base_url, root=root, source_path=source_path, fetcher=fetcher)
    pdf = document.write_pdf(
        pdf_variant=PDF_VARIANT,
        uncompressed_pdf=False,
        custom_metadata=False,
        finisher=functools.partial(_finish_tags, t=messages(root, language, practice.templates_dir)),
    )
    if fetcher.refused:
        raise _refused(fetcher, source_path)
    return Printed(pdf, len(document.pages), *_text_lines(document.pages[-1]))


def page_budget(printed: Printed, variant: Variant, practice: PracticeContext, source_path: str) -> list:
    """A `handout.pages` warning when the handout prints on more pages than its variant allows."""
    from ..errors import Finding

    if printed.pages <= variant.max_pages:
        return []
    over = math.ceil((printed.pages - variant.max_pages - 1) * printed.page_lines + printed.last_page_lines)
    return [Finding(
        "handout.pages", "warning",
        f"prints on {printed.pages} pages for {practice.slug} ({variant.name}); the budget is "
        f"{variant.max_pages}: about {over} lines of body text too many",
        source_path,
        hint="shorten the sections, boxes or glossary; boxes and the contact block move as a whole, "
             "so a little less may do",
        data={"pages": printed.pages, "max_pages": variant.max_pages, "lines_over": over},
    )]


def _text_lines(page) -> tuple[float, float]:
    """Height of the flowing content on a page and of the page's content area, in lines of body text."""
    box = page._page_box
    html_box = box.children[0] if box.children else None  # margin boxes come after the root box
    if html_box is None or type(html_box).__name__ == "MarginBox":
        return 0.0, 0.0
    top = box.content_box_y()
    bottom = top
    stack = [html_box]
    while stack:
        b = stack.pop()
        children = getattr(b, "children", None)
        if children and type(b).__name__ != "LineBox":  # a line's height is the line's, not its glyphs'
            stack.extend(children)
        elif hasattr(b, "margin_height"):
            bottom = max(bottom, b.position_y + b.margin_height())
    line = html_box.style["font_size"] * _line_height(html_box.style)
    if not line:
        return 0.0, 0.0
    return round((bottom - top) / line, 1), round(box.height / line, 1)


def _line_height(style) -> float:
    value = style["line_height"]
    if isinstance(value, (int, float)):
        return float(value)
    if getattr(value, "unit", None) == "px":
        return value.value / style["font_size"]
    return 1.2  # "normal"


# --------------------------------------------------------------------------- PDF/UA finishing
def _finish_tags(document, pdf, *, t=None) -> None:
    """Completes WeasyPrint's tagging for PDF/UA-1 before the file is written.

    - Content of page-margin boxes (the running footer and page numbers) is tagged by
      WeasyPrint but left out of the structure tree; it becomes /Artifact (pagination).
    - Figures without alternative text (decorative images) become artifacts too.
    - Header cells get a /Scope (Column in the table head, Row in the body).
    - Pages with links get /Tabs /S; citation links get a readable /Contents.
    """
    import pydyf

    objects = pdf.objects

    def deref(value):
        if isinstance(value, (bytes, str)):
            m = re.fullmatch(rb"(\d+) 0 R", value if isinstance(value, bytes) else value.encode())
            if m:
                return objects[int(m.group(1))]
        return value

    def number(value) -> int | None:
        obj = deref(value)
        return getattr(obj, "number", None)

    catalog = pdf.catalog
    if "StructTreeRoot" not in catalog:
        return
    tree = deref(catalog["StructTreeRoot"])

    # Decorative figures: drop them from their parents so they become artifacts below.
    for obj in objects:
        if isinstance(obj, pydyf.Dictionary) and obj.get("S") == "/Figure" and "Alt" not in obj:
            parent = deref(obj.get("P"))
            if isinstance(parent, pydyf.Dictionary) and "K" in parent:
                ref = obj.reference
                parent["K"] = pydyf.Array([k for k in parent["K"] if k != ref])

    # Structure elements reachable from the root.
    reachable: set[int] = set()
    stack = [tree]
    while stack:
        node = stack.pop()
        kids = node.get("K") if isinstance(node, pydyf.Dictionary) else None
        if kids is None:
            continue
        for kid in (kids if isinstance(kids, list) else [kids]):
            child = deref(kid)
            if isinstance(child, pydyf.Dictionary) and child.number not in reachable:
                reachable.add(child.number)
                stack.append(child)

    # Header cells: /Scope from their row group.
    for obj in objects:
        if isinstance(obj, pydyf.Dictionary) and obj.get("S") == "/TH" and obj.number in reachable:
            group = deref(deref(obj.get("P")).get("P"))
            scope = "/Row" if isinstance(group, pydyf.Dictionary) and group.get("S") == "/TBody" else "/Column"
            attributes = obj.get("A")
            if isinstance(attributes, pydyf.Dictionary):
                attributes["Scope"] = scope

    # Marked content of unreachable elements → artifacts, page by page.
    nums = deref(tree["ParentTree"])["Nums"]
    kids = pdf.pages["Kids"]
    page_objects = [objects[kids[i]] for i in range(0, len(kids), 3)]
    for index, page in enumerate(page_objects):
        mcid_refs = nums[2 * index + 1]
        orphans = {mcid for mcid, ref in enumerate(mcid_refs) if number(ref) not in reachable}
        if orphans:
            stream = deref(page["Contents"])
            ops = stream.stream
            done = set()
            for i, op in enumerate(ops):
                if (isinstance(op, pydyf.Dictionary) and op.get("MCID") in orphans and i >= 1 and i + 1 < len(ops)
                        and ops[i + 1] == b"BDC"):
                    ops[i - 1] = "/Artifact"
                    ops[i] = pydyf.Dictionary({"Type": "/Pagination", "Subtype": "/Footer"})
                    done.add(op["MCID"])
            for mcid in done:
                mcid_refs[mcid] = "null"
        annots = page.get("Annots")
        if annots:
            page["Tabs"] = "/S"
            for ref in annots:
                annot = deref(ref)
                contents = annot.get("Contents") if isinstance(annot, pydyf.Dictionary) else None
                if contents is not None and "Dest" in annot:
                    m = re.fullmatch(r"ref-(\d+)", str(getattr(contents, "string", "")))
                    if m and t is not None:
                        annot["Contents"] = pydyf.String(t.fmt("reference_link", n=m.group(1)))


def escape(text: str) -> str:
    return html_lib.escape(text, quote=True)
