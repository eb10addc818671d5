"""Writing systems: each language's text direction and the fonts that draw its script.

Latin-script languages (en, es) need nothing here: the bundled Atkinson Hyperlegible and the
practice's fonts draw them. A language in another script names its font in its language record
(templates/languages/<tag>.yml: `font`, and `font_files` or `font_package`):

- a **bundled** font is a file in `templates/handout/fonts/` (SIL OFL, committed with its
  licence, small): loaded by `@font-face` with `url()` like the default font, so it is read
  only from inside the project. Arabic: Vazirmatn (125 KB a weight). Not Noto Sans/Naskh
  Arabic: they draw a letter's dots as separate glyphs, so one dotless glyph stands for several
  letters and the PDF's text (copy, search, screen readers) comes out as the wrong letters.
- a **system** font is installed by `scripts/setup.sh` from the system's packages (Debian:
  `fonts-noto-cjk`, 56 MB, too large to commit) and named by family: WeasyPrint's text engine
  (Pango) finds it through fontconfig. Chinese: Noto Sans CJK SC. The glyph check
  (`checks/glyphs.py`) finds its file the same way; a system font that is not installed is an
  error naming the package, so a build never prints such a handout in boxes.

The fonts come after the practice's own in every font list, so Latin text, digits and phone
numbers keep the practice's typeface and the script's characters use these.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

BUNDLED_DIR = Path("templates") / "handout" / "fonts"
"""Where bundled fonts live, relative to the project root."""


@dataclass(frozen=True)
class ScriptFont:
    """A font that draws one script: bundled files (weight → file name) or a system package."""

    family: str
    files: tuple[tuple[int, str], ...] = ()
    package: str | None = None
    """For a system font: the Debian package that installs it (named in the error when missing)."""


@dataclass(frozen=True)
class Script:
    """How a language is written: its direction and the fonts of its script."""

    direction: Literal["ltr", "rtl"] = "ltr"
    fonts: tuple[ScriptFont, ...] = field(default_factory=tuple)


def script_of(language: str, root: Path) -> Script:
    """How `language` is written: its direction (Babel) and the font its language record names
    (templates/languages/<tag>.yml `font`, with `font_files` when it ships with ClinicPress or
    `font_package` when the system installs it); Latin languages name none."""
    from .i18n import language as record_of

    record = record_of(root, language)
    direction: Literal["ltr", "rtl"] = "rtl" if record.rtl else "ltr"
    if not record.font:
        return Script(direction)
    return Script(direction, (ScriptFont(record.font, record.font_files, record.font_package),))


def text_direction(text: str) -> str | None:
    """The direction of a passage: that of its first strong letter (the Unicode bidi rule P2),
    `rtl` for Arabic or Hebrew letters, `ltr` for Latin, Chinese and the like; None without letters."""
    for ch in text:
        kind = unicodedata.bidirectional(ch)
        if kind == "L":
            return "ltr"
        if kind in ("R", "AL"):
            return "rtl"
    return None


def font_files(font: ScriptFont, root: Path) -> list[Path]:
    """The files that hold `font` and are there: the bundled files, or the installed system file."""
    if font.files:
        return [path for _, name in font.files if (path := root / BUNDLED_DIR / name).is_file()]
    found = system_font(font.family)
    return [found] if found else []


def has_installed_font(language: str, root: Path) -> bool:
    """Whether a font of the language's script is a system font (not shipped in templates/) that
    is installed."""
    return any(not font.files and system_font(font.family) for font in script_of(language, root).fonts)


def is_complete(font: ScriptFont, root: Path) -> bool:
    """Whether every file of `font` is there (all its bundled weights, or its system file)."""
    return len(font_files(font, root)) == max(1, len(font.files))


def system_font(family: str) -> Path | None:
    """Returns the file fontconfig uses for `family`, or None when no installed font has that family.

    Asks the fontconfig WeasyPrint's Pango draws with (`load/fontfile.py`), so the check sees
    exactly the fonts the render will use.
    """
    from .fontfile import installed_file

    return installed_file(family)
