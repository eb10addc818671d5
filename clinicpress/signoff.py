"""The review and approve commands: a practice's clinician sees what changed and signs it off.

`review` lists every item the practice prints as approved, changed since approval (with the
word-level changes), never approved, or expired; its exit status is 1 while anything needs
a clinician. `approve` records the current text of the named items as approved by a named
clinician (clinicpress.write.approvals keeps the rest of the file as it was).
"""

from __future__ import annotations

from pathlib import Path

from .console import Reporter
from .errors import Finding, Problem, UsageError, UserError

EXIT_OK, EXIT_NEEDS_CLINICIAN = 0, 1

_LABELS = {
    "approved": "approved",
    "changed": "CHANGED since approval",
    "unapproved": "never approved",
    "expired": "approval EXPIRED",
}


def _load(root: Path, practice: str):
    from .load.project import load_project

    return load_project(root, practices=[practice])


def _items(project, slug: str):
    """The items the practice prints (its languages), in a stable order."""
    practice = project.practices[slug]
    return [
        s
        for s in sorted(project.sources, key=lambda s: (s.kind, s.slug, s.language))
        if s.language in practice.info.languages
    ]


def _name(src) -> str:
    return src.slug if src.language == "en" else f"{src.slug}:{src.language}"


def review(root: Path, practice: str, reporter: Reporter, *, only: tuple[str, ...] = ()) -> int:
    """Prints each item's sign-off state (and what changed); 1 while anything needs a clinician."""
    from rich.markup import escape

    from .load.config import age_months, load_config, months_before

    project = _load(root, practice)
    config = load_config(project.root)
    today = config.reference_date()
    ctx = project.practices[practice]
    states = project.signoffs.get(practice, {})
    console = reporter.console
    console.print(f"[bold]Sign-off of {escape(ctx.info.name)}[/bold] (practices/{practice}/approvals.yml)")
    counts = {k: 0 for k in _LABELS}
    due = 0
    for src in _items(project, practice):
        if only and src.slug not in only:
            continue
        state = states[src.key]
        counts[state.status] += 1
        a = state.approval
        style = "green" if state.approved else "bold red"
        line = f"[{style}]{_LABELS[state.status]:>22}[/{style}]  {src.kind} {escape(_name(src))}"
        if a is not None:
            line += f" — {escape(a.by)}, {a.date.isoformat()}"
            if state.approved and a.date < months_before(today, config.approval_warn_months):
                line += f" [yellow](due for review: {age_months(a.date, today)} months old)[/yellow]"
                due += 1
        if state.reason and not state.approved:
            line += f" [dim]({escape(state.reason)})[/dim]"
        console.print(line)
        for change in state.diff:
            console.print("      " + escape(change), highlight=False, soft_wrap=True)
    needs = counts["changed"] + counts["unapproved"] + counts["expired"]
    console.print(
        f"\n{counts['approved']} approved ({due} due for review), {counts['changed']} changed since approval, "
        f"{counts['unapproved']} never approved, {counts['expired']} expired"
    )
    if needs:
        console.print(
            f"{needs} item(s) print as drafts until a clinician approves them: "
            f'python build.py approve --practice {practice} ITEM... --by "Name, credentials"'
        )
    return EXIT_NEEDS_CLINICIAN if needs else EXIT_OK


def approve(root: Path, practice: str, items: list[str], by: str, reporter: Reporter) -> int:
    """Records the current text of `items` as approved by `by` today; refuses a placeholder
    name, an unknown item and an item with check errors (nothing is written then)."""
    from .checks import check_project
    from .load.approvals import approved_text, bad_name, fingerprint, parse_item
    from .load.config import load_config
    from .load.project import original_of
    from .write.approvals import record_approvals

    by = " ".join((by or "").split())
    why = bad_name(by)
    if why:
        raise UsageError(
            Problem(
                "--by",
                field="by",
                message=why,
                hint='give the approving clinician as "Name, credentials", e.g. "Dana Ortiz, MD"',
            )
        )
    project = _load(root, practice)
    ctx = project.practices[practice]
    chosen = []
    for item in items:
        slug, language = parse_item(item)
        src = next((s for s in project.sources if s.slug == slug and s.language == language), None)
        if src is None:
            known = sorted({_name(s) for s in _items(project, practice)})
            raise UsageError(
                Problem(
                    "approve",
                    field=item,
                    message=f"no handout or deck {item!r}",
                    hint=f"known items: {', '.join(known)}",
                )
            )
        if language not in ctx.info.languages:
            raise UsageError(
                Problem(
                    "approve",
                    field=item,
                    message=f"{ctx.info.name} does not print {language!r} (see practice.yml languages)",
                )
            )
        chosen.append(src)
    config = load_config(project.root)
    findings = check_project(project, config)
    errors: list[Finding] = [f for src in chosen for f in findings.get(src.key, []) if f.severity == "error"]
    if errors:
        reporter.findings(errors)
        raise UserError(
            Problem(
                "approve",
                message=f"not approved: {len({f.path for f in errors})} item(s) have check errors (listed above)",
                hint="fix them first (python build.py check), then approve the text that will be printed",
            )
        )
    today = config.reference_date()
    entries = []
    for src in chosen:
        text = approved_text(src.model, project.bibliography.items)
        entry = {
            "slug": src.slug,
            "language": src.language,
            "by": by,
            "date": today,
            "fingerprint": fingerprint(text),
            "text": text,
        }
        if src.model.translation_of:
            original = original_of(project.sources, src)
            if original is not None:
                entry["source"] = fingerprint(approved_text(original.model, project.bibliography.items))
        entries.append(entry)
    path = record_approvals(ctx.root, ctx.info.name, entries)
    for src in chosen:
        reporter.info(f"approved {src.kind} {_name(src)} for {ctx.info.name}: {by}, {today.isoformat()}")
    reporter.info(f"recorded in {path.relative_to(project.root).as_posix()}; the next build prints the sign-off")
    return EXIT_OK
