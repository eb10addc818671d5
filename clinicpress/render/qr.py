"""QR codes (segno): inline vector SVG for handouts, PNG for slides."""

from __future__ import annotations

import functools
import io

import segno
from markupsafe import Markup

QUIET_ZONE = 4
"""Light border around the code, in modules (the QR standard asks for 4)."""


@functools.lru_cache(maxsize=32)  # a practice's handouts and decks all print the same one or two codes
def qr_svg(url: str, *, dark: str = "#000000", light: str = "#ffffff", title: str | None = None) -> Markup:
    """Returns an inline SVG QR code for `url`; its <title> is the alt text of the PDF figure.

    The SVG has a viewBox and no fixed size, so CSS sets its printed size; the light
    background is drawn so the code scans on tinted boxes too.
    """
    qr = segno.make(url, error="m", micro=False)
    out = io.BytesIO()
    qr.save(
        out,
        kind="svg",
        xmldecl=False,
        svgns=True,
        nl=False,
        dark=dark,
        light=light,
        border=QUIET_ZONE,
        scale=1,
        title=title or f"QR code for {url}",
        svgclass="qr",
        lineclass=None,
        omitsize=True,
    )
    return Markup(out.getvalue().decode("utf-8"))


@functools.lru_cache(maxsize=32)
def qr_png(url: str, *, dark: str = "#000000", scale: int = 10) -> bytes:
    """Returns a PNG QR code for `url` (white background, quiet zone included)."""
    qr = segno.make(url, error="m", micro=False)
    out = io.BytesIO()
    qr.save(out, kind="png", dark=dark, light="#ffffff", border=QUIET_ZONE, scale=scale)
    return out.getvalue()
