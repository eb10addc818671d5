"""The prose of a handout or deck, as the readability and plain-language checks see it.

Readability formulas measure running sentences, so before scoring (UNM Hospital guidance,
shared/standards.md): `[@key]` markers and markdown syntax are removed; headings, table
cells and glossary entries are left out; list items that are not sentences are left out;
periods inside numbers (3.5, 1,000) and abbreviations (Dr., e.g., U.S., H. pylori) are
removed so they do not end a sentence.

A list item counts as a sentence when it has at least three words and ends with . ! or ?
(a program cannot find a verb reliably offline, so the closing punctuation stands for it:
"Belly pain" and "Fever over 101 F" are fragments, "You see blood in your stool." is not).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from markdown_it import MarkdownIt

from ..load.schema import CITE_RE

WORD_RE = re.compile(r"[^\W_](?:[\w'’\-]*[^\W_])?", re.UNICODE)
"""A word: letters/digits, with inner apostrophes or hyphens (don't, gut-brain, 7)."""
_HAN_RE = re.compile(r"[\u3400-\u9fff]")
_END_RE = re.compile(r"[.!?…。！？؟][\"'”’»)\]」』]*$")


@dataclass(frozen=True)
class Piece:
    """One run of text from one field: where it is (model path) and what it says."""

    loc: tuple
    text: str
    """Plain text: markdown and citations removed, abbreviation/number periods removed."""
    kind: str
    """paragraph, list_item (a sentence-like list item) or fragment (a list item that is not)."""

    @property
    def is_prose(self) -> bool:
        return self.kind != "fragment"


@functools.cache
def _md() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False})
    md.disable(["image", "html_block", "html_inline"])
    return md


def strip_cites(text: str) -> str:
    """Removes `[@key]` markers and the space before them."""
    return re.sub(r"\s*" + CITE_RE.pattern, "", text or "")


def blocks(markdown: str, *, list_item: bool = False) -> list[tuple[str, str]]:
    """Splits CommonMark into (kind, plain text) blocks; headings and code are dropped.

    Kinds: paragraph, item (inside a list). With `list_item=True` the whole text is one
    item of a list (a bullet, step, action).
    """
    out: list[tuple[str, str]] = []
    depth_list = 1 if list_item else 0
    skip = False
    for tok in _md().parse(strip_cites(markdown)):
        if tok.type in ("bullet_list_open", "ordered_list_open"):
            depth_list += 1
        elif tok.type in ("bullet_list_close", "ordered_list_close"):
            depth_list -= 1
        elif tok.type == "heading_open":
            skip = True
        elif tok.type == "heading_close":
            skip = False
        elif tok.type == "inline" and not skip:
            text = _inline_text(tok)
            if text.strip():
                out.append(("item" if depth_list else "paragraph", text.strip()))
    return out


def _inline_text(tok) -> str:
    parts = []
    for child in tok.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return re.sub(r"\s+", " ", "".join(parts))


_TITLE_ABBREV = (
    "Dr",
    "Drs",
    "Dra",
    "Mr",
    "Mrs",
    "Ms",
    "Prof",
    "Sr",
    "Sra",
    "Srta",
    "Jr",
    "St",
    "No",
    "Nos",
    "vs",
    "approx",
    "fig",
    "Fig",
    "Ud",
    "Uds",
    "Vd",
    "Vds",
    "aprox",
    "núm",
    "Núm",
    "pág",
)
_ABBREV_RE = re.compile(r"\b(" + "|".join(_TITLE_ABBREV) + r")\.(?=\s|$)")
_SPACED_ABBREV = {"p. ej.": "p ej", "EE. UU.": "EE UU", "EE.UU.": "EE UU"}
_DOTTED_RE = re.compile(r"\b((?:[A-Za-z]\.){2,})")
_NEVER_FINAL = {"eg", "ie", "cf"}


def prepare(text: str) -> str:
    """Removes periods that do not end a sentence: numbers and abbreviations."""
    text = re.sub(r"(?<=\d)[.,](?=\d)", "", text)
    for k, v in _SPACED_ABBREV.items():
        text = text.replace(k, v)

    def dotted(m: re.Match) -> str:
        letters = m.group(1).replace(".", "")
        after = text[m.end() :]
        ends = (not after.strip() or re.match(r"\s+[A-Z¿¡]", after)) and letters.lower() not in _NEVER_FINAL
        return letters + ("." if ends else "")

    text = _DOTTED_RE.sub(dotted, text)
    text = re.sub(r"\betc\.(?=\s+[a-z])", "etc", text)
    text = _ABBREV_RE.sub(r"\1", text)
    # A single capital initial before a lower-case word: H. pylori, P. copri.
    text = re.sub(r"\b([A-Z])\.(?=\s+[a-z])", r"\1", text)
    return text


def words(text: str) -> list[str]:
    """Returns the words of plain text (numbers count as words)."""
    return WORD_RE.findall(text)


def is_sentence(text: str) -> bool:
    """True when a list item reads as a sentence: 3+ words (Chinese, written without spaces: 6+
    characters) and closing punctuation."""
    long_enough = len(words(text)) >= 3 or (bool(_HAN_RE.search(text)) and sum(ch.isalnum() for ch in text) >= 6)
    return long_enough and bool(_END_RE.search(text.strip()))


def sentences(text: str) -> list[str]:
    """Splits prepared plain text into sentences."""
    parts = re.split(r"(?<=[.!?…؟])[\"'”’»)\]]*\s+|(?<=[。！？])[”」』]*\s*", text.strip())
    return [p.strip() for p in parts if words(p)]


def pieces(markdown: str | None, loc: tuple, *, list_item: bool = False) -> list[Piece]:
    """Returns the Pieces of one field; list items that are not sentences are fragments."""
    if not markdown:
        return []
    out = []
    for kind, text in blocks(markdown, list_item=list_item):
        text = prepare(text)
        if kind == "item":
            kind = "list_item" if is_sentence(text) else "fragment"
        out.append(Piece(loc, text, kind))
    return out


def section_pieces(section, index: int) -> list[Piece]:
    """The running text of a handout section: body, bullets, steps, callout, caption."""
    base = ("sections", index)
    out = pieces(section.body, base + ("body",))
    for i, b in enumerate(section.bullets):
        out += pieces(b, base + ("bullets", i), list_item=True)
    for i, s in enumerate(section.steps):
        text, loc = (s, base + ("steps", i)) if isinstance(s, str) else (s.text, base + ("steps", i, "text"))
        out += pieces(text, loc, list_item=True)
    if section.callout is not None:
        out += pieces(section.callout.body, base + ("callout", "body"))
    if section.figure is not None and section.figure.caption:
        out += pieces(section.figure.caption, base + ("figure", "caption"), list_item=True)
    return out


def handout_pieces(handout) -> list[Piece]:
    """The running text of a whole handout, in reading order (glossary and tables left out)."""
    out = pieces(handout.main_message, ("main_message",))
    out += pieces(handout.summary, ("summary",))
    for i, section in enumerate(handout.sections):
        out += section_pieces(section, i)
    for name in ("actions", "questions", "teach_back"):
        for i, item in enumerate(getattr(handout, name)):
            out += pieces(item, (name, i), list_item=True)
    for level in ("emergency", "today", "soon"):
        for i, item in enumerate(getattr(handout.get_help, level)):
            out += pieces(item, ("get_help", level, i), list_item=True)
    return out


def deck_note_pieces(deck) -> list[Piece]:
    """The speaker notes of a deck (full sentences a presenter reads)."""
    out = []
    for i, slide in enumerate(deck.slides):
        if slide.notes:
            out += [Piece(p.loc, p.text, "paragraph") for p in pieces(slide.notes, ("slides", i, "notes"))]
    return out


def scoring_text(ps: list[Piece]) -> str:
    """Joins the prose pieces into one text for textstat; each piece ends a sentence."""
    parts = []
    for p in ps:
        if not p.is_prose:
            continue
        t = p.text.strip()
        if not _END_RE.search(t):
            t += "."
        parts.append(t)
    return "\n".join(parts)


def word_count(ps: list[Piece]) -> int:
    """Words in all pieces, fragments included (for section length)."""
    return sum(len(words(p.text)) for p in ps)
