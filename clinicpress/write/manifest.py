"""output/manifest.json: what every output was made from, its sha256, pages and findings."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from .. import __version__
from ..errors import Finding, rel
from .store import sha256

if TYPE_CHECKING:  # pragma: no cover
    from ..jobs.model import Job, Result
    from ..load.project import Project
    from .cache import FileHashes

MANIFEST = "manifest.json"
MANIFEST_FORMAT = 1


def load_manifest(out_root: Path) -> dict:
    """Reads output/manifest.json, validated ({} if missing or older); raises BadState if it is not trusted."""
    from .state import Manifest, read_state

    return read_state(out_root / MANIFEST, Manifest, "format", MANIFEST_FORMAT)


def status_of(findings: Iterable[dict]) -> str:
    """pass, warn or fail, from findings in their JSON form."""
    severities = {f.get("severity") for f in findings}
    return "fail" if "error" in severities else "warn" if "warning" in severities else "pass"


def finding_from_json(data: dict) -> Finding:
    names = Finding.__dataclass_fields__
    return Finding(**{k: v for k, v in data.items() if k in names})


def remove_output(out_root: Path, name: str, entry: dict) -> list[str]:
    """Deletes an output and its thumbnail; returns what was deleted (relative paths)."""
    from .state import confined

    removed: list[str] = []
    root = out_root.resolve()
    names: tuple[str | None, ...] = (name, (entry.get("thumbnail") or {}).get("path"))
    for rel_path in names:
        path = confined(out_root, rel_path) if rel_path else None
        if path is None:  # the manifest was validated; checked again right before deleting
            continue
        try:
            path.unlink()
            removed.append(path.relative_to(root).as_posix())
        except OSError:  # already gone, or a folder: never removed
            pass
        for folder in (path.parent, path.parent.parent):
            if folder != root and folder.is_relative_to(root):
                try:
                    folder.rmdir()  # only if empty
                except OSError:
                    pass
    return removed


def is_current(job: Job, key: str, old_outputs: dict, hashes: FileHashes, out_root: Path) -> bool:
    """True if every output of the job is in the manifest with this inputs hash and unchanged on disk."""
    for name in job.output_names().values():
        entry = old_outputs.get(name)
        if entry is None or entry.get("inputs") != key or hashes.output(out_root / name) != entry.get("sha256"):
            return False
    return True


def source_gone(entry: dict, project: Project) -> bool:
    """True if an output's content item, practice or language no longer exists."""
    if entry.get("item") not in {s.key for s in project.sources}:
        return True
    practice = entry.get("practice", "")
    if not (project.root / "practices" / practice / "practice.yml").is_file():
        return True
    loaded = project.practices.get(practice)
    return loaded is not None and entry.get("language") not in loaded.info.languages


def entry_findings(job: Job, item_json: dict, render: list[dict]) -> list[dict]:
    """The findings an output shows: its item's, its practice's and its own render findings."""
    return item_json.get(job.source.key, []) + item_json.get(f"practice:{job.practice.slug}", []) + render


def refreshed(entry: dict, job: Job, item_json: dict, *, stale: bool) -> dict:
    """An existing manifest entry with today's findings (the file itself is unchanged)."""
    entry = dict(entry)
    entry["findings"] = entry_findings(job, item_json, entry.get("render_findings", []))
    entry["status"] = status_of(entry["findings"])
    entry.pop("stale", None)
    if stale:
        entry["stale"] = True
    return entry


def new_entry(job: Job, fmt: str, data: bytes, key: str, result: Result, item_json: dict, project: Project) -> dict:
    """The manifest entry of one freshly rendered file."""
    src = job.source
    entry: dict = {
        "job": job.key,
        "item": src.key,
        "kind": src.kind,
        "title": src.model.title,
        "source": rel(src.path, project.root),
        "practice": job.practice.slug,
        "language": src.language,
        "variant": job.variant.name,
        "format": fmt,
        "inputs": key,
        "sha256": sha256(data),
    }
    if result.pages is not None:
        entry["pages"] = result.pages
    if result.slides is not None:
        entry["slides"] = result.slides
    render_findings = [f.to_json() for f in result.findings]
    if render_findings:
        entry["render_findings"] = render_findings
    entry["findings"] = entry_findings(job, item_json, render_findings)
    entry["status"] = status_of(entry["findings"])
    return entry


def manifest_data(project: Project, outputs: dict, item_json: dict) -> dict:
    """The whole manifest: the tool, the practices, every item's findings and every output."""
    items = {}
    for src in project.sources:
        fs = item_json.get(src.key, [])
        items[src.key] = {
            "kind": src.kind,
            "title": src.model.title,
            "source": rel(src.path, project.root),
            "language": src.language,
            "findings": fs,
            "status": status_of(fs),
        }
    for slug in project.practices:
        fs = item_json.get(f"practice:{slug}", [])
        items[f"practice:{slug}"] = {
            "kind": "practice",
            "source": f"practices/{slug}",
            "findings": fs,
            "status": status_of(fs),
        }
    for key, fs in item_json.items():
        if key not in items:
            items[key] = {"kind": key.split(":", 1)[0], "findings": fs, "status": status_of(fs)}
    practices = {
        slug: {"name": p.info.name, "languages": list(p.info.languages)} for slug, p in project.practices.items()
    }
    return {
        "format": MANIFEST_FORMAT,
        "tool": {"name": "clinicpress", "version": __version__},
        "practices": practices,
        "items": items,
        "outputs": dict(sorted(outputs.items())),
    }


def render_warnings(outputs: dict) -> list[Finding]:
    """Warnings only the rendered files show (page budget, deck layout fit), once per document.

    They are kept in the manifest, so a build that renders nothing still lists them.
    """
    return [f for fs in render_warnings_by_item(outputs).values() for f in fs]


def render_warnings_by_item(outputs: dict) -> dict[str, list[Finding]]:
    """The same warnings, under the content item (`handout:slug:lang`) whose document showed them."""
    seen: dict[tuple, tuple[str, Finding]] = {}
    for _, entry in sorted(outputs.items()):
        for data in entry.get("render_findings", []):
            if data.get("severity") == "warning":
                f = finding_from_json(data)
                seen.setdefault((entry.get("job"), f.check, f.message), (str(entry.get("item", "")), f))
    out: dict[str, list[Finding]] = {}
    for item, f in seen.values():
        out.setdefault(item, []).append(f)
    return out
