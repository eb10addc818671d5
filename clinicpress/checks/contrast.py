"""Colour contrast of a practice's theme: every configured text/background pair.

The maths and the substitution rule live in `clinicpress/colour.py`, which the handout and
deck renderers use too. A pair whose brand colours are below `contrast_min` is a warning that
names the pair, both colours, the ratio, the line of `_brand.yml` and the colour the
renderers print instead. It is an error only when nothing readable can be printed: body text
(foreground on background) is never substituted, and a substitute that still misses
`contrast_min` (a stricter threshold than the renderers' 4.5:1) does not count.
"""

from __future__ import annotations

from ..errors import Finding, UserError
from ..load.colour import Inks, contrast, is_colour
from ..load.loading import load_yaml

NAMES = "foreground, background, primary, secondary, tertiary, success, info, warning, danger, light, dark or heading"


def theme_colour(theme, name: str) -> str | None:
    """A theme colour by name; "heading" is the heading colour (primary unless the brand sets one)."""
    if name == "heading":
        return theme.heading_color or theme.colors.get("primary")
    return theme.colors.get(name)


def check_practice(slug: str, practice, ctx) -> list[Finding]:
    """Every configured text/background pair of the practice's theme meets `contrast_min`, or
    the renderers print a readable substitute (warning)."""
    brand = practice.root / "_brand.yml"
    shown = ctx.rel(brand) if brand.is_file() else ctx.rel(practice.root / "practice.yml")
    positions: dict = {}
    if brand.is_file():
        try:
            _, positions = load_yaml(brand, ctx.root)
        except UserError:
            positions = {}
    pairs = _Pairs(practice.theme, ctx.config.contrast_min, shown, positions)
    return [f for pair in ctx.config.contrast_pairs if (f := pairs.check(pair)) is not None]


class _Pairs:
    """Checks text/background pairs of one theme; the substitutes come from the renderers' own Inks."""

    def __init__(self, theme, minimum: float, shown: str, positions: dict):
        self.theme, self.minimum, self.shown, self.positions = theme, minimum, shown, positions
        self._inks: Inks | None = None

    def finding(self, severity, message: str, line=None, field=None, hint=None, data=None, path=None) -> Finding:
        return Finding("accessibility.contrast", severity, message, path or self.shown, line, field, hint, data or {})

    def check(self, pair: str) -> Finding | None:
        """None if the pair reads well; else an error, or a warning naming the colour printed instead."""
        fg_name, _, bg_name = (part.strip() for part in pair.partition("/"))
        fg, bg = theme_colour(self.theme, fg_name), theme_colour(self.theme, bg_name)
        if fg is None or bg is None:
            return self.finding(
                "error",
                f"contrast pair {pair!r} names an unknown colour",
                field="contrast_pairs",
                hint=f"use text/background with {NAMES}",
                path="pyproject.toml",
            )
        bad = next((c for c in (fg, bg) if not is_colour(c)), None)
        if bad is not None:
            return self.finding(
                "error", f"not a hex colour: {bad!r}", field=f"color.{fg_name if bad == fg else bg_name}"
            )
        r = contrast(fg, bg)
        if r + 1e-9 >= self.minimum:
            return None
        return self._low(pair, fg_name, bg_name, fg, bg, r)

    def _low(self, pair: str, fg_name: str, bg_name: str, fg: str, bg: str, r: float) -> Finding:
        minimum = self.minimum
        # Point at the colour that is most likely to change: the text one, unless it is the background.
        blame = bg_name if fg_name == "background" else fg_name
        blame = "primary" if blame == "heading" and not self.theme.heading_color else blame
        loc = ("color", blame) if blame != "heading" else ("typography", "headings", "color")
        at = {"line": self.positions.get(loc, self.positions.get(("color",), (None,)))[0], "field": ".".join(loc)}
        what = f"{fg_name} text ({fg}) on {bg_name} ({bg}) has contrast {r:.2f}:1, below {minimum:g}:1"
        data = {"pair": pair, "foreground": fg, "background": bg, "ratio": round(r, 2)}
        if self._inks is None:
            self._inks = Inks.of(self.theme)
        sub = self._inks.substitute(fg_name, bg_name)
        if sub is None:
            return self.finding(
                "error",
                f"{what}; body text is never replaced, so nothing readable can be printed",
                hint=f"darken {blame} (or lighten the background) until the ratio reaches {minimum:g}:1",
                data=data,
                **at,
            )
        printed = (
            f"handouts and slides print it as {sub.colour}"
            if sub.what == "text"
            else f"handouts and slides lighten {bg_name} to {sub.colour} behind it"
        )
        data |= {"printed": sub.colour, "printed_as": sub.what, "printed_ratio": round(sub.ratio, 2)}
        if sub.ratio + 1e-9 < minimum:
            return self.finding(
                "error",
                f"{what}; {printed}, which reaches only {sub.ratio:.2f}:1",
                hint=f"darken {blame} until the ratio reaches {minimum:g}:1",
                data=data,
                **at,
            )
        return self.finding(
            "warning",
            f"{what}; {printed}",
            data=data,
            **at,
            hint=f"to print the brand colour itself, darken {blame} until the "
            f"ratio reaches {minimum:g}:1 (keep lighter colours for graphics)",
        )
