"""Problems the user can fix (shown without a traceback) and check findings."""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

Severity = Literal["error", "warning", "info"]


def dotted(loc: tuple) -> str:
    """Returns a model path as written in YAML terms: sections[2].bullets[0] ("" for the root)."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out


@dataclass(frozen=True, order=True)
class Problem:
    """One located problem: `path:line:col: field: message` plus an optional hint."""

    path: str
    line: int | None = None
    col: int | None = None
    field: str | None = None
    message: str = ""
    hint: str | None = None
    severity: Severity = "error"

    def location(self) -> str:
        """Returns `path:line:col` with the parts that are known."""
        loc = self.path
        if self.line is not None:
            loc += f":{self.line}"
            if self.col is not None:
                loc += f":{self.col}"
        return loc

    def __str__(self) -> str:
        text = f"{self.location()}: "
        if self.field:
            text += f"{self.field}: "
        text += self.message
        if self.hint:
            text += f" (hint: {self.hint})"
        return text


class UserError(Exception):
    """An error caused by input or usage; the CLI prints it without a traceback.

    Carries one or more Problems so a whole batch of mistakes is reported at once.
    """

    exit_code = 1

    def __init__(self, problems: list[Problem] | Problem | str, *, hint: str | None = None):
        if isinstance(problems, str):
            problems = [Problem(path="", message=problems, hint=hint)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class OverBudget(Exception):
    """Rendering a document took longer than its time budget (raised by clinicpress.jobs.budget)."""

    def __init__(self, seconds: float):
        super().__init__(f"rendering took longer than {seconds:g} s")
        self.seconds = seconds


BUDGET_HINT = (
    "look in the practice's templates for a loop inside a loop, a macro that calls itself, or a string or "
    "list grown in a loop; if the document really needs more, raise render_seconds or render_memory_mib "
    "in [tool.clinicpress]"
)
"""What to do about a document that ran over its rendering budget."""


class UsageError(UserError):
    """Wrong command-line usage (exit 2)."""

    exit_code = 2


class BuildError(UserError):
    """A render or write failed for a reason the user must fix (disk full, read-only output)."""


def rel(path: Path | str, root: Path | None = None) -> str:
    """Returns `path` relative to `root` (or the working directory) when it is inside it."""
    p = Path(path)
    for base in (root, Path.cwd()):
        if base is None:
            continue
        try:
            return str(p.resolve().relative_to(base.resolve()))
        except ValueError:
            continue
    return str(p)


@dataclass(frozen=True)
class Finding:
    """A check result for one output item: what is wrong (or notable), where, how bad."""

    check: str
    """Check id, e.g. `readability.fkgl` or `citations.unresolved`."""
    severity: Severity
    message: str
    path: str = ""
    line: int | None = None
    field: str | None = None
    hint: str | None = None
    data: dict = dataclasses.field(default_factory=dict, compare=False, hash=False)

    def to_json(self) -> dict:
        d = asdict(self)
        return {k: v for k, v in d.items() if v not in (None, {}, "")} | {"severity": self.severity}

    def __str__(self) -> str:
        loc = self.path + (f":{self.line}" if self.line else "")
        head = f"{loc}: " if loc else ""
        fld = f"{self.field}: " if self.field else ""
        hint = f" (hint: {self.hint})" if self.hint else ""
        return f"{head}{fld}{self.message}{hint} [{self.check}]"
