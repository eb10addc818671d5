"""Installed fonts cut to the characters a handout prints.

A script font installed on the system (Noto Sans CJK for Chinese, and the fonts of the
language-help taglines: Chinese, Japanese, Korean, Devanagari...) is a large file: WeasyPrint
copies a face's whole collection into memory to subset it for the PDF. Each of the three CJK
tagline faces of a Valle handout cost a worker about 40 MiB and the handout 0.05 s; a Chinese
handout's own text another 90 MiB. Cut to the characters the handout uses (HarfBuzz's
subsetter, `load/fontfile.py`, a few milliseconds), the same outlines, metrics and layout tables
weigh a few kilobytes.

The cut is a family of its own, named before the installed one in the handout's CSS: a
character the cut lacks still falls back to the installed font, and a browser showing the HTML
copy (which cannot load the cut) draws the text from the installed font. The cut is never
written to disk: the renderer's fetcher serves it from memory under a `clinicpress-subset:` URL
(`SafeFetcher`), which only this module registers.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from ...load.fontfile import cut
from .fetcher import serve_generated

WEIGHTS = {400: None, 700: "Bold"}
"""The weights a handout prints, and the fontconfig style that finds each one's file."""


def cut_family(family: str, chars: str, weights: tuple[int, ...] = (400,)) -> tuple[str, list[dict]] | None:
    """(CSS family, its @font-face values) of the installed font `family` cut to `chars`, in each
    of `weights` that has a file of its own; None when the font is not installed (the text then
    uses it whole, as before)."""
    from ...load.script import system_font

    files: list[tuple[int, Path, int, int]] = []
    for weight in weights:
        path = system_font(family, WEIGHTS.get(weight))
        if path is None or (weight != 400 and files and path == files[0][1]):
            continue  # no file of this weight: the installed font's own fallback draws it
        try:
            stat = path.stat()
        except OSError:
            continue
        files.append((weight, path, stat.st_size, stat.st_mtime_ns))
    if not files or not files[0][0] == 400:
        return None
    return _cut(family, "".join(sorted(set(chars))), tuple((w, str(p), size, m) for w, p, size, m in files))


@functools.lru_cache(maxsize=64)
def _cut(family: str, chars: str, files: tuple[tuple[int, str, int, int], ...]) -> tuple[str, list[dict]] | None:
    cuts = []
    for weight, path, _, _ in files:
        data = cut(Path(path), family, chars)
        if data is None:
            return None
        cuts.append((weight, data))
    digest = hashlib.sha256(b"".join(data for _, data in cuts)).hexdigest()[:12]
    name = f"{family} {digest}"  # a family of its own: the shared font setup never mixes two cuts
    faces = [
        {
            "family": name,
            "uri": serve_generated(f"{digest}-{weight}.otf", data),
            "weight": str(weight),
            "style": "normal",
        }
        for weight, data in cuts
    ]
    return name, faces
