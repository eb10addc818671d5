"""What the handout template receives: texts, geometry, colours, logo, fonts and layout hints."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from markupsafe import Markup, escape

from ...load import schema
from ...load.approvals import SignOff, unapproved
from ...load.citations import Bibliography, Numbering
from ...load.colour import TEXT_MIN, WHITE, contrast
from ...load.i18n import html_lang, long_date, messages
from ...load.i18n import language as lang_record
from ...load.pictures import Pictures, is_library_name, load_pictures
from ...load.practice import LangText, PracticeContext, for_language, pick
from ...load.script import BUNDLED_DIR, script_of, text_direction
from ...load.spelling import spelling_for
from ..pictures import svg_markup
from ..templating import strip_citations
from .style import base_size_pt, css_counter_content, css_str, css_variables, hex_colour
from .subset import BODY, cut_family
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
    *,
    pictures: Pictures | None = None,
    chars: str = "",
) -> dict:
    """Returns everything the handout template receives (documented in templates/handout/README.md).

    `chars`: the characters the document prints (its HTML without the cut, `render_document`);
    an installed script font is then drawn from a cut of it holding just those (`subset.py`).

    `signoff` is the practice's approval state of this text (None: not approved, a draft).
    `pictures` is the project's picture library (read from `root` when not given).

    File URLs are relative to `out_dir`, where the HTML is written next to the PDF, so the
    HTML opens in a browser from the output folder and the PDF is made from the same text.
    """

    def url(path: Path) -> str:
        return Path(os.path.relpath(path.resolve(), out_dir.resolve())).as_posix()

    spelling = spelling_for(root, handout.language, practice.info.country)
    if spelling is not None:  # e.g. UK spelling for a practice in GB (load/spelling.py)
        handout = spelling.respell_model(handout, keep=(practice.info.name,))
    info = for_language(practice.info, handout.language)
    t = messages(root, handout.language, practice.templates_dir)
    lang_info = lang_record(root, handout.language)
    direction = lang_info.direction
    paper = variant.paper or info.paper
    columns = 1 if variant.large_print else (variant.columns or info.columns)
    the_logo = logo(practice, url)
    dark = band_dark(practice, the_logo)
    if the_logo is not None:
        the_logo["band_uri"] = the_logo["dark_uri"] if dark and the_logo["dark_uri"] else the_logo["uri"]
    taglines = language_help(practice, handout.language, root)
    # An installed script font (Noto Sans CJK for Chinese) is drawn from a cut holding the
    # characters of the document (`chars`, its first rendering), named before the font itself.
    script_fonts = script_of(handout.language, root).fonts
    body_cuts = {
        f.family: c for f in script_fonts if chars and not f.files and (c := cut_family(f.family, chars, BODY))
    }
    families = tuple(
        n for f in script_fonts for n in ((body_cuts[f.family][0],) if f.family in body_cuts else ()) + (f.family,)
    )
    css_vars = css_variables(practice.theme, dark, families)

    return {
        "handout": handout,
        "practice": info,
        "theme": practice.theme,
        "logo": the_logo,
        "t": t,
        "lang": handout.language,
        "locale": html_lang(handout.language, info.country),
        "dir": direction,
        "dir_attr": functools.partial(dir_attribute, direction),
        "language": lang_info,
        **_translation_note(handout, root, practice, t),
        "numbering": Numbering(bib),
        **_review_and_emergency(handout, practice, t, signoff),
        "help_levels": help_levels(handout, practice, t, direction),
        **qr_context(practice, t),
        "paper": paper,
        "columns": columns,
        "variant": variant,
        "page": page_setup(paper, variant),
        "page_counter": css_counter_content(t.page_x_of_y),
        "html_classes": html_classes(paper, columns, variant, dark),
        "css_vars": css_vars,
        "css_str": css_str,
        "notices": notices(practice, handout.language),
        **taglines,
        "section_groups": section_groups(handout.sections),
        "box_columns": _box_columns(handout, practice, t, paper, reverse=direction == "rtl"),
        "notes_lines": 2,
        "figure_uri": lambda src: url(content_dir / src),
        **picture_context(pictures or load_pictures(root)[0], practice, handout.language, str(css_vars["c-picture"])),
        "font_faces": font_faces(practice, url)
        # the script fonts of the handout's language and of its taglines' languages
        + script_font_faces([handout.language, *_tagline_languages(practice, handout.language)], root, url)
        + taglines["language_help_faces"]
        + [face for _, faces in body_cuts.values() for face in faces],
        "default_fonts_uri": url(root / "templates" / "handout" / "fonts"),
    }


def picture_context(pictures: Pictures, practice: PracticeContext, language: str, colour: str) -> dict:
    """The template's picture functions: `is_picture(src)` (a library name, not a file),
    `picture(name, alt)` (a diagram or icon as inline SVG with `alt` as its alternative text)
    and `icon(name)` (an icon, its meaning in the handout's language as its alternative text),
    all drawn in `colour`, the practice's primary colour made readable on the page."""

    def draw(name: str, alt: str | None, css_class: str):
        return svg_markup(pictures.file(name, practice.templates_dir), colour, alt, css_class)

    return {
        "is_picture": is_library_name,
        "picture": lambda name, alt: draw(name, alt, "picture"),
        "icon": lambda name: draw(name, pictures.alt(name, language), "icon"),
    }


@dataclass(frozen=True)
class Passage:
    """A passage every printed handout must show: what it is and its exact text."""

    name: str
    text: str
    every_page: bool = False
    """Whether each page must show it (the sign-off: in the footer, and on the disclaimer's page in
    the disclaimer), not only the handout as a whole."""


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
        Passage("review line", ctx["reviewed_line"], every_page=True),
        *(Passage(f"help level '{level['key']}'", level["text"]) for level in ctx["help_levels"]),
        *(Passage("help line", line) for level in ctx["help_levels"] for line in level["lines"]),
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
        "emergency_line": t.fmt("emergency", number=practice.lines.emergency),
    }


def help_levels(handout: schema.Handout, practice: PracticeContext, t, direction: str = "ltr") -> list[dict]:
    """ "When to get help" as three ordered levels: call the emergency number now (with the
    country's crisis lines), call the care team today (with any urgent-advice line), and tell
    the care team at the next call or visit. Each level: its key, heading (as printed: in
    right-to-left text the phone number is isolated left to right), text (the heading's plain
    text), signs and lines."""
    lines, language, gh = practice.lines, handout.language, handout.get_help
    now = t.fmt("help_now", number=lines.emergency)
    today = today_text = t.fmt("help_today", phone=practice.info.phone)
    if direction == "rtl":
        # "(559) 555-0186" would read "0186-555 (559)": fill in a mark, escape, then the number
        filled = escape(t.fmt("help_today", phone="\x00"))
        today = filled.replace("\x00", Markup('<bdi dir="ltr">{}</bdi>').format(practice.info.phone))
    return [
        {
            "key": "now",
            "heading": now,
            "text": now,
            "signs": gh.emergency,
            "lines": [line.say(language) for line in lines.crisis],
        },
        {
            "key": "today",
            "heading": today,
            "text": today_text,
            "signs": gh.today,
            "lines": [line.say(language) for line in lines.urgent],
        },
        {"key": "soon", "heading": t.help_soon, "text": t.help_soon, "signs": gh.soon, "lines": []},
    ]


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


def notices(practice: PracticeContext, language: str) -> list[LangText]:
    """Returns the practice's language-help and nondiscrimination notices in the handout's
    language (`practice.pick`), one paragraph an item, each with the language it is written in;
    the other languages are reached by the language-help taglines (`language_help`)."""
    info, default = practice.info, practice.info.languages[0]
    out: list[LangText] = []
    if info.notices:
        for value in (info.notices.language_assistance, info.notices.nondiscrimination):
            text = pick(value, language, default)
            if text is not None:
                out.extend(LangText(p.strip(), text.lang) for p in text.split("\n") if p.strip())
    return out


def _tagline_languages(practice: PracticeContext, language: str) -> list[str]:
    """The languages a handout in `language` prints a language-help tagline for: the practice's
    other `languages`, then its `language_help` list, never the handout's own language."""
    info = practice.info
    return [tag for tag in dict.fromkeys([*info.languages, *info.language_help]) if tag != language]


def language_help(practice: PracticeContext, language: str, root: Path) -> dict:
    """The language-help taglines (`language_help` in practice.yml): each in its own language,
    script and direction, with the font its language record names, the practice's phone number
    isolated left to right; `language_help_draft` while any is not yet reviewed by a translator.

    An installed font (not one shipped in templates/handout/fonts/, small already) is drawn from
    a cut of its face holding just the characters of the lines that use it (`subset.py`), named
    before it: `language_help_faces` are those cuts' @font-face values."""
    info = practice.info
    records = [(tag, lang_record(root, tag)) for tag in _tagline_languages(practice, language)]
    plain: dict[str, str] = {}
    for _, record in records:
        if record.font and not record.font_files:
            plain[record.font] = plain.get(record.font, "") + record.tagline(info.phone)
    cuts = {font: cut for font, chars in plain.items() if (cut := cut_family(font, chars))}
    out = []
    for tag, record in records:
        before, _, after = (record.language_help or "").partition("{phone}")
        # isolated left to right: in Arabic text "(559) 555-0186" would read "0186-555 (559)"
        phone = Markup('<bdi dir="ltr">{}</bdi>').format(info.phone) if _ else Markup("")
        cut = cuts.get(record.font or "")
        out.append(
            {
                "text": escape(before) + phone + escape(after),
                "lang": html_lang(tag, info.country),
                "dir": record.direction,
                "font": record.font,
                "families": [f for f in (cut and cut[0], record.font) if f],
                "draft": not record.language_help_reviewed,
            }
        )
    faces = [face for _, font_faces in cuts.values() for face in font_faces]
    return {"language_help": out, "language_help_draft": any(h["draft"] for h in out), "language_help_faces": faces}


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


def script_font_faces(languages: list[str], root: Path, url: Url) -> list[dict]:
    """Returns @font-face values for the bundled fonts of the languages' scripts, each file at the
    weight its language record gives it (system fonts need none)."""
    faces = {
        (f.family, weight): {"family": f.family, "uri": url(path), "weight": str(weight), "style": "normal"}
        for language in languages
        for f in script_of(language, root).fonts
        for weight, name in f.files
        if (path := root / BUNDLED_DIR / name).is_file()
    }
    return list(faces.values())


def _font_weight(value) -> str:
    if isinstance(value, int) and 1 <= value <= 1000:
        return str(value)
    return "normal"
