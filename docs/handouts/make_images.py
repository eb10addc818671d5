"""Renders the handout pictures under docs/handouts/ from a fresh build of the sample handout.

    python docs/handouts/make_images.py

Builds `gut-and-immune-system` (standard variant) for the three sample practices (Valle's in
Spanish, Arabic and Chinese) into a temporary folder and keeps each page as a small palette PNG (50 dpi, pypdfium2). The README
shows page one of each; nothing but the PNGs is written into the repository.
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HANDOUT = "gut-and-immune-system"
PICTURES = [
    ("summit-rheumatology", ""),
    ("thames-integrative-gi", ""),
    ("valle-community-health", ".es"),
    ("valle-community-health", ".ar"),  # right to left
    ("valle-community-health", ".zh-Hans"),
]


def main() -> int:
    import pypdfium2 as pdfium

    here = Path(__file__).resolve().parent
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        build = [sys.executable, str(REPO / "build.py"), "build", "--root", str(REPO), "--output", str(out),
                 "--only", HANDOUT, "--format", "pdf", "--variant", "standard", "-q"]
        for practice in dict.fromkeys(practice for practice, _ in PICTURES):
            build += ["--practice", practice]
        subprocess.run(build, check=True)
        for old in here.glob(f"*-{HANDOUT}*.png"):
            old.unlink()
        for practice, suffix in PICTURES:
            doc = pdfium.PdfDocument(out / practice / f"{HANDOUT}{suffix}.pdf")
            for number in range(len(doc)):
                image = doc[number].render(scale=50 / 72).to_pil().convert("RGB").quantize(colors=64)
                image.save(here / f"{practice}-{HANDOUT}{suffix}-{number + 1}.png", optimize=True)
            doc.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
