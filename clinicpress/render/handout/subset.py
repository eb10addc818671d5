"""A tagline's own small font: the characters it prints, cut from the installed font it names.

A practice's language-help taglines print a line in up to 15 scripts. Drawn from the installed
fonts themselves, each Chinese, Japanese and Korean line loaded a face of the 19 MB Noto Sans CJK
collection: WeasyPrint copies the whole face into memory to subset it for the PDF, so three such
lines cost a worker about 115 MiB and each handout 0.1-0.2 s more. Cut to the few dozen
characters of its line (HarfBuzz's subsetter, `load/fontfile.py`, once a process), the same outlines and metrics weigh a few
kilobytes. The handout names the cut face first and the installed family after it, so a browser
showing the HTML copy (which cannot load the cut face) draws the line from the installed font,
and any character the cut lacks still falls back to it.

The cut face is never written to disk: the renderer's fetcher serves it from memory under a
`clinicpress-subset:` URL (`SafeFetcher`), which only this module registers.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from ...load.fontfile import cut
from .fetcher import serve_generated

MAX_CHARS = 400
"""More characters than a tagline has: a longer text is drawn from the installed font as it is."""


def tagline_face(family: str, text: str) -> tuple[str, str] | None:
    """(CSS family, URL) of a face holding `text`'s characters in the installed font `family`;
    None when that font is not installed as a file fontconfig knows (the line then uses it whole)."""
    from ...load.script import system_font

    chars = "".join(sorted(set(text)))
    path = system_font(family)
    if path is None or not chars or len(chars) > MAX_CHARS:
        return None
    try:
        stat = path.stat()
    except OSError:
        return None
    return _cut(family, chars, str(path), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=64)
def _cut(family: str, chars: str, path: str, size: int, mtime_ns: int) -> tuple[str, str] | None:
    data = cut(Path(path), family, chars)
    if data is None:
        return None
    digest = hashlib.sha256(data).hexdigest()[:12]
    name = f"{family} {digest}"  # a family of its own: the shared font setup never mixes two cuts
    return name, serve_generated(f"{digest}.otf", data)
