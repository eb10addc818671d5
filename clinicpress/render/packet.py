"""A patient packet: one cover page for this patient, then the chosen handouts, as one tagged PDF.

Each part is laid out on its own (a WeasyPrint `Document`, so each handout keeps its own page
numbers), then the pages are combined and written once: WeasyPrint builds the structure tree,
the outline and the links while it writes, from the laid-out boxes of every page, so the
combined file is tagged (PDF/UA-1) exactly as each handout is, with one bookmark per handout.

The patient's words live only in memory: they are escaped by the sandboxed template, kept out
of the PDF's metadata (title, subject, keywords) and never logged.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..load.i18n import direction, html_lang, long_date, messages
from ..load.practice import PracticeContext, for_language
from ..load.script import script_of
from .handout.context import band_dark, css_variables, font_faces, html_classes, logo, qr_context, script_font_faces
from .handout.pdf import PDF_VARIANT, layout
from .handout.style import css_counter_content, css_str
from .handout.variants import Variant, page_setup
from .templating import Templates

COVER_TEMPLATE = "packet/cover.html.j2"

LIMITS = {"name": 120, "clinician": 120, "next_visit": 80, "note": 2000}
"""Most characters each typed field may hold (a note of 2,000 characters still fits the cover)."""

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")


@dataclass(frozen=True)
class Patient:
    """What the person at the desk typed for this patient. Kept in memory only; its repr never
    shows the text, so it cannot reach a log or a traceback."""

    name: str = ""
    note: str = ""
    next_visit: str = ""
    clinician: str = ""

    def __repr__(self) -> str:
        return "Patient(<not shown>)"

    @classmethod
    def typed(cls, **fields: str | None) -> Patient:
        """The fields as typed: control characters dropped, line ends made \\n, surrounding space trimmed."""
        clean = {}
        for key, value in fields.items():
            text = unicodedata.normalize("NFC", (value or "").replace("\r\n", "\n").replace("\r", "\n"))
            text = _CONTROL.sub("", text)
            if key != "note":
                text = " ".join(text.split())
            clean[key] = text.strip()
        return cls(**clean)

    def too_long(self) -> list[tuple[str, int]]:
        """The fields longer than their limit, with the limit."""
        return [(k, n) for k, n in LIMITS.items() if len(getattr(self, k)) > n]

    @property
    def note_paragraphs(self) -> list[str]:
        """The note split at blank lines (single line breaks stay inside a paragraph)."""
        return [p.strip("\n") for p in re.split(r"\n[ \t]*\n", self.note) if p.strip()]


@dataclass(frozen=True)
class Part:
    """One handout of the packet, as the cover lists it."""

    title: str
    draft: bool
    draft_line: str


def cover_html(
    practice: PracticeContext,
    variant: Variant,
    language: str,
    templates: Templates,
    patient: Patient,
    day: dt.date,
    parts: list[Part],
) -> str:
    """The cover page's HTML, in the practice's brand and `language`, for the packet's paper."""
    root = templates.root
    info = for_language(practice.info, language)
    t = messages(root, language, practice.templates_dir)

    def url(path: Path) -> str:
        return Path(os.path.relpath(path.resolve(), root.resolve())).as_posix()

    paper = variant.paper or info.paper
    the_logo = logo(practice, url)
    dark = band_dark(practice, the_logo)
    if the_logo is not None:
        the_logo["band_uri"] = the_logo["dark_uri"] if dark and the_logo["dark_uri"] else the_logo["uri"]
    return templates.render(
        COVER_TEMPLATE,
        practice.templates_dir,
        practice=info,
        theme=practice.theme,
        logo=the_logo,
        t=t,
        lang=language,
        locale=html_lang(language, info.country),
        dir=direction(language),
        patient=patient,
        items=parts,
        date_iso=day.isoformat(),
        date_long=long_date(day, language, info.country),
        emergency_line=t.fmt("emergency", number=practice.lines.emergency),
        page=page_setup(paper, variant),
        page_counter=css_counter_content(t.page_x_of_y),
        html_classes=html_classes(paper, 1, variant, dark),
        css_vars=css_variables(practice.theme, dark, tuple(f.family for f in script_of(language, root).fonts)),
        css_str=css_str,
        font_faces=font_faces(practice, url) + script_font_faces([language], root, url),
        default_fonts_uri=url(root / "templates" / "handout" / "fonts"),
        **qr_context(practice, t),
    )


def layout_cover(html: str, root: Path) -> Any:
    """Lays out the cover (files only from the project, as a handout)."""
    return layout(html, base_url=root, root=root, source_path=COVER_TEMPLATE)


def combine(parts: list[Any], *, title: str, author: str, language: str, day: dt.date, t) -> bytes:
    """Writes laid-out documents as one tagged PDF/UA-1 file, in order.

    Each document keeps its page numbers and bookmarks; anchors are renamed per document so a
    handout's citation links still reach its own references. `title`, `author`, `language`
    and `day` are the file's metadata: the only metadata it has.
    """
    from weasyprint.document import DocumentMetadata

    from .handout.tags import finish_tags, tag_languages

    tag_languages()
    pages = []
    for index, document in enumerate(parts):
        for page in document.pages:
            own = copy.copy(page)  # the cached document's pages stay as they were
            own.anchors = {f"p{index}-{name}": value for name, value in page.anchors.items()}
            own.links = [
                (kind, f"p{index}-{target}" if kind == "internal" else target, *rest)
                for kind, target, *rest in page.links
            ]
            pages.append(own)
    packet = parts[0].copy(pages)
    stamp = f"{day.isoformat()}T00:00:00Z"
    packet.metadata = DocumentMetadata(title=title, authors=[author], lang=language, created=stamp, modified=stamp)
    return packet.write_pdf(
        pdf_variant=PDF_VARIANT,
        uncompressed_pdf=False,
        custom_metadata=False,
        finisher=functools.partial(finish_tags, t=t),
    )
