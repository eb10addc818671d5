"""Colour maths and the one text-readability rule the renderers and the contrast check share.

- `parse`, `to_hex`, `luminance`, `contrast`: WCAG 2.x relative luminance and contrast ratio of
  sRGB colours written `#RGB` or `#RRGGBB` (the form `practice.py` normalises every brand
  colour to).
- `readable_on(background, *candidates)`: the first candidate with at least 4.5:1 on the
  background (or on every one of several backgrounds), else the best of the candidates and
  black and white.
- `Inks`: what the handout and the deck actually print for a theme. Brand colours are used as
  they are wherever they are readable; a text colour below 4.5:1 is replaced by the first of
  (itself, `dark`, `foreground`, `background`) that is readable on what it is printed on.
  Body text (`foreground` on `background`) is never substituted; a tint (`tertiary`, `light`)
  that body text would be unreadable on is mixed towards `background` until it is readable.
  `Inks.substitute` tells the contrast check, for one text/background pair, what the
  renderers print instead of a failing brand pair.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

TEXT_MIN = 4.5
"""WCAG 2.x AA for normal-size text: the renderers never print text below this ratio."""
BLACK = "#000000"
WHITE = "#FFFFFF"
PAGE_SURFACES = ("background", "tertiary", "light")
"""Brand colours the handout prints running text on: the page and its two tints."""
TINTS = ("tertiary", "light")
FALLBACKS = ("dark", "foreground", "background")
"""Candidates tried, in order, after a text colour that is not readable."""

_HEX_RE = re.compile(r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")


def parse(colour: str) -> tuple[int, int, int]:
    """`#abc`, `#aabbcc` (the `#` optional) → (r, g, b) in 0-255; ValueError for anything else."""
    m = _HEX_RE.match(colour.strip()) if isinstance(colour, str) else None
    if not m:
        raise ValueError(f"not a hex colour: {colour!r}")
    h = m.group(1)
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def is_colour(value: object) -> bool:
    """True when `value` is a hex colour `parse` accepts."""
    return isinstance(value, str) and _HEX_RE.match(value.strip()) is not None


def to_hex(colour: str) -> str:
    """Returns a colour as `#RRGGBB` (upper case, as `practice.py` writes brand colours)."""
    return "#" + "".join(f"{c:02X}" for c in parse(colour))


def luminance(colour: str) -> float:
    """WCAG 2.x relative luminance of an sRGB colour (0 black to 1 white)."""

    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = parse(colour)
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    """WCAG 2.x contrast ratio between two colours (1 to 21; order does not matter)."""
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def _backgrounds(background: str | Iterable[str]) -> tuple[str, ...]:
    return (background,) if isinstance(background, str) else tuple(background)


def worst_contrast(text: str, background: str | Iterable[str]) -> float:
    """The lowest contrast of `text` on any of the backgrounds."""
    return min(contrast(text, b) for b in _backgrounds(background))


def readable_on(background: str | Iterable[str], *candidates: str, minimum: float = TEXT_MIN) -> str:
    """Returns the first candidate with at least `minimum` contrast on `background` (on every one,
    when several are given), as `#RRGGBB`; if none reaches it, the best of the candidates and
    black and white."""
    backs = _backgrounds(background)
    for c in candidates:
        if worst_contrast(c, backs) + 1e-9 >= minimum:
            return to_hex(c)
    return to_hex(max((*candidates, BLACK, WHITE), key=lambda c: worst_contrast(c, backs)))


def mix(a: str, b: str, amount: float) -> str:
    """`a` moved `amount` (0 to 1) of the way towards `b`, as `#RRGGBB`."""
    return "#" + "".join(f"{round(x + (y - x) * amount):02X}" for x, y in zip(parse(a), parse(b), strict=True))


def legible_surface(surface: str, text: str, towards: str, minimum: float = TEXT_MIN) -> str:
    """Returns `surface`, or the least mix of it towards `towards` on which `text` is readable
    (`towards` itself when no mix is)."""
    if contrast(text, surface) + 1e-9 >= minimum:
        return to_hex(surface)
    for step in range(1, 21):
        candidate = mix(surface, towards, step / 20)
        if contrast(text, candidate) + 1e-9 >= minimum:
            return candidate
    return to_hex(towards)


# --------------------------------------------------------------------------- a theme's inks
@dataclass(frozen=True)
class Substitute:
    """How the renderers print a text/background pair whose brand colours fail."""

    what: str
    """"text" (the text colour is replaced) or "surface" (the background tint is lightened)."""
    colour: str
    """The colour printed instead (`#RRGGBB`)."""
    ratio: float
    """The contrast of what is printed."""


class Inks:
    """The colours the renderers print for a theme: brand colours where readable, else substitutes.

    `colors` are the theme colours by brand.yml name (foreground, background, primary, ...);
    `heading` is `typography.headings.color` (None: primary). Every renderer asks this class,
    so handouts, slides and the contrast check agree on what is printed.
    """

    def __init__(self, colors: Mapping[str, str], heading: str | None = None, minimum: float = TEXT_MIN):
        self.minimum = minimum
        self.brand = {name: to_hex(value) for name, value in colors.items()}
        self.brand["heading"] = to_hex(heading) if heading else self.brand["primary"]
        fg, bg = self.brand["foreground"], self.brand["background"]
        self.surfaces = {"background": bg}
        for name in TINTS:
            self.surfaces[name] = legible_surface(self.brand[name], fg, bg, minimum)

    @classmethod
    def of(cls, theme) -> "Inks":
        """The inks of a `practice.Theme`."""
        return cls(theme.colors, theme.heading_color)

    def colour(self, name_or_colour: str) -> str:
        """A printed surface or brand colour by name, or a colour given as hex."""
        if name_or_colour in self.surfaces:
            return self.surfaces[name_or_colour]
        if name_or_colour in self.brand:
            return self.brand[name_or_colour]
        return to_hex(name_or_colour)

    def text(self, name: str, on: str | Iterable[str] = PAGE_SURFACES) -> str:
        """The colour printed for brand colour `name` used as text on `on` (surface or brand
        names, or hex colours; several: readable on every one).

        `name` may also be a hex colour. Body text (foreground on the page and its tints) is
        always the brand foreground: the tints are adjusted for it instead.
        """
        on = (on,) if isinstance(on, str) else tuple(on)
        fg = self.brand["foreground"]
        if name == "foreground" and all(o in PAGE_SURFACES for o in on):
            return fg
        wanted = self.brand[name] if name in self.brand else to_hex(name)
        fallbacks = [self.brand[f] for f in FALLBACKS]
        return readable_on([self.colour(o) for o in on], wanted, *fallbacks, minimum=self.minimum)

    def substitute(self, text_name: str, background_name: str) -> Substitute | None:
        """What the renderers print for this pair instead of its brand colours; None for body
        text on the page (never substituted)."""
        if text_name == "foreground" and background_name == "background":
            return None
        if text_name == "foreground" and background_name in TINTS:
            surface = self.surfaces[background_name]
            return Substitute("surface", surface, contrast(self.brand["foreground"], surface))
        colour = self.text(text_name, on=background_name)
        return Substitute("text", colour, contrast(colour, self.colour(background_name)))
