"""Citations: every `[@key]` resolves, every reference is used, claims carry a citation."""

from __future__ import annotations

import re

from ..errors import Finding
from ..load.project import walk_text
from ..load.schema import cite_keys
from . import prose


def check(src, ctx) -> list[Finding]:
    """Unknown keys (handouts and decks) and handout sections with prose but no citation."""
    bib = ctx.project.bibliography
    findings: list[Finding] = []
    reported: set[str] = set()
    for loc, text in walk_text(src.model):
        for key in cite_keys(text):
            if key not in bib and key not in reported:
                reported.add(key)
                import difflib

                close = difflib.get_close_matches(key, list(bib.items), n=1)
                findings.append(
                    ctx.at(
                        src,
                        "citations.unresolved",
                        "error",
                        f"unknown citation key [@{key}]",
                        loc,
                        hint=f"did you mean [@{close[0]}]?" if close else "add the source to content/references.json",
                        needle=f"@{key}",
                        key=key,
                    )
                )
    if src.kind != "handout":
        return findings
    for i, section in enumerate(src.model.sections):
        if section.no_claims:
            continue
        has_prose = prose.word_count(prose.section_pieces(section, i)) > 0 or section.table is not None
        cited = any(cite_keys(text) for _, text in walk_text(section))
        if has_prose and not cited:
            findings.append(
                ctx.at(
                    src,
                    "citations.uncited_section",
                    "warning",
                    f"section {section.heading!r} has no citation",
                    ("sections", i, "heading"),
                    hint="cite the source of each claim as [@key], or set no_claims: true if the "
                    "section states no facts",
                )
            )
    return findings


def check_project(ctx) -> list[Finding]:
    """References in content/references.json that no handout or deck cites (warning)."""
    bib = ctx.project.bibliography
    used: set[str] = set()
    for src in ctx.project.sources:
        for _, text in walk_text(src.model):
            used.update(cite_keys(text))
    path = ctx.root / bib.path if bib.path else None
    text = path.read_text(encoding="utf-8-sig") if path is not None and path.is_file() else ""
    findings = []
    for key in bib.items:
        if key not in used:
            m = re.search(r'"id"\s*:\s*"' + re.escape(key) + '"', text)
            line = text.count("\n", 0, m.start()) + 1 if m else None
            findings.append(
                Finding(
                    "citations.unused",
                    "warning",
                    f"reference {key!r} is not cited by any handout or deck",
                    bib.path,
                    line,
                    key,
                    "cite it where it supports a claim, or remove it",
                    {"key": key},
                )
            )
    return findings
