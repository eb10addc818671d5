"""Glyph coverage: characters of a handout that none of its fonts can draw.

WeasyPrint falls back to whatever system font covers a character, and where none does it
prints an empty box (tofu) without a word. Which system fonts exist differs from machine to
machine, so the check compares the content with the fonts the handout *ships*: the bundled
Atkinson Hyperlegible, the practice's own font files (`_brand.yml` typography) and the fonts
of the handout's script (`load/script.py`: Vazirmatn for Arabic, bundled; Noto Sans CJK SC for
Chinese, a system font found through fontconfig, as the renderer finds it). Any character none
of them covers gets one warning per handout and practice, naming the characters and their code
points, located at the first field that uses one. A script font that is not installed is an
error (the handout is not printed), naming the package that installs it.

Check ids: `glyphs.missing` (warning), `glyphs.font_missing` (error).
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

from ..errors import Finding, dotted, rel
from ..load.fontfile import unicodes
from ..load.script import font_files, is_complete, script_of

BUNDLED_FONTS = "templates/handout/fonts"
BUNDLED_FAMILY = "Atkinson Hyperlegible"
MAX_LISTED = 20
"""Characters named in one warning; the rest are counted."""

# Characters that are never drawn as glyphs of their own.
_SKIP_CATEGORIES = {"Cc", "Cf", "Zs", "Zl", "Zp"}


def fonts_for(practice, root: Path, language: str = "en") -> list[tuple[str, Path]]:
    """Returns (family, file) for every font a handout of `practice` in `language` ships."""
    fonts = [(BUNDLED_FAMILY, p) for p in sorted((root / BUNDLED_FONTS).glob("AtkinsonHyperlegible-*.ttf"))]
    fonts += [(f.family, f.path) for f in practice.theme.fonts]
    fonts += [(f.family, path) for f in script_of(language, root).fonts for path in font_files(f, root)]
    return fonts


def _needs_glyph(ch: str) -> bool:
    if unicodedata.category(ch) in _SKIP_CATEGORIES:
        return False
    cp = ord(ch)
    return not (0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF)  # variation selectors


def missing_glyphs(src, practice, root: Path) -> tuple[list[str], tuple | None]:
    """Returns the uncovered characters of `src` (in order of first use) and where the first is."""
    from ..load.project import walk_text
    from ..render.templating import strip_citations

    covered: set[int] = set()
    for _, path in fonts_for(practice, root, src.language):
        covered |= unicodes(path)
    missing: list[str] = []
    first_loc = None
    for loc, text in walk_text(src.model):
        if loc and loc[-1] in ("slug", "src", "language", "translation_of", "deck"):
            continue
        for ch in strip_citations(text):
            if ord(ch) not in covered and ch not in missing and _needs_glyph(ch):
                missing.append(ch)
                if first_loc is None:
                    first_loc = loc
    return missing, first_loc


def font_missing(src, root: Path) -> list[Finding]:
    """An error for each font of the handout's script that is not there (a system font not installed)."""
    return [
        Finding(
            "glyphs.font_missing",
            "error",
            f"the {src.language} handouts need the font {font.family!r}, "
            + (
                "which is not installed on this machine"
                if font.package
                else f"whose files are missing from {BUNDLED_FONTS}"
            )
            + "; without it their text would print in another font or as empty boxes",
            rel(src.path, root),
            src.line_of("language"),
            "language",
            hint=f"run `bash scripts/setup.sh` (it installs the {font.package} package)"
            if font.package
            else f"restore {', '.join(name for _, name in font.files)} in {BUNDLED_FONTS}",
            data={"font": font.family, "package": font.package},
        )
        for font in script_of(src.language, root).fonts
        if not is_complete(font, root)
    ]


def glyph_findings(src, practice, root: Path) -> list[Finding]:
    """One warning if the practice's handout fonts lack characters the handout uses."""
    missing, loc = missing_glyphs(src, practice, root)
    if not missing:
        return []
    families = sorted({family for family, _ in fonts_for(practice, root, src.language)})
    listed = ", ".join(f"'{ch}' U+{ord(ch):04X}" for ch in missing[:MAX_LISTED])
    more = f" and {len(missing) - MAX_LISTED} more" if len(missing) > MAX_LISTED else ""

    return [
        Finding(
            "glyphs.missing",
            "warning",
            f"{len(missing)} character(s) have no glyph in the fonts of practice {practice.slug} "
            f"({', '.join(families)}): {listed}{more}; they print in a system fallback font if the "
            "build machine has one, otherwise as empty boxes",
            rel(src.path, root),
            src.line_of(*loc) if loc else None,
            dotted(loc) if loc else None,
            hint="add a font that covers these characters to the practice's _brand.yml (typography.fonts, "
            "source: file), or remove them",
            data={"practice": practice.slug, "missing": [f"U+{ord(ch):04X}" for ch in missing]},
        )
    ]


def handout_findings(src, project, root: Path) -> list[Finding]:
    """A handout's script fonts that are missing, and its characters each practice that builds
    it lacks a glyph for."""
    out: list[Finding] = font_missing(src, root)
    for _, practice in sorted(project.practices.items()):
        if src.language in practice.info.languages:
            out.extend(glyph_findings(src, practice, root))
    return out


def check(src, ctx) -> list[Finding]:
    """Item check (checks framework): handouts against every practice that builds them."""
    return handout_findings(src, ctx.project, ctx.root) if src.kind == "handout" else []


def check_glyphs(project) -> dict[str, list[Finding]]:
    """Runs the glyph check over a whole project; findings per item key (handouts only)."""
    return {src.key: handout_findings(src, project, project.root) for src in project.handouts}
