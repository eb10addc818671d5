"""The renderer: opens the master and empties it, restyles its theme from the brand, builds
one slide per planned slide through `BUILDERS`, sets the file properties and returns bytes
that are the same for the same input."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path

from ...errors import Finding, rel
from ...load import schema
from ...load.approvals import SignOff, unapproved
from ...load.citations import Bibliography, Numbering
from ...load.colour import Inks
from ...load.config import Severity
from ...load.pictures import load_pictures
from ...load.practice import PracticeContext
from ...load.project import Source
from ...load.script import script_of
from ...load.theme import DEFAULT_FONT
from .. import pptx_adapter as ad
from . import slides_data, slides_pictures, slides_refs, slides_text
from .colours import brand_scheme, readable_master_text
from .constants import DECK_TEMPLATES, DEFAULT_MASTER, EMU_PER_IN, LAYOUT_MAP, MIN_BODY_PT
from .layouts import layout_spec
from .text import FontBook, Run, inline_runs

# Built-in words the message catalogues (templates/i18n) do not have yet; a catalogue key of
# the same name wins.
BUILTIN = {
    "en": {
        "deck_notes_title": "Welcome everyone and introduce the talk: {title}.",
        "deck_notes_references": "These are the sources for the facts in this talk, numbered in the order "
        "they appear on the slides.",
        "deck_notes_closing": "Thank everyone for coming and invite questions. The practice's contact "
        "details and a QR code for booking are on this slide.",
        "deck_notes_image": "The picture shows: {alt}",
        "deck_qr_alt": "QR code linking to {url}",
        "deck_logo_alt": "{name} logo",
    },
    "es": {
        "deck_notes_title": "Dé la bienvenida y presente la charla: {title}.",
        "deck_notes_references": "Estas son las fuentes de los datos de esta charla, numeradas en el orden "
        "en que aparecen en las diapositivas.",
        "deck_notes_closing": "Agradezca la asistencia e invite a hacer preguntas. Los datos de contacto "
        "y un código QR para pedir cita están en esta diapositiva.",
        "deck_notes_image": "La imagen muestra: {alt}",
        "deck_qr_alt": "Código QR que enlaza a {url}",
        "deck_logo_alt": "Logotipo de {name}",
    },
    # Drafts, like the catalogues: to be checked by a qualified translator.
    "ar": {
        "deck_notes_title": "رحّب بالحضور وقدّم المحاضرة: {title}.",
        "deck_notes_references": "هذه مصادر المعلومات في هذه المحاضرة، مرقّمة بترتيب ظهورها في الشرائح.",
        "deck_notes_closing": "اشكر الحضور وادعُهم إلى طرح الأسئلة. بيانات التواصل مع العيادة ورمز QR "
        "لحجز موعد موجودة في هذه الشريحة.",
        "deck_notes_image": "تُظهر الصورة: {alt}",
        "deck_qr_alt": "رمز QR يفتح {url}",
        "deck_logo_alt": "شعار {name}",
    },
    "zh-Hans": {
        "deck_notes_title": "欢迎大家，并介绍本次讲座：{title}。",
        "deck_notes_references": "这些是本次讲座中信息的来源，按在幻灯片中出现的顺序编号。",
        "deck_notes_closing": "感谢大家的到来，并请大家提问。诊所的联系方式和预约二维码在这张幻灯片上。",
        "deck_notes_image": "图片内容：{alt}",
        "deck_qr_alt": "打开 {url} 的二维码",
        "deck_logo_alt": "{name} 标志",
    },
}


Builder = Callable[["DeckRenderer", "int | None", "schema.Slide | None"], None]
"""Builds one slide: (renderer, index of the YAML slide or None for an added one, the YAML slide or None)."""

BUILDERS: dict[str, Builder] = {
    "title": slides_text.build_title,
    "section": slides_text.build_section,
    "bullets": slides_text.build_bullets,
    "two_column": slides_text.build_two_column,
    "big_number": slides_text.build_big_number,
    "quote": slides_text.build_quote,
    "closing": slides_text.build_closing,
    "image": slides_data.build_image,
    "diagram": slides_pictures.build_diagram,
    "icon_row": slides_pictures.build_icon_row,
    "chart": slides_data.build_chart,
    "table": slides_data.build_table,
    "references": slides_refs.build_references,
}
"""Slide kind (a YAML slide's `layout`) → the function that builds that kind of slide."""


def builder_for(kind: str) -> Builder:
    """Returns the builder of a slide kind; an unknown kind is a ValueError that lists the known ones."""
    try:
        return BUILDERS[kind]
    except KeyError:
        raise ValueError(
            f"unknown slide kind {kind!r}: no slide builder for it (known kinds: {', '.join(sorted(BUILDERS))})"
        ) from None


def render_deck(
    src: Source, practice: PracticeContext, bib: Bibliography, root: Path, *, signoff: SignOff | None = None
) -> tuple[bytes, list[Finding]]:
    """Builds the deck of `src` (a loaded deck) and returns the PPTX bytes and any findings (overflow,
    approximated layouts), which point at the lines of the deck's YAML. `signoff` is the
    practice's approval of this text (None: a draft); the file's status property follows it.

    A practice's master is untrusted: one python-pptx cannot make sense of (a required element
    missing, a relationship it expects absent) is an error naming the master, not a crash.
    Errors raised in ClinicPress's own code, or on the default master, stay bugs.
    """
    try:
        return DeckRenderer(src, practice, bib, root, signoff).render()
    except Exception as exc:
        if practice.master is None or not _raised_in_library(exc):
            raise
        from ...errors import BuildError, Problem, rel

        raise BuildError(
            Problem(
                rel(practice.master, root),
                message=f"the deck master cannot be used for {rel(src.path, root)}: "
                f"{type(exc).__name__}: {str(exc)[:160]}",
                hint="open the master in PowerPoint or LibreOffice and save it again as .pptx or .potx, "
                "or remove deck_master from practice.yml to use the default",
            )
        ) from None


def _raised_in_library(exc: BaseException) -> bool:
    """True if the innermost frame of the traceback is in python-pptx or lxml (it choked on the file)."""
    tb = exc.__traceback__
    last = None
    while tb is not None:
        last = tb.tb_frame.f_code.co_filename
        tb = tb.tb_next
    return last is not None and any(f"{os.sep}{lib}{os.sep}" in last for lib in ("pptx", "lxml"))


class DeckRenderer:
    """One deck for one practice: the state the slide builders share."""

    def __init__(
        self, src: Source, practice: PracticeContext, bib: Bibliography, root: Path, signoff: SignOff | None = None
    ):
        from ...load.i18n import html_lang, messages
        from ...load.spelling import spelling_for

        deck = src.model
        spelling = spelling_for(Path(root), deck.language, practice.info.country)
        if spelling is not None:  # e.g. UK spelling for a practice in GB
            deck = spelling.respell_model(deck, keep=(practice.info.name,))
        self.deck, self.practice, self.bib, self.root = deck, practice, bib, Path(root)
        self.source_path = rel(src.path, self.root)
        self.findings: list[Finding] = []
        self.numbering = Numbering(bib)
        self.lang = html_lang(deck.language, practice.info.country)
        self.t = messages(self.root, deck.language, practice.templates_dir)
        self.positions = src.positions
        self.signoff = signoff or unapproved(practice.info.name)
        self.templates = self.root / "templates" / "deck"
        if not (self.templates / LAYOUT_MAP).is_file():
            self.templates = DECK_TEMPLATES
        self.spec = layout_spec(self.templates / LAYOUT_MAP)
        self.layout_cache: dict[str, tuple[object, bool]] = {}
        self.placeholder_cache: dict[object, list] = {}
        """Each layout's placeholders (`layouts.placeholders_of`), read once per deck, not per slide."""
        self.inherited_boxes: dict[tuple, tuple] = {}
        """(layout part, idx) -> what a slide placeholder inherits: left, top, width, height (fit.empty_share)."""
        self.notes_model: dict = {}
        """The first notes page, copied for the others (`ad.notes_slide`)."""
        self.slide_models: dict = {}
        """Layout part -> the placeholders a new slide of it starts with (`ad.add_slide`)."""
        self.titles: dict[str, int] = {}
        self.size_warned: set[str] = set()
        self.logo_warned: set[str] = set()
        self.notes_count = 0
        self.inherited: dict = {}
        """(layout placeholder element, level) -> the TextStyle it passes on; read once per render."""
        self.pictures = load_pictures(self.root)[0]
        """The picture library (icons and diagrams); its files were checked when the project loaded."""
        self.text_need: dict[tuple[int, int], float] = {}
        """(slide number, shape id) -> the height its text needs, in points (the empty-space check)."""
        self.line_counts: dict = {}
        """Measured paragraphs -> lines (pagination measures the same paragraphs again and again)."""

    # ----------------------------------------------------------------- helpers
    def line(self, index: int | None, *loc) -> int | None:
        """Returns the YAML line of slide `index` (its field `loc` if it has a line, else the slide's)."""
        if index is None:
            return None
        for n in range(len(loc), -1, -1):
            key = ("slides", index, *loc[:n])
            if key in self.positions:
                return self.positions[key][0]
        return None

    def find(
        self,
        check: str,
        severity: Severity,
        message: str,
        index: int | None = None,
        field_: str | None = None,
        hint: str | None = None,
        loc: tuple = (),
        **data,
    ) -> None:
        """Records a finding about slide `index` (or the deck), with its YAML line."""
        fld = field_ or (f"slides[{index}]" if index is not None else None)
        self.findings.append(
            Finding(check, severity, message, self.source_path, self.line(index, *loc), fld, hint, data)
        )

    def word(self, key: str, **values) -> str:
        """Returns a message in the deck's language (catalogue first, then the built-in words)."""
        text = self.t.get(key) or BUILTIN.get(self.deck.language, BUILTIN["en"]).get(key) or BUILTIN["en"][key]
        return text.format(**values) if values else text

    def emu(self, inches: float) -> int:
        """Returns `inches` in EMU."""
        return int(inches * EMU_PER_IN)

    def runs(self, text: str | None) -> list[Run]:
        """Returns inline Markdown as runs, citations numbered in this deck's order."""
        return inline_runs(text or "", self.numbering)

    # ----------------------------------------------------------------- build
    def render(self) -> tuple[bytes, list[Finding]]:
        """Builds every planned slide on the emptied master; returns the PPTX bytes and the findings."""
        self.prs = self._open_master()
        self._pick_masters()
        for master in self.prs.slide_masters:  # the accessibility check names the master and the sizes
            ad.raise_body_text(master, MIN_BODY_PT)
        ad.remove_all_slides(self.prs)
        ad.drop_thumbnail(self.prs)
        ad.index_image_parts(self.prs)
        theme = self.practice.theme
        self.book = FontBook(self.practice, theme.heading_family, theme.base_family)
        self.major, self.minor = (self._travelling(theme.heading_family), self._travelling(theme.base_family))
        self.book.major, self.book.minor = self.major, self.minor
        self.inks = Inks.of(theme)
        self.scheme = brand_scheme(theme, self.inks)
        ad.apply_theme(self.prs, self.scheme, self.major, self.minor, self.practice.info.name)
        readable_master_text(self)
        self.W, self.H = int(self.prs.slide_width), int(self.prs.slide_height)

        for kind, index, sl in self._plan():
            builder_for(kind)(self, index, sl)
        script = script_of(self.deck.language, self.root)
        if script.direction == "rtl":  # Arabic: every paragraph right to left, drawn in the script's font
            ad.set_right_to_left(self.prs, self.lang, script.fonts[0].family if script.fonts else DEFAULT_FONT)

        self._properties()
        ad.embed_fonts(self.prs, self.book.faces(self.major, self.minor))
        data = ad.package_bytes(self.prs, self.deck.reviewed.date)
        self._verify(data)
        return data, self.findings

    def _travelling(self, family: str) -> str:
        """Returns `family` if every file of it may be embedded (OS/2 fsType); else warns and returns
        the bundled font, which may, so that the text is laid out for the font the deck carries."""
        for path in self.book.paths(family):
            allowed = ad.embedding_permission(path)
            if not allowed.allowed:
                self.find(
                    "deck.font_embedding",
                    "warning",
                    f"the font {family!r} ({path.name}) forbids embedding: {allowed.why}; the deck uses "
                    f"{DEFAULT_FONT} instead (embedded, and the text is laid out for it)",
                    hint=f"use a font whose licence allows embedding (most open fonts do), or ask the "
                    f"foundry for an embeddable version of {family}",
                    family=family,
                    fs_type=allowed.fs_type,
                )
                return DEFAULT_FONT
        return family

    def _verify(self, data: bytes) -> None:
        """Refuses a built deck that carries anything unsafe (the master was checked; this proves the output)."""
        from ...errors import BuildError, Problem
        from ...load.ooxml import package_problems

        problems = package_problems(data)
        if problems:
            raise BuildError(
                [
                    Problem(
                        self.source_path,
                        message=f"the built deck would carry an unsafe part {part or '(package)'}: {why}",
                        hint="check the practice's deck master; links in slides may only be web, e-mail "
                        "or phone addresses",
                    )
                    for part, why in problems
                ]
            )

    def _open_master(self):
        """Opens the practice's master (or the default one); a BuildError says why it cannot."""
        from ...errors import BuildError, Problem, rel

        path = self.practice.master
        if path is None:
            path = self.templates / DEFAULT_MASTER
        try:
            prs = ad.open_presentation(path)
            if not len(prs.slide_masters) or not len(prs.slide_masters[0].slide_layouts):
                raise ValueError("it has no slide master with layouts")
            if prs.slide_width is None or prs.slide_height is None:
                raise ValueError("it does not say its slide size (p:sldSz)")
            return prs
        except Exception as exc:
            raise BuildError(
                Problem(
                    rel(path, self.root),
                    message=f"cannot open the deck master: {exc}",
                    hint="save the master from PowerPoint or LibreOffice as .pptx or .potx, "
                    "or remove deck_master from practice.yml to use the default",
                )
            ) from None

    def _pick_masters(self) -> None:
        """Learns from the template's sample slides which master is for title slides and which
        for content (LibreOffice exports one master per page style); else uses the first."""
        masters = list(self.prs.slide_masters)
        used = ad.masters_of_slides(self.prs)
        first = used[0] if used else 0
        rest = used[1:] or [first]
        content = max(sorted(set(rest)), key=rest.count)
        others = [m for i, m in enumerate(masters) if i not in (first, content)]
        self.title_masters = [masters[first]] + ([masters[content]] if content != first else []) + others
        self.content_masters = [masters[content]] + ([masters[first]] if content != first else []) + others
        self.master = masters[content]

    def _plan(self) -> list[tuple[str, int | None, schema.Slide | None]]:
        """Slides in order; a references slide is added when the deck cites and has none, and a
        closing slide (contact details, QR code) when the deck has none."""
        for sl in self.deck.slides:
            for text in _slide_texts(sl):
                self.numbering.numbers(schema.cite_keys(text))
        plan: list[tuple[str, int | None, schema.Slide | None]] = [
            (sl.layout, i, sl) for i, sl in enumerate(self.deck.slides)
        ]
        kinds = [k for k, _, _ in plan]
        if self.numbering.order and "references" not in kinds:
            at = max((i for i, k in enumerate(kinds) if k == "closing"), default=len(plan))
            plan.insert(at, ("references", None, None))
        if "closing" not in kinds:
            plan.append(("closing", None, None))
            self.find(
                "deck.closing",
                "info",
                "no closing slide in the deck: one with the practice's contact details and QR code is added at the end",
                field_="slides",
            )
        return plan

    def _properties(self) -> None:
        """Sets the file properties from the deck (dates from its review date, for the same bytes)."""
        deck, info = self.deck, self.practice.info
        props = self.prs.core_properties
        stamp = dt.datetime.combine(deck.reviewed.date, dt.time())
        props.title = deck.title
        props.author = info.name
        props.last_modified_by = info.name
        props.subject = deck.description or deck.subtitle or deck.title
        props.keywords = ", ".join(deck.keywords)
        props.comments = deck.description or ""
        props.category = "Patient talk"
        # The one place a deck names a reviewer: the practice's sign-off, as on the handouts.
        props.content_status = self.signoff.line(self.t, deck.language, info.country)
        props.identifier = deck.slug
        props.language = self.lang
        props.version = ""
        props.created = props.modified = props.last_printed = stamp
        props.revision = 1
        ad.set_app_properties(self.prs, slides=len(self.prs.slides), notes=self.notes_count, company=info.name)


def _slide_texts(sl: schema.Slide):
    """Every prose field of a slide, in the order the renderer writes them (for citation numbers)."""
    yield sl.title or ""
    yield sl.subtitle or ""
    yield sl.number or ""
    yield sl.text or ""
    columns = [(None, sl.bullets)] + [(c.heading, c.bullets) for c in (sl.left, sl.right) if c is not None]
    for heading, items in columns:
        yield heading or ""
        for b in items:
            if isinstance(b, str):
                yield b
            else:
                yield b.text
                yield from b.sub
    if sl.image and sl.image.caption:
        yield sl.image.caption
    for point in sl.icons:
        yield point.text
    if sl.quote:
        yield sl.quote.text
    if sl.chart and sl.chart.caption:
        yield sl.chart.caption
    if sl.table:
        yield from sl.table.header
        for row in sl.table.rows:
            yield from row
        yield sl.table.caption or ""
