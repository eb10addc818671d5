"""Plain language: jargon defined in the glossary, no long sentences, no long sections.

The jargon list (`content/jargon.yml` by default; `content/jargon.<lang>.yml` for other
languages) is a YAML list of `{term, plain}` entries. A listed term used anywhere a reader sees it (title, messages, sections,
tables, figure captions and alt text, lists, glossary definitions) must have a glossary
entry in that handout. Matching is case-insensitive on whole words, a plural -s/-es counts
as the same word, and spaces and hyphens inside a term match each other. A longer term
is matched first, so "autoimmune hepatitis" does not also count as "autoimmune".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import Finding, Problem, UserError
from ..load.loading import load_yaml
from ..load.project import walk_text
from . import prose

CHECK_JARGON = "plain_language.jargon"
CHECK_SENTENCE = "plain_language.long_sentence"
CHECK_SECTION = "plain_language.long_section"

_HIDDEN_TOP = {
    "slug",
    "language",
    "translation_of",
    "translated_from_review",
    "description",
    "keywords",
    "reviewed",
    "human_review",
    "deck",
}
_HIDDEN_LEAF = {"src", "kind"}


@dataclass(frozen=True)
class Term:
    term: str
    plain: str | None
    line: int | None

    @property
    def pattern(self) -> re.Pattern:
        return term_pattern(self.term)


def term_pattern(term: str) -> re.Pattern:
    """Whole-word, case-insensitive pattern for a term and its simple plural."""
    parts = [re.escape(p) for p in re.split(r"[\s\-‐‑–]+", term.strip()) if p]
    body = r"[\s\-‐‑–]+".join(parts)
    return re.compile(rf"(?<![\w]){body}(?:s|es)?(?![\w])", re.IGNORECASE)


def same_term(a: str, b: str) -> bool:
    """True when two terms are the same word up to case, dashes, spaces and a plural -s/-es."""
    return bool(term_pattern(a).fullmatch(b.strip()) or term_pattern(b).fullmatch(a.strip()))


def jargon_path(ctx, language: str):
    """The jargon list of one language: `jargon_file` for English, `<name>.<lang>.yml` beside it otherwise."""
    main = ctx.root / ctx.config.jargon_file
    return main if language == "en" else main.with_name(f"{main.stem}.{language}{main.suffix}")


def load_jargon(ctx, language: str = "en") -> list[Term]:
    """Reads the jargon list for `language` once per run (longest terms first); no file, no terms.

    The main list is English (its words and plain meanings are English): a Spanish handout
    is checked against `content/jargon.es.yml` when that file exists.
    """
    key = ("jargon", language)
    if key not in ctx.cache:
        terms = _read_terms(ctx, jargon_path(ctx, language))
        terms.sort(key=lambda t: -len(t.term))
        ctx.cache[key] = terms
    return ctx.cache[key]


def _read_terms(ctx, path) -> list[Term]:
    terms: list[Term] = []
    if not path.is_file():
        return terms
    data, positions = load_yaml(path, ctx.root)
    if data is None:
        data = []
    if not isinstance(data, list):
        raise UserError(
            Problem(ctx.rel(path), 1, None, None, "the jargon list must be a YAML list of {term, plain} entries")
        )
    for i, entry in enumerate(data):
        if isinstance(entry, str):
            entry = {"term": entry}
        line = positions.get((i,), (None,))[0]
        if not isinstance(entry, dict) or not isinstance(entry.get("term"), str) or not entry["term"].strip():
            raise UserError(
                Problem(
                    ctx.rel(path),
                    line,
                    None,
                    f"[{i}]",
                    "each jargon entry needs a 'term'",
                    hint="- term: dysbiosis\n  plain: A change in the usual mix of gut bacteria.",
                )
            )
        terms.append(Term(entry["term"].strip(), entry.get("plain"), line))
    return terms


def reader_texts(model) -> list[tuple[tuple, str]]:
    """(loc, plain text) for every string a reader sees; glossary terms left out."""
    out = []
    for loc, text in walk_text(model):
        if not loc or loc[0] in _HIDDEN_TOP or loc[-1] in _HIDDEN_LEAF:
            continue
        if loc[0] == "glossary" and loc[-1] == "term":
            continue
        plain = " ".join(t for _, t in prose.blocks(text)) or prose.strip_cites(text)
        out.append((loc, plain))
    return out


def undefined_jargon(handout, terms: list[Term]) -> list[tuple[Term, tuple, str]]:
    """Returns (term, first loc, matched text) for each listed term used without a glossary entry."""
    glossary = [g.term for g in handout.glossary]
    texts = reader_texts(handout)
    masked = {loc: text for loc, text in texts}
    found: dict[str, tuple[Term, tuple, str]] = {}
    for term in terms:  # longest first: mask what a longer term matched
        for loc, _text in texts:
            m = term.pattern.search(masked[loc])
            if m is None:
                continue
            if not any(same_term(term.term, g) for g in glossary) and term.term not in found:
                found[term.term] = (term, loc, m.group(0))
            for loc2 in masked:
                masked[loc2] = term.pattern.sub(lambda mm: "\x00" * len(mm.group(0)), masked[loc2])
            break
    return list(found.values())


def check(src, ctx) -> list[Finding]:
    """Jargon, long sentences and long sections of a handout (decks have no glossary)."""
    if src.kind != "handout":
        return []
    config = ctx.config
    handout = src.model
    findings: list[Finding] = []
    for term, loc, used in undefined_jargon(handout, load_jargon(ctx, src.language)):
        plain = f" (suggested: {term.plain})" if term.plain else ""
        findings.append(
            ctx.at(
                src,
                CHECK_JARGON,
                config.jargon_severity,
                f"{used!r} is a medical term from {config.jargon_file} but the glossary does not define {term.term!r}",
                loc,
                hint=f"add a glossary entry for {term.term!r}{plain}, or use a plain word",
                term=term.term,
            )
        )
    for piece in prose.handout_pieces(handout):
        if not piece.is_prose:
            continue
        for sentence in prose.sentences(piece.text):
            n = len(prose.words(sentence))
            if n > config.long_sentence_words:
                start = " ".join(sentence.split()[:8])
                findings.append(
                    ctx.at(
                        src,
                        CHECK_SENTENCE,
                        "warning",
                        f'sentence of {n} words (more than {config.long_sentence_words}): "{start} ..."',
                        piece.loc,
                        hint="split it into two short sentences",
                        words=n,
                    )
                )
    for i, section in enumerate(handout.sections):
        n = prose.word_count(prose.section_pieces(section, i))
        if n > config.long_section_words:
            findings.append(
                ctx.at(
                    src,
                    CHECK_SECTION,
                    "warning",
                    f"section {section.heading!r} has {n} words (more than {config.long_section_words})",
                    ("sections", i, "heading"),
                    hint="split it into two sections with their own headings, or cut it",
                    words=n,
                )
            )
    return findings


def check_project(ctx) -> list[Finding]:
    """A note for each content language that has handouts but no jargon list (terms unchecked)."""
    out = []
    languages = sorted({s.language for s in ctx.project.handouts})
    for language in languages:
        path = jargon_path(ctx, language)
        if not path.is_file():
            out.append(
                Finding(
                    CHECK_JARGON,
                    "info",
                    f"no jargon list for {language!r} handouts, so their medical terms are not checked",
                    ctx.rel(path),
                    None,
                    None,
                    f"create {ctx.rel(path)} (a list of term/plain entries, like {ctx.config.jargon_file})",
                    {"language": language},
                )
            )
    return out
