"""The resolved look of a practice: colours, fonts, logos and type sizes (a Theme).

`clinicpress.load.brand` makes a Theme from `_brand.yml`; the renderers read it. The
defaults here are what a practice without `_brand.yml` gets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

FONT_SUFFIXES = (".ttf", ".otf", ".woff", ".woff2")
FONT_MAGIC = (b"\x00\x01\x00\x00", b"OTTO", b"true", b"wOFF", b"wOF2")
IMAGE_SUFFIXES = (".svg", ".png", ".jpg", ".jpeg")
DEFAULT_FONT = "Atkinson Hyperlegible"
"""Bundled in templates/handout/fonts/; the fallback for every family that cannot be used."""

BASE_SIZE_PT = 12.0
"""Handout body size when `typography.base.size` is not given (standards: at least 12 pt)."""
MAX_BASE_SIZE_PT = 16.0
"""Largest body size taken from a brand; larger print is the large-print variant's job."""
MIN_LINE_HEIGHT = 1.5

DEFAULT_COLORS = {
    "foreground": "#1F2933",
    "background": "#FFFFFF",
    "primary": "#1D4E89",
    "secondary": "#52606D",
    "tertiary": "#E4ECF5",
    "success": "#2F7D32",
    "info": "#0B6E99",
    "warning": "#8A5A00",
    "danger": "#B3261E",
    "light": "#F5F7FA",
    "dark": "#1F2933",
}


@dataclass(frozen=True)
class FontFile:
    """One local font file of a family."""

    family: str
    path: Path
    weight: int | str = 400
    style: str = "normal"


@dataclass(frozen=True)
class Logo:
    """A logo image, with an optional variant for dark backgrounds."""

    light: Path
    dark: Path | None = None
    alt: str | None = None


@dataclass(frozen=True)
class Theme:
    """Everything visual a renderer needs, resolved from `_brand.yml` with defaults."""

    colors: dict[str, str]
    """Theme colours by brand.yml name (foreground, background, primary, ...), each `#RRGGBB`."""
    base_family: str = DEFAULT_FONT
    heading_family: str = DEFAULT_FONT
    heading_weight: int | str = 700
    heading_color: str | None = None
    """`#RRGGBB` from `typography.headings.color`; None means use `primary`."""
    line_height: float = MIN_LINE_HEIGHT
    fonts: tuple[FontFile, ...] = ()
    logos: dict[str, Logo] = field(default_factory=dict)
    """Logos by size: small, medium, large (each may be missing)."""
    base_size_pt: float = BASE_SIZE_PT
    """Body text size in points from `typography.base.size` (12 to 16 pt)."""
    palette: dict[str, str] = field(default_factory=dict)
    """`color.palette` entries as `#RRGGBB`, in file order (for charts and deck accents)."""

    def logo(self, *sizes: str) -> Logo | None:
        """Returns the first logo found among `sizes` (then any size)."""
        for size in (*sizes, "large", "medium", "small"):
            if size in self.logos:
                return self.logos[size]
        return None


# --------------------------------------------------------------------------- colours
def parse_color(value: object) -> tuple[str, float] | None:
    """Returns (`#RRGGBB`, alpha) for any CSS colour (hex, name, rgb(), hsl()); None if invalid."""
    if not isinstance(value, str):
        return None
    import tinycss2.color3

    rgba = tinycss2.color3.parse_color(value.strip())
    if rgba is None or isinstance(rgba, str):  # None, or the keyword "currentColor"
        return None
    hexa = "#" + "".join(f"{round(c * 255):02X}" for c in (rgba.red, rgba.green, rgba.blue))
    return hexa, rgba.alpha


def over_white(hex_color: str, alpha: float) -> str:
    """Composites a translucent colour over white paper."""
    h = hex_color.lstrip("#")
    rgb = [int(h[i : i + 2], 16) for i in (0, 2, 4)]
    return "#" + "".join(f"{round(c * alpha + 255 * (1 - alpha)):02X}" for c in rgb)
