"""QR codes (segno): inline vector SVG for handouts, PNG for slides."""
from __future__ import annotations

import io

import segno
from markupsafe import Markup


def qr_svg(url: str, *, dark: str = "#000000", title: str | None = None) -> Markup:
    """Returns an inline SVG QR code for `url` with an accessible title."""
    qr = segno.make(url, error="m", micro=False)
    out = io.BytesIO()
    qr.save(out, kind="svg", xmldecl=False, svgns=True, nl=False, dark=dark, light=None, border=2,
            scale=1, title=title or f"QR code for {url}", svgclass="qr", lineclass=None, omitsize=True)
    return Markup(out.getvalue().decode("utf-8"))


def qr_png(url: str, *, dark: str = "#000000", scale: int = 10) -> bytes:
    """Returns a PNG QR code for `url` (white background, quiet zone included)."""
    qr = segno.make(url, error="m", micro=False)
    out = io.BytesIO()
    qr.save(out, kind="png", dark=dark, light="#ffffff", border=4, scale=scale)
    return out.getvalue()
