"""A practice's sign-off record (`practices/<slug>/approvals.yml`): who at the practice approved
which text of each content item, in each language, and when.

The record keeps, for each approval, a fingerprint of exactly what was approved and the text
itself (`approved_text`): the patient-facing words, one field a line with whitespace
collapsed, and one line per reference the item cites (with a digest of the whole reference).
Layout, templates, metadata (slug, keywords, description), the writers' own `reviewed` and
speaker notes are not part of it, so a template change keeps an approval and any change of a
word or of a cited reference does not.

A handout prints "Reviewed DATE by NAME" only while its approval holds (`SignOff.approved`);
anything else prints the draft mark. The file is written only by `clinicpress approve`
(clinicpress.write.approvals), which keeps comments and order.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, RootModel

from ..errors import Problem, UserError, rel
from .config import months_before
from .schema.base import Language, Model, Slug, cite_keys, language_tag

APPROVALS_FILE = "approvals.yml"

NOT_APPROVED_TEXT = frozenset(
    {"slug", "language", "translation_of", "translated_from_review", "translator_review", "description", "keywords"}
    | {"reviewed"}
    | {"human_review", "deck", "handout", "no_claims", "decorative", "src", "kind", "layout", "notes"}
    | {"number_format"}
)
"""Fields that are not the patient-facing text: identifiers, metadata, the writers' review,
styling switches, file names and speaker notes."""

FINGERPRINT_RE = r"^sha256:[0-9a-f]{64}$"

PLACEHOLDER_NAME_RE = re.compile(
    r"\bexample\b|\bplaceholder\b|\blorem\b|\bipsum\b|\btbd\b|\btba\b|\btodo\b|\bfixme\b|\bxxx+\b"
    r"|\byour name\b|^\s*name\s*,\s*credentials\s*$|\bjane doe\b|\bjohn doe\b|\bnobody\b|\bunknown\b",
    re.I,
)
"""Names no clinician has: the scaffold's example names and the usual stand-ins."""

Status = Literal["approved", "changed", "unapproved", "expired"]


class Approval(Model):
    """One practice's sign-off of one content item in one language."""

    by: str = Field(min_length=2)
    """Who approved it, as printed: "Name, credentials"."""
    date: dt.date
    """When they approved it (YYYY-MM-DD)."""
    fingerprint: str = Field(pattern=FINGERPRINT_RE)
    """sha256 of `text`: what was approved."""
    source: str | None = Field(default=None, pattern=FINGERPRINT_RE)
    """For a translation: the fingerprint of the original's text it was approved against."""
    text: str = Field(min_length=1)
    """The approved patient-facing text (kept to show what changed since)."""


class ApprovalsFile(RootModel[dict[Slug, dict[Language, Approval]]]):
    """approvals.yml: content slug → language → approval."""


# --------------------------------------------------------------------------- what is approved
def _collapse(text: str) -> str:
    return " ".join(text.split())


def _walk(value: Any, loc: str = "") -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    if isinstance(value, str):
        if value.strip():
            out.append((loc, _collapse(value)))
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            out.extend(_walk(item, f"{loc}[{i}]"))
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            if name not in NOT_APPROVED_TEXT:
                out.extend(_walk(getattr(value, name), f"{loc}.{name}" if loc else name))
    elif isinstance(value, (int, float)) and not isinstance(value, bool) and loc:
        out.append((loc, repr(value)))  # chart values are what the audience reads
    return out


def _reference_line(key: str, entry: dict | None) -> str:
    """One cited reference: short label and a digest of the whole CSL entry."""
    if entry is None:
        return f"ref {key}: (missing)"
    authors = entry.get("author") or []
    first = (
        authors[0].get("family") or authors[0].get("literal") or "" if authors and isinstance(authors[0], dict) else ""
    )
    year = ""
    issued = entry.get("issued")
    if isinstance(issued, dict) and issued.get("date-parts"):
        year = str(issued["date-parts"][0][0])
    digest = hashlib.sha256(json.dumps(entry, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:12]
    label = "; ".join(x for x in (first, _collapse(str(entry.get("title", ""))), year) if x)
    return f"ref {key}: {label} #{digest}"


def approved_text(model: BaseModel, bibliography: dict[str, dict]) -> str:
    """The patient-facing text of a content item, as approvals keep it: one `field: text` line
    per field (whitespace collapsed), then one line per cited reference."""
    lines = [f"{loc}: {text}" for loc, text in _walk(model)]
    keys: list[str] = []
    for _, text in _walk(model):
        for key in cite_keys(text):
            if key not in keys:
                keys.append(key)
    lines.extend(_reference_line(key, bibliography.get(key)) for key in keys)
    return "\n".join(lines)


def fingerprint(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def word_diff(old: str, new: str) -> list[str]:
    """The lines of `new` that differ from `old`, words removed as [-...-] and added as {+...+}."""
    a, b = old.splitlines(), new.splitlines()
    out: list[str] = []

    def field_of(line: str) -> str:
        return line.split(": ", 1)[0]

    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            continue
        olds, news = a[i1:i2], b[j1:j2]
        # Pair lines of the same field (an edited sentence); the rest were removed or added.
        while olds and news and field_of(olds[0]) == field_of(news[0]):
            out.append(_words(olds.pop(0), news.pop(0)))
        out.extend(f"[-{line}-]" for line in olds)
        out.extend(f"{{+{line}+}}" for line in news)
    return out


def _words(old: str, new: str) -> str:
    a, b = old.split(" "), new.split(" ")
    parts: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            parts.append(" ".join(a[i1:i2]))
            continue
        if i2 > i1:
            parts.append("[-" + " ".join(a[i1:i2]) + "-]")
        if j2 > j1:
            parts.append("{+" + " ".join(b[j1:j2]) + "+}")
    return " ".join(parts)


# --------------------------------------------------------------------------- the record
@dataclass(frozen=True)
class Record:
    """A practice's approvals as read from disk (empty when the file does not exist)."""

    path: Path
    approvals: dict[str, dict[str, Approval]]
    lines: dict[tuple, int]

    def get(self, slug: str, language: str) -> Approval | None:
        return self.approvals.get(slug, {}).get(language)

    def line_of(self, *loc) -> int | None:
        for n in range(len(loc), 0, -1):
            if tuple(loc[:n]) in self.lines:
                return self.lines[tuple(loc[:n])]
        return None


def load_record(folder: Path, root: Path) -> Record:
    """Reads `approvals.yml` of a practice folder; a malformed or conflicting file is a UserError
    naming the file, line and field."""
    from .loading import load_model

    path = folder / APPROVALS_FILE
    if not path.exists() and not path.is_symlink():
        return Record(path, {}, {})
    model, positions = load_model(path, ApprovalsFile, root)
    data: dict[str, dict[str, Approval]] = {
        s: {str(k): v for k, v in langs.items()} for s, langs in (model.root or {}).items()
    }
    lines = {loc: pos[0] for loc, pos in positions.items()}
    record = Record(path, data, lines)
    shown = rel(path, root)
    problems: list[Problem] = []
    for slug, by_language in data.items():
        for language, approval in by_language.items():

            def problem(field: str, message: str, hint: str, slug=slug, language=language) -> Problem:
                loc = (slug, language, field)
                return Problem(shown, record.line_of(*loc), None, ".".join(loc), message, hint)

            if fingerprint(approval.text) != approval.fingerprint:
                problems.append(
                    problem(
                        "text",
                        "the approved text does not match its fingerprint (was it edited by hand?)",
                        f"approvals are recorded by `python build.py approve --practice {folder.name} {slug}`; "
                        "restore the file from version control or approve the item again",
                    )
                )
            if bad_name(approval.by):
                problems.append(
                    problem(
                        "by",
                        f"{approval.by!r} is not a clinician's name",
                        'write "Name, credentials", e.g. "Dana Ortiz, MD"',
                    )
                )
    if problems:
        raise UserError(problems)
    return record


def bad_name(name: str) -> str | None:
    """Why `name` cannot sign off a handout (None if it can)."""
    name = (name or "").strip()
    if not name:
        return "the name is empty"
    if PLACEHOLDER_NAME_RE.search(name):
        return f"{name!r} is a placeholder, not a clinician's name"
    who, _, credentials = name.partition(",")
    if len(who.strip()) < 2 or not credentials.strip():
        return f"{name!r} does not give the credentials"
    return None


# --------------------------------------------------------------------------- the state of one item
@dataclass(frozen=True)
class SignOff:
    """Whether one content item may print as approved by one practice, and why (not)."""

    status: Status
    practice: str
    """The practice's name (for the draft mark)."""
    approval: Approval | None = None
    reason: str = ""
    diff: tuple[str, ...] = ()
    """Word-level changes of the patient-facing text since the approval."""

    @property
    def approved(self) -> bool:
        return self.status == "approved"

    def line(self, t, language: str, country: str) -> str:
        """The one line printed about the practice's sign-off: "Reviewed DATE by NAME" while the
        approval holds, else the draft mark (`t` is the message catalogue of `language`)."""
        from .i18n import long_date

        if self.approved and self.approval is not None:
            return t.fmt("reviewed_by", date=long_date(self.approval.date, language, country), name=self.approval.by)
        return t.fmt("draft_mark", practice=self.practice)

    def state(self) -> str:
        """What the printed sign-off depends on (part of the job's cache key)."""
        if self.approved and self.approval is not None:
            return f"approved {self.approval.date.isoformat()} {self.approval.by}"
        return f"draft {self.practice}"

    def to_json(self) -> dict:
        a = self.approval
        return {
            "status": self.status,
            "approved": self.approved,
            "by": a.by if a else None,
            "date": a.date.isoformat() if a else None,
            "reason": self.reason or None,
        }


def unapproved(practice: str) -> SignOff:
    """The state of an item with no usable approval."""
    return SignOff("unapproved", practice, reason="never approved by the practice")


def resolve(
    approval: Approval | None,
    current: str,
    *,
    practice: str,
    original: tuple[str, Approval | None] | None,
    today: dt.date,
    expire_months: int,
) -> SignOff:
    """The sign-off state of an item whose current text is `current`. `original` is, for a
    translation, the original's current text and the practice's approval of it."""
    if approval is None:
        return unapproved(practice)
    if approval.fingerprint != fingerprint(current):
        return SignOff(
            "changed",
            practice,
            approval,
            "the text changed since it was approved",
            tuple(word_diff(approval.text, current)),
        )
    if original is not None:
        source_text, source_approval = original
        if approval.source is None or approval.source != fingerprint(source_text):
            diff: tuple[str, ...] = ()
            if source_approval is not None and source_approval.fingerprint == approval.source:
                diff = tuple(word_diff(source_approval.text, source_text))
            return SignOff(
                "changed", practice, approval, "its original changed since this translation was approved", diff
            )
    if approval.date < months_before(today, expire_months):
        return SignOff(
            "expired", practice, approval, f"approved {approval.date.isoformat()}, more than {expire_months} months ago"
        )
    return SignOff("approved", practice, approval)


def parse_item(item: str) -> tuple[str, str]:
    """`slug` or `slug:lang` → (slug, language); the language defaults to English."""
    slug, _, language = item.partition(":")
    try:
        return slug, str(language_tag(language)) if language else "en"  # zh-hans → zh-Hans
    except ValueError:
        return slug, language  # not a tag: the caller reports the unknown item


__all__ = [
    "APPROVALS_FILE",
    "Approval",
    "Record",
    "SignOff",
    "approved_text",
    "bad_name",
    "fingerprint",
    "load_record",
    "parse_item",
    "resolve",
    "word_diff",
]
