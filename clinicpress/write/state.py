"""The build's own state read back from output/: untrusted input, validated like content.

`output/manifest.json` and `output/.clinicpress-cache.json` are written by ClinicPress, but
anyone (or anything) with access to the folder can change them, and a build acts on what
they say: it deletes outputs the manifest lists, hashes the files the cache names and
reports the findings they hold. So each is read with limits (size, nesting), validated by a
strict pydantic model (`extra="forbid"`, exact types: the data used afterwards is exactly
what was checked) and every path in it must name a file inside the output folder, after
symlinks are resolved. A file that fails is discarded with one warning naming it and what was
wrong, and the build starts from scratch; nothing outside the output folder is touched.
"""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, ValidationInfo

MAX_STATE_BYTES = 64 * 1024 * 1024
"""Largest state file read back (the manifest of 100 practices of the shipped library is ~22 MB)."""


class BadState(Exception):
    """A state file that cannot be trusted; the message says what was wrong."""


def confined(out_root: Path, name: str, folders: dict[str, Path] | None = None) -> Path | None:
    """The path of `name` (relative, posix) inside the resolved `out_root`, or None if it leads out.

    Refuses empty, absolute, `..`, `.`, backslash and NUL names, and names whose real path
    (symlinks resolved, the file's own link too) is not below the output folder. `folders`
    remembers resolved folders while one file is validated (a manifest names a few folders
    hundreds of times).
    """
    if not name or "\\" in name or "\0" in name or name.startswith("/"):
        return None
    parts = name.split("/")
    if any(p in ("", ".", "..") for p in parts):
        return None
    folders = {} if folders is None else folders
    try:
        root = folders.get("") or folders.setdefault("", out_root.resolve())
        key = "/".join(parts[:-1])
        real_folder = folders.get(key) or folders.setdefault(key, root.joinpath(*parts[:-1]).resolve())
        path = root.joinpath(*parts)
        real = path.resolve() if os.path.islink(path) else real_folder / parts[-1]
    except (OSError, RuntimeError):  # a symlink loop
        return None
    return path if real.is_relative_to(root) and real != root else None


def _inside(name: str, info: ValidationInfo) -> str:
    context = info.context or {}
    root = context.get("out_root")
    if root is None:
        raise ValueError("no output folder to check the path against")
    if confined(root, name, context.get("folders")) is None:
        raise ValueError(f"path {name[:80]!r} leads outside the output folder")
    return name


OutputPath = Annotated[str, AfterValidator(_inside)]
"""A path relative to the output folder that stays inside it."""

_DOCUMENT_RE = re.compile(r"[^/]+/[^/]+\.(pdf|html|pptx)")
_THUMBNAIL_RE = re.compile(r"[^/]+/thumbs/[^/]+\.png")


def _shaped(pattern: re.Pattern, what: str):
    def check(name: str) -> str:
        if not pattern.fullmatch(name):
            raise ValueError(f"{name[:80]!r} is not {what}")
        return name

    return AfterValidator(check)


DocumentPath = Annotated[OutputPath, _shaped(_DOCUMENT_RE, "a document's name (<practice>/<name>.pdf, .html or .pptx)")]
"""Where a build puts a document: the only kind of file the manifest lists (and may remove)."""
ThumbnailPath = Annotated[OutputPath, _shaped(_THUMBNAIL_RE, "a thumbnail's name (<practice>/thumbs/<name>.png)")]
Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class FindingJson(_Strict):
    """A finding as `Finding.to_json()` writes it."""

    check: str
    severity: Literal["error", "warning", "info"]
    message: str
    path: str = ""
    line: int | None = None
    field: str | None = None
    hint: str | None = None
    data: dict[str, Any] = {}


# --------------------------------------------------------------------------- manifest.json
class Thumbnail(_Strict):
    path: ThumbnailPath
    of: Sha256 | None = None


class SignOffJson(_Strict):
    """A document's sign-off as `SignOff.to_json()` writes it (shown by the index)."""

    status: Literal["approved", "changed", "unapproved", "expired"]
    """`load.approvals.Status`, spelled out: importing that module would cost the no-op build ~50 ms
    (a test keeps the two the same)."""
    approved: bool
    by: str | None = None
    date: str | None = None
    reason: str | None = None


class OutputEntry(_Strict):
    job: str
    item: str
    kind: str
    title: str
    source: str
    practice: str
    language: str
    variant: str
    format: str
    inputs: str
    sha256: Sha256
    pages: int | None = None
    slides: int | None = None
    render_findings: list[FindingJson] = []
    findings: list[FindingJson] = []
    status: Literal["pass", "warn", "fail"]
    stale: bool = False
    thumbnail: Thumbnail | None = None
    signoff: SignOffJson | None = None


class ItemEntry(_Strict):
    kind: str
    title: str | None = None
    source: str | None = None
    language: str | None = None
    findings: list[FindingJson] = []
    status: Literal["pass", "warn", "fail"]


class PracticeEntry(_Strict):
    name: str
    languages: list[str]


class Tool(_Strict):
    name: str
    version: str


class Manifest(_Strict):
    format: int
    tool: Tool | None = None
    practices: dict[str, PracticeEntry] = {}
    items: dict[str, ItemEntry] = {}
    outputs: dict[DocumentPath, OutputEntry]


# --------------------------------------------------------------------------- .clinicpress-cache.json
Score = int | float | bool | str | None


class SectionScores(_Strict):
    index: int
    heading: str
    line: int | None
    gated: bool
    scores: dict[str, Score]


class PematItem(_Strict):
    id: str
    label: str
    dimension: str
    human: bool
    met: bool | None


class ItemScores(_Strict):
    scores: dict[str, Score] = {}
    sections: list[SectionScores] = []
    pemat_items: list[PematItem] = []


class CheckEntry(_Strict):
    key: str
    findings: list[FindingJson]
    scores: ItemScores | dict[str, Any]
    """An item's scores; a practice's are `{}`."""


def _file_sig(value: list) -> list:
    if len(value) != 5 or not all(type(v) is int for v in value[:4]) or not isinstance(value[4], str):
        raise ValueError("should be [size, mtime_ns, ctime_ns, inode, sha256]")
    return value


FileSig = Annotated[list[int | str], AfterValidator(_file_sig)]
"""[size, mtime_ns, ctime_ns, inode, sha256] of an input file (a JSON array: lists, not tuples)."""


class CacheState(_Strict):
    version: int
    fingerprint: str | None = None
    written: dict[OutputPath, Sha256] = {}
    exit_code: int = Field(0, ge=0, le=3)
    failing: list[str] = []
    hashes: dict[str, FileSig] = {}
    inputs: dict[str, dict[str, str]] = {}
    last_build: dict[str, Score | list[str]] = {}
    checks: dict[str, CheckEntry] = {}


_JSON_TYPES = {list: "array", str: "string", int: "number", float: "number", bool: "boolean", type(None): "null"}


def read_state(path: Path, model: type[_Strict], version_field: str, version: int) -> dict:
    """Reads and validates one state file; {} if it is missing or from another version of the tool.

    Raises BadState (what was wrong) for anything else: not a regular file, too large, not
    JSON, nested too deep, the wrong shape or types, a path that leads out of the folder.
    """
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise BadState(f"cannot be read ({exc.strerror or exc})") from None
    if not stat.S_ISREG(st.st_mode):
        raise BadState("is not a regular file (a link or a folder)")
    if st.st_size > MAX_STATE_BYTES:
        raise BadState(f"is larger than {MAX_STATE_BYTES // (1024 * 1024)} MiB")
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_STATE_BYTES + 1)
    except OSError as exc:
        raise BadState(f"cannot be read ({exc.strerror or exc})") from None
    if len(raw) > MAX_STATE_BYTES:
        raise BadState(f"is larger than {MAX_STATE_BYTES // (1024 * 1024)} MiB")
    try:
        data = json.loads(raw)
    except RecursionError:
        raise BadState("is nested too deeply") from None
    except ValueError as exc:  # also UnicodeDecodeError
        raise BadState(f"is not valid JSON ({str(exc)[:100]})") from None
    if not isinstance(data, dict):
        raise BadState(f"holds a JSON {_JSON_TYPES.get(type(data), 'value')}, not an object")
    found = data.get(version_field)
    if type(found) is int and found != version:
        return {}  # written by another version of ClinicPress: silently replaced
    try:
        model.model_validate(data, context={"out_root": path.parent, "folders": {}})
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(p) for p in first["loc"] if p != "[key]") or "(top level)"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        message = first["msg"].removeprefix("Value error, ")
        raise BadState(f"{where}: {message}{more}") from None
    except RecursionError:
        raise BadState("is nested too deeply") from None
    return data
