"""Quality checks: each module checks one family of standards and returns Findings.

`check_project` is the one entry point the build calls before rendering. It returns the
findings of every content item (keyed by `Source.key`), of every practice (keyed
`practice:<slug>`) and of the project as a whole (key `project`: unused references). An
item with an error finding is not rendered; `--strict` makes warnings fail too.

Families and their check ids (the `check` of each Finding):

- readability (`readability.py`): readability.fkgl, readability.section_fkgl,
  readability.inflesz, readability.section_inflesz, readability.notes_fkgl,
  readability.notes_inflesz
- plain language (`plain_language.py`): plain_language.jargon, plain_language.long_sentence,
  plain_language.long_section
- PEMAT-P (`pemat.py`): pemat.understandability, pemat.actionability, pemat.item,
  pemat.human_review
- governance (`governance.py`): governance.reviewed, governance.review_date,
  governance.review_age, governance.disclaimer, governance.emergency,
  governance.translation_outdated, governance.translation_original,
  governance.translation_missing
- citations (`citations.py`): citations.unresolved, citations.uncited_section, citations.unused
- accessibility (`accessibility.py`, `contrast.py`): accessibility.alt_text,
  accessibility.contrast, accessibility.font_size, accessibility.slide_bullets,
  accessibility.slide_titles, accessibility.slide_notes, accessibility.slide_table_rows
"""

from __future__ import annotations

from collections.abc import Callable

from ..errors import Finding
from ..load.config import Config, load_config
from . import accessibility, citations, contrast, glyphs, governance, pemat, plain_language, readability
from ._base import Context

PROJECT_KEY = "project"
CHECK_IDS = (
    "readability.fkgl",
    "readability.section_fkgl",
    "readability.inflesz",
    "readability.section_inflesz",
    "readability.notes_fkgl",
    "readability.notes_inflesz",
    "plain_language.jargon",
    "plain_language.long_sentence",
    "plain_language.long_section",
    "pemat.understandability",
    "pemat.actionability",
    "pemat.item",
    "pemat.human_review",
    "governance.reviewed",
    "governance.review_date",
    "governance.review_age",
    "governance.disclaimer",
    "governance.emergency",
    "governance.translation_outdated",
    "governance.translation_original",
    "governance.translation_missing",
    "citations.unresolved",
    "citations.uncited_section",
    "citations.unused",
    "accessibility.alt_text",
    "accessibility.contrast",
    "accessibility.font_size",
    "accessibility.slide_bullets",
    "accessibility.slide_titles",
    "accessibility.slide_notes",
    "accessibility.slide_table_rows",
    "glyphs.missing",
)
"""Every check id a Finding can carry (the families are documented above)."""
ITEM_CHECKS: tuple[Callable[..., list[Finding]], ...] = (
    readability.check,
    plain_language.check,
    pemat.check,
    governance.check,
    citations.check,
    accessibility.check,
    glyphs.check,
)
PRACTICE_CHECKS: tuple[Callable[..., list[Finding]], ...] = (
    governance.check_practice,
    contrast.check_practice,
    accessibility.check_practice,
)

_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


class CheckResults(dict):
    """`dict[item key, list[Finding]]` that also carries the scores and the config used.

    `scores[key]` is {"scores": {...}, "sections": [...], "pemat_items": [...]} for each
    handout and deck; the report writer reads it.
    """

    scores: dict[str, dict]
    config: Config

    def narrow(self, keys: set[str]) -> "CheckResults":
        """The same results (scores and config included) for these item keys only."""
        out = CheckResults((k, v) for k, v in self.items() if k in keys)
        out.scores, out.config = self.scores, self.config
        return out


def check_project(project, config: Config | None = None) -> CheckResults:
    """Runs every check family over the project; returns findings per item key.

    `config` defaults to the project's own (`[tool.clinicpress]` / `clinicpress.toml`).
    The result is a `CheckResults` (a dict) whose `.scores` holds the readability and
    PEMAT-P scores per item key.
    """
    config = config if config is not None else load_config(project.root)
    ctx = Context(project, config)
    results = CheckResults()
    for src in project.sources:
        found: list[Finding] = []
        for run in ITEM_CHECKS:
            found.extend(run(src, ctx))
        results[src.key] = sort_findings(found)
        ctx.item_scores(src.key)
    for slug, practice in project.practices.items():
        found = []
        for run in PRACTICE_CHECKS:
            found.extend(run(slug, practice, ctx))
        results[f"practice:{slug}"] = sort_findings(found)
    results[PROJECT_KEY] = sort_findings(citations.check_project(ctx) + plain_language.check_project(ctx))
    results.scores = ctx.scores
    results.config = config
    return results


def sort_findings(findings: list[Finding]) -> list[Finding]:
    """Errors first, then warnings, then info; within each, by file and line."""
    return sorted(findings, key=lambda f: (_SEVERITY_ORDER.get(f.severity, 3), f.path, f.line or 0, f.check))


def status(findings: list[Finding], *, strict: bool = False) -> str:
    """pass, warn or fail for one item's findings (`strict`: warnings fail)."""
    severities = {f.severity for f in findings}
    if "error" in severities or (strict and "warning" in severities):
        return "fail"
    if "warning" in severities:
        return "warn"
    return "pass"


__all__ = ["check_project", "CheckResults", "status", "sort_findings", "PROJECT_KEY", "CHECK_IDS", "Finding"]
