"""Colour contrast of a practice's theme (WCAG 2.x relative luminance and contrast ratio)."""
from __future__ import annotations

import re

from ..errors import Finding, UserError
from ..loading import load_yaml

HEX_RE = re.compile(r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")


def parse_hex(colour: str) -> tuple[int, int, int]:
    """#abc or #aabbcc → (r, g, b) in 0-255."""
    m = HEX_RE.match(colour.strip())
    if not m:
        raise ValueError(f"not a hex colour: {colour!r}")
    h = m.group(1)
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def luminance(colour: str) -> float:
    """WCAG relative luminance of an sRGB colour."""
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = parse_hex(colour)
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def ratio(fg: str, bg: str) -> float:
    """WCAG contrast ratio between two colours (1 to 21)."""
    a, b = luminance(fg), luminance(bg)
    hi, lo = max(a, b), min(a, b)
    return (hi + 0.05) / (lo + 0.05)


def theme_colour(theme, name: str) -> str | None:
    """A theme colour by name; "heading" is the heading colour (primary unless the brand sets one)."""
    if name == "heading":
        return theme.heading_color or theme.colors.get("primary")
    return theme.colors.get(name)


def check_practice(slug: str, practice, ctx) -> list[Finding]:
    """Every configured text/background pair of the practice's theme meets `contrast_min`."""
    theme = practice.theme
    brand = practice.root / "_brand.yml"
    shown = ctx.rel(brand) if brand.is_file() else ctx.rel(practice.root / "practice.yml")
    positions = {}
    if brand.is_file():
        try:
            _, positions = load_yaml(brand, ctx.root)
        except UserError:
            positions = {}
    findings: list[Finding] = []
    for pair in ctx.config.contrast_pairs:
        fg_name, _, bg_name = pair.partition("/")
        fg, bg = theme_colour(theme, fg_name.strip()), theme_colour(theme, bg_name.strip())
        if fg is None or bg is None:
            findings.append(Finding("accessibility.contrast", "error", f"contrast pair {pair!r} names an unknown "
                                    "colour", "pyproject.toml", None, "contrast_pairs",
                                    "use text/background with foreground, background, primary, secondary, "
                                    "tertiary, success, info, warning, danger, light, dark or heading"))
            continue
        try:
            r = ratio(fg, bg)
        except ValueError as exc:
            findings.append(Finding("accessibility.contrast", "error", str(exc), shown, None, f"color.{fg_name}"))
            continue
        if r + 1e-9 < ctx.config.contrast_min:
            # Point at the colour that is most likely to change: the text one, unless it is the background.
            blame = bg_name if fg_name == "background" else fg_name
            blame = "primary" if blame == "heading" and not theme.heading_color else blame
            loc = ("color", blame) if blame != "heading" else ("typography", "headings", "color")
            line = positions.get(loc, positions.get(("color",), (None,)))[0]
            findings.append(Finding("accessibility.contrast", "error",
                                    f"{fg_name} text ({fg}) on {bg_name} ({bg}) has contrast {r:.2f}:1; "
                                    f"at least {ctx.config.contrast_min:g}:1 is needed", shown, line,
                                    ".".join(loc), f"darken {blame} (or lighten the background) until the ratio "
                                    f"reaches {ctx.config.contrast_min:g}:1",
                                    {"pair": pair, "foreground": fg, "background": bg, "ratio": round(r, 2)}))
    return findings
