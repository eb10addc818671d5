"""Quality checks: each module checks one family of standards and returns Findings.

`check_project` is the one entry point the build calls before rendering. It returns the
findings of every content item (keyed by `Source.key`), of every practice (keyed
`practice:<slug>`) and of the project as a whole (key `project`: unused references). An
item with an error finding is not rendered; `--strict` makes warnings fail too.

Families and their check ids (the `check` of each Finding):

- readability (`readability.py`): readability.fkgl, readability.section_fkgl,
  readability.inflesz, readability.section_inflesz, readability.notes_fkgl,
  readability.notes_inflesz, readability.sentence_length, readability.section_sentence_length,
  readability.notes_sentence_length (Arabic, Chinese: mean sentence length, see SENTENCE_LIMITS)
- plain language (`plain_language.py`): plain_language.jargon, plain_language.long_sentence,
  plain_language.long_section
- PEMAT-P (`pemat.py`): pemat.understandability, pemat.actionability, pemat.item,
  pemat.human_review
- governance (`governance.py`): governance.reviewed, governance.review_date,
  governance.review_age, governance.disclaimer, governance.emergency,
  governance.translation_outdated, governance.translation_original,
  governance.translation_missing, governance.translator_review, governance.placeholder; per practice (key `signoff:<slug>`,
  never blocking a render): governance.signoff, governance.approval_age
- citations (`citations.py`): citations.unresolved, citations.uncited_section, citations.unused
- accessibility (`accessibility.py`, `contrast.py`): accessibility.alt_text,
  accessibility.contrast, accessibility.font_size, accessibility.slide_bullets,
  accessibility.slide_titles, accessibility.slide_notes, accessibility.slide_table_rows
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from ..errors import Finding
from ..load.config import Config, load_config
from . import (
    accessibility,
    citations,
    contrast,
    glyphs,
    governance,
    language_help,
    language_id,
    pemat,
    plain_language,
    readability,
    spelling,
)
from ._base import Context

PROJECT_KEY = "project"
CHECK_IDS = (
    "readability.fkgl",
    "readability.section_fkgl",
    "readability.inflesz",
    "readability.section_inflesz",
    "readability.notes_fkgl",
    "readability.notes_inflesz",
    "readability.sentence_length",
    "readability.section_sentence_length",
    "readability.notes_sentence_length",
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
    "governance.translator_review",
    "governance.placeholder",
    "governance.signoff",
    "governance.approval_age",
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
    "spelling.us",
    "language_help.font",
    "language_id.mismatch",
    "language_id.mixed_direction",
    "glyphs.font_missing",
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
    spelling.check,
    language_id.check,
)
PRACTICE_CHECKS: tuple[Callable[..., list[Finding]], ...] = (
    governance.check_practice,
    contrast.check_practice,
    accessibility.check_practice,
    spelling.check_practice,
    language_help.check_practice,
)

_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


class CheckResults(dict):
    """`dict[item key, list[Finding]]` that also carries the scores and the config used.

    `scores[key]` is {"scores": {...}, "sections": [...], "pemat_items": [...]} for each
    handout and deck; the report writer reads it.
    """

    scores: dict[str, dict]
    config: Config
    entries: dict[str, dict]
    """Item key → {"key", "findings", "scores"}: what the next build may reuse (see check_project)."""
    reused: set[str]
    """Items whose results came from `cached` instead of running the checks."""

    def narrow(self, keys: set[str]) -> "CheckResults":
        """The same results (scores and config included) for these item keys only."""
        out = CheckResults((k, v) for k, v in self.items() if k in keys)
        out.scores, out.config, out.entries, out.reused = self.scores, self.config, self.entries, self.reused
        return out

    def plus(self, extra: dict[str, list[Finding]]) -> "CheckResults":
        """The same results with `extra` findings added to their items (e.g. what only the rendered
        pages show, such as a handout over its page budget), for showing; the stored results stay as they are."""
        out = CheckResults((k, [*v, *extra.get(k, [])]) for k, v in self.items())
        out.scores, out.config, out.entries, out.reused = self.scores, self.config, self.entries, self.reused
        return out


def check_project(
    project, config: Config | None = None, *, keys: dict[str, str] | None = None, cached: dict | None = None
) -> CheckResults:
    """Runs every check family over the project; returns findings per item key.

    `config` defaults to the project's own (`[tool.clinicpress]` / `clinicpress.toml`).
    The result is a `CheckResults` (a dict) whose `.scores` holds the readability and
    PEMAT-P scores per item key.

    `keys` maps item (and `practice:<slug>`) keys to a digest of everything their checks read (the build computes
    it, clinicpress.write.cache.check_keys); `cached` holds the `.entries` of an earlier run,
    read back from disk. An item whose digest matches its entry reuses the entry's findings
    and scores; every other item, every practice and the project are checked as usual. An
    entry that does not have the expected shape is not trusted: its item is checked again.
    """
    config = config if config is not None else load_config(project.root)
    ctx = Context(project, config)
    results = CheckResults()
    results.entries, results.reused = {}, set()
    keys = keys or {}
    cached = cached if isinstance(cached, dict) else {}  # read back from disk: anything may be there
    for src in project.sources:
        _check_one(results, src.key, keys, cached, functools.partial(_item_findings, src, ctx), ctx)
    for slug, practice in project.practices.items():
        run = functools.partial(_practice_findings, slug, practice, ctx)
        _check_one(results, f"practice:{slug}", keys, cached, run)
        results[governance.SIGNOFF_PREFIX + slug] = sort_findings(governance.check_signoffs(slug, practice, ctx))
    results[PROJECT_KEY] = sort_findings(citations.check_project(ctx) + plain_language.check_project(ctx))
    results.scores = ctx.scores
    results.config = config
    return results


def _item_findings(src, ctx: Context) -> list[Finding]:
    return [f for run in ITEM_CHECKS for f in run(src, ctx)]


def _practice_findings(slug: str, practice, ctx: Context) -> list[Finding]:
    return [f for run in PRACTICE_CHECKS for f in run(slug, practice, ctx)]


def _check_one(
    results: CheckResults,
    item: str,
    keys: dict[str, str],
    cached: dict,
    run: Callable[[], list[Finding]],
    ctx: Context | None = None,
) -> None:
    """Checks one item (or practice), or reuses its cached entry when its key still matches,
    and records the entry the next run may reuse. With `ctx`, the item also has scores."""
    key = keys.get(item)
    entry = _reusable(cached.get(item), key)
    if entry is not None:
        results[item] = entry[0]
        if ctx is not None:
            ctx.scores[item] = entry[1]
        results.reused.add(item)
    else:
        results[item] = sort_findings(run())
        if ctx is not None:
            ctx.item_scores(item)
    if key is not None:
        scores = ctx.scores[item] if ctx is not None else {}
        results.entries[item] = {"key": key, "findings": [f.to_json() for f in results[item]], "scores": scores}


def _reusable(entry, key: str | None) -> tuple[list[Finding], dict] | None:
    """The findings and scores of a cached entry made with this key, or None (check again)."""
    if key is None or not isinstance(entry, dict) or entry.get("key") != key:
        return None
    raw, scores = entry.get("findings"), entry.get("scores")
    if not isinstance(raw, list) or not isinstance(scores, dict):
        return None
    findings = []
    for f in raw:
        if not (
            isinstance(f, dict)
            and f.get("check") in CHECK_IDS
            and f.get("severity") in _SEVERITY_ORDER
            and all(isinstance(f.get(k, ""), str) for k in ("message", "path"))
            and all(isinstance(f.get(k), (str, type(None))) for k in ("field", "hint"))
            and isinstance(f.get("line"), (int, type(None)))
            and isinstance(f.get("data", {}), dict)
        ):
            return None
        findings.append(
            Finding(
                f["check"],
                f["severity"],
                f.get("message", ""),
                f.get("path", ""),
                f.get("line"),
                f.get("field"),
                f.get("hint"),
                f.get("data", {}),
            )
        )
    return findings, scores


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
