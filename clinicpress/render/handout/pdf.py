"""HTML → laid-out pages → tagged PDF/UA-1, and how full the pages are (the page budget)."""

from __future__ import annotations

import datetime as dt
import functools
import math
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...errors import BuildError, Problem, rel
from ...load import schema
from ...load.approvals import SignOff
from ...load.citations import Bibliography
from ...load.i18n import messages
from ...load.pictures import Pictures
from ...load.practice import PracticeContext
from ...load.script import has_installed_font
from ..templating import Templates
from .context import Passage, handout_context, required_passages
from .fetcher import SafeFetcher, font_config
from .style import inline_constants
from .variants import Variant

TEMPLATE = "handout/handout.html.j2"
STYLESHEET = "handout/handout.css"
PDF_VARIANT = "pdf/ua-1"


@dataclass(frozen=True)
class Rendered:
    """A handout's HTML and the passages its printed form must contain."""

    html: str
    required: tuple[Passage, ...]


def render_document(
    handout: schema.Handout,
    practice: PracticeContext,
    bib: Bibliography,
    variant: Variant,
    templates: Templates,
    content_dir: Path,
    out_dir: Path,
    signoff: SignOff | None = None,
    *,
    pictures: Pictures | None = None,
) -> Rendered:
    """Renders the handout's HTML (the same document the PDF is made from) and lists the passages
    the PDF must show (`required_passages`); without the practice's `signoff` of this text it
    prints as a draft."""
    args = (handout, practice, bib, variant, templates.root, content_dir, out_dir, signoff)
    ctx = handout_context(*args, pictures=pictures)
    html = templates.render(TEMPLATE, practice.templates_dir, **ctx)
    if has_installed_font(handout.language, templates.root):
        # Once more, with the script font cut to the characters this document prints: the HTML
        # differs only in the cut's font names, so it holds the same characters.
        ctx = handout_context(*args, pictures=pictures, chars=html)
        html = templates.render(TEMPLATE, practice.templates_dir, **ctx)
    return Rendered(inline_constants(html), tuple(required_passages(ctx)))


def render_html(*args, **kwargs) -> str:
    """Renders the handout's HTML (the same document the PDF is made from); arguments as `render_document`."""
    return render_document(*args, **kwargs).html


def layout(
    html: str,
    *,
    base_url: Path,
    root: Path,
    source_path: str = "handout",
    fetcher: SafeFetcher | None = None,
    practice: PracticeContext | None = None,
):
    """Lays out the handout HTML into pages (a WeasyPrint Document); files only from `root`.

    No element of the tree WeasyPrint parsed may carry `rel="attachment"` (`_refuse_attachments`).
    """
    import weasyprint

    from ...load import hyphenation

    hyphenation.install()  # pyphen's dictionaries from the data cache
    fetcher = fetcher or SafeFetcher([root])
    base = str(base_url.resolve()) + os.sep
    try:
        body, sheets = _parsed_styles(html, base, fetcher)
        parsed = weasyprint.HTML(string=body, base_url=base, url_fetcher=fetcher)
        _refuse_attachments(parsed, source_path, practice)
        document = parsed.render(font_config=font_config(), pdf_variant=PDF_VARIANT, stylesheets=sheets)
    except BaseException as exc:  # FatalURLFetchingError derives from BaseException
        if isinstance(exc, (KeyboardInterrupt, SystemExit, BuildError)):
            raise
        if fetcher.refused:
            raise _refused(fetcher, source_path) from None
        raise
    return document


def _refuse_attachments(parsed: Any, source_path: str, practice: PracticeContext | None) -> None:
    """Refuses `rel="attachment"` on any element of the tree WeasyPrint itself parsed.

    WeasyPrint embeds the file such a `<link>` or `<a>` names in the PDF. The check runs on
    the renderer's own tree (its HTML5 parser, after templating), so markup that another
    parser would read as a comment or as text cannot hide a link the renderer acts on.
    """
    from weasyprint.html import element_has_link_type

    for element in parsed.etree_element.iter():
        if isinstance(element.tag, str) and element_has_link_type(element, "attachment"):
            tag = element.tag.rpartition("}")[2]
            raise BuildError(
                Problem(
                    source_path,
                    message=f'a <{tag} rel="attachment" href={element.get("href", "")[:80]!r}> would embed a '
                    "file in the PDF; not allowed",
                    hint=f'remove the rel="attachment" link from {_overrides(practice)} (look for it in markup '
                    "another HTML parser might read as a comment or as text, and in values a template builds)",
                )
            )


_STYLE_RE = re.compile(r"<style>(.*?)</style>", re.S)
_OTHER_STYLES_RE = re.compile(r"<link\b|<style\s", re.I)
_SHEETS: dict[tuple[str, str], Any] = {}
"""Parsed stylesheets by (CSS text, base URL): one per practice and variant, kept warm."""


def _parsed_styles(html: str, base: str, fetcher: SafeFetcher) -> tuple[str, list | None]:
    """The document without its <style> text, and that text as a stylesheet parsed once.

    WeasyPrint parses a document's <style> for every document; the handouts of one practice
    and variant share theirs, so it is parsed once and handed over as the one stylesheet of
    the document (all rules stay in one origin and in source order; inline `style` attributes
    still win, as they did). A document with a <link> or a <style> with attributes (media,
    type) is printed as it is.
    """
    import weasyprint

    blocks = _STYLE_RE.findall(html)
    if not blocks or _OTHER_STYLES_RE.search(html):
        return html, None
    css = "\n".join(blocks)
    key = (css, base)
    sheet = _SHEETS.get(key)
    if sheet is None:
        if len(_SHEETS) >= 32:
            _SHEETS.clear()
        sheet = _SHEETS[key] = weasyprint.CSS(
            string=css, base_url=base, url_fetcher=fetcher, font_config=font_config(), media_type="print"
        )
    return _STYLE_RE.sub("<style></style>", html), [sheet]


def reset_sheets() -> None:
    """Forgets the parsed stylesheets (after a font or stylesheet changed on disk)."""
    _SHEETS.clear()


def _refused(fetcher: SafeFetcher, source_path: str) -> BuildError:
    """The error for a refused resource, at the template or stylesheet line that asked for it (when found)."""
    found = fetcher.origin()
    path, line = (rel(found[0], fetcher.roots[0]), found[1]) if found else (source_path, None)
    return BuildError(
        Problem(
            path,
            line,
            message=f"a resource was refused while printing {source_path}: {fetcher.refused[0]}",
            hint="images, fonts and styles must be files inside the project",
        )
    )


@dataclass(frozen=True)
class Printed:
    """A rendered handout: the PDF and how its text sits on the pages."""

    pdf: bytes
    pages: int
    last_page_lines: float
    """How much text the last page holds, in lines of body text (its height / body line height)."""
    page_lines: float
    """How many lines of body text a full page holds."""


def print_handout(
    html: str,
    *,
    base_url: Path,
    root: Path,
    practice: PracticeContext,
    reviewed: dt.date,
    source_path: str,
    language: str = "en",
    required: tuple[Passage, ...] | list[Passage] = (),
) -> Printed:
    """Lays out and writes the handout as a tagged PDF/UA-1 document with fixed dates.

    A refused file fails the build even where WeasyPrint swallows the error (inside SVG).
    The finished PDF is read back (`verify_pdf`): no embedded files, and every `required`
    passage in its text.
    """
    from .tags import finish_tags, tag_languages  # uses pydyf, which comes with WeasyPrint

    tag_languages()
    fetcher = SafeFetcher([root], sources=[practice.templates_dir, root / "templates"])
    document = layout(html, base_url=base_url, root=root, source_path=source_path, fetcher=fetcher, practice=practice)
    pdf = document.write_pdf(
        pdf_variant=PDF_VARIANT,
        uncompressed_pdf=False,
        custom_metadata=False,
        finisher=functools.partial(finish_tags, t=messages(root, language, practice.templates_dir)),
    )
    if fetcher.refused:
        raise _refused(fetcher, source_path)
    verify_pdf(pdf, source_path, required, practice)
    return Printed(pdf, len(document.pages), *_text_lines(document.pages[-1]))


_SQUASH_RE = re.compile(r"[\s\u00ad\ufffe\u2010\u2011\-]+")
_LAM_ALEF = str.maketrans("", "", "\u0644\u0622\u0623\u0625\u0627")


def _squash(text: str) -> str:
    """Text without white space or hyphens, case-folded: line breaks and hyphenation do not matter.

    Also without punctuation, marks and format characters, and without the Arabic letters lam and
    alef: PDF readers rebuild right-to-left text from the drawn order and put a sentence's final
    stop, brackets, vowel marks and the two letters of a lam-alef ligature in other places than
    the text has them, while every other letter keeps its order.
    """
    kept = "".join(ch for ch in _SQUASH_RE.sub("", text) if unicodedata.category(ch)[0] not in "PMC")
    return kept.translate(_LAM_ALEF).casefold()


def contains_passage(page_text: str, passage: str) -> bool:
    """Whether a PDF's extracted text holds `passage`, in spite of line breaks, hyphenation and
    what readers do to right-to-left text (the comparison `verify_pdf` makes)."""
    return _printed(passage, _squash(page_text))


_WORDS_RE = re.compile(r"[\s\-\u2010\u2011]+")


def _printed(text: str, printed: str) -> bool:
    """Whether `text` is in the squashed `printed` text. A passage with right-to-left letters is
    looked for word by word: pdfium gives the words of a left-to-right run inside a right-to-left
    line (a practice's name in an Arabic sentence) in reverse order, the parts of a hyphenated
    name ("Fernández-Ortega") too."""
    if _squash(text) in printed:
        return True
    if not any(unicodedata.bidirectional(ch) in ("R", "AL") for ch in text):
        return False
    return all(_squash(word) in printed for word in _WORDS_RE.split(text) if word)


def verify_pdf(pdf: bytes, source_path: str, required, practice: PracticeContext, *, one_handout: bool = True) -> None:
    """Reads the finished PDF back (pypdfium2): refuses embedded files and file-attachment
    annotations, and a missing required passage (naming it and the overrides that may have
    removed it); in `one_handout`, also a page without an `every_page` passage (a packet's cover
    and its several handouts are checked as a whole). One pass; a few milliseconds a handout."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    problems: list[Problem] = []
    pages: list[str] = []  # each page's text, squashed (`_squash` works letter by letter: they join to the whole)
    doc = pdfium.PdfDocument(pdf)
    try:
        if doc.count_attachments():
            problems.append(Problem(source_path, message="the PDF would carry embedded files; not written"))
        for index in range(len(doc)):
            page = doc[index]
            try:
                for i in range(pdfium_c.FPDFPage_GetAnnotCount(page.raw)):
                    annot = pdfium_c.FPDFPage_GetAnnot(page.raw, i)
                    subtype = pdfium_c.FPDFAnnot_GetSubtype(annot)
                    pdfium_c.FPDFPage_CloseAnnot(annot)
                    if subtype == pdfium_c.FPDF_ANNOT_FILEATTACHMENT:
                        problems.append(
                            Problem(source_path, message=f"page {index + 1} of the PDF would carry a file attachment")
                        )
                if required:
                    textpage = page.get_textpage()
                    pages.append(_squash(textpage.get_text_range()))
                    textpage.close()
            finally:
                page.close()
    finally:
        doc.close()
    printed = "".join(pages)
    for passage in required:
        if not _printed(passage.text, printed):
            problems.append(
                Problem(
                    source_path,
                    message=f"the printed handout has no {passage.name} ({_short(passage.text)!r})",
                    hint=f"{_overrides(practice)} probably removed or hid it; every handout must print it",
                )
            )
        elif passage.every_page and one_handout:
            missing = next((n for n, page_text in enumerate(pages, 1) if not _printed(passage.text, page_text)), None)
            if missing is not None:
                problems.append(
                    Problem(
                        source_path,
                        message=f"page {missing} of the printed handout has no {passage.name} "
                        f"({_short(passage.text)!r})",
                        hint=f"every page prints it, in the footer until the disclaimer's page; {_overrides(practice)} "
                        "probably dropped it from the footer (a replaced `running` block keeps the `.rf-strings` "
                        "element, templates/handout/README.md)",
                    )
                )
    if problems:
        raise BuildError(problems)


def _short(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."


def _overrides(practice: PracticeContext | None) -> str:
    """The practice's handout template and stylesheet overrides (what can change what prints)."""
    folder = practice.templates_dir / "handout" if practice and practice.templates_dir else None
    found = sorted(p for p in folder.iterdir() if p.is_file()) if folder and folder.is_dir() else []
    if not found:
        return "the handout template (templates/handout/handout.html.j2)"
    assert practice is not None
    names = ", ".join(f"practices/{practice.slug}/templates/handout/{p.name}" for p in found)
    return f"the practice's override ({names})"


def page_budget(printed: Printed, variant: Variant, practice: PracticeContext, source_path: str) -> list:
    """A `handout.pages` warning when the handout prints on more pages than its variant allows."""
    from ...errors import Finding

    if printed.pages <= variant.max_pages:
        return []
    over = math.ceil((printed.pages - variant.max_pages - 1) * printed.page_lines + printed.last_page_lines)
    return [
        Finding(
            "handout.pages",
            "warning",
            f"prints on {printed.pages} pages for {practice.slug} ({variant.name}); the budget is "
            f"{variant.max_pages}: about {over} lines of body text too many",
            source_path,
            hint="shorten the sections, boxes or glossary; boxes and the contact block move as a whole, "
            "so a little less may do",
            data={"pages": printed.pages, "max_pages": variant.max_pages, "lines_over": over},
        )
    ]


def _text_lines(page: Any) -> tuple[float, float]:
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
