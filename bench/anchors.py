"""Anchors for the benchmark: the same text printed by plain tools, in the same process and run.

Each shipped handout's text is taken from our own HTML (every heading, paragraph, list item,
table cell, reference and footer line, in order) and printed three ways:

- plain WeasyPrint: the text as bare HTML (h1/h2/p/ul, no stylesheet) → WeasyPrint, warm;
- Pandoc + WeasyPrint: Pandoc's standalone HTML5 of that bare HTML (its default stylesheet),
  then the same warm WeasyPrint; Pandoc's own time (a subprocess) is counted;
- Typst: the `typst` Python package compiling the same blocks as Typst markup (text as Typst
  strings, so nothing in it is read as markup).

Our figure is the warm render of the same handout (HTML + PDF, as a worker does it).
"""

from __future__ import annotations

import html as htmllib
import shutil
import subprocess
import time
from html.parser import HTMLParser

BLOCKS = {"h1", "h2", "h3", "p", "li", "caption", "th", "td", "figcaption"}
SKIP = {"style", "script", "title", "svg"}


class _Blocks(HTMLParser):
    """Collects (tag, text) for each block of visible text, in document order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[tuple[str, str]] = []
        self._stack: list[str] = []
        self._text: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in SKIP:
            self._skip += 1
        elif tag in BLOCKS:
            self._flush()
            self._stack.append(tag)

    def handle_endtag(self, tag):
        if tag in SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag in BLOCKS and self._stack:
            self._flush()
            self._stack.pop()

    def handle_data(self, data):
        if not self._skip and self._stack:
            self._text.append(data)

    def _flush(self) -> None:
        text = " ".join("".join(self._text).split())
        if text and self._stack:
            self.blocks.append((self._stack[-1], text))
        self._text = []


def text_blocks(html: str) -> list[tuple[str, str]]:
    parser = _Blocks()
    parser.feed(html)
    parser.close()
    return parser.blocks


def plain_html(blocks: list[tuple[str, str]], lang: str = "en") -> str:
    """Bare HTML of the blocks: headings, paragraphs and one list per run of items; no CSS."""
    out = [f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>anchor</title></head><body>']
    in_list = False
    for tag, text in blocks:
        item = tag in {"li", "th", "td"}
        if item and not in_list:
            out.append("<ul>")
        elif not item and in_list:
            out.append("</ul>")
        in_list = item
        esc = htmllib.escape(text)
        out.append(
            f"<li>{esc}</li>"
            if item
            else f"<{tag if tag in {'h1', 'h2', 'h3'} else 'p'}>{esc}</{tag if tag in {'h1', 'h2', 'h3'} else 'p'}>"
        )
    if in_list:
        out.append("</ul>")
    out.append("</body></html>")
    return "\n".join(out)


def typst_source(blocks: list[tuple[str, str]], paper: str = "us-letter") -> str:
    """The blocks as Typst markup; every text is a Typst string literal."""

    def lit(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    out = [f'#set page(paper: "{paper}")', "#set text(size: 12pt)", ""]
    for tag, text in blocks:
        if tag == "h1":
            out.append(f"#heading(level: 1, {lit(text)})")
        elif tag in {"h2", "h3"}:
            out.append(f"#heading(level: 2, {lit(text)})")
        elif tag in {"li", "th", "td"}:
            out.append(f"- #{lit(text)}")
        else:
            out.append(f"#{lit(text)}")
        out.append("")
    return "\n".join(out)


def _pdf_pages(pdf: bytes) -> int:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf)
    try:
        return len(doc)
    finally:
        doc.close()


def weasyprint_seconds(html: str) -> tuple[float, int]:
    import weasyprint

    t = time.perf_counter()
    pdf = weasyprint.HTML(string=html).write_pdf()
    return time.perf_counter() - t, _pdf_pages(pdf)


def pandoc_weasyprint_seconds(html: str) -> tuple[float, int] | None:
    pandoc = shutil.which("pandoc")
    if pandoc is None:
        return None
    import weasyprint

    t = time.perf_counter()
    proc = subprocess.run(
        [pandoc, "-f", "html", "-t", "html5", "-s", "--metadata", "title=anchor"],
        input=html,
        capture_output=True,
        text=True,
        check=True,
    )
    pdf = weasyprint.HTML(string=proc.stdout).write_pdf()
    return time.perf_counter() - t, _pdf_pages(pdf)


def typst_seconds(source: str) -> tuple[float, int] | None:
    try:
        import typst
    except ImportError:
        return None
    t = time.perf_counter()
    pdf = typst.compile(source.encode("utf-8"), format="pdf")
    return time.perf_counter() - t, _pdf_pages(pdf)


def warm(html: str) -> None:
    """One untimed run of each tool (loads Pango, the user-agent stylesheet, Typst's fonts)."""
    blocks = text_blocks(html)
    weasyprint_seconds(plain_html(blocks))
    typst_seconds(typst_source(blocks))
