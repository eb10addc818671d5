"""The writer stage: every file a build puts in output/ goes through one OutputWriter.

It writes job outputs and thumbnails atomically (and only when their bytes changed, so an
unchanged file keeps its mtime), keeps the manifest entries of everything in the folder,
removes outputs whose source is gone, and at the end writes manifest.json, report.json and
index.html. Nothing here renders or checks.
"""

from __future__ import annotations

import stat
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import BuildError, Problem, rel
from . import manifest as mf
from .index import render_index, thumb_path
from .manifest import MANIFEST
from .report import write_report
from .store import json_bytes, sha256, write_file

if TYPE_CHECKING:  # pragma: no cover
    from ..checks import CheckResults
    from ..jobs.model import Job, Result, Task
    from ..load.project import Project
    from .cache import FileHashes


def write_if_changed(path: Path, data: bytes) -> None:
    """Writes a file atomically unless it already holds exactly these bytes (its mtime is then kept).

    A symlink in its place is never read through: the rename replaces the link itself."""
    try:
        st = path.lstat()
        if stat.S_ISREG(st.st_mode) and st.st_size == len(data) and path.read_bytes() == data:
            return
    except OSError:
        pass
    write_file(path, data)


class OutputWriter:
    """Owns output/ for one build: files, thumbnails, manifest entries, report and index."""

    def __init__(self, out_root: Path, project: Project, item_json: dict[str, list[dict]]):
        self.out_root = out_root
        self.project = project
        self.item_json = item_json
        self.outputs: dict[str, dict] = {}
        """Manifest entries (by output path) of every output this build leaves in the folder."""

    def target(self, name: str) -> Path:
        """The path of output `name`, whose folder must really lie inside the output folder.

        A symlinked folder below output/ that leads elsewhere is refused: a build writes and
        deletes only inside the output folder. (A link in the file's own place is harmless:
        writing renames over the link, deleting removes the link.)"""
        from .state import confined

        folder, _, _ = name.rpartition("/")
        if folder and confined(self.out_root, folder) is None:
            raise BuildError(
                Problem(
                    rel(self.out_root / folder),
                    message="this folder of the output is a link that leads outside the output folder",
                    hint="remove the link (ClinicPress writes only inside the output folder) and build again",
                )
            )
        return self.out_root / name

    def keep(self, job: Job, previous: dict[str, dict | None], *, stale: bool) -> None:
        """Keeps a job's existing files with today's findings (`stale`: blocked by a failing check)."""
        for fmt, name in job.output_names().items():
            entry = previous[fmt]
            if stale and (entry is None or not (self.out_root / name).is_file()):
                continue
            self.outputs[name] = mf.refreshed(entry or {}, job, self.item_json, stale=stale)

    def keep_as_is(self, name: str, entry: dict) -> None:
        """Keeps an output outside this build's selection (--only, --practice, ...) untouched."""
        self.outputs[name] = entry

    def store(self, task: Task, result: Result, key: str) -> None:
        """Writes a job's files (and thumbnail) atomically and records them in the manifest."""
        job = task.job
        names = job.output_names()
        for fmt, name in names.items():
            write_if_changed(self.target(name), result.files[fmt])
        main = job.main_format
        thumbnail = self._thumbnail(task, result, thumb_path(names[main])) if main else None
        signoff = self.project.signoff(job.practice.slug, job.source)
        for fmt, name in names.items():
            entry = mf.new_entry(job, fmt, result.files[fmt], key, result, self.item_json, self.project)
            # What this file prints about the practice's sign-off (the index shows drafts as such).
            entry["signoff"] = signoff.to_json() if signoff is not None else {"status": "unapproved", "approved": False}
            if fmt == main and thumbnail:
                entry["thumbnail"] = thumbnail
            self.outputs[name] = entry

    def _thumbnail(self, task: Task, result: Result, name: str) -> dict | None:
        if result.thumbnail is not None:
            write_file(self.target(name), result.thumbnail)
            return {"path": name, "of": result.thumbnail_of}
        if task.thumbnail_of is not None and task.thumbnail_of == result.thumbnail_of:
            return {"path": name, "of": task.thumbnail_of}  # the picture already shows this
        try:
            self.target(name).unlink()  # it showed an earlier version
        except FileNotFoundError:
            pass
        return None

    def repair_thumbnail(self, job: Job) -> None:
        """Redraws a missing or outdated thumbnail of an up-to-date PDF (decks keep theirs until they change)."""
        from ..render.raster import pdf_thumbnail

        names = job.output_names()
        entry = self.outputs.get(names["pdf"]) if "pdf" in names else None
        if entry is None:
            return
        thumb = entry.get("thumbnail") or {}
        if thumb.get("of") == entry["sha256"] and (self.out_root / thumb.get("path", "")).is_file():
            return
        name = thumb_path(names["pdf"])
        write_file(self.target(name), pdf_thumbnail((self.out_root / names["pdf"]).read_bytes()))
        entry["thumbnail"] = {"path": name, "of": entry["sha256"]}

    def remove_gone(self, old_outputs: dict[str, dict], planned: set[str]) -> list[str]:
        """Deletes outputs whose item, practice or language is gone; keeps the rest; returns what went."""
        removed: list[str] = []
        for name, entry in sorted(old_outputs.items()):
            if name in self.outputs or name in planned:
                continue
            if mf.source_gone(entry, self.project):
                removed.extend(mf.remove_output(self.out_root, name, entry))
            else:
                self.keep_as_is(name, entry)
        return removed

    def manifest(self) -> dict:
        return mf.manifest_data(self.project, self.outputs, self.item_json)

    def save_manifest(self) -> None:
        """Writes the manifest as it stands (a checkpoint: a killed build resumes from it)."""
        write_file(self.out_root / MANIFEST, json_bytes(self.manifest()))

    def finish(self, findings: CheckResults, hashes: FileHashes, *, strict: bool) -> dict[str, str]:
        """Writes manifest.json, report.json and index.html; returns {path: sha256} of every file kept."""
        written: dict[str, str] = {}
        manifest = self.manifest()
        manifest_bytes = json_bytes(manifest)
        write_if_changed(self.out_root / MANIFEST, manifest_bytes)
        written[MANIFEST] = sha256(manifest_bytes)
        report_path = self.out_root / "report.json"
        write_report(findings, self.project, report_path, strict=strict)
        written["report.json"] = hashes.file(report_path)
        index_bytes = render_index(manifest).encode("utf-8")
        write_if_changed(self.out_root / "index.html", index_bytes)
        written["index.html"] = sha256(index_bytes)
        for name, entry in self.outputs.items():
            written[name] = entry["sha256"]
            thumb = entry.get("thumbnail") or {}
            if thumb.get("path") and (sha := hashes.output(self.out_root / thumb["path"])):
                written[thumb["path"]] = sha
        return written
