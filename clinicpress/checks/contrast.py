"""Colour contrast of a practice's theme: every configured text/background pair.

The maths and the substitution rule live in `clinicpress/colour.py`, which the handout and
deck renderers use too. A pair whose brand colours are below `contrast_min` is a warning that
names the pair, both colours, the ratio, the line of `_brand.yml` and the colour the
renderers print instead. It is an error only when nothing readable can be printed: body text
(foreground on background) is never substituted, and a substitute that still misses
`contrast_min` (a stricter threshold than the renderers' 4.5:1) does not count.
"""
from __future__ import annotations

from ..load.colour import Inks, contrast, is_colour
from ..errors import Finding, UserError
from ..load.loading import load_yaml

NAMES = ("foreground, background, primary, secondary, tertiary, success, info, warning, danger, light, dark "
         "or heading")


def theme_colour(theme, name: str) -> str | None:
    """A theme colour by name; "heading" is the heading colour (primary unless the brand sets one)."""
    if name == "heading":
        return theme.heading_color or theme.colors.get("primary")
    return theme.colors.get(name)


def check_practice(slug: str, practice, ctx) -> list[Finding]:
    """Every configured text/background pair of the practice's theme meets `contrast_min`, or
    the renderers print a readable substitute (warning)."""
    theme = practice.theme
    brand = practice.root / "_brand.yml"
    shown = ctx.rel(brand) if brand.is_file() else ctx.rel(practice.root / "practice.yml")
    positions: dict = {}
    if brand.is_file():
        try:
            _, positions = load_yaml(brand, ctx.root)
        except UserError:
            positions = {}
    minimum = ctx.config.contrast_min
    findings: list[Finding] = []
    inks = None
    for pair in ctx.config.contrast_pairs:
        fg_name, _, bg_name = (part.strip() for part in pair.partition("/"))
        fg, bg = theme_colour(theme, fg_name), theme_colour(theme, bg_name)
        if fg is None or bg is None:
            findings.append(Finding("accessibility.contrast", "error", f"contrast pair {pair!r} names an unknown "
                                    "colour", "pyproject.toml", None, "contrast_pairs",
                                    f"use text/background with {NAMES}"))
            continue
        bad = next((c for c in (fg, bg) if not is_colour(c)), None)
        if bad is not None:
            findings.append(Finding("accessibility.contrast", "error", f"not a hex colour: {bad!r}", shown, None,
                                    f"color.{fg_name if bad == fg else bg_name}"))
            continue
        r = contrast(fg, bg)
        if r + 1e-9 >= minimum:
            continue
        # Point at the colour that is most likely to change: the text one, unless it is the background.
        blame = bg_name if fg_name == "background" else fg_name
        blame = "primary" if blame == "heading" and not theme.heading_color else blame
        loc = ("color", blame) if blame != "heading" else ("typography", "headings", "color")
        line = positions.get(loc, positions.get(("color",), (None,)))[0]
        what = (f"{fg_name} text ({fg}) on {bg_name} ({bg}) has contrast {r:.2f}:1, below {minimum:g}:1")
        data = {"pair": pair, "foreground": fg, "background": bg, "ratio": round(r, 2)}
        if inks is None:
            inks = Inks.of(theme)
        sub = inks.substitute(fg_name, bg_name)
        if sub is None:
            findings.append(Finding("accessibility.contrast", "error", f"{what}; body text is never replaced, "
                                    "so nothing readable can be printed", shown, line, ".".join(loc),
                                    f"darken {blame} (or lighten the background) until the ratio reaches "
                                    f"{minimum:g}:1", data))
            continue
        printed = (f"handouts and slides print it as {sub.colour}" if sub.what == "text" else
                   f"handouts and slides lighten {bg_name} to {sub.colour} behind it")
        data |= {"printed": sub.colour, "printed_as": sub.what, "printed_ratio": round(sub.ratio, 2)}
        if sub.ratio + 1e-9 < minimum:
            findings.append(Finding("accessibility.contrast", "error", f"{what}; {printed}, which reaches only "
                                    f"{sub.ratio:.2f}:1", shown, line, ".".join(loc),
                                    f"darken {blame} until the ratio reaches {minimum:g}:1", data))
            continue
        findings.append(Finding("accessibility.contrast", "warning", f"{what}; {printed}", shown, line,
                                ".".join(loc), f"to print the brand colour itself, darken {blame} until the "
                                f"ratio reaches {minimum:g}:1 (keep lighter colours for graphics)", data))
    return findings
