"""Governance: who reviewed what and when, the disclaimer and emergency line, translations.

Review age is measured from `Config.reference_date()` (the `today` option, else
SOURCE_DATE_EPOCH, else the real date) so a build is reproducible.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import Finding, UserError
from ..load.config import age_months, months_before
from ..load.i18n import messages
from ..load.loading import load_yaml
from ..load.project import original_of

PLACEHOLDER_RE = re.compile(r"^\s*(tbd|tba|todo|fixme|xxx+|\?+|n/?a|none|unknown|-+)\s*$", re.I)


def _catalogue_line(
    root: Path, language: str, key: str, practice_templates: Path | None = None
) -> tuple[str, int | None, bool]:
    """Returns (path, line, found) for `key` in the catalogues of `language` itself.

    The practice's override is looked at first, then templates/i18n/<language>.yml; the
    English fallback does not count for another language (the reader would get English).
    """
    candidates = []
    if practice_templates is not None:
        candidates.append(practice_templates / "i18n" / f"{language}.yml")
    own = root / "templates" / "i18n" / f"{language}.yml"
    candidates.append(own)
    for path in candidates:
        if path.is_file():
            try:
                data, positions = load_yaml(path, root)
            except UserError:
                continue
            if isinstance(data, dict) and key in data:
                return str(path.relative_to(root)), positions.get((key,), (None,))[0], True
    return str(own.relative_to(root)), None, False


def catalogue_findings(ctx, language: str, practice=None) -> list[Finding]:
    """Disclaimer and emergency texts present in the language (the emergency line with its {number})."""
    templates = practice.templates_dir if practice is not None else None
    out: list[Finding] = []
    try:
        t = messages(ctx.root, language, templates)
    except UserError as exc:
        p = exc.problems[0]
        return [
            Finding(
                "governance.disclaimer",
                "error",
                f"message catalogue for {language!r} cannot be read: {p.message}",
                p.path,
                p.line,
                None,
                "fix the catalogue file",
            )
        ]
    for key, label in (("disclaimer", "disclaimer"), ("emergency", "emergency line")):
        path, line, own = _catalogue_line(ctx.root, language, key, templates)
        value = (t.get(key) or "").strip()
        if not value or not own:
            fallback = " (the English text would be printed)" if value and not own else ""
            out.append(
                Finding(
                    f"governance.{key}",
                    "error",
                    f"no {label} text for language {language!r}{fallback}",
                    path,
                    line,
                    key,
                    f"set '{key}' in {path}",
                )
            )
        elif key == "emergency" and "{number}" not in value:
            out.append(
                Finding(
                    "governance.emergency",
                    "error",
                    f"the emergency line for {language!r} does not show the practice's emergency number",
                    path,
                    line,
                    key,
                    "put {number} where the emergency number goes",
                )
            )
    return out


def check(src, ctx) -> list[Finding]:
    """Review date and reviewer, review age, disclaimer/emergency texts, translation currency."""
    config = ctx.config
    m = src.model
    today = config.reference_date()
    findings: list[Finding] = []
    rv = m.reviewed
    if PLACEHOLDER_RE.match(rv.by or ""):
        findings.append(
            ctx.at(
                src,
                "governance.reviewed",
                "error",
                f"reviewer {rv.by!r} is a placeholder",
                ("reviewed", "by"),
                hint='name the clinician who reviewed it, e.g. "Dana Ortiz, MD"',
            )
        )
    if rv.date > today:
        findings.append(
            ctx.at(
                src,
                "governance.review_date",
                "warning",
                f"reviewed date {rv.date.isoformat()} is after {today.isoformat()}",
                ("reviewed", "date"),
                hint="use the date the review actually happened",
            )
        )
    else:
        findings.extend(_review_age(ctx, src, rv.date, today))

    if src.kind == "handout":
        key = ("catalogue", src.language)
        if key not in ctx.cache:
            ctx.cache[key] = catalogue_findings(ctx, src.language)
        findings.extend(ctx.cache[key])

    findings.extend(_translation(ctx, src))
    return findings


def _translation(ctx, src) -> list[Finding]:
    """A translation names its original and the review it follows, and that review is the latest."""
    m = src.model
    if not m.translation_of:
        return []
    if getattr(m, "translator_review", None) == "needed":
        return [
            ctx.at(
                src,
                "governance.translator_review",
                "info",
                "translation not yet checked by a qualified medical translator"
                + ("; every printed page says so" if src.kind == "handout" else ""),
                ("translator_review",),
                hint="have a qualified medical translator check it against the original, then set translator_review: done",
            ),
            *_translation_version(ctx, src),
        ]
    return _translation_version(ctx, src)


def _translation_version(ctx, src) -> list[Finding]:
    m = src.model
    original = original_of(ctx.project.sources, src)
    if original is None:
        return [
            ctx.at(
                src,
                "governance.translation_original",
                "warning",
                f"translation_of {m.translation_of!r}: no {src.kind} with that slug in another language",
                ("translation_of",),
                hint="give the slug of the original",
            )
        ]
    reviewed = original.model.reviewed.date
    if m.translated_from_review is None:
        return [
            ctx.at(
                src,
                "governance.translation_outdated",
                "warning",
                "translation does not say which review of the original it follows",
                ("translation_of",),
                hint=f"set translated_from_review: {reviewed.isoformat()} once it matches that version",
            )
        ]
    if m.translated_from_review < reviewed:
        return [
            ctx.at(
                src,
                "governance.translation_outdated",
                "warning",
                f"outdated translation: based on the {m.translated_from_review.isoformat()} "
                f"review, but {ctx.rel(original.path)} was reviewed {reviewed.isoformat()}",
                ("translated_from_review",),
                hint="update the translation, then set translated_from_review to the original's reviewed date",
            )
        ]
    return []


def check_practice(slug: str, practice, ctx) -> list[Finding]:
    """Disclaimer texts in every offered language, missing translations.

    The emergency and crisis numbers are checked when the practice is loaded (`load.helplines`):
    a country with none is an error there.

    Whether a practice's templates still print the disclaimer, emergency line, review line and
    language-help notice is checked on each printed PDF (`render.handout.pdf.verify_pdf`), not
    by reading the templates: an override can name a variable and still not print it.
    """
    info = practice.info
    shown = ctx.rel(practice.root / "practice.yml")
    findings: list[Finding] = []
    for language in info.languages:
        if practice.templates_dir is not None and (practice.templates_dir / "i18n" / f"{language}.yml").is_file():
            findings.extend(f for f in catalogue_findings(ctx, language, practice) if f.path.startswith("practices/"))
    findings.extend(_missing_translations(ctx, practice, shown))
    findings.extend(placeholder_details(slug, practice, ctx))
    return findings


def _missing_translations(ctx, practice, shown: str) -> list[Finding]:
    """For each language the practice offers, the original handouts that have no version in it."""
    originals = [s for s in ctx.project.handouts if not s.model.translation_of]
    findings = []
    for language in practice.info.languages:
        missing = [
            orig.slug
            for orig in originals
            if orig.language != language
            and not any(
                s.language == language and (s.slug == orig.slug or s.model.translation_of == orig.slug)
                for s in ctx.project.handouts
            )
        ]
        if missing:
            line = _yaml_line(practice.root / "practice.yml", ctx.root, "languages")
            findings.append(
                Finding(
                    "governance.translation_missing",
                    ctx.config.missing_translation_severity,
                    f"the practice offers {language!r} but {len(missing)} handout(s) have no "
                    f"{language!r} version: {', '.join(missing)}",
                    shown,
                    line,
                    "languages",
                    f"add content/handouts/{language}/<slug>.yml with translation_of: <slug>",
                    {"language": language, "slugs": missing},
                )
            )
    return findings


def _yaml_line(path: Path, root: Path, key: str) -> int | None:
    try:
        _, positions = load_yaml(path, root)
    except UserError:
        return None
    return positions.get((key,), (None,))[0]


def _review_age(ctx, src, reviewed, today) -> list:
    """An error past `review_error_months` since the review, a warning past `review_warn_months`."""
    config = ctx.config
    for severity, months, hint in (
        (
            "error",
            config.review_error_months,
            "have a clinician review it against current evidence and update reviewed.date",
        ),
        ("warning", config.review_warn_months, "schedule a review; update reviewed.date when it is done"),
    ):
        if reviewed < months_before(today, months):
            message = (
                f"last reviewed {reviewed.isoformat()}, {age_months(reviewed, today)} months ago (more than {months})"
            )
            return [ctx.at(src, "governance.review_age", severity, message, ("reviewed", "date"), hint=hint)]
    return []


# --------------------------------------------------------------------------- practice sign-off
SIGNOFF_PREFIX = "signoff:"
"""Results key of a practice's sign-off findings (`signoff:<slug>`): they never stop a
document from being rendered (an unapproved one prints as a draft), but they count."""


def check_signoffs(slug: str, practice, ctx) -> list[Finding]:
    """For each item the practice prints: not approved or changed since approval (warning: it
    prints as a draft), approval older than `approval_warn_months` (warning) or expired after
    `approval_error_months` (error; it prints as a draft)."""
    from ..load.approvals import APPROVALS_FILE
    from ..load.config import months_before

    config = ctx.config
    today = config.reference_date()
    states = ctx.project.signoffs.get(slug, {})
    path = ctx.rel(practice.root / APPROVALS_FILE)
    name = practice.info.name
    out: list[Finding] = []
    for src in ctx.project.sources:
        state = states.get(src.key)
        if state is None or src.language not in practice.info.languages:
            continue
        item = src.slug if src.language == "en" else f"{src.slug}:{src.language}"
        commands = (
            f"`python build.py review --practice {slug}` shows it; a clinician approves it with "
            f'`python build.py approve --practice {slug} {item} --by "Name, credentials"`'
        )
        field = f"{src.slug}.{src.language}"
        data = {"item": src.key, "status": state.status}
        if state.status in ("unapproved", "changed"):
            out.append(
                Finding(
                    "governance.signoff",
                    "warning",
                    f"{src.kind} {item} is not approved by {name} ({state.reason}): it prints as a draft",
                    path,
                    None,
                    field,
                    commands,
                    data,
                )
            )
        elif state.approval is not None:
            approved = state.approval.date
            months = age_months(approved, today)
            if approved > today:
                out.append(
                    Finding(
                        "governance.approval_age",
                        "warning",
                        f"{name}'s approval of {src.kind} {item} is dated {approved.isoformat()}, after "
                        f"{today.isoformat()}",
                        path,
                        None,
                        field,
                        "approvals are dated by `approve`; check the `today` option and SOURCE_DATE_EPOCH",
                        data,
                    )
                )
            elif state.status == "expired":
                out.append(
                    Finding(
                        "governance.approval_age",
                        "error",
                        f"{name}'s approval of {src.kind} {item} ({approved.isoformat()}, {months} months ago) has "
                        f"expired (more than {config.approval_error_months} months): it prints as a draft",
                        path,
                        None,
                        field,
                        "a clinician reviews the text against current evidence and approves it again; " + commands,
                        data,
                    )
                )
            elif approved < months_before(today, config.approval_warn_months):
                out.append(
                    Finding(
                        "governance.approval_age",
                        "warning",
                        f"{name} approved {src.kind} {item} {approved.isoformat()}, {months} months ago (more "
                        f"than {config.approval_warn_months}): due for review",
                        path,
                        None,
                        field,
                        "schedule a review; " + commands,
                        data,
                    )
                )
    return out


PLACEHOLDER_DETAILS = (
    (re.compile(r"\bexample\b", re.I), "an example name"),
    (re.compile(r"\.example\b", re.I), "an .example address (reserved, not a real domain)"),
    (re.compile(r"(?<!\d)555[\s.)-]*01\d\d(?!\d)|\(555\)|(?<![\d-])555-\d{4}(?!\d)"), "a fictional 555 number"),
    (re.compile(r"01632\s?960\d{3}|020\s?7946\s?0\d{3}|07700\s?900\d{3}"), "a number reserved for drama (Ofcom)"),
    (re.compile(r"\b00000\b|\bST 00000\b"), "the scaffold's postcode"),
)
"""Details no real practice prints: the scaffold's texts and the ranges reserved for fiction."""


def placeholder_details(slug: str, practice, ctx) -> list[Finding]:
    """A warning for each practice.yml value that is still a placeholder (--strict fails)."""
    path = practice.root / "practice.yml"
    shown = ctx.rel(path)
    try:
        data, positions = load_yaml(path, ctx.root)
    except UserError:
        return []
    out: list[Finding] = []

    def visit(value, loc: tuple) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                visit(v, loc + (k,))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                visit(v, loc + (i,))
        elif isinstance(value, str):
            for pattern, what in PLACEHOLDER_DETAILS:
                if pattern.search(value):
                    out.append(
                        Finding(
                            "governance.placeholder",
                            "warning",
                            f"{value!r} is {what}: replace it with the practice's real details before printing",
                            shown,
                            positions.get(loc, (None,))[0],
                            ".".join(str(p) for p in loc),
                            "fill in practice.yml; --strict refuses to build while a placeholder is left",
                        )
                    )
                    break

    visit(data, ())
    if out and practice.info.sample:  # a declared, fictional sample: expected, said once
        fields = ", ".join(f.field or "?" for f in out)
        return [
            Finding(
                "governance.placeholder",
                "info",
                f"a fictional sample practice (sample: true): its details are placeholders ({fields})",
                shown,
                positions.get(("sample",), (None,))[0],
                "sample",
                "to print for real patients, copy it with real details and remove sample: true",
            )
        ]
    return out
