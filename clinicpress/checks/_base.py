"""What every check module shares: the run context and a Finding factory."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import Finding, Severity, dotted, rel
from ..load.config import Config


@dataclass
class Context:
    """One run of the checks: the project, the thresholds, and scores collected on the way."""

    project: Any
    config: Config
    scores: dict[str, dict] = field(default_factory=dict)
    """Item key → {"scores": {...}, "sections": [...]}, filled by readability and PEMAT."""
    cache: dict = field(default_factory=dict)

    @property
    def root(self) -> Path:
        return self.project.root

    def rel(self, path: Path | str) -> str:
        return rel(path, self.root)

    def at(
        self,
        src,
        check: str,
        severity: Severity,
        message: str,
        loc: tuple = (),
        *,
        hint: str | None = None,
        needle: str | None = None,
        **data,
    ) -> Finding:
        """A Finding located in a content file at model path `loc` (at the line of `needle` inside it)."""
        line = (src.line_of_text(needle, *loc) if needle else src.line_of(*loc)) if loc else None
        return Finding(check, severity, message, self.rel(src.path), line, dotted(loc) or None, hint, data)

    def item_scores(self, key: str) -> dict:
        return self.scores.setdefault(key, {"scores": {}, "sections": []})
