"""Handout + practice → HTML (Jinja2) → tagged PDF/UA-1 (WeasyPrint).

The HTML written next to each PDF is the same document the PDF is made from, so a
designer can open it in a browser. WeasyPrint reads files only through `SafeFetcher`,
which refuses anything outside the project folder and every network scheme.
"""
from __future__ import annotations

import datetime as dt
import functools
import html as html_lib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from markupsafe import Markup

from .. import schema
from ..citations import Bibliography, Numbering
from ..errors import BuildError, Problem
from ..i18n import long_date, messages
from ..practice import PracticeContext
from ..templating import Templates, strip_citations

TEMPLATE = "handout/handout.html.j2"
STYLESHEET = "handout/handout.css"
PDF_VARIANT = "pdf/ua-1"


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

    @property
    def suffix(self) -> str:
        return "" if self.name == "standard" else f".{self.name}"


VARIANTS = {
    "standard": Variant(),
    "large-print": Variant("large-print", columns=1, large_print=True),
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
def _font_config():
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
        return PageSetup(size, margin_top="20mm", margin_x="20mm", margin_bottom="24mm", first_top="14mm",
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


def _luminance(color: str) -> float:
    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two #rrggbb colours."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _readable_on(background: str, *candidates: str) -> str:
    """Returns the first candidate with at least 4.5:1 contrast on `background` (else the best)."""
    for c in candidates:
        if contrast(c, background) >= 4.5:
            return c
    return max(candidates, key=lambda c: contrast(c, background))


def css_variables(theme, band_dark: bool) -> dict[str, Markup]:
    """Returns the theme as CSS custom properties, every value checked (hex colours, quoted fonts)."""
    from ..practice import DEFAULT_COLORS

    c = {name: _hex(theme.colors.get(name), default) for name, default in DEFAULT_COLORS.items()}
    white, fg, bg = "#ffffff", c["foreground"], c["background"]
    heading = _hex(theme.heading_color, c["primary"])
    values = {
        "c-fg": fg, "c-bg": bg, "c-primary": c["primary"], "c-secondary": c["secondary"],
        "c-tint": c["tertiary"], "c-light": c["light"], "c-success": c["success"],
        "c-warning": c["warning"], "c-danger": c["danger"],
        "c-heading": _readable_on(bg, heading, fg),
        "c-link": _readable_on(bg, c["primary"], fg),
        "c-muted": _readable_on(bg, c["secondary"], fg),
        "c-secondary-text": _readable_on(bg, c["secondary"], fg),
        "c-rule": c["tertiary"] if contrast(c["tertiary"], bg) > 1.15 else c["secondary"],
        "c-on-primary": _readable_on(c["primary"], white, fg, "#000000"),
        "c-on-danger": _readable_on(c["danger"], white, "#000000"),
        "c-band": c["primary"] if band_dark else bg,
        "c-on-band": _readable_on(c["primary"], white, "#000000") if band_dark else _readable_on(bg, heading, fg),
        "c-band-rule": c["secondary"] if band_dark else c["primary"],
    }
    out = {k: Markup(v) for k, v in values.items()}
    fallback = '"Atkinson Hyperlegible", Arial, Helvetica, sans-serif'
    out["f-base"] = Markup(f"{css_str(theme.base_family)}, {fallback}")
    out["f-heading"] = Markup(f"{css_str(theme.heading_family)}, {fallback}")
    weight = theme.heading_weight if isinstance(theme.heading_weight, int) else 700
    out["heading-weight"] = Markup(str(weight))
    out["line-height"] = Markup(str(max(1.5, float(theme.line_height))))
    return out


# --------------------------------------------------------------------------- context
def handout_context(handout: schema.Handout, practice: PracticeContext, bib: Bibliography,
                    variant: Variant, root: Path, content_dir: Path, out_dir: Path) -> dict:
    """Returns everything the handout template receives (documented in templates/handout/README.md).

    File URLs are relative to `out_dir`, where the HTML is written next to the PDF, so the
    HTML opens in a browser from the output folder and the PDF is made from the same text.
    """
    from ..qr import qr_svg

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
        band_dark = contrast("#ffffff", primary) >= 4.5
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
                                 line_chars=80 if paper == "a4" else 84),
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
                                   url_fetcher=fetcher).render(font_config=_font_config(), pdf_variant=PDF_VARIANT)
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


def render_pdf(html: str, *, base_url: Path, root: Path, practice: PracticeContext, reviewed: dt.date,
               source_path: str) -> bytes:
    """Turns the handout HTML into a tagged PDF/UA-1 document with fixed dates.

    A refused file fails the build even where WeasyPrint swallows the error (inside SVG).
    """
    fetcher = SafeFetcher([root])
    document = layout(html, base_url=base_url, root=root, source_path=source_path, fetcher=fetcher)
    pdf = document.write_pdf(
        pdf_variant=PDF_VARIANT,
        uncompressed_pdf=False,
        custom_metadata=False,
        finisher=functools.partial(_finish_tags, t=_messages_for(root, practice, html)),
    )
    if fetcher.refused:
        raise _refused(fetcher, source_path)
    return pdf


# --------------------------------------------------------------------------- PDF/UA finishing
def _messages_for(root: Path, practice: PracticeContext, html: str):
    """Returns the message catalogue of the document's language (for link descriptions)."""
    m = re.search(r'<html lang="([a-z]{2})', html)
    language = m.group(1) if m and m.group(1) in schema.LANGUAGES else "en"
    return messages(root, language, practice.templates_dir)


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
