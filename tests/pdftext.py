"""Reading a PDF's text back with PDFium, for tests: each page's text, and the size a character is drawn at."""

from __future__ import annotations

import ctypes
import math
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c


def page_texts(pdf: Path | bytes) -> list[str]:
    """The text of each page, in order."""
    doc = pdfium.PdfDocument(pdf)
    try:
        return [doc[i].get_textpage().get_text_range() for i in range(len(doc))]
    finally:
        doc.close()


def drawn_size(textpage, index: int) -> float:
    """The size character `index` is drawn at, in points: its font size times the text matrix's
    vertical scale (WeasyPrint writes CSS pixels and scales them by 0.75; LibreOffice does not)."""
    matrix = pdfium_c.FS_MATRIX()
    pdfium_c.FPDFText_GetMatrix(textpage.raw, index, ctypes.byref(matrix))
    return pdfium_c.FPDFText_GetFontSize(textpage.raw, index) * math.hypot(matrix.c, matrix.d)


def marked_texts(pdf: Path | bytes) -> dict[tuple[int, int], str]:
    """(page index, marked-content id) → the text drawn inside it: how a structure element's
    text is found (its /K lists marked-content ids on its /Pg)."""
    doc = pdfium.PdfDocument(pdf)
    out: dict[tuple[int, int], str] = {}
    try:
        for index in range(len(doc)):
            page = doc[index]
            textpage = page.get_textpage()
            for obj in page.get_objects(max_depth=5):
                mcid = pdfium_c.FPDFPageObj_GetMarkedContentID(obj.raw)
                if mcid < 0 or obj.type != pdfium_c.FPDF_PAGEOBJ_TEXT:
                    continue
                size = pdfium_c.FPDFTextObj_GetText(obj.raw, textpage.raw, None, 0)
                buffer = (ctypes.c_ushort * (size // 2 + 1))()
                size = pdfium_c.FPDFTextObj_GetText(obj.raw, textpage.raw, buffer, size)
                text = bytes(buffer)[: max(0, size - 2)].decode("utf-16-le", errors="replace")
                out[(index, mcid)] = out.get((index, mcid), "") + text
    finally:
        doc.close()
    return out


def texts_by_lang(path: Path) -> dict[str, str]:
    """The text of the structure elements that carry their own /Lang, joined per language
    (the document's own language, from the catalog, is not listed)."""
    import pikepdf

    marked = marked_texts(path)
    out: dict[str, list[str]] = {}
    with pikepdf.open(path) as pdf:
        pages = {page.objgen: i for i, page in enumerate(pdf.pages)}

        def collect(node, lang: str | None, page: int | None) -> None:
            if isinstance(node, int):
                if lang is not None and page is not None:
                    out.setdefault(lang, []).append(marked.get((page, node), ""))
                return
            if not isinstance(node, pikepdf.Dictionary):
                return
            if "/Lang" in node:
                lang = str(node.Lang)
            if "/Pg" in node:
                page = pages.get(node.Pg.objgen, page)
            kids = node.get("/K")
            for kid in kids if isinstance(kids, pikepdf.Array) else [kids]:
                collect(kid, lang, page)

        collect(pdf.Root.StructTreeRoot, None, None)
    return {lang: " ".join(" ".join(parts).split()) for lang, parts in out.items()}
