"""Builders of the text slides: title, section, bullets, two columns, big number, quote, closing."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING

from ...load import schema
from ...load.practice import pick
from .. import pptx_adapter as ad
from .constants import EMU_PER_PT, MAX_BULLETS, SMALLEST_PT
from .finish import finish
from .fit import check_size, shrink, text_height
from .layouts import Page, Target, as_target, body_area, box_of, textbox
from .pictures import described, library_png, logo, place_picture
from .text import Para, Run
from .writing import bullet_paras, content_slide, open_slide, plain, required, write

if TYPE_CHECKING:
    from .renderer import DeckRenderer


def build_title(r: DeckRenderer, index: int | None, sl: schema.Slide | None) -> None:
    """The title slide: talk title, subtitle, the practice as byline, and its logo."""
    title = (sl.title if sl and sl.title else None) or r.deck.title
    pg = open_slide(r, "title", index, title)
    subtitle = (sl.subtitle if sl else None) or r.deck.subtitle
    sub = pg.slots.text(prefer="subTitle")
    if subtitle and sub:
        write(r, as_target(sub), [plain(r, subtitle)], slide_no=pg.n, title=title, role="subtitle", index=index)
    elif sub:
        ad.remove_shape(sub[1])
    byline = pg.slots.text()
    if byline:
        info = r.practice.info
        paras = [plain(r, info.name, bold=True)]
        tagline = pick(info.tagline, r.deck.language, info.languages[0])
        if tagline:
            paras.append(plain(r, tagline))
        write(r, as_target(byline), paras, slide_no=pg.n, title=title, role="byline", index=index)
    h = int(r.H * 0.13)
    corner = ad.Box(r.W - int(r.W * 0.05) - int(r.W * 0.3), r.H - h - int(r.H * 0.05), int(r.W * 0.3), h)
    logo(r, pg.slide, pg.slots, index, corner)
    notes = (sl.notes if sl else None) or r.word("deck_notes_title", title=title)
    finish(r, pg, index, notes, footer=False)


def build_section(r: DeckRenderer, index: int | None, sl: schema.Slide | None) -> None:
    """A section divider: title and an optional subtitle."""
    sl, title = content_slide(sl)
    pg = open_slide(r, "section", index, title)
    if sl.subtitle or sl.text:
        target = as_target(pg.slots.text(prefer="subTitle"))
        if target is None:
            area = body_area(r, pg.all_phs)
            target = textbox(pg.slide, ad.Box(area.x, area.y, area.w, area.h // 3), "Subtitle")
        write(
            r,
            target,
            [plain(r, sl.subtitle or sl.text, size=28 if target.ph is None else None)],
            slide_no=pg.n,
            title=title,
            role="subtitle",
            index=index,
        )
    finish(r, pg, index, sl.notes)


def build_bullets(r: DeckRenderer, index: int | None, sl: schema.Slide | None) -> None:
    """Bullets (with an optional lead paragraph) under a title."""
    sl, title = content_slide(sl)
    pg = open_slide(r, "bullets", index, title)
    target = as_target(pg.slots.text(largest=True))
    explicit = target is None
    if target is None:
        target = textbox(pg.slide, body_area(r, pg.all_phs), "Content")
    paras = ([plain(r, sl.text, size=28 if explicit else None)] if sl.text else []) + bullet_paras(
        r, sl.bullets, explicit
    )
    write(r, target, paras, slide_no=pg.n, title=title, role="body", index=index)
    check_size(r, target, paras, slide_no=pg.n, title=title, index=index)
    count_bullets(r, sl.bullets, pg.n, title, index, "bullets")
    finish(r, pg, index, sl.notes)


def count_bullets(r: DeckRenderer, items: list, n: int, title: str, index: int | None, where: str) -> None:
    """Reports more than MAX_BULLETS bullet lines (sub-bullets count) in one list."""
    count = sum(1 + (0 if isinstance(b, str) else len(b.sub)) for b in items)
    if count > MAX_BULLETS:
        r.find(
            "deck.bullets",
            "warning",
            f"slide {n} ({title!r}) has {count} bullet lines in {where}; keep to {MAX_BULLETS} or fewer",
            index,
            loc=(where,),
            hint="split the slide or merge points",
            count=count,
        )


def build_two_column(r: DeckRenderer, index: int | None, sl: schema.Slide | None) -> None:
    """Two columns of bullets, each with an optional heading."""
    sl, title = content_slide(sl)
    pg = open_slide(r, "two_column", index, title)
    targets, headings, explicit = _columns(r, pg)
    alts: list[str] = []
    for i, (col, name) in enumerate(((required(sl.left), "left"), (required(sl.right), "right"))):
        paras = []
        if col.heading and headings[i] is not None:
            write(
                r,
                as_target(headings[i]),
                [plain(r, col.heading)],
                slide_no=pg.n,
                title=title,
                role=f"{name} heading",
                index=index,
            )
        elif col.heading:
            paras.append(plain(r, col.heading, bold=True, color="accent1", size=28 if explicit[i] else None))
        paras += bullet_paras(r, col.bullets, explicit[i])
        if explicit[i]:
            paras = [replace(p, size=min(p.size or 24, 24)) for p in paras]
        if col.icon:
            targets[i] = _column_icon(r, pg, targets[i], paras, col.icon, name)
            alts.append(r.pictures.alt(col.icon, r.deck.language))
        if paras:
            write(r, targets[i], paras, slide_no=pg.n, title=title, role=f"{name} column", index=index)
            check_size(r, targets[i], paras, slide_no=pg.n, title=title, index=index)
        count_bullets(r, col.bullets, pg.n, title, index, name)
    finish(r, pg, index, described(r, sl.notes, alts), authored=bool(sl.notes))


COLUMN_ICON_SIDES = (2.2, 1.9, 1.6, 1.3, 1.0, 0.8)
"""Sides of an icon at the top of a column, in inches, largest first (at most half the
column's height): the first that leaves the column's text room to fit under it is used."""


def _column_icon(r: DeckRenderer, pg: Page, target: Target, paras: list[Para], name: str, where: str) -> Target:
    """Puts an icon at the top of a column; returns the column's text target, moved under it."""
    box = target.box
    gap = r.emu(0.15)
    sides = [r.emu(x) for x in COLUMN_ICON_SIDES if r.emu(x) <= box.h * 0.5] or [box.h // 4]
    side = next((x for x in sides if text_height(r, target, paras) <= (box.h - x - gap) / EMU_PER_PT), sides[-1])
    data = library_png(r, name, COLUMN_ICON_SIDES[0])
    place_picture(
        pg.slide,
        None,
        ad.Box(box.x, box.y, side, side),
        data,
        alt=r.pictures.alt(name, r.deck.language),
        name=f"Icon ({where})",
        align="left",
    )
    moved = ad.Box(box.x, box.y + side + gap, box.w, box.h - side - gap)
    ad.set_box(target.shape, moved)
    return Target(moved, target.shape, target.ph)


def _columns(r: DeckRenderer, pg: Page) -> tuple[list[Target], list, list[bool]]:
    """Returns the two column targets (the two largest text placeholders, else drawn boxes), the
    heading placeholder above each (or None), and which columns need explicit sizes."""
    texts = pg.slots.texts()
    columns = sorted(sorted(texts, key=lambda p: -box_of(p).area)[:2], key=lambda p: box_of(p).x)
    for pair in columns:
        pg.slots.take(pair)
    headings: list = [None, None]
    for pair in sorted(pg.slots.texts(), key=lambda p: (box_of(p).y, box_of(p).x)):
        for i, col in enumerate(columns):
            cb, hb = box_of(col), box_of(pair)
            if headings[i] is None and hb.y < cb.y and abs(hb.x - cb.x) < cb.w / 2:
                headings[i] = pair
                pg.slots.take(pair)
                break
    targets: list[Target] = [t for t in (as_target(c) for c in columns) if t is not None]
    explicit = [False, False]
    if len(targets) < 2:
        area = body_area(r, pg.all_phs)
        if targets:
            area = targets[0].box
        gap = r.emu(0.4)
        half = (area.w - gap) // 2
        left_box = ad.Box(area.x, area.y, half, area.h)
        right_box = ad.Box(area.x + half + gap, area.y, half, area.h)
        if targets:
            ad.set_box(targets[0].shape, left_box)
            targets[0] = Target(left_box, targets[0].shape, targets[0].ph)
            targets.append(textbox(pg.slide, right_box, "Right Content"))
            explicit = [False, True]
        else:
            targets = [textbox(pg.slide, left_box, "Left Content"), textbox(pg.slide, right_box, "Right Content")]
            explicit = [True, True]
    return targets, headings, explicit


def build_big_number(r: DeckRenderer, index: int | None, sl: schema.Slide | None) -> None:
    """One number or key fact, large, with an explanation."""
    sl, title = content_slide(sl)
    pg = open_slide(r, "big_number", index, title)
    texts = sorted(pg.slots.texts(), key=lambda p: (box_of(p).y, box_of(p).x))
    number_para = plain(r, sl.number)
    text_paras = [plain(r, sl.text)] if sl.text else []
    if len(texts) >= 2:
        pg.slots.take(texts[0])
        pg.slots.take(texts[1])
        target = as_target(texts[0])
        assert target is not None
        number_para = shrink(r, target, number_para, (80, 72, 64, 56), pg.n, title, index)
        write(r, target, [number_para], slide_no=pg.n, title=title, role="number", index=index)
        if text_paras:
            write(r, as_target(texts[1]), text_paras, slide_no=pg.n, title=title, role="explanation", index=index)
        else:
            ad.remove_shape(texts[1][1])
    else:
        target = as_target(texts[0]) if texts else None
        if texts:
            pg.slots.take(texts[0])
        else:
            target = textbox(pg.slide, body_area(r, pg.all_phs), "Number")
        number_para = replace(number_para, size=80, bold=True, color="accent1", font="+mj-lt", line=0.9)
        text_paras = [replace(p, size=28, space_before=18) for p in text_paras]
        write(r, target, [number_para] + text_paras, slide_no=pg.n, title=title, role="number", index=index)
    finish(r, pg, index, sl.notes)


def build_quote(r: DeckRenderer, index: int | None, sl: schema.Slide | None) -> None:
    """A quotation and who said it."""
    sl, title = content_slide(sl)
    pg = open_slide(r, "quote", index, title)
    quote = as_target(pg.slots.text(largest=True))
    attribution = as_target(pg.slots.text())
    spec = required(sl.quote)
    text = spec.text
    who = f"\u2014 {spec.attribution}" if spec.attribution else None
    if pg.approximated or quote is None:
        text = f"\u201c{text}\u201d"
    explicit = pg.approximated or quote is None
    if quote is None:
        quote = textbox(pg.slide, body_area(r, pg.all_phs), "Quote")
    qpara = plain(r, text, italic=True, size=32 if explicit else None)
    if who and attribution is not None:
        write(r, quote, [qpara], slide_no=pg.n, title=title, role="quote", index=index)
        write(r, attribution, [plain(r, who)], slide_no=pg.n, title=title, role="attribution", index=index)
    else:
        paras = [qpara] + (
            [plain(r, who, size=24 if explicit else None, bold=True, color="accent1", space_before=18)] if who else []
        )
        write(r, quote, paras, slide_no=pg.n, title=title, role="quote", index=index)
        if attribution is not None:
            ad.remove_shape(attribution.shape)
    finish(r, pg, index, sl.notes)


def build_closing(r: DeckRenderer, index: int | None, sl: schema.Slide | None) -> None:
    """The closing slide: thanks, the practice's contact details, a QR code to book, the logo."""
    title = (sl.title if sl and sl.title else None) or r.t.closing_title
    subtitle = (sl.subtitle if sl else None) or r.t.closing_subtitle
    pg = open_slide(r, "closing", index, title)
    sub = pg.slots.text(prefer="subTitle")
    if sub is not None and sub[0].type != "subTitle" and len(pg.slots.texts()) < 2:
        pg.slots.free.append(sub)
        sub = None
    if sub is not None:
        write(r, as_target(sub), [plain(r, subtitle)], slide_no=pg.n, title=title, role="subtitle", index=index)
    contact = as_target(pg.slots.text(largest=True))
    qr_pair = pg.slots.picture("qr")
    qr_caption = as_target(pg.slots.text())
    area = body_area(r, pg.all_phs)
    contact = _contact_target(pg.slide, contact, qr_pair, area, pg.title_target, r.emu(0.2))
    explicit = contact.ph is None or pg.approximated
    paras = _contact_paras(r, sl, subtitle if sub is None else None, explicit)
    write(r, contact, paras, slide_no=pg.n, title=title, role="contact", index=index)
    _qr_code(r, pg.slide, qr_pair, qr_caption, area, contact, slide_no=pg.n, title=title, index=index)
    h = int(r.H * 0.13)
    corner = ad.Box(r.W - int(r.W * 0.05) - int(r.W * 0.3), int(r.H * 0.05), int(r.W * 0.3), h)
    logo(r, pg.slide, pg.slots, index, corner)
    notes = (sl.notes if sl else None) or r.word("deck_notes_closing")
    finish(r, pg, index, notes, footer=False)


def _contact_target(
    slide, contact: Target | None, qr_pair, area: ad.Box, title_target: Target | None, gap: int
) -> Target:
    """Returns where the contact details go: the largest text placeholder (narrowed to leave room
    for the QR code when the layout has no place for one), else a box under the title."""
    if contact is None:
        top = max(area.y, title_target.box.bottom + gap) if title_target else area.y
        return textbox(slide, ad.Box(area.x, top, int(area.w * 0.62), area.bottom - top), "Contact")
    if qr_pair is None and contact.box.w > area.w * 0.7:
        narrow = ad.Box(contact.box.x, contact.box.y, int(contact.box.w * 0.62), contact.box.h)
        ad.set_box(contact.shape, narrow)
        return Target(narrow, contact.shape, contact.ph)
    return contact


def _contact_paras(r: DeckRenderer, sl: schema.Slide | None, subtitle: str | None, explicit: bool) -> list[Para]:
    """The contact details as paragraphs, led by the subtitle when it has no placeholder of its own."""
    info = r.practice.info
    size = 22 if explicit else None
    paras: list[Para] = []
    if subtitle is not None:
        paras.append(plain(r, subtitle, size=28 if explicit else None, bold=True, color="accent1"))
    if sl is not None and sl.text:
        paras.append(plain(r, sl.text, size=size))
    paras.append(plain(r, info.name, size=size, bold=True))
    paras.append(plain(r, ", ".join(info.address), size=size))
    paras.append(Para([Run(f"{r.t.phone}: {info.phone}")], bullet="none", mar_l=0, indent=0, size=size))
    if info.email:
        paras.append(
            Para(
                [Run(f"{r.t.email}: "), Run(info.email, link=f"mailto:{info.email}")],
                bullet="none",
                mar_l=0,
                indent=0,
                size=size,
            )
        )
    paras.append(
        Para(
            [Run(f"{r.t.web}: "), Run(re.sub(r"^https://", "", info.website), link=info.website)],
            bullet="none",
            mar_l=0,
            indent=0,
            size=size,
        )
    )
    return paras


def _qr_code(
    r: DeckRenderer,
    slide,
    qr_pair,
    qr_caption: Target | None,
    area: ad.Box,
    contact: Target,
    *,
    slide_no: int,
    title: str,
    index: int | None,
) -> None:
    """QR code to the booking page (or website), beside the contact details, with its caption."""
    from ..qr import qr_png

    web = r.practice.qr_url
    qr_box = qr_pair[0].box if qr_pair else None
    if qr_box is None:
        side = min(int(area.h * 0.62), int(area.w * 0.3))
        qr_box = ad.Box(area.right - side, contact.box.y, side, side)
    data = qr_png(web, dark=r.practice.theme.colors["foreground"])
    place_picture(slide, qr_pair, qr_box, data, alt=r.word("deck_qr_alt", url=web), name="QR Code")
    if qr_caption is None:
        qr_caption = textbox(
            slide,
            ad.Box(qr_box.x - r.emu(0.4), qr_box.bottom + r.emu(0.05), qr_box.w + r.emu(0.8), r.emu(0.7)),
            "QR Caption",
        )
    write(
        r,
        qr_caption,
        [plain(r, r.t.scan, size=SMALLEST_PT if qr_caption.ph is None else None, align="ctr")],
        slide_no=slide_no,
        title=title,
        role="QR caption",
        index=index,
    )
