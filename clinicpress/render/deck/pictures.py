"""Pictures on slides: SVG rasterised for PowerPoint, fitted uncropped into a placeholder or box,
and the practice logo."""

from __future__ import annotations

import functools
import io
import re
from pathlib import Path
from typing import TYPE_CHECKING

from .. import pptx_adapter as ad
from ..pictures import svg_markup
from .colours import text_colour
from .constants import EMU_PER_IN

if TYPE_CHECKING:
    from .layouts import Slots
    from .renderer import DeckRenderer


@functools.lru_cache(maxsize=32)
def svg_png(path: Path, stamp: tuple, width_px: int, roots: tuple[Path, ...]) -> bytes:
    """Rasterises an SVG file to a transparent PNG with WeasyPrint (SVG → PDF) and PDFium."""
    from ..handout import SafeFetcher

    w, h = svg_size(path.read_bytes())
    body = f'<img src="{path.as_uri()}" alt="" style="display: block; width: {w}px; height: {h}px">'
    return _png(body, w, h, width_px, base_url=str(path.parent), fetcher=SafeFetcher(list(roots)))


@functools.lru_cache(maxsize=64)
def markup_png(markup: str, width_px: int) -> bytes:
    """Rasterises inline SVG markup (a library picture, already recoloured and checked; it refers
    to nothing outside itself) to a transparent PNG `width_px` wide; the same markup gives the
    same bytes."""
    from ..handout import SafeFetcher

    w, h = svg_size(markup.encode("utf-8"))
    body = f'<div style="width: {w}px; height: {h}px">{markup}</div>'
    return _png(body, w, h, width_px, base_url=None, fetcher=SafeFetcher([]))


def _png(body: str, w: float, h: float, width_px: int, *, base_url: str | None, fetcher) -> bytes:
    """One page of `w` x `h` CSS pixels holding `body`, printed by WeasyPrint and drawn by PDFium."""
    import pypdfium2 as pdfium
    from weasyprint import HTML

    page = (
        f"<!doctype html><html><head><style>@page {{ size: {w}px {h}px; margin: 0 }} "
        f"html, body {{ margin: 0; padding: 0 }} svg {{ display: block; width: {w}px; height: {h}px }}"
        f"</style></head><body>{body}</body></html>"
    )
    pdf = HTML(string=page, base_url=base_url, url_fetcher=fetcher).write_pdf()
    doc = pdfium.PdfDocument(pdf)
    try:
        scale = width_px / (w * 0.75)
        bitmap = doc[0].render(scale=scale, fill_color=(255, 255, 255, 0))
        image = bitmap.to_pil()
        out = io.BytesIO()
        image.save(out, format="PNG")  # optimize=True took 50 ms an image for ~10% fewer bytes
        return out.getvalue()
    finally:
        doc.close()


def svg_size(data: bytes) -> tuple[float, float]:
    """Returns the intrinsic (width, height) of an SVG in CSS pixels (viewBox if no width/height)."""
    head = data[:4000].decode("utf-8", "replace")
    tag = re.search(r"<svg\b[^>]*>", head, re.DOTALL)
    attrs = tag.group(0) if tag else ""

    def num(name: str) -> float | None:
        m = re.search(rf'\s{name}="([\d.]+)(px)?"', attrs)
        return float(m.group(1)) if m else None

    w, h = num("width"), num("height")
    vb = re.search(r'viewBox="([-\d.\s,]+)"', attrs)
    if (w is None or h is None) and vb:
        parts = [float(p) for p in re.split(r"[\s,]+", vb.group(1).strip())]
        if len(parts) == 4:
            if w is None and h is None:
                w, h = parts[2], parts[3]
            elif h is not None:
                w = h * parts[2] / parts[3]
            elif w is not None:
                h = w * parts[3] / parts[2]
    return (w or 300.0, h or 150.0)


def image_size(data: bytes) -> tuple[int, int]:
    """Returns the (width, height) of a PNG or JPEG in pixels."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        return im.size


def fit_box(box: ad.Box, img_w: float, img_h: float, align: str = "center") -> ad.Box:
    """Returns the largest box of the image's aspect inside `box`, aligned left/center/right."""
    scale = min(box.w / img_w, box.h / img_h)
    w, h = int(img_w * scale), int(img_h * scale)
    y = box.y + (box.h - h) // 2
    x = box.x if align == "left" else box.right - w if align == "right" else box.x + (box.w - w) // 2
    return ad.Box(x, y, w, h)


def picture_bytes(r: DeckRenderer, path: Path, width_px: int, index: int | None, what: str) -> bytes | None:
    """PNG/JPEG bytes for a picture; SVG is rasterised. None (with a finding) if that fails."""
    if path.suffix.lower() != ".svg":
        return path.read_bytes()
    try:
        st = path.stat()
        return svg_png(
            path.resolve(), (st.st_mtime_ns, st.st_size), width_px, (r.root.resolve(), r.practice.root.resolve())
        )
    except Exception as exc:
        r.find(
            "deck.image",
            "warning",
            f"{what}: cannot rasterise SVG {path.name} for PowerPoint ({exc}); it is left out",
            index,
            hint="give a PNG version of the image",
        )
        return None


def place_picture(
    slide,
    pair,
    box: ad.Box | None,
    data: bytes,
    *,
    alt: str,
    name: str,
    align: str = "center",
    decorative: bool = False,
):
    """Puts a picture in a picture placeholder (kept, so it stays replaceable) or in a box, uncropped."""
    img_w, img_h = image_size(data)
    if pair is not None:
        ph, shape = pair
        area = box or ph.box
        pic = ad.insert_picture(shape, io.BytesIO(data))
        ad.uncrop(pic)
        ad.set_box(pic, fit_box(area, img_w, img_h, align))
    else:
        assert box is not None, "a picture without a placeholder needs a box"
        fitted = fit_box(box, img_w, img_h, align)
        pic = slide.shapes.add_picture(io.BytesIO(data), fitted.x, fitted.y, fitted.w, fitted.h)
    ad.set_shape_name(pic, name)
    ad.set_alt_text(pic, alt, decorative=decorative)
    return pic


LOGO_READABLE = 0.5
"""A logo reads on a band when at least this share of its visible pixels contrasts 3:1 with the
band (WCAG 1.4.11, non-text contrast). The shipped logos score 0.78-0.88 on the band they are
placed on and 0.09-0.21 on the other one (measured with `logo_contrast`); a logo in the band's
own colour scores 0."""


def logo(r: DeckRenderer, slide, slots: Slots, index: int | None, fallback: ad.Box) -> None:
    """Puts the practice logo in the layout's logo placeholder, or in `fallback`. Of the brand's
    light and dark variants, the first that reads on the band under it is used (the dark one
    first in a placeholder named for dark backgrounds, which sits on the primary colour); when
    neither reads, the better one is used and a warning names the logo and the band."""
    theme = r.practice.theme
    logo = theme.logo("large", "medium")
    pair = slots.picture("logo")
    if logo is None:
        if pair:
            ad.remove_shape(pair[1])
        return
    reverse = pair is not None and any(w in pair[0].name.casefold() for w in ("reverse", "dark"))
    band = r.scheme["accent1"] if reverse else r.scheme["lt1"]
    variants = [logo.dark, logo.light] if reverse else [logo.light, logo.dark]
    area = pair[0].box if pair else fallback
    width_px = max(600, int(area.w / EMU_PER_IN * 300))
    scored: list[tuple[float, Path, bytes]] = []
    for path in dict.fromkeys(v for v in variants if v is not None):
        data = picture_bytes(r, path, width_px, index, "logo")
        if data is None:
            continue
        scored.append((logo_contrast(data, band), path, data))
        if scored[-1][0] >= LOGO_READABLE:
            break
    if not scored:
        if pair:
            ad.remove_shape(pair[1])
        return
    share, path, data = next((s for s in scored if s[0] >= LOGO_READABLE), max(scored, key=lambda s: s[0]))
    if share < LOGO_READABLE and band not in r.logo_warned:
        r.logo_warned.add(band)
        names = " or ".join(p.name for _, p, _ in scored)
        r.find(
            "deck.logo_contrast",
            "warning",
            f"the logo ({names}) does not stand out on the {band} band it sits on: {share:.0%} of it "
            f"reaches 3:1 contrast (at least {LOGO_READABLE:.0%} should)",
            index,
            hint="add a logo variant for dark backgrounds (logo: large: dark:) or for light ones "
            "(light:) in _brand.yml, in colours that contrast with "
            + ("the primary colour" if reverse else "the background colour"),
            band=band,
            share=round(share, 2),
        )
    align = "left" if (area.x + area.w / 2) < r.W / 2 else "right"
    alt = logo.alt or r.word("deck_logo_alt", name=r.practice.info.name)
    place_picture(slide, pair, area, data, alt=alt, name="Logo", align=align)


@functools.lru_cache(maxsize=32)
def logo_contrast(data: bytes, band: str) -> float:
    """The share of a picture's visible pixels (alpha over half) that contrast at least 3:1 with
    the colour `band` (`#RRGGBB`), measured on a copy 160 pixels wide."""
    from PIL import Image

    from ...load.colour import contrast

    with Image.open(io.BytesIO(data)) as im:
        small = im.convert("RGBA")
        small.thumbnail((160, 160))
        counts = small.getcolors(small.width * small.height) or []
    seen = readable = 0
    for n, pixel in counts:
        red, green, blue, alpha = pixel  # type: ignore[misc]  # RGBA pixels are tuples
        if alpha < 128:
            continue
        seen += n
        if contrast(f"#{red:02X}{green:02X}{blue:02X}", band) >= 3.0:
            readable += n
    return readable / seen if seen else 0.0


PICTURE_DPI = 200
"""Pixels per inch of a library picture rasterised for a slide (crisp when projected and printed)."""


def library_png(r: DeckRenderer, name: str, width_in: float) -> bytes:
    """A library picture as a PNG in the practice's picture colour, `width_in` inches wide."""
    colour = text_colour(r, "accent1")
    if not colour.startswith("#"):
        colour = r.scheme["accent1"]
    markup = svg_markup(r.pictures.file(name, r.practice.templates_dir), colour.lower(), None, "picture")
    return markup_png(str(markup), max(300, int(width_in * PICTURE_DPI)))


def described(r: DeckRenderer, notes: str | None, alts: list[str]) -> str:
    """The speaker notes with a description of each picture the notes do not already give."""
    out = notes or ""
    for alt in alts:
        if alt.casefold() not in out.casefold():
            out = (out + "\n" if out else "") + r.word("deck_notes_image", alt=alt)
    return out
