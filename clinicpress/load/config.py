"""Quality-gate thresholds: defaults from the standards, overridable per project.

Options are read from `clinicpress.toml` in the project folder (top-level keys, or a
`[tool.clinicpress]` table) or, when that file is absent, from `[tool.clinicpress]` in the
project's `pyproject.toml`. Unknown options and wrong types are errors that name the file
and line. Every option is documented below; `clinicpress.load.config.describe()` lists them.

Example (pyproject.toml):

    [tool.clinicpress]
    fkgl_warn = 6
    fkgl_error = 8
    long_sentence_words = 25
    today = 2026-11-25
"""

from __future__ import annotations

import calendar
import datetime as dt
import difflib
import os
import re
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..errors import Problem, UserError, rel

Severity = Literal["error", "warning", "info"]

DEFAULT_CONTRAST_PAIRS = (
    "foreground/background",
    "primary/background",
    "heading/background",
    "secondary/background",
    "danger/background",
    "background/primary",
    "foreground/tertiary",
    "primary/tertiary",
    "foreground/light",
)
"""Text-on-background colour pairs the default handout template and decks use."""


class Config(BaseModel):
    """Thresholds of the quality checks (all optional; defaults follow shared/standards.md)."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True, frozen=True)

    # -------------------------------------------------------------- readability
    fkgl_warn: float = 6.0
    """Flesch-Kincaid grade above which an English handout or section gets a warning."""
    fkgl_error: float = 8.0
    """Flesch-Kincaid grade above which an English handout or section fails (error)."""
    smog_min_sentences: int = Field(30, ge=1)
    """SMOG is marked low-confidence when the text has fewer sentences than this."""
    inflesz_pass: float = 55.0
    """Spanish: Szigriszt-Pazos (INFLESZ scale) at or above this passes ("normal")."""
    inflesz_error: float = 40.0
    """Spanish: INFLESZ below this fails ("muy difícil"); between this and inflesz_pass warns."""
    readability_sections: bool = True
    """Also gate every section of a handout, not only the handout as a whole."""
    min_scored_words: int = Field(20, ge=0)
    """Sections with fewer prose words than this are scored but never gated (too short to measure)."""

    # -------------------------------------------------------------- plain language
    jargon_file: str = "content/jargon.yml"
    """Project jargon list (relative to the project folder): terms that need a glossary entry."""
    jargon_severity: Severity = "error"
    """Severity when a jargon term is used but not defined in the handout's glossary."""
    long_sentence_words: int = Field(25, ge=5)
    """Sentences with more words than this are flagged (warning)."""
    long_section_words: int = Field(150, ge=20)
    """Sections with more prose words than this are flagged (warning)."""

    # -------------------------------------------------------------- PEMAT-P
    pemat_min: float = Field(70.0, ge=0, le=100)
    """PEMAT-P understandability or actionability below this percentage is an error."""
    generic_headings: list[str] = Field(
        default_factory=lambda: [
            "introduction",
            "intro",
            "other",
            "others",
            "overview",
            "background",
            "general",
            "misc",
            "miscellaneous",
            "more",
            "more information",
            "details",
            "information",
            "notes",
            "section",
            "introducción",
            "otros",
            "otro",
            "información",
            "más información",
            "resumen general",
        ]
    )
    """Headings that say nothing about their section (compared case-insensitively)."""

    # -------------------------------------------------------------- governance
    review_warn_months: int = Field(12, ge=1)
    """A last review older than this many months is a warning."""
    review_error_months: int = Field(36, ge=1)
    """A last review older than this many months is an error."""
    approval_warn_months: int = Field(12, ge=1)
    """A practice's approval (approvals.yml) older than this many months is a warning."""
    approval_error_months: int = Field(36, ge=1)
    """A practice's approval older than this many months has expired: an error, and the
    handout prints the draft mark until a clinician approves it again."""
    today: dt.date | None = None
    """Date to measure review age from (YYYY-MM-DD). Default: SOURCE_DATE_EPOCH if set, else today."""
    missing_translation_severity: Severity = "info"
    """Severity when a practice offers a language but a handout has no version in it."""

    # -------------------------------------------------------------- accessibility
    contrast_min: float = Field(4.5, ge=1, le=21)
    """Minimum contrast ratio of text colour pairs (WCAG 2.x AA for body text)."""
    contrast_pairs: list[str] = Field(default_factory=lambda: list(DEFAULT_CONTRAST_PAIRS))
    """Text/background theme colour pairs to check, as "text/background" colour names
    (foreground, background, primary, secondary, tertiary, success, info, warning, danger,
    light, dark; "heading" is the heading colour, primary unless the brand sets one)."""
    handout_body_pt_min: float = 12.0
    """Smallest body text size for handouts, in points."""
    handout_body_pt: float | None = None
    """Body size the handout template uses; default: read from the template CSS (`html { font-size }`)."""
    slide_body_pt_min: float = 24.0
    """Smallest body text size on slides, in points."""
    slide_body_pt: float | None = None
    """Body size every deck uses; default: the body text size (first two bullet levels) of the
    slide master each practice uses, which the deck renderer's body text inherits."""
    slide_bullets_max: int = Field(6, ge=1)
    """Most bullet lines (sub-bullets included) on one slide or one column."""
    slide_table_rows_max: int = Field(5, ge=1)
    """Most data rows in a slide table (warning above)."""

    # -------------------------------------------------------------- rendering budget
    render_seconds: float = Field(120.0, gt=0, le=3600)
    """Wall-clock seconds one document may take to render; a template that runs longer (a loop
    nested in a loop, a macro calling itself) is stopped and reported at its line."""
    render_memory_mib: int = Field(1024, ge=64, le=65536)
    """Memory (MiB) one document may add to the process rendering it; a template that builds
    more (a string doubled in a loop) is stopped and reported at its line."""

    # -------------------------------------------------------------- where documents render
    executor: Literal["local", "dask"] = "local"
    """`local`: a process pool on this machine; `dask`: the Dask cluster at `scheduler`
    (`pip install 'clinicpress[dask]'`; the README's Group scale section). `--scheduler` wins."""
    scheduler: str | None = Field(None, pattern=r"^(local-cluster|(tcp|tls)://\S+)$")
    """The Dask scheduler with `executor = "dask"`: `tcp://HOST:8786`, or `local-cluster` (one on this machine)."""

    @model_validator(mode="after")
    def _dask_needs_a_scheduler(self) -> "Config":
        if self.executor == "dask" and self.scheduler is None:
            raise ValueError('executor = "dask" needs `scheduler = "tcp://HOST:8786"` (or "local-cluster")')
        return self

    def reference_date(self) -> dt.date:
        """Returns the date review ages are measured from: `today`, SOURCE_DATE_EPOCH, or today."""
        if self.today is not None:
            return self.today
        epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
        if epoch.isdigit():
            return dt.datetime.fromtimestamp(int(epoch), dt.UTC).date()
        return dt.date.today()


def months_before(day: dt.date, months: int) -> dt.date:
    """Returns the same day `months` earlier (clamped to the month's last day)."""
    y, m = divmod(day.year * 12 + day.month - 1 - months, 12)
    return dt.date(y, m + 1, min(day.day, calendar.monthrange(y, m + 1)[1]))


def age_months(since: dt.date, today: dt.date) -> int:
    """Whole months from `since` to `today`."""
    n = (today.year - since.year) * 12 + today.month - since.month
    return n - (1 if today.day < since.day else 0)


CONFIG_FILES = ("clinicpress.toml", "pyproject.toml")


def find_config(root: Path) -> tuple[Path | None, dict]:
    """Returns the config file used and its clinicpress options (empty when none is set)."""
    own = root / "clinicpress.toml"
    if own.is_file():
        data = _read_toml(own, root)
        table = data.get("tool", {}).get("clinicpress") if isinstance(data.get("tool"), dict) else None
        if table is not None:
            return own, table
        return own, {k: v for k, v in data.items() if k != "tool"}
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        data = _read_toml(pyproject, root)
        table = data.get("tool", {}).get("clinicpress", {})
        return (pyproject if table else None), table
    return None, {}


def load_config(root: Path, **overrides) -> Config:
    """Reads the project's options; `overrides` (e.g. today=...) win over the file."""
    path, options = find_config(root)
    options = {**options, **{k: v for k, v in overrides.items() if v is not None}}
    try:
        return Config.model_validate(options)
    except ValidationError as exc:
        shown = rel(path, root) if path else "pyproject.toml"
        text = path.read_text(encoding="utf-8") if path else ""
        problems = []
        for err in exc.errors(include_url=False):
            key = str(err["loc"][0]) if err["loc"] else ""
            hint: str | None
            if err["type"] == "extra_forbidden":
                close = difflib.get_close_matches(key, list(Config.model_fields), n=1)
                msg, hint = (
                    "unknown option",
                    (f"did you mean '{close[0]}'?" if close else "see clinicpress/config.py for the options"),
                )
            else:
                msg = err["msg"]
                hint = Config.model_fields[key].description if key in Config.model_fields else None
            problems.append(Problem(shown, _line_of_key(text, key), None, key or None, msg, hint))
        raise UserError(problems) from None


def describe() -> list[tuple[str, object, str]]:
    """Returns (option, default, description) for every option, for docs and `--help`."""
    out = []
    for name, f in Config.model_fields.items():
        default = f.get_default(call_default_factory=True)
        out.append((name, default, " ".join((f.description or "").split())))
    return out


def _read_toml(path: Path, root: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise UserError(
            Problem(rel(path, root), int(m.group(1)) if m else None, None, None, f"invalid TOML: {exc}")
        ) from None


def _line_of_key(text: str, key: str) -> int | None:
    if not key:
        return None
    for n, line in enumerate(text.splitlines(), 1):
        if re.match(rf"\s*[\"']?{re.escape(key)}[\"']?\s*=", line):
            return n
    return None
