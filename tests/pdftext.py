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
