"""What the handout template receives: texts, geometry, colours, logo, fonts and layout hints."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from markupsafe import Markup

from ...load import schema
from ...load.approvals import SignOff, unapproved
from ...load.citations import Bibliography, Numbering
from ...load.colour import TEXT_MIN, WHITE, contrast
from ...load.i18n import long_date, messages
from ...load.practice import PracticeContext
from ...load.script import BUNDLED_DIR, script_of, text_direction
from ..templating import strip_citations
from .style import base_size_pt, css_counter_content, css_str, css_variables, hex_colour
from .variants import MIN_BODY_PT, Variant, page_setup

Url = Callable[[Path], str]
"""Turns a file path into the URL the HTML uses for it."""


def handout_context(
    handout: schema.Handout,
    practice: PracticeContext,
    bib: Bibliography,
    variant: Variant,
    root: Path,
    content_dir: Path,
    out_dir: Path,
    signoff: SignOff | None = None,
) -> dict:
    """Returns everything the handout template receives (documented in templates/handout/README.md).

    `signoff` is the practice's approval state of this text (None: not approved, a draft).

    File URLs are relative to `out_dir`, where the HTML is written next to the PDF, so the
    HTML opens in a browser from the output folder and the PDF is made from the same text.
    """

    def url(path: Path) -> str:
        return Path(os.path.relpath(path.resolve(), out_dir.resolve())).as_posix()

    info = practice.info
    t = messages(root, handout.language, practice.templates_dir)
    direction = script_of(handout.language).direction
    paper = variant.paper or info.paper
    columns = 1 if variant.large_print else (variant.columns or info.columns)
    the_logo = logo(practice, url)
    dark = band_dark(practice, the_logo)
    if the_logo is not None:
        the_logo["band_uri"] = the_logo["dark_uri"] if dark and the_logo["dark_uri"] else the_logo["uri"]

    return {
        "handout": handout,
        "practice": info,
        "theme": practice.theme,
        "logo": the_logo,
        "t": t,
        "lang": handout.language,
        "locale": f"{handout.language}-{info.country}",
        "dir": direction,
        "dir_attr": functools.partial(dir_attribute, direction),
        **_translation_note(handout, root, practice, t),
        "numbering": Numbering(bib),
        **_review_and_emergency(handout, practice, t, signoff),
        **qr_context(practice, t),
        "paper": paper,
        "columns": columns,
        "variant": variant,
        "page": page_setup(paper, variant),
        "page_counter": css_counter_content(t.page_x_of_y),
        "html_classes": html_classes(paper, columns, variant, dark),
        "css_vars": css_variables(practice.theme, dark, tuple(f.family for f in script_of(handout.language).fonts)),
        "css_str": css_str,
        "notices": notices(practice),
        "section_groups": section_groups(handout.sections),
        "box_columns": _box_columns(handout, practice, t, paper, reverse=direction == "rtl"),
        "figure_uri": lambda src: url(content_dir / src),
        "font_faces": font_faces(practice, url) + script_font_faces(handout.language, root, url),
        "default_fonts_uri": url(root / "templates" / "handout" / "fonts"),
    }


@dataclass(frozen=True)
class Passage:
    """A passage every printed handout must show: what it is and its exact text."""

    name: str
    text: str


def required_passages(ctx: dict) -> list[Passage]:
    """The passages the printed handout must contain, from the same values the template prints.

    The one list of required content: the PDF's text is checked for each passage after
    printing (`pdf.verify_pdf`), so an override that drops, comments out or hides one fails
    the build. Add a passage here (e.g. a sign-off line) and it is enforced everywhere.
    """
    info = ctx["practice"]
    passages = [
        Passage("disclaimer", ctx["t"].disclaimer or ""),
        Passage("emergency line", ctx["emergency_line"]),
        Passage("review line", ctx["reviewed_line"]),
    ]
    if info.notices is not None:  # the language-help notice where the practice has one
        passages += [
            Passage("language-help notice", p.strip())
            for p in (info.notices.language_assistance or "").split("\n")
            if p.strip()
        ]
    return [p for p in passages if p.text.strip()]


def _review_and_emergency(handout: schema.Handout, practice: PracticeContext, t, signoff: SignOff | None) -> dict:
    """The sign-off line, the content team's review line and the emergency line.

    `reviewed_line` is the one line the handout prints about the practice's sign-off: "Reviewed
    DATE by NAME" from the practice's approval of this exact text, else the draft mark. `draft`
    tells the template to print the mark on every page.
    """
    info = practice.info
    signoff = signoff or unapproved(info.name)
    return {
        "reviewed_line": signoff.line(t, handout.language, info.country),
        "draft": not signoff.approved,
        "content_review_line": t.fmt(
            "content_reviewed",
            date=long_date(handout.reviewed.date, handout.language, info.country),
            name=handout.reviewed.by,
        ),
        "reviewed_iso": handout.reviewed.date.isoformat(),
        "emergency_line": t.fmt("emergency", number=info.emergency_number),
    }


def qr_context(practice: PracticeContext, t) -> dict:
    """The QR code (printed in the text colour) for the practice's URL, and the URL as printed beside it."""
    from ..qr import qr_svg

    qr_label = practice.qr_url.removeprefix("https://").rstrip("/")
    return {
        "qr_svg": qr_svg(
            practice.qr_url,
            dark=hex_colour(practice.theme.colors.get("foreground"), "#000000"),
            title=t.fmt("qr_alt", url=qr_label),
        ),
        "qr_url": practice.qr_url,
        "qr_label": qr_label,
    }


def html_classes(paper: str, columns: int, variant: Variant, band_is_dark: bool) -> str:
    """Returns the classes of the <html> element, which the stylesheet selects paper, columns and variant by."""
    classes = [
        f"paper-{paper}",
        f"cols-{columns}",
        f"variant-{variant.name}",
        "band-dark" if band_is_dark else "band-light",
    ]
    if variant.large_print:
        classes.append("large-print")
    return " ".join(classes)


def notices(practice: PracticeContext) -> list[str]:
    """Returns the practice's language-assistance and nondiscrimination notices, one paragraph an item."""
    out: list[str] = []
    if practice.info.notices:
        for text in (practice.info.notices.language_assistance, practice.info.notices.nondiscrimination):
            out.extend(p.strip() for p in (text or "").split("\n") if p.strip())
    return out


def _translation_note(handout: schema.Handout, root: Path, practice: PracticeContext, t) -> dict:
    """The note a translation prints at the top of every page while no qualified medical translator
    has checked it (`translator_review: needed`), in its language and in English; empty otherwise."""
    if handout.translator_review != "needed":
        return {"translation_note": "", "translation_note_en": ""}
    english = messages(root, "en", practice.templates_dir).translator_review_needed
    return {"translation_note": t.translator_review_needed, "translation_note_en": english}


def dir_attribute(document_direction: str, text: str) -> Markup:
    """` dir="ltr"` for a passage written the other way than the document (an English notice in an
    Arabic handout), so it lines up and punctuates its own way; nothing otherwise."""
    found = text_direction(text)
    return Markup(f' dir="{found}"') if found and found != document_direction else Markup("")


def _box_columns(handout: schema.Handout, practice: PracticeContext, t, paper: str, *, reverse: bool = False) -> str:
    """Grid columns of the action and question boxes; larger body text fits fewer characters a line.

    Each track is `minmax(0, <share>fr)`: the shares alone decide the widths (as they did with
    bare `fr` tracks, whose content always fits), and WeasyPrint need not measure the boxes'
    min-content widths first.
    """
    split = box_split(
        handout.actions,
        handout.questions,
        t.what_you_can_do,
        t.questions,
        line_chars=round((80 if paper == "a4" else 84) * MIN_BODY_PT / base_size_pt(practice.theme)),
    )
    shares = split.split()
    return " ".join(f"minmax(0, {share})" for share in (reversed(shares) if reverse else shares))


def section_groups(sections) -> list[dict]:
    """Splits sections into runs: sections with a table are "wide" (full width in two columns)."""
    groups: list[dict] = []
    for section in sections:
        wide = section.table is not None
        if not groups or groups[-1]["wide"] != wide:
            groups.append({"wide": wide, "sections": []})
        groups[-1]["sections"].append(section)
    return groups


def box_split(left: list[str], right: list[str], left_title: str, right_title: str, *, line_chars: int = 84) -> str:
    """Returns grid columns ("1.1fr 0.9fr") that give two side-by-side boxes about equal height.

    `line_chars` is about how many characters of 12 pt text fit across both boxes; each
    split is scored by the estimated number of lines of the taller box.
    """

    def lines(items: list[str], title: str, chars: float) -> int:
        body = sum(-(-len(strip_citations(i)) // max(8, int(chars - 4))) for i in items)
        return body + -(-int(len(title) * 1.2) // max(8, int(chars)))

    best, best_share = None, 0.5
    for share in [x / 100 for x in range(38, 63)]:
        score = max(lines(left, left_title, line_chars * share), lines(right, right_title, line_chars * (1 - share)))
        if best is None or score < best or (score == best and abs(share - 0.5) < abs(best_share - 0.5)):
            best, best_share = score, share
    return f"{best_share:.2f}fr {1 - best_share:.2f}fr"


def logo(practice: PracticeContext, url: Url) -> dict | None:
    """Returns the practice's logo for the template (light and dark versions, alt text), or None."""
    found = practice.theme.logo("medium", "large")
    if found is None:
        return None
    return {
        "uri": url(found.light),
        "dark_uri": url(found.dark) if found.dark else None,
        "alt": found.alt or f"{practice.info.name} logo",
    }


def band_dark(practice: PracticeContext, the_logo: dict | None) -> bool:
    """Whether the top band is printed in the primary colour: only if the logo (if any) has a
    version for dark backgrounds and white text is readable on the primary."""
    if the_logo is not None and the_logo["dark_uri"] is None:
        return False
    primary = hex_colour(practice.theme.colors.get("primary"), "#1d4e89")
    return contrast(WHITE, primary) >= TEXT_MIN


def font_faces(practice: PracticeContext, url: Url) -> list[dict]:
    """Returns the theme's fonts as @font-face values: family, file URL, checked weight and style."""
    return [
        {
            "family": f.family,
            "uri": url(f.path),
            "weight": _font_weight(f.weight),
            "style": f.style if f.style in ("normal", "italic", "oblique") else "normal",
        }
        for f in practice.theme.fonts
    ]


def script_font_faces(language: str, root: Path, url: Url) -> list[dict]:
    """Returns @font-face values for the bundled fonts of the language's script (system fonts need none)."""
    return [
        {"family": f.family, "uri": url(path), "weight": str(weight), "style": "normal"}
        for f in script_of(language).fonts
        for weight, name in f.files
        if (path := root / BUNDLED_DIR / name).is_file()
    ]


def _font_weight(value) -> str:
    if isinstance(value, int) and 1 <= value <= 1000:
        return str(value)
    return "normal"
