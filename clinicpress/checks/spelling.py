"""Spelling of a locale: US spellings left in a handout a UK practice prints.

A practice in GB prints English content with the en-GB spelling map applied
(`load/spelling.py`). This check reads the text as that practice prints it and names every US
form still there: a form the map does not list (`diarrheas`), or a word in the practice's own
text (practice.yml is printed as written). Links, citations and kept proper names are skipped.

Check id: `spelling.us` (warning).
"""

from __future__ import annotations

from ..errors import Finding, dotted
from ..load.practice import localized_fields
from ..load.spelling import spelling_for

MAX_LISTED = 12
"""Words named in one warning; the rest are counted."""


def _hint(locale: str) -> str:
    return (
        f"add the form to `spelling` in templates/languages/{locale}.yml (US word: local word), "
        "or to `keep` if it is a proper name"
    )


def check(src, ctx) -> list[Finding]:
    """Item check: the handout's text as each practice with a spelling map prints it."""
    if src.kind != "handout":
        return []
    from ..load.project import walk_text

    out: list[Finding] = []
    for slug, practice in sorted(ctx.project.practices.items()):
        if src.language not in practice.info.languages:
            continue
        spelling = spelling_for(ctx.root, src.language, practice.info.country)
        if spelling is None:
            continue
        keep = (practice.info.name,)
        printed = spelling.respell_model(src.model, keep)
        for loc, text in walk_text(printed):
            if loc and loc[-1] in ("slug", "src", "language", "translation_of", "by"):
                continue
            words = spelling.left(text, keep)
            if words:
                out.append(
                    ctx.at(
                        src,
                        "spelling.us",
                        "warning",
                        f"US spelling printed in {slug}'s {spelling.locale} handout: {', '.join(words[:MAX_LISTED])}",
                        loc,
                        hint=_hint(spelling.locale),
                        needle=words[0],
                        practice=slug,
                        words=words,
                    )
                )
    return out


def check_practice(slug: str, practice, ctx) -> list[Finding]:
    """Practice check: US spellings in the practice's own printed texts (practice.yml)."""
    spelling = spelling_for(ctx.root, practice.info.languages[0], practice.info.country)
    if spelling is None:
        return []
    from ..load.loading import load_yaml

    path = practice.root / "practice.yml"
    _, positions = load_yaml(path, ctx.root)
    out: list[Finding] = []
    for loc, value in localized_fields(practice.info):
        texts = value.values() if isinstance(value, dict) else [value]
        words = [w for text in texts for w in spelling.left(text, (practice.info.name,))]
        if words:
            out.append(
                Finding(
                    "spelling.us",
                    "warning",
                    f"US spelling in a {spelling.locale} practice's text: {', '.join(words[:MAX_LISTED])}",
                    ctx.rel(path),
                    positions.get(loc, (None,))[0],
                    dotted(loc),
                    f"write it as {spelling.locale} readers spell it (practice.yml is printed as written)",
                    {"words": words},
                )
            )
    return out
