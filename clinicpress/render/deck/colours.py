"""Theme colours from the brand, and the readable colour text in each theme slot is printed in."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pptx.dml.color import RGBColor

from ...load.colour import Inks, to_hex
from .. import pptx_adapter as ad

if TYPE_CHECKING:
    from .renderer import DeckRenderer


def brand_scheme(theme, inks: Inks) -> dict[str, str]:
    """Theme colours from the brand. Fills keep the brand colours (accent1 = primary for bands,
    bars and rules); the slots only text uses get readable colours (`colour.Inks`): dk2
    (titles, quotations), hlink and folHlink (links). lt2 is the tertiary tint, lightened if
    body text (dk1) on it would be unreadable (footer band, table stripes)."""
    c = theme.colors
    heading = theme.heading_color or c["dark"]
    return {
        "dk1": c["foreground"],
        "lt1": c["background"],
        "dk2": inks.text(heading, on="background"),
        "lt2": inks.surfaces["tertiary"],
        "accent1": c["primary"],
        "accent2": c["secondary"],
        "accent3": c["info"],
        "accent4": c["success"],
        "accent5": c["warning"],
        "accent6": c["danger"],
        "hlink": inks.text("info", on="background"),
        "folHlink": inks.text("secondary", on="background"),
    }


def text_colour(r: DeckRenderer, slot: str) -> str:
    """The colour text in theme slot `slot` is printed in: the slot itself when the brand colour
    is readable where that text sits, else a readable colour as `#RRGGBB`.

    Accent text sits on the slide background; background-coloured text (bg1/lt1) sits on the
    primary colour (title, section and closing bands, table headers, the slide number).
    """
    slot = {"tx1": "dk1", "bg1": "lt1", "tx2": "dk2", "bg2": "lt2"}.get(slot, slot)
    brand = r.scheme.get(slot)
    if brand is None:
        return slot
    if slot.startswith("accent"):
        printed = r.inks.text(brand, on="background")
    elif slot == "lt1":
        printed = r.inks.text("background", on="primary")
    else:
        return slot  # dk1 is body text (never substituted); dk2, lt2 and the links are readable already
    return slot if printed == to_hex(brand) else printed


def readable_master_text(r: DeckRenderer) -> None:
    """Text the masters and layouts colour with a theme slot whose brand colour is not
    readable where it sits (e.g. a pale primary for big numbers and column headings, white on
    a pale band) gets the readable colour of `text_colour` written in instead. Fills, lines
    and bullets other than numbers keep the theme references."""
    ad.recolour_master_text(r.prs, lambda slot: text_colour(r, slot))


def colour_run(r: DeckRenderer, run, slot: str) -> None:
    """Colours a run with theme slot `slot`, or with the readable colour that replaces it."""
    printed = text_colour(r, slot)
    if printed.startswith("#"):
        run.font.color.rgb = RGBColor.from_string(printed.lstrip("#"))
    else:
        ad.run_color_theme(run, slot)
