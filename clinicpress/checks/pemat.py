"""PEMAT-P (AHRQ): the items a program can judge from structured content, scored as AHRQ does.

Each dimension's score is the share of applicable items met. Automatable items are judged
here; the items only a person can judge (schema.PEMAT_HUMAN_ITEMS) count only when
`human_review` in the handout signs them off (then as met); until then they are left out
of the score and listed as "needs human review" (info). Below `pemat_min` (70%) is an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import Finding
from . import plain_language, prose

UNDERSTANDABILITY = "understandability"
ACTIONABILITY = "actionability"

HUMAN_ITEMS = {
    "purpose_evident": (UNDERSTANDABILITY, "the purpose is evident at once"),
    "logical_order": (UNDERSTANDABILITY, "information is in a logical order"),
    "no_distracting_content": (UNDERSTANDABILITY, "no distracting information"),
    "clear_illustrations": (UNDERSTANDABILITY, "illustrations are clear and uncluttered"),
    "actions_explained": (ACTIONABILITY, "the material explains how to carry out each action"),
}

_NOT_IMPERATIVE = frozenset(
    "the a an it its this that these those there you your we our they people some most many if when "
    "because el la los las un una usted su sus es hay si cuando nosotros".split()
)
_YOU = {
    "en": re.compile(r"\b(you|your|yours|yourself)\b", re.I),
    "es": re.compile(r"\b(usted|ustedes|su|sus|tú|tu|tus|le|lo)\b", re.I),
    # Arabic: أنت, or a word ending in the "your/you" suffix -ك/-كم (أمعاؤك), but not ذلك/تلك/هناك/كذلك.
    "ar": re.compile(r"\b(?:أنت|أنتم|(?!(?:ذلك|تلك|هناك|كذلك)\b)\w+كم?)\b"),
    "zh-Hans": re.compile(r"[您你]"),
}


@dataclass(frozen=True)
class Item:
    id: str
    dimension: str
    label: str
    met: bool | None
    """True, False, or None when not applicable."""
    human: bool = False
    hint: str | None = None
    loc: tuple = ()

    def as_dict(self) -> dict:
        return {"id": self.id, "dimension": self.dimension, "label": self.label, "met": self.met, "human": self.human}


def items(src, ctx) -> list[Item]:
    """Judges every PEMAT-P item this tool knows for one handout."""
    figures = [s.figure for s in src.model.sections if s.figure is not None and not s.figure.decorative]
    return _understandable(src, ctx) + _actionable(src, ctx) + _human(src.model, bool(figures))


U, A = UNDERSTANDABILITY, ACTIONABILITY
_ITEMS = {
    "main_message_first": (U, "one main message, shown first", "state one main message in one or two sentences"),
    "terms_defined": (U, "medical terms are defined", None),
    "chunked": (U, "information is in short sections", "use two or more sections of at most {words} words"),
    "informative_headings": (
        U,
        "headings say what the section is about",
        'replace generic or repeated headings ("Introduction", "Other") with what the section says',
    ),
    "summary": (U, "there is a summary", "add a two- or three-sentence summary"),
    "visual_cues": (
        U,
        "visual cues (bullets, boxes, bold) draw attention to key points",
        "use bullets, a callout box or bold for the key points",
    ),
    "figures_captioned": (U, "figures have captions", "add a caption that says what the figure shows"),
    "simple_tables": (U, "tables are short, with header rows", "keep tables to 4 columns and 8 rows with a header row"),
    "action_present": (A, "at least one action the reader can take", "add what the reader can do"),
    "addresses_reader": (
        A,
        'addresses the reader directly ("you")',
        'speak to the reader: "you can", "your care team", or a verb first ("Ask ...")',
    ),
    "numbered_steps": (
        A,
        "actions are explicit numbered steps",
        'give two or more short steps, each starting with a verb ("Write down ...")',
    ),
    "checklist_tool": (
        A,
        "a tangible tool (question checklist) for the next visit",
        "list two or more questions to ask at the next visit",
    ),
}
"""Each automatable item: its dimension, what it asks, and how to meet it."""


def _item(item_id: str, met: bool | None, loc: tuple, hint: str | None = None, **values) -> Item:
    dimension, label, how = _ITEMS[item_id]
    return Item(item_id, dimension, label, met, hint=hint or (how.format(**values) if how else None), loc=loc)


def _understandable(src, ctx) -> list[Item]:
    """The understandability items a tool can judge: message, terms, chunks, headings, cues, figures."""
    h = src.model
    config = ctx.config
    main = prose.sentences(" ".join(p.text for p in prose.pieces(h.main_message, ("main_message",))))
    undefined = plain_language.undefined_jargon(h, plain_language.load_jargon(ctx, src.language))
    define = "define " + ", ".join(repr(t.term) for t, _, _ in undefined[:4]) + " in the glossary"
    long = [
        i for i, s in enumerate(h.sections) if prose.word_count(prose.section_pieces(s, i)) > config.long_section_words
    ]
    bad = _weak_heading(h.sections, {g.casefold() for g in config.generic_headings})
    summary = bool(prose.sentences(" ".join(p.text for p in prose.pieces(h.summary, ("summary",)))))
    cues = any(s.bullets or s.steps or s.callout or s.table or (s.body and "**" in s.body) for s in h.sections)
    figures = [(i, s.figure) for i, s in enumerate(h.sections) if s.figure is not None and not s.figure.decorative]
    uncaptioned = [i for i, f in figures if not f.caption]
    tables = [(i, s.table) for i, s in enumerate(h.sections) if s.table is not None]
    complex_ = [i for i, t in tables if len(t.header) > 4 or len(t.rows) > 8]
    return [
        _item("main_message_first", 1 <= len(main) <= 2, ("main_message",)),
        _item("terms_defined", not undefined, undefined[0][1] if undefined else (), define if undefined else None),
        _item(
            "chunked",
            len(h.sections) >= 2 and not long,
            ("sections", long[0], "heading") if long else ("sections",),
            words=config.long_section_words,
        ),
        _item("informative_headings", bad is None, ("sections", bad, "heading") if bad is not None else ()),
        _item("summary", summary, ("summary",)),
        _item("visual_cues", cues, ("sections",)),
        _item(
            "figures_captioned",
            (not uncaptioned) if figures else None,
            ("sections", uncaptioned[0], "figure") if uncaptioned else (),
        ),
        _item(
            "simple_tables", (not complex_) if tables else None, ("sections", complex_[0], "table") if complex_ else ()
        ),
    ]


def _weak_heading(sections, generic: set[str]) -> int | None:
    """The first section whose heading is generic ("Introduction") or repeats an earlier one."""
    seen: set[str] = set()
    for i, s in enumerate(sections):
        key = re.sub(r"[^\w\s]", "", s.heading).casefold().strip()
        if key in generic or key in seen:
            return i
        seen.add(key)
    return None


def _actionable(src, ctx) -> list[Item]:
    """The actionability items a tool can judge: actions present, addressed to the reader, as steps, a checklist."""
    h = src.model
    longest = ctx.config.long_sentence_words
    you = _YOU.get(src.language, _YOU["en"])

    def step_like(text: str) -> bool:
        ws = prose.words(prose.strip_cites(text))
        return bool(ws) and ws[0].casefold() not in _NOT_IMPERATIVE and len(ws) <= longest

    # PEMAT-P: "addresses the user directly when describing actions": an imperative or "you".
    indirect = [i for i, a in enumerate(h.actions) if not (step_like(a) or you.search(a))]
    uses_you = any(you.search(t) for _, t in plain_language.reader_texts(h))
    not_steps = [i for i, a in enumerate(h.actions) if not step_like(a)]
    return [
        _item("action_present", bool(h.actions), ("actions",)),
        _item("addresses_reader", uses_you and not indirect, ("actions", indirect[0]) if indirect else ("actions",)),
        _item(
            "numbered_steps",
            len(h.actions) >= 2 and not not_steps,
            ("actions", not_steps[0]) if not_steps else ("actions",),
        ),
        _item("checklist_tool", len(h.questions) >= 2, ("questions",)),
    ]


def _human(h, has_figures: bool) -> list[Item]:
    """The items only a person can judge: met where a reviewer signed them, else unknown."""
    out: list[Item] = []
    signed = set(h.human_review.items) if h.human_review else set()
    for item_id, (dim, label) in HUMAN_ITEMS.items():
        if item_id == "clear_illustrations" and not has_figures:
            out.append(Item(item_id, dim, label, None, human=True))
        else:
            out.append(Item(item_id, dim, label, True if item_id in signed else None, human=True))
    return out


def _below_minimum(src, ctx, its: list[Item], dim: str) -> list[Finding]:
    """An error when a dimension's score is below `pemat_min`."""
    pct = score(its, dim)
    if pct is None or pct >= ctx.config.pemat_min:
        return []
    applicable = [i for i in its if i.dimension == dim and i.met is not None]
    met = sum(1 for i in applicable if i.met)
    message = f"PEMAT-P {dim} {pct:.0f}% ({met} of {len(applicable)} items met); {ctx.config.pemat_min:g}% needed"
    return [
        ctx.at(src, f"pemat.{dim}", "error", message, ("title",), hint="see the unmet pemat.item findings", score=pct)
    ]


def score(its: list[Item], dimension: str) -> float | None:
    """Percentage of applicable items met in one dimension (None if none applies)."""
    applicable = [i for i in its if i.dimension == dimension and i.met is not None]
    if not applicable:
        return None
    return round(100 * sum(1 for i in applicable if i.met) / len(applicable), 1)


def check(src, ctx) -> list[Finding]:
    """PEMAT-P understandability and actionability of a handout (decks are not PEMAT-P scored)."""
    if src.kind != "handout":
        return []
    its = items(src, ctx)
    h = src.model
    store = ctx.item_scores(src.key)
    findings: list[Finding] = []
    for dim in (UNDERSTANDABILITY, ACTIONABILITY):
        store["scores"][f"pemat_{dim}"] = score(its, dim)
        findings.extend(_below_minimum(src, ctx, its, dim))
    store["pemat_items"] = [i.as_dict() for i in its]
    for i in its:
        if i.met is False:
            findings.append(
                ctx.at(
                    src,
                    "pemat.item",
                    "warning",
                    f"PEMAT-P item not met: {i.label}",
                    i.loc,
                    hint=i.hint,
                    item=i.id,
                    dimension=i.dimension,
                )
            )
    pending = [
        i
        for i in its
        if i.human and i.met is None and not (i.id == "clear_illustrations" and not any(s.figure for s in h.sections))
    ]
    if pending:
        findings.append(
            ctx.at(
                src,
                "pemat.human_review",
                "info",
                "needs human review: " + "; ".join(i.label for i in pending),
                ("human_review",) if h.human_review else ("title",),
                hint="after checking, list the items under human_review: {by, date, items: ["
                + ", ".join(i.id for i in pending)
                + "]}",
                items=[i.id for i in pending],
            )
        )
    return findings
