"""Page images of every shipped handout, for proving that a change to the render path left the
printed result as it was.

The reference set is every handout the shipped library builds (each practice's own variants:
standard, and large print where a practice ships it) plus the print-shop variant (bleed and
crop marks) for one practice. Each page is drawn at `DPI` in greyscale and kept as a PNG under
`tests/fixtures/pages/<practice>/<file stem>.p<N>.png`.

`python tests/fixtures/make_reference_pages.py` remakes the set after a change to content or
design made on purpose; `tests/test_pixels.py` compares a fresh build against it.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "tests" / "fixtures" / "pages"
DPI = 40
"""Low enough to keep the set small (about 4 MB), high enough that a line moved by half a
point changes the anti-aliasing of every glyph below it."""
PRINT_SHOP_PRACTICE = "thames-integrative-gi"
"""The practice whose handouts are also drawn in the print-shop variant (A4, two columns)."""

LEVEL = 24
"""A pixel counts as changed when its grey level moved by more than this (of 255)."""
MAX_CHANGED = 0.0002
"""A page may have at most this fraction of changed pixels (about 30 of a 40 dpi page)..."""
MAX_MEAN = 0.25
"""...and a mean difference of at most this many grey levels."""


def build_reference_set(out: Path, root: Path = ROOT) -> list[Path]:
    """Builds the PDFs of the reference set into `out` (as a user would); returns them, sorted."""
    runs = [[], ["--practice", PRINT_SHOP_PRACTICE, "--variant", "print-shop"]]
    for extra in runs:
        proc = subprocess.run(
            [sys.executable, str(ROOT / "build.py"), "build", "--root", str(root), "--format", "pdf",
             "--output", str(out), "-q", *extra],
            capture_output=True, text=True, timeout=900, env={**os.environ, "PYTHONPATH": str(ROOT)})
        if proc.returncode != 0:
            raise RuntimeError(f"build {' '.join(extra) or '(all)'} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return sorted(out.glob("*/*.pdf"))


def page_images(pdf: Path):
    """Draws each page of a PDF in greyscale at `DPI` (PIL images)."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf.read_bytes())
    try:
        images = []
        for page in doc:
            try:
                images.append(page.render(scale=DPI / 72, draw_annots=False).to_pil().convert("L"))
            finally:
                page.close()
        return images
    finally:
        doc.close()


def reference_name(pdf: Path, page: int) -> str:
    """`<practice>/<stem>.p<N>.png` for page N (from 1) of an output PDF."""
    return f"{pdf.parent.name}/{pdf.stem}.p{page}.png"


def png_bytes(image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG", optimize=True)
    return buf.getvalue()


@dataclass(frozen=True)
class Difference:
    """How far one page image is from its reference."""

    name: str
    changed: float
    """Fraction of pixels whose grey level moved by more than LEVEL."""
    mean: float
    """Mean absolute difference in grey levels."""
    size_mismatch: bool = False

    @property
    def ok(self) -> bool:
        return not self.size_mismatch and self.changed <= MAX_CHANGED and self.mean <= MAX_MEAN

    def __str__(self) -> str:
        if self.size_mismatch:
            return f"{self.name}: the page size differs"
        return f"{self.name}: {self.changed:.3%} of pixels changed, mean difference {self.mean:.2f} levels"


def compare(name: str, image, reference):
    """Compares a page image with its reference; returns the Difference and a picture of it."""
    from PIL import ImageChops

    if image.size != reference.size:
        return Difference(name, 1.0, 255.0, size_mismatch=True), None
    diff = ImageChops.difference(image, reference)
    histogram = diff.histogram()
    pixels = image.size[0] * image.size[1]
    changed = sum(histogram[LEVEL + 1:]) / pixels
    mean = sum(level * count for level, count in enumerate(histogram)) / pixels
    return Difference(name, changed, mean), diff.point(lambda v: 255 if v > LEVEL else 0)
