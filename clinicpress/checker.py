"""What the build and the check command share: load and validate, run the checks, decide who fails.

`check` is the check command: every input validated and every quality gate run, nothing
written. The build (clinicpress.builder) runs the same steps before it renders.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .console import Reporter
from .errors import Finding, Problem, UserError
from .settings import BuildSettings, require_project

if TYPE_CHECKING:  # pragma: no cover
    from .checks import CheckResults
    from .load.config import Config
    from .load.project import Project


def load(settings: BuildSettings, reporter: Reporter, *, stop_on_warnings: bool = True) -> Project:
    """Loads and validates every input and prints the loading warnings; with --strict (and
    `stop_on_warnings`), a loading warning stops here."""
    from .load.project import load_project

    project = load_project(settings.root, practices=list(settings.practices) or None)
    for w in project.warnings:
        reporter.problems([w])
    if stop_on_warnings and settings.strict and project.warnings:
        raise UserError([Problem(w.path, w.line, w.col, w.field, w.message, w.hint) for w in project.warnings])
    return project


def run_checks(
    project: Project, *, config: Config | None = None, keys: dict[str, str] | None = None, cached: dict | None = None
) -> CheckResults:
    """Runs the quality checks (with `config`, the thresholds `keys` were made with); items
    whose `keys` match their `cached` entry reuse it."""
    from .checks import check_project

    return check_project(project, config, keys=keys, cached=cached)


SIGNOFF_PREFIX = "signoff:"
"""Results key of a practice's sign-off findings (clinicpress.checks.governance): they count
for the exit status but never stop a document from rendering (it prints as a draft)."""


def blocks(key: str) -> bool:
    """Whether failing findings under `key` stop documents from rendering."""
    return not key.startswith(SIGNOFF_PREFIX)


def failing_items(findings: dict[str, list[Finding]], strict: bool) -> dict[str, list[Finding]]:
    """Items (and practices) that must not be rendered, with the findings that stop them."""
    stop = {"error", "warning"} if strict else {"error"}
    out = {}
    for key, fs in findings.items():
        bad = [f for f in fs if f.severity in stop]
        if bad:
            out[key] = bad
    return out


def narrowed(findings: CheckResults, project: Project, settings: BuildSettings) -> CheckResults:
    """The results this run is about: the items --only names (all without it), practices and project."""
    if not settings.only:
        return findings
    sources = {s.key for s in project.sources}
    wanted = {s.key for s in project.sources if settings.wants(s.slug)}
    out = findings.narrow(wanted | {k for k in findings if k not in sources})
    for key in [k for k in out if k.startswith(SIGNOFF_PREFIX)]:  # a practice's sign-off: only these items
        out[key] = [f for f in out[key] if f.data.get("item") in wanted]
    return out


def print_table(
    findings: CheckResults, project: Project, reporter: Reporter, strict: bool, verbose: bool = False
) -> None:
    from .write.report import print_table

    print_table(findings, project, reporter.console, strict=strict, show_info=verbose)


def check(settings: BuildSettings, reporter: Reporter) -> int:
    """Validates every input and runs the quality checks; writes nothing."""
    require_project(settings.root)
    project = load(settings, reporter, stop_on_warnings=False)  # check still lists every finding
    findings = narrowed(run_checks(project), project, settings)
    failing = failing_items(findings, settings.strict)
    if settings.report_format == "json":
        import json
        import sys

        from .write.report import build_report

        sys.stdout.write(json.dumps(build_report(findings, project, strict=settings.strict), indent=2) + "\n")
        return 1 if failing or (settings.strict and project.warnings) else 0
    if not settings.quiet:
        print_table(findings, project, reporter, settings.strict, settings.verbose)
    for key, why in sorted(failing.items()):
        reporter.console.print(f"[bold red]fails[/bold red] {key}:")
        reporter.findings(why)
    if settings.strict and project.warnings:
        return 1
    counts = {"error": 0, "warning": len(project.warnings)}  # the loading warnings printed above count too
    for fs in findings.values():
        for f in fs:
            if f.severity in counts:
                counts[f.severity] += 1
    reporter.info(
        f"checked {len(project.handouts)} handout(s), {len(project.decks)} deck(s), "
        f"{len(project.practices)} practice(s): {counts['error']} error(s), {counts['warning']} warning(s)"
    )
    return 1 if failing else 0
