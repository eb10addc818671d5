"""Renders the slide pictures under docs/slides/<practice>/ from the sample talk deck.

    python docs/slides/make_images.py [PRACTICE ...]

Builds content/decks/gut-and-autoimmune-disease.yml for each practice (default: Summit
Rheumatology and Thames Integrative GI) in a temporary folder, converts it with LibreOffice
headless (fresh profile, the project's fonts) to PDF, and keeps one small PNG per slide kind
(pdftoppm -r 40). Nothing but the PNGs is written into the repository.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from clinicpress.load.project import load_project  # noqa: E402
from clinicpress.render.deck import render_deck  # noqa: E402

DECK = "gut-and-autoimmune-disease"
PRACTICES = ["summit-rheumatology", "thames-integrative-gi"]
KINDS = [
    "title", "section", "big_number", "diagram", "icon_row", "bullets", "two_column", "table", "chart", "references",
    "closing",
]


def main(practices: list[str]) -> int:
    project = load_project(REPO, practices=practices)
    src = next(s for s in project.decks if s.slug == DECK and s.language == "en")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        conf = tmp / "fonts.conf"
        conf.write_text(
            '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
            '<include ignore_missing="yes">/etc/fonts/fonts.conf</include>'
            f'<dir>{REPO / "templates" / "handout" / "fonts"}</dir><dir>{REPO / "practices"}</dir>'
            f'<cachedir>{tmp / "fc"}</cachedir></fontconfig>', encoding="utf-8")
        for slug in practices:
            data, _ = render_deck(src, project.practices[slug], project.bibliography, REPO)
            pptx = tmp / f"{slug}.pptx"
            pptx.write_bytes(data)
            subprocess.run(["soffice", f"-env:UserInstallation={(tmp / 'profile').as_uri()}", "--headless",
                            "--convert-to", "pdf", "--outdir", str(tmp), str(pptx)], check=True,
                           capture_output=True, env=dict(os.environ, FONTCONFIG_FILE=str(conf)))
            pages = _pages_by_kind(src.model)
            if "closing" in pages:  # references may span several slides: the closing slide is the last
                import io

                from pptx import Presentation

                pages["closing"] = len(Presentation(io.BytesIO(data)).slides)
            out = REPO / "docs" / "slides" / slug
            shutil.rmtree(out, ignore_errors=True)
            out.mkdir(parents=True)
            for kind, page in pages.items():
                stem = tmp / f"{slug}-{page}"
                subprocess.run(["pdftoppm", "-r", "40", "-png", "-singlefile", "-f", str(page), "-l", str(page),
                                str(tmp / f"{slug}.pdf"), str(stem)], check=True)
                shutil.copy(f"{stem}.png", out / f"{kind.replace('_', '-')}.png")
            print(f"{out.relative_to(REPO)}: {len(pages)} pictures")
    return 0


def _pages_by_kind(deck) -> dict[str, int]:
    """Page of the first slide of each kind (a bullets slide with citations, if there is one)."""
    pages: dict[str, int] = {}
    for i, slide in enumerate(deck.slides, 1):
        if slide.layout in KINDS and slide.layout not in pages:
            if slide.layout == "bullets" and not any("[@" in (b if isinstance(b, str) else b.text)
                                                     for b in slide.bullets):
                continue
            pages[slide.layout] = i
    return pages


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or PRACTICES))
