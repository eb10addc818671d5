"""Handout + practice → HTML (Jinja2) → tagged PDF/UA-1 (WeasyPrint).

The HTML written next to each PDF is the same document the PDF is made from, so a
designer can open it in a browser. WeasyPrint reads files only through `SafeFetcher`,
which refuses anything outside the project folder and every network scheme.
"""
from __future__ import annotations

import datetime as dt
import functools
import html as html_lib
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from .. import schema
from ..citations import Bibliography, Numbering
from ..errors import BuildError, Problem
from ..i18n import long_date, messages
from ..practice import PracticeContext
from ..templating import Templates

TEMPLATE = "handout/handout.html.j2"
STYLESHEET = "handout/handout.css"
PDF_VARIANT = "pdf/ua-1"


@dataclass(frozen=True)
class Variant:
    """Print options for one handout build."""

    name: str = "standard"
    """standard, large-print or print-shop; becomes part of the output file name."""
    paper: str | None = None
    """letter or a4; None means the practice's setting."""
    columns: int | None = None
    """1 or 2; None means the practice's setting (large print is always 1)."""
    large_print: bool = False
    bleed: bool = False

    @property
    def suffix(self) -> str:
        return "" if self.name == "standard" else f".{self.name}"


VARIANTS = {
    "standard": Variant(),
    "large-print": Variant("large-print", columns=1, large_print=True),
    "print-shop": Variant("print-shop", bleed=True),
}


class SafeFetcher:
    """URL fetcher that reads only files under the allowed roots; no network, no data: URLs."""

    def __init__(self, roots: list[Path]):
        import weasyprint.urls

        self._urls = weasyprint.urls
        self.roots = [r.resolve() for r in roots]
        self.refused: list[str] = []

    def __call__(self, url: str, headers=None):
        return self.fetch(url, headers)

    def fetch(self, url: str, headers=None):
        urls = self._urls
        parsed = urlparse(url)
        if parsed.scheme != "file":
            return self._refuse(url, f"scheme {parsed.scheme or '(none)'}: is not allowed")
        path = Path(unquote(parsed.path))
        try:
            real = path.resolve(strict=True)
        except (OSError, RuntimeError):
            return self._refuse(url, "file not found")
        if not any(real.is_relative_to(root) for root in self.roots):
            return self._refuse(url, "file is outside the project folder")
        if not real.is_file():
            return self._refuse(url, "not a regular file")
        return urls.URLFetcherResponse(real.as_uri(), body=real.read_bytes(), headers={})

    def _refuse(self, url: str, why: str):
        self.refused.append(f"{url[:120]} ({why})")
        raise self._urls.FatalURLFetchingError(f"refused {url[:120]}: {why}")


@functools.cache
def _font_config():
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


def handout_context(handout: schema.Handout, practice: PracticeContext, bib: Bibliography,
                    variant: Variant, root: Path, content_dir: Path, out_dir: Path) -> dict:
    """Returns everything the handout template receives (documented in templates/README.md).

    File URLs are relative to `out_dir`, where the HTML is written next to the PDF, so the
    HTML opens in a browser from the output folder and the PDF is made from the same text.
    """

    def url(path: Path) -> str:
        return Path(os.path.relpath(path.resolve(), out_dir.resolve())).as_posix()

    info = practice.info
    t = messages(root, handout.language, practice.templates_dir)
    reviewer = info.reviewer or handout.reviewed.by
    from ..qr import qr_svg

    return {
        "handout": handout,
        "practice": info,
        "theme": practice.theme,
        "logo": _logo(practice, url),
        "t": t,
        "lang": handout.language,
        "locale": f"{handout.language}-{info.country}",
        "numbering": Numbering(bib),
        "reviewed_line": t.fmt("last_reviewed", date=long_date(handout.reviewed.date, handout.language, info.country),
                               name=reviewer),
        "reviewed_iso": handout.reviewed.date.isoformat(),
        "emergency_line": t.fmt("emergency", number=info.emergency_number),
        "qr_svg": qr_svg(practice.qr_url, dark=practice.theme.colors["foreground"]),
        "qr_url": practice.qr_url,
        "qr_label": practice.qr_url.removeprefix("https://").rstrip("/"),
        "paper": (variant.paper or info.paper),
        "columns": 1 if variant.large_print else (variant.columns or info.columns),
        "variant": variant,
        "figure_uri": lambda src: url(content_dir / src),
        "font_faces": [
            {"family": f.family, "uri": url(f.path), "weight": f.weight, "style": f.style}
            for f in practice.theme.fonts
        ],
        "default_fonts_uri": url(root / "templates" / "handout" / "fonts"),
    }


def _logo(practice: PracticeContext, url) -> dict | None:
    logo = practice.theme.logo("medium", "large")
    if logo is None:
        return None
    return {"uri": url(logo.light), "alt": logo.alt or f"{practice.info.name} logo"}


def render_html(handout: schema.Handout, practice: PracticeContext, bib: Bibliography, variant: Variant,
                templates: Templates, content_dir: Path, out_dir: Path) -> str:
    """Renders the handout's HTML (the same document the PDF is made from)."""
    ctx = handout_context(handout, practice, bib, variant, templates.root, content_dir, out_dir)
    return templates.render(TEMPLATE, practice.templates_dir, **ctx)


def render_pdf(html: str, *, base_url: Path, root: Path, practice: PracticeContext, reviewed: dt.date,
               source_path: str) -> bytes:
    """Turns the handout HTML into a tagged PDF/UA-1 document with fixed dates."""
    import weasyprint

    fetcher = SafeFetcher([root])
    document = weasyprint.HTML(string=html, base_url=str(base_url.resolve()) + os.sep, url_fetcher=fetcher)
    try:
        pdf = document.write_pdf(
            pdf_variant=PDF_VARIANT,
            font_config=_font_config(),
            uncompressed_pdf=False,
            custom_metadata=False,
        )
    except BaseException as exc:  # FatalURLFetchingError derives from BaseException
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        if fetcher.refused:
            raise BuildError(Problem(source_path, message=f"a resource was refused: {fetcher.refused[0]}",
                                     hint="images, fonts and styles must be files inside the project")) from None
        raise
    return pdf


def escape(text: str) -> str:
    return html_lib.escape(text, quote=True)
