"""Pictures of rendered documents: PDF pages as PNG (pypdfium2), PPTX slides via LibreOffice.

The one rasteriser: the index's thumbnails and the preview's page images both come from here.
Drawing is deterministic (same PDF, same PNG bytes).
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path

THUMB_WIDTH = 320
"""Thumbnail width in pixels (shown at half size, so sharp on high-density screens)."""
SOFFICE_TIMEOUT = 120
"""Seconds LibreOffice may take to turn a deck into a PDF."""


@dataclass(frozen=True)
class Image:
    """One drawn page: PNG bytes and its size in pixels."""

    png: bytes
    width: int
    height: int


class RasterError(Exception):
    """A document could not be drawn; the message says why, in words for the user."""


def pdf_images(
    pdf: bytes,
    *,
    scale: float | None = None,
    width: int | None = None,
    first: int | None = None,
    compress_level: int = 1,
) -> list[Image]:
    """Draws the pages of a PDF (the `first` n, or all) at `scale` or `width` pixels wide."""
    import pypdfium2 as pdfium

    out: list[Image] = []
    doc = pdfium.PdfDocument(pdf)
    try:
        for index in range(len(doc) if first is None else min(first, len(doc))):
            page = doc[index]
            try:
                w, _ = page.get_size()
                bitmap = page.render(scale=scale if scale else (width or THUMB_WIDTH) / w, draw_annots=False)
                image = bitmap.to_pil().convert("RGB")
            finally:
                page.close()
            buf = io.BytesIO()
            image.save(buf, "PNG", optimize=False, compress_level=compress_level)
            out.append(Image(buf.getvalue(), image.width, image.height))
    finally:
        doc.close()
    return out


def pdf_thumbnail(pdf: bytes, width: int = THUMB_WIDTH) -> bytes:
    """Returns page one of a PDF as a small PNG (deterministic bytes).

    zlib's default level: the highest (9) made each thumbnail 1 % smaller for three times the
    time (24 ms against 8 ms, a tenth of a standard handout's render)."""
    return pdf_images(pdf, width=width, first=1, compress_level=6)[0].png


def pptx_slides(pptx: bytes) -> int:
    """Returns the number of slides in a PPTX (read from the zip, without python-pptx)."""
    with zipfile.ZipFile(io.BytesIO(pptx)) as z:
        return sum(1 for n in z.namelist() if n.startswith("ppt/slides/slide") and n.endswith(".xml"))


def soffice() -> str | None:
    """Returns the LibreOffice command, or None when it is not installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


NOTES_FILTER = (
    'pdf:impress_pdf_Export:{"ExportNotesPages":{"type":"boolean","value":"true"},'
    '"ExportOnlyNotesPages":{"type":"boolean","value":"true"}}'
)
"""LibreOffice's PDF export of notes pages only: each slide above its speaker notes, one page
each (filter options as JSON: LibreOffice 7.4 and later)."""


def pptx_to_pdf(
    pptx: bytes, work: Path, *, profile: Path | None = None, timeout: float = SOFFICE_TIMEOUT, notes: bool = False
) -> bytes:
    """Converts a deck to PDF with LibreOffice in the folder `work` (`notes`: notes pages, each
    slide with its speaker notes under it); raises RasterError saying why not.

    The package is audited first (`load.ooxml.package_problems`), so LibreOffice never opens
    one with macros, controls, OLE objects or links to files or addresses outside it.
    """
    from ..load.ooxml import package_problems

    problems = package_problems(pptx)
    if problems:  # LibreOffice only ever opens a package checked here (no macros, no external links)
        part, why = problems[0]
        raise RasterError(f"the deck is not drawn: part {part or '(package)'} {why}.")
    command = soffice()
    if command is None:
        raise RasterError(
            "LibreOffice (soffice) is not installed, so slides are not drawn here. "
            "Download the PPTX to look at it, or install LibreOffice."
        )
    work.mkdir(parents=True, exist_ok=True)
    src, pdf = work / "deck.pptx", work / "deck.pdf"
    pdf.unlink(missing_ok=True)
    src.write_bytes(pptx)
    user = (profile or work / "profile").as_uri()
    try:
        subprocess.run(
            [
                command,
                f"-env:UserInstallation={user}",
                "--headless",
                "--norestore",
                "--nolockcheck",
                "--convert-to",
                NOTES_FILTER if notes else "pdf",
                "--outdir",
                str(work),
                str(src),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise RasterError("LibreOffice took too long to draw the slides; download the PPTX instead.") from None
    except OSError as exc:
        raise RasterError(f"LibreOffice could not start ({exc.strerror}); download the PPTX instead.") from None
    if not pdf.is_file():
        raise RasterError("LibreOffice could not convert the deck; download the PPTX to look at it.")
    data = pdf.read_bytes()
    pdf.unlink(missing_ok=True)
    return data


def notes_pdf(pptx: bytes) -> bytes:
    """The presenter's PDF: one page per slide, the slide above its speaker notes (LibreOffice);
    raises RasterError saying why not (first of all when LibreOffice is not installed)."""
    if soffice() is None:
        raise RasterError("it is made by LibreOffice, which is not installed (no soffice command)")
    with tempfile.TemporaryDirectory(prefix="clinicpress-notes-") as tmp:
        with _PROFILE_LOCK:
            pdf = pptx_to_pdf(pptx, Path(tmp), profile=kept_profile(), notes=True)
    if not pdf.startswith(b"%PDF-"):
        raise RasterError("LibreOffice did not write a PDF of the notes pages.")
    return pdf


def slide_thumbnail(pptx: bytes, width: int = THUMB_WIDTH) -> bytes | None:
    """Returns slide one as a PNG via LibreOffice, or None if it is missing or fails.

    LibreOffice draws a copy of the deck with slide one only, in a user profile this process
    keeps: a 44-slide deck's thumbnail took 4.6 s (the whole deck, and a new profile set up
    each time) and takes 1.5 s, the same PNG."""
    from .pptx_adapter import first_slide_only

    with tempfile.TemporaryDirectory(prefix="clinicpress-soffice-") as tmp, _PROFILE_LOCK:
        try:
            return pdf_thumbnail(pptx_to_pdf(first_slide_only(pptx), Path(tmp), profile=kept_profile()), width)
        except Exception:  # a missing LibreOffice or a broken conversion only costs the picture
            return None


_PROFILE: list[Path] = []
_PROFILE_LOCK = threading.Lock()
"""One LibreOffice at a time in the kept profile (a second one would fail on its lock): a Dask
worker with several threads converts in turn."""


def kept_profile() -> Path:
    """A LibreOffice user profile for this process's conversions, one after the other (setting
    one up costs LibreOffice about half a second). Removed when the process ends: at exit in the
    main process, by multiprocessing's exit hooks in a worker (as WeasyPrint's font folder)."""
    if not _PROFILE:
        import atexit
        import multiprocessing.util

        folder = Path(tempfile.mkdtemp(prefix="clinicpress-soffice-profile-"))

        def remove() -> None:
            shutil.rmtree(folder, ignore_errors=True)

        atexit.register(remove)
        multiprocessing.util.Finalize(None, remove, exitpriority=10)
        _PROFILE.append(folder)
    return _PROFILE[0] / "profile"
