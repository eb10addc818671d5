"""The text model (runs and paragraphs), inline Markdown and reference HTML to runs, and font
metrics for measuring how many lines text takes."""

from __future__ import annotations

import functools
import html
import re
from dataclasses import dataclass, replace
from pathlib import Path

from ...load.citations import Numbering, compress
from ...load.practice import PracticeContext
from ...load.schema import CITE_RE
from ...load.theme import DEFAULT_FONT
from .. import pptx_adapter as ad
from ..templating import safe_link
from .constants import BUNDLED_FONTS


@dataclass
class Run:
    """A piece of text with one formatting."""

    text: str
    bold: bool = False
    italic: bool = False
    sup: bool = False
    link: str | None = None


@dataclass
class Para:
    """A paragraph to write; None fields are inherited from the layout and master."""

    runs: list[Run]
    level: int = 0
    bullet: str | None = None  # None inherit, "none", a character, "autonum"
    autonum: int | None = None
    size: float | None = None
    bold: bool | None = None
    italic: bool | None = None
    color: str | None = None  # theme slot
    font: str | None = None  # "+mj-lt" / "+mn-lt"
    align: str | None = None
    mar_l: int | None = None  # EMU
    indent: int | None = None
    space_before: float | None = None
    line: float | None = None

    @property
    def text(self) -> str:
        return "".join(r.text for r in self.runs)


@functools.cache
def _markdown():
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.disable(["image", "html_inline"])
    return md


_CITE_MARK = re.compile("\ue000(\\d+)\ue001")


def inline_runs(text: str, numbering: Numbering) -> list[Run]:
    """Inline CommonMark (**bold**, *italic*, links) → runs; [@key] → superscript numbers."""
    groups: list[list[str]] = []

    def stash(m: re.Match) -> str:
        groups.append([p.strip().lstrip("@") for p in m.group(1).split(";")])
        return f"\ue000{len(groups) - 1}\ue001"

    source = re.sub(r"\s+(?=\ue000)", "", CITE_RE.sub(stash, text or ""))
    runs: list[Run] = []
    bold = italic = 0
    link: str | None = None

    def emit(s: str) -> None:
        pos = 0
        for m in _CITE_MARK.finditer(s):
            if m.start() > pos:
                runs.append(Run(s[pos : m.start()], bold > 0, italic > 0, False, link))
            nums = numbering.numbers(groups[int(m.group(1))])
            if nums:
                runs.append(Run(compress(nums), bold > 0, italic > 0, True, None))
            pos = m.end()
        if pos < len(s):
            runs.append(Run(s[pos:], bold > 0, italic > 0, False, link))

    tokens = _markdown().parseInline(source)[0].children or []
    for tok in tokens:
        kind = tok.type
        if kind in ("text", "code_inline"):
            emit(tok.content)
        elif kind in ("softbreak", "hardbreak"):
            emit(" ")
        elif kind == "strong_open":
            bold += 1
        elif kind == "strong_close":
            bold -= 1
        elif kind == "em_open":
            italic += 1
        elif kind == "em_close":
            italic -= 1
        elif kind == "link_open":
            href = tok.attrGet("href") or ""
            link = href if safe_link(href) else None
        elif kind == "link_close":
            link = None
    merged: list[Run] = []
    for r in runs:
        if merged and (merged[-1].bold, merged[-1].italic, merged[-1].sup, merged[-1].link) == (
            r.bold,
            r.italic,
            r.sup,
            r.link,
        ):
            merged[-1] = replace(merged[-1], text=merged[-1].text + r.text)
        else:
            merged.append(r)
    return merged or [Run("")]


def html_runs(fragment: str) -> list[Run]:
    """A formatted reference (citeproc HTML: <i>, <b>, <sup>) → runs."""
    runs: list[Run] = []
    state = {"i": 0, "b": 0, "sup": 0}
    for piece in re.split(r"(<[^>]+>)", fragment):
        if not piece:
            continue
        m = re.fullmatch(r"<(/?)(\w+)[^>]*>", piece)
        if m:
            tag = m.group(2).lower()
            if tag in state:
                state[tag] += -1 if m.group(1) else 1
            continue
        runs.append(Run(html.unescape(piece), state["b"] > 0, state["i"] > 0, state["sup"] > 0))
    return runs or [Run("")]


# --------------------------------------------------------------------------- font metrics
class Metrics:
    """Advance widths and line height of one font file (fontTools)."""

    def __init__(self, path: Path):
        from fontTools.ttLib import TTFont

        font = TTFont(str(path), lazy=True)
        self.path = path
        self.upem = font["head"].unitsPerEm
        hmtx = font["hmtx"].metrics
        self.widths = {cp: hmtx[name][0] for cp, name in font.getBestCmap().items() if name in hmtx}
        self.fallback = self.widths.get(ord("n"), self.upem // 2)
        hhea = font["hhea"]
        self.line = max(1.15, (hhea.ascent - hhea.descent + hhea.lineGap) / self.upem)

        self._units: dict[str, int] = {}

    def width(self, text: str, size: float) -> float:
        """Returns the width of `text` at `size` points, in points.

        Line counting measures each word of a text again for every width it tries; the sums are
        kept per text (at most WIDTHS_KEPT, then forgotten: content is untrusted)."""
        units = self._units.get(text)
        if units is None:
            if len(self._units) >= WIDTHS_KEPT:
                self._units.clear()
            units = self._units[text] = sum(self.widths.get(ord(c), self.fallback) for c in text)
        return units * size / self.upem


WIDTHS_KEPT = 20_000
"""Texts (words, or a table cell's whole text) whose advance widths a font's Metrics keeps."""


@functools.lru_cache(maxsize=32)
def font_metrics(path: Path) -> Metrics:
    """Returns the metrics of a font file, read once per process."""
    return Metrics(path)


class FontBook:
    """Finds the font file (and so the metrics) for a theme font reference and weight."""

    def __init__(self, practice: PracticeContext, major: str, minor: str):
        self.major, self.minor = major, minor
        files: dict[str, list[tuple[int, str, Path]]] = {}
        for f in practice.theme.fonts:
            weight = f.weight if isinstance(f.weight, int) else 400
            files.setdefault(f.family, []).append((weight, f.style, f.path))
        bundled = {
            "Regular": (400, "normal"),
            "Bold": (700, "normal"),
            "Italic": (400, "italic"),
            "BoldItalic": (700, "italic"),
        }
        for suffix, (weight, style) in bundled.items():
            path = BUNDLED_FONTS / f"AtkinsonHyperlegible-{suffix}.ttf"
            if path.is_file():
                files.setdefault(DEFAULT_FONT, []).append((weight, style, path))
        self.files = files
        self._chosen: dict[tuple[str, bool, str], Metrics | None] = {}

    def paths(self, family: str) -> list[Path]:
        """The font files of `family` (none if the practice does not ship it)."""
        return [path for _, _, path in self.files.get(family, [])]

    def faces(self, *families: str) -> list[ad.Face]:
        """The faces to embed for `families` (each once): per slot (regular, bold, italic, bold
        italic) the file nearest in weight to 400 or 700."""
        faces: list[ad.Face] = []
        for family in dict.fromkeys(families):
            best: dict[str, tuple[int, Path]] = {}
            for weight, style, path in self.files.get(family, []):
                bold = weight >= 600
                slot = ("bold" if bold else "regular") if style != "italic" else ("boldItalic" if bold else "italic")
                distance = abs(weight - (700 if bold else 400))
                if slot not in best or distance < best[slot][0]:
                    best[slot] = (distance, path)
            faces += [ad.Face(family, slot, ad.font_data(best[slot][1])) for slot in ad.FONT_SLOTS if slot in best]
        return faces

    def family(self, ref: str | None) -> str:
        if ref in (None, "", "+mn-lt", "+mn-ea", "+mn-cs"):
            return self.minor
        if ref.startswith("+mj"):
            return self.major
        return ref

    def metrics(self, ref: str | None, bold: bool) -> Metrics | None:
        """The metrics of the file `ref` prints with (chosen once per family and weight: line
        counting asks for each word)."""
        key = (self.family(ref), bold, self.minor)  # the minor font is the fallback
        if key not in self._chosen:
            self._chosen[key] = self._metrics(key[0], bold)
        return self._chosen[key]

    def _metrics(self, family: str, bold: bool) -> Metrics | None:
        options = self.files.get(family) or self.files.get(self.minor) or self.files.get(DEFAULT_FONT)
        if not options:
            return None
        want = 700 if bold else 400
        normal = [o for o in options if o[1] == "normal"] or options
        best = min(normal, key=lambda o: (abs(o[0] - want), o[0]))
        return font_metrics(best[2])


def count_lines(runs: list[Run], width_pt: float, size: float, book: FontBook, font: str | None, bold: bool) -> int:
    """Greedy word wrap of `runs` in `width_pt`; returns the number of lines."""
    if width_pt <= 0:
        return 99
    words: list[tuple[str, bool, float]] = []
    for r in runs:
        for piece in re.split(r"([^\S\u00a0]+)", r.text):  # a no-break space joins words
            if piece:
                words.append((piece, r.bold or bold, size * (0.65 if r.sup else 1.0)))
    lines, x = 1, 0.0
    for word, is_bold, word_size in words:
        m = book.metrics(font, is_bold)
        if m is None:
            return 1
        w = m.width(word, word_size)
        if word.isspace():
            x += w
            continue
        if x + w <= width_pt or x == 0:
            if w > width_pt and x == 0:
                extra = int(w // width_pt)
                lines += extra
                x = w - extra * width_pt
            else:
                x += w
        else:
            lines += 1
            x = w if w <= width_pt else w % width_pt
    return lines
