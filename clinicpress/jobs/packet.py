"""One patient packet in memory: which handouts, in which language and variant, for which practice,
and the PDF (the `packet` command and the print desk share `make_packet`, so the same choices and
date give the same bytes).

Any handout the content has, in any language and variant it has, for any practice: the
practice's `languages` and `variants` say what a build makes, not what may be printed.
Laid-out handouts are kept warm (`_LAID_OUT`, by the digest of their HTML) so only the cover is
laid out per patient; nothing here writes a file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import Problem, UserError
from .run import templates

if TYPE_CHECKING:  # pragma: no cover
    from ..load.project import Project, Source
    from ..render.packet import Patient

WARM_DOCUMENTS = 24
"""Laid-out handouts kept in memory (each is a few MB); the oldest goes first."""

_LAID_OUT: OrderedDict[str, Any] = OrderedDict()


@dataclass(frozen=True)
class PacketRequest:
    """What to print: the practice, the handouts in order, language, variant and the patient's page."""

    practice: str
    items: tuple[str, ...]
    language: str = "en"
    variant: str = "standard"
    patient: Patient | None = None
    """None: no cover page."""
    blocked: frozenset[str] = field(default=frozenset())
    """Content keys (handout:slug:lang) that failed a check and may not be printed."""


def handouts_in(project: Project, language: str) -> dict[str, Source]:
    """The handouts the content has in `language`, by slug."""
    return {s.slug: s for s in sorted(project.handouts, key=lambda s: s.slug) if s.language == language}


def languages(project: Project) -> list[str]:
    return sorted({s.language for s in project.handouts})


def resolve(project: Project, request: PacketRequest) -> list[Source]:
    """The handouts of the request, in order; every unknown choice is one Problem listing what exists."""
    from ..render.handout import VARIANTS

    problems: list[Problem] = []
    if request.practice not in project.practices:
        problems.append(_unknown("practice", request.practice, sorted(project.practices)))
    if request.variant not in VARIANTS:
        problems.append(_unknown("variant", request.variant, list(VARIANTS)))
    if request.language not in languages(project):
        problems.append(_unknown("language", request.language, languages(project)))
        raise UserError(problems)
    available = handouts_in(project, request.language)
    if not request.items:
        problems.append(_unknown("item", "", list(available), message="no handout chosen"))
    chosen: list[Source] = []
    for slug in request.items:
        src = available.get(slug)
        if src is None:
            elsewhere = sorted(s.language for s in project.handouts if s.slug == slug)
            if elsewhere:
                problems.append(
                    Problem(
                        "packet",
                        field="item",
                        message=f"handout {slug!r} has no {request.language!r} version",
                        hint=f"it exists in: {', '.join(elsewhere)}",
                    )
                )
            else:
                problems.append(_unknown("item", slug, list(available)))
        elif src.key in request.blocked:
            problems.append(
                Problem(
                    str(src.path.relative_to(project.root)),
                    field="item",
                    message=f"handout {slug!r} ({request.language}) failed a check and is not printed",
                    hint="run `python build.py check` to see why, and fix the content",
                )
            )
        else:
            chosen.append(src)
    if len(set(request.items)) != len(request.items):
        problems.append(Problem("packet", field="item", message="a handout is chosen twice", hint="choose each once"))
    if request.patient is not None:
        for name, limit in request.patient.too_long():
            problems.append(
                Problem(
                    "packet",
                    field=name.replace("_", "-"),
                    message=f"the {name.replace('_', ' ')} is longer than {limit} characters",
                    hint="shorten it",
                )
            )
    if problems:
        raise UserError(problems)
    return chosen


def _unknown(what: str, value: str, available: list[str], *, message: str | None = None) -> Problem:
    return Problem(
        "packet",
        field=what,
        message=message or f"unknown {what} {value!r}",
        hint=f"available: {', '.join(available) or '(none)'}",
    )


def laid_out(project: Project, src: Source, practice: str, variant: str) -> tuple[Any, bool, tuple]:
    """The handout laid out for the practice and variant (warm if its HTML was laid out before),
    whether it prints as a draft, and the passages its pages must show (`required_passages`)."""
    from ..render.handout import VARIANTS, layout, render_document

    ctx = project.practices[practice]
    signoff = project.signoff(practice, src)
    out_dir = project.root / "output" / practice  # where the build's HTML copy sits: the same relative URLs
    rendered = render_document(
        src.model,
        ctx,
        project.bibliography,
        VARIANTS[variant],
        templates(project.root),
        src.path.parent,
        out_dir,
        signoff,
        pictures=project.pictures,
    )
    html = rendered.html
    key = hashlib.sha256(f"{out_dir}\0{html}".encode()).hexdigest()
    document = _LAID_OUT.get(key)
    if document is None:
        document = layout(html, base_url=out_dir, root=project.root, source_path=str(src.path))
        _LAID_OUT[key] = document
        while len(_LAID_OUT) > WARM_DOCUMENTS:
            _LAID_OUT.popitem(last=False)
    else:
        _LAID_OUT.move_to_end(key)
    return document, signoff is None or not signoff.approved, rendered.required


def handout_pdf(project: Project, src: Source, practice: str, variant: str) -> bytes:
    """One handout's pages as a PDF, for pictures (the desk's thumbnails and preview)."""
    document, _, _ = laid_out(project, src, practice, variant)
    return document.write_pdf()


def make_packet(project: Project, request: PacketRequest, day: dt.date) -> bytes:
    """The packet PDF: the cover (if there is a patient) then each handout, tagged, in `day`'s date."""
    from ..load.i18n import html_lang, messages
    from ..render.handout import VARIANTS
    from ..render.packet import Part, combine, cover_html, layout_cover

    chosen = resolve(project, request)
    ctx = project.practices[request.practice]
    t = messages(project.root, request.language, ctx.templates_dir)
    documents: list[Any] = []
    parts: list[Any] = []
    required: list[Any] = []
    for src in chosen:
        document, draft, passages = laid_out(project, src, request.practice, request.variant)
        documents.append(document)
        required.extend(passages)
        parts.append(Part(src.model.title, draft, t.fmt("draft_mark", practice=ctx.info.name)))
    if request.patient is not None:
        html = cover_html(
            ctx, VARIANTS[request.variant], request.language, templates(project.root), request.patient, day, parts
        )
        documents.insert(0, layout_cover(html, project.root))
    from ..render.handout.pdf import verify_pdf

    pdf = combine(
        documents,
        title=f"{t.packet_title} · {ctx.info.name}",
        author=ctx.info.name,
        language=html_lang(request.language, ctx.info.country),
        day=day,
        t=t,
    )
    # The same read-back as a built handout: no embedded file, and every required passage printed.
    verify_pdf(pdf, "packet", required, ctx, one_handout=False)
    return pdf


def reset() -> None:
    """Forgets the laid-out handouts (after content, templates or fonts changed)."""
    _LAID_OUT.clear()
