"""Check results → `output/report.json` (shape: docs/report.schema.json) and a terminal table.

Both take what `clinicpress.checks.check_project` returns (a `CheckResults`, possibly
narrowed with `.narrow(keys)`): the scores and the config ride along on it.

    results = check_project(project)
    write_report(results, project, out_root / "report.json", strict=args.strict)
    print_table(results, project, reporter.console, strict=args.strict)
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Literal

from .. import __version__
from ..checks import CheckResults
from ..errors import Finding, rel

REPORT_VERSION = 1
"""Version of the report.json shape; raised only when a field is removed or changes meaning."""

SECTION_SCORE_KEYS = (
    "words",
    "sentences",
    "fkgl",
    "smog",
    "smog_low_confidence",
    "inflesz",
    "fernandez_huerta",
    "sentence_length",
)
SCORE_KEYS = (*SECTION_SCORE_KEYS, "pemat_understandability", "pemat_actionability")


def _status(items: list[Finding], strict: bool) -> str:
    from ..checks import status

    return status(items, strict=strict)


def _describe_key(key: str, project) -> dict:
    """kind, slug, language, path and title of an item key."""
    for src in project.sources:
        if src.key == key:
            return {
                "kind": src.kind,
                "slug": src.slug,
                "language": src.language,
                "path": rel(src.path, project.root),
                "title": src.model.title,
            }
    for kind, path in (("practice", "practices/{slug}"), ("signoff", "practices/{slug}/approvals.yml")):
        if key.startswith(f"{kind}:"):  # a practice's own checks, or its sign-off record
            slug = key.split(":", 1)[1]
            practice = project.practices.get(slug)
            return {
                "kind": kind,
                "slug": slug,
                "language": None,
                "path": path.format(slug=slug),
                "title": practice.info.name if practice else None,
            }
    return {"kind": "project", "slug": None, "language": None, "path": ".", "title": None}


def finding_json(f: Finding) -> dict:
    """One finding in the report's fixed shape (every key present, null when unknown)."""
    return {
        "check": f.check,
        "severity": f.severity,
        "message": f.message,
        "path": f.path or None,
        "line": f.line,
        "field": f.field,
        "hint": f.hint,
        "data": _jsonable(f.data or {}),
    }


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def build_report(findings: CheckResults, project, *, strict: bool = False) -> dict:
    """Returns the report as a dict (what write_report writes)."""
    if not isinstance(findings, CheckResults):
        raise TypeError("build_report takes check_project()'s CheckResults (use .narrow(keys) to filter it)")
    scores, config = findings.scores, findings.config
    items = []
    totals = {"pass": 0, "warn": 0, "fail": 0, "errors": 0, "warnings": 0, "infos": 0}
    for key, found in findings.items():
        desc = _describe_key(key, project)
        st = _status(found, strict)
        counts = {sev: sum(1 for f in found if f.severity == sev) for sev in ("error", "warning", "info")}
        totals[st] += 1
        totals["errors"] += counts["error"]
        totals["warnings"] += counts["warning"]
        totals["infos"] += counts["info"]
        item = {"key": key, **desc, "status": st, "counts": counts}
        if desc["kind"] in ("handout", "deck"):
            s = scores.get(key, {})
            item["scores"] = {k: s.get("scores", {}).get(k) for k in SCORE_KEYS}
            item["sections"] = [
                {
                    "index": sec["index"],
                    "heading": sec["heading"],
                    "line": sec["line"],
                    "gated": sec["gated"],
                    "scores": {k: sec["scores"].get(k) for k in SECTION_SCORE_KEYS},
                }
                for sec in s.get("sections", [])
            ]
            item["pemat_items"] = list(s.get("pemat_items", []))
        item["findings"] = [finding_json(f) for f in found]
        items.append(item)
    inputs = []
    for src in project.sources:
        inputs.append(
            {"path": rel(src.path, project.root), "sha256": hashlib.sha256(src.path.read_bytes()).hexdigest()}
        )
    bib_path = project.root / project.bibliography.path if project.bibliography.path else None
    if bib_path is not None and bib_path.is_file():
        inputs.append({"path": project.bibliography.path, "sha256": hashlib.sha256(bib_path.read_bytes()).hexdigest()})
    from ..load.config import find_config

    cfg_path, _ = find_config(project.root)
    return {
        "version": REPORT_VERSION,
        "generated-from": {
            "tool": "clinicpress",
            "tool_version": __version__,
            "config": rel(cfg_path, project.root) if cfg_path else None,
            "today": config.reference_date().isoformat(),
            "strict": strict,
            "thresholds": json.loads(config.model_dump_json()),
            "inputs": sorted(inputs, key=lambda i: i["path"]),
        },
        "summary": {"items": len(items), **totals},
        "items": items,
        "signoff": _signoffs(project),
    }


def _signoffs(project) -> dict:
    """Each practice's sign-off state of every item it prints (in the languages it offers)."""
    out = {}
    for slug, states in sorted(project.signoffs.items()):
        practice = project.practices.get(slug)
        languages = practice.info.languages if practice is not None else []
        out[slug] = {
            src.key: states[src.key].to_json()
            for src in sorted(project.sources, key=lambda s: s.key)
            if src.key in states and src.language in languages
        }
    return out


def write_report(findings: CheckResults, project, path: Path, *, strict: bool = False) -> dict:
    """Writes the report as JSON to `path` atomically (temp file + rename); returns the report.

    `findings` is what `check_project` returned (possibly narrowed to some keys); `strict`
    turns warnings into fail statuses, as `--strict` does for the build.
    """
    report = build_report(findings, project, strict=strict)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    from .store import write_atomic

    write_atomic(path, (json.dumps(report, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
    return report


# --------------------------------------------------------------------------- terminal
_STATUS_STYLE = {"pass": "green", "warn": "yellow", "fail": "bold red"}
_SEV_STYLE = {"error": "bold red", "warning": "yellow", "info": "dim"}


def _num(value, fmt: str = "{:.1f}") -> str:
    return "–" if value is None else fmt.format(value)


def print_table(findings: CheckResults, project, console, *, strict: bool = False, show_info: bool = False) -> None:
    """Prints one row per item (scores, status, counts), then each error and warning.

    `console` is a rich Console (e.g. `Reporter.console`); `show_info` also lists info
    findings (human-review reminders, missing translations).
    """
    report = build_report(findings, project, strict=strict)
    table, low = _scores_table(report)
    console.print(table)
    console.print(
        "[dim]FK Flesch-Kincaid grade, FH Fernández Huerta, U%/A% PEMAT-P understandability/"
        "actionability, E/W/I errors/warnings/notes.[/dim]"
    )
    if low:
        console.print(
            "[dim]* SMOG is low-confidence under "
            f"{report['generated-from']['thresholds']['smog_min_sentences']} sentences; "
            "the gate uses Flesch-Kincaid.[/dim]"
        )
    _print_findings(console, report, show_info)
    sm = report["summary"]
    console.print(
        f"\n{sm['items']} item(s): [green]{sm['pass']} pass[/], [yellow]{sm['warn']} warn[/], "
        f"[bold red]{sm['fail']} fail[/]; {sm['errors']} error(s), {sm['warnings']} warning(s), "
        f"{sm['infos']} note(s)" + ("" if show_info or not sm["infos"] else " (not listed; -v lists them)")
    )


def _label(item: dict) -> str:
    if item["kind"] in ("practice", "project", "signoff"):
        return item["key"]
    return item["slug"] + (" (deck)" if item["kind"] == "deck" else "")


def _scores_table(report: dict):
    """The rich Table of every item's scores, status and counts; and whether a SMOG is low-confidence."""
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="Quality checks", title_justify="left", show_lines=False, pad_edge=False)
    # The item names must stay readable in an 80-column CI log: the score columns are short
    # and the name column never shrinks below its longest name (up to 44 characters).
    widest = min(44, max((len(_label(i)) for i in report["items"]), default=4))
    justify: Literal["left", "right"]
    for name, justify in (
        ("Item", "left"),
        ("Lang", "left"),
        ("Status", "left"),
        ("FK", "right"),
        ("SMOG", "right"),
        ("INFLESZ", "right"),
        ("FH", "right"),
        ("U%", "right"),
        ("A%", "right"),
        ("E", "right"),
        ("W", "right"),
        ("I", "right"),
    ):
        if name == "Item":
            table.add_column(name, justify=justify, min_width=widest, overflow="fold")
        else:
            table.add_column(name, justify=justify, no_wrap=True)
    low = False
    kind_order = {"handout": 0, "deck": 1, "practice": 2, "signoff": 3, "project": 4}
    rows = sorted(
        report["items"],
        key=lambda i: (kind_order.get(i["kind"], 9), i.get("language") or "", i.get("slug") or i["key"]),
    )
    for item in rows:
        s = item.get("scores") or {}
        smog = _num(s.get("smog"))
        if s.get("smog_low_confidence"):
            smog += "*"
            low = True
        st = item["status"]
        c = item["counts"]
        table.add_row(
            escape(_label(item)),
            item.get("language") or "",
            f"[{_STATUS_STYLE[st]}]{st}[/]",
            _num(s.get("fkgl")),
            smog,
            _num(s.get("inflesz")),
            _num(s.get("fernandez_huerta")),
            _num(s.get("pemat_understandability"), "{:.0f}"),
            _num(s.get("pemat_actionability"), "{:.0f}"),
            f"[bold red]{c['error']}[/]" if c["error"] else "0",
            f"[yellow]{c['warning']}[/]" if c["warning"] else "0",
            str(c["info"]),
        )
    return table, low


def _print_findings(console, report: dict, show_info: bool) -> None:
    """Prints each item's errors and warnings (and notes, with `show_info`) with file:line and hint."""
    from rich.markup import escape

    for item in report["items"]:
        shown = [f for f in item["findings"] if show_info or f["severity"] != "info"]
        if not shown:
            continue
        console.print(f"\n[bold]{escape(item['key'])}[/bold]")
        for f in shown:
            where = (f["path"] or "") + (f":{f['line']}" if f["line"] else "")
            field = f"[cyan]{escape(f['field'])}[/cyan]: " if f["field"] else ""
            sev = f["severity"]
            console.print(
                f"  {escape(where)}: [{_SEV_STYLE[sev]}]{sev}[/]: {field}{escape(f['message'])} "
                f"[dim]\\[{escape(f['check'])}][/dim]"
            )
            if f["hint"]:
                console.print(f"    [dim]hint: {escape(f['hint'])}[/dim]")
