"""Installed fonts cut to the characters a handout prints.

A script font installed on the system (Noto Sans CJK for Chinese, and the fonts of the
language-help taglines: Chinese, Japanese, Korean, Devanagari...) is a large file: WeasyPrint
copies a face's whole collection into memory to subset it for the PDF. Each of the three CJK
tagline faces of a Valle handout cost a worker about 40 MiB and the handout 0.05 s; a Chinese
handout's own text another 90 MiB. Cut to the characters the handout uses (HarfBuzz's
subsetter, `load/fontfile.py`, a few milliseconds), the same outlines, metrics and layout tables
weigh a few kilobytes.

The cut is a family of its own, named before the installed one in the handout's CSS, and keeps
no names of the installed font: a character the cut lacks still falls back to the installed
font, a later document asking for the installed family gets the installed face, and a browser
showing the HTML copy (which cannot load the cut) draws the text from the installed font.

ClinicPress writes no cut to disk: the renderer's fetcher serves it from memory under a
`clinicpress-subset:` URL (`SafeFetcher`), which only this module registers. (WeasyPrint copies
every @font-face it loads, this one included, into its own temporary folder, deleted when the
process ends.) Cuts hold only a handout's own text: never a patient's words, which only the
packet cover prints, in the installed fonts.
"""

from __future__ import annotations

import functools
import hashlib

from ...load.fontfile import cut, installed_face
from .fetcher import forget_generated, generated_bytes, serve_generated

UPRIGHT = ((400, False),)
"""The faces a tagline prints in."""
BODY = ((400, False), (700, False), (400, True), (700, True))
"""The faces a handout's text prints in: regular, bold, and their italics."""
MAX_BYTES = 64 * 1024 * 1024
"""Cuts a process keeps at most (a preview running all day makes one at each save of a Chinese
handout); past it, the next document starts with none (`bound_cuts`)."""


def cut_family(family: str, chars: str, faces=UPRIGHT) -> tuple[str, list[dict]] | None:
    """(CSS family, its @font-face values) of the installed font `family` cut to `chars`, in each
    of `faces` ((CSS weight, italic)) the font has a file of its own for; None when the font is
    not installed or cannot be cut (the text then uses it whole, as before)."""
    found: list[tuple[int, bool, str, int, int, int]] = []
    for weight, italic in faces:
        face = installed_face(family, weight, italic)
        if face is None:
            continue
        if any((str(face.path), face.number) == f[2:4] for f in found):
            continue  # no face of its own: fontconfig makes bold or slanted letters from another
        try:
            stat = face.path.stat()
        except OSError:
            continue
        found.append((weight, italic, str(face.path), face.number, stat.st_size, stat.st_mtime_ns))
    if not found or found[0][:2] != (400, False):
        return None
    made = _cut(family, "".join(sorted(set(chars))), tuple(found))
    return (made[0], [dict(face) for face in made[1]]) if made else None  # copies: the cache's stay as they are


def forget_cuts() -> None:
    """Drops every cut made so far (between documents: a document's CSS names only its own)."""
    _cut.cache_clear()
    forget_generated()


def bound_cuts() -> None:
    """Forgets the cuts once they hold MAX_BYTES (called between documents): a long-running
    preview or watch keeps its memory bounded and prints what a fresh build prints."""
    if generated_bytes() > MAX_BYTES:
        forget_cuts()


@functools.lru_cache(maxsize=64)
def _cut(family: str, chars: str, faces: tuple) -> tuple[str, tuple] | None:
    from pathlib import Path

    cuts = []
    for weight, italic, path, index, _, _ in faces:
        data = cut(Path(path), index, chars)
        if data is None:
            return None
        cuts.append((weight, italic, data))
    digest = hashlib.sha256(b"".join(data for _, _, data in cuts)).hexdigest()[:12]
    name = f"{family} {digest}"  # a family of its own: the shared font setup never mixes two cuts
    values = tuple(
        (
            ("family", name),
            ("uri", serve_generated(f"{digest}-{weight}{'i' if italic else ''}.otf", data)),
            ("weight", str(weight)),
            ("style", "italic" if italic else "normal"),
        )
        for weight, italic, data in cuts
    )
    return name, values
