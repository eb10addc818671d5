"""Language-help taglines: every language a practice lists prints in a font that has its glyphs.

A tagline is drawn with the theme's fonts and the font its language record names
(templates/languages/<tag>.yml `font`): a file shipped in templates/handout/fonts/ (e.g.
Vazirmatn), or a system font found through fontconfig (e.g. Noto Sans CJK SC). A font that is
not installed, or characters none of these fonts has, would print as empty boxes: an error
naming practice.yml's line, the language and what to install.

Check id: `language_help.font` (error).
"""

from __future__ import annotations

from pathlib import Path

from ..errors import Finding
from ..load.fontfile import unicodes
from .glyphs import _needs_glyph, fonts_for


def font_files(record, root: Path) -> list[Path]:
    """The file that draws a language record's font in the regular weight: shipped in
    templates/handout/fonts/ (`font_files`), else installed ([] when there is none)."""
    from ..load.script import ScriptFont
    from ..load.script import font_files as files_of

    files = files_of(ScriptFont(record.font, record.font_files, record.font_package), root)
    regular = [p for p in files if "regular" in p.name.lower()]  # taglines print in the regular weight
    return regular[:1] or files[:1]


def _covered(paths: list[Path], family: str = "") -> set[int]:
    """The characters the files draw (of a collection, the face fontconfig draws `family` from)."""
    covered: set[int] = set()
    for path in paths:
        covered |= unicodes(path, family or None)
    return covered


def check_practice(slug: str, practice, ctx) -> list[Finding]:
    """Each `language_help` tagline: its font is there and it covers every character."""
    from ..load.i18n import language
    from ..load.loading import load_yaml

    if not practice.info.language_help:
        return []
    path = practice.root / "practice.yml"
    _, positions = load_yaml(path, ctx.root)
    base = _covered([p for _, p in fonts_for(practice, ctx.root)])
    out: list[Finding] = []
    for i, tag in enumerate(practice.info.language_help):
        record = language(ctx.root, tag)
        text = record.tagline(practice.info.phone)
        where = (ctx.rel(path), positions.get(("language_help", i), (None,))[0], f"language_help[{i}]")
        shown = ctx.rel(record.record) if record.record else f"templates/languages/{tag}.yml"
        files = font_files(record, ctx.root) if record.font else []
        if record.font and not files:
            out.append(
                Finding(
                    "language_help.font",
                    "error",
                    f"the {tag} tagline needs the font {record.font!r} ({shown}), which is not installed: "
                    "it would print as empty boxes",
                    *where,
                    f"install {record.font!r} (scripts/setup.sh installs the fonts the shipped languages "
                    f"name), or name an installed font in {shown}",
                    {"language": tag, "font": record.font},
                )
            )
            continue
        covered = base | _covered(files, record.font or "")
        missing = sorted({ch for ch in text if ord(ch) not in covered and _needs_glyph(ch)})
        if missing:
            out.append(
                Finding(
                    "language_help.font",
                    "error",
                    f"the {tag} tagline has characters no font of the handout draws: "
                    + ", ".join(f"'{ch}' U+{ord(ch):04X}" for ch in missing[:12]),
                    *where,
                    f"name a font that covers the {tag} script as `font` in {shown}",
                    {"language": tag, "missing": [f"U+{ord(ch):04X}" for ch in missing]},
                )
            )
    return out
