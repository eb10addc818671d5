"""The one way ClinicPress writes a file: a temporary file, fsync, 0644, rename.

A reader never sees half a file and an interrupted build never loses an earlier output;
`clean_temp_files` removes what a killed build left behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from ..errors import BuildError, Problem, rel

TMP_PREFIX = ".clinicpress-tmp-"


def write_atomic(path: Path, data: bytes) -> None:
    """Writes `data` to `path` via a temporary file and a rename; never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_file(path: Path, data: bytes) -> None:
    """write_atomic, with an OSError turned into a BuildError naming the file and the fix."""
    try:
        write_atomic(path, data)
    except OSError as exc:
        raise BuildError(
            Problem(rel(path), message=f"cannot write output: {exc.strerror or exc}", hint=_write_hint(exc))
        ) from None


def _write_hint(exc: OSError) -> str:
    import errno

    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return "the disk is full; free some space and build again (earlier outputs are intact)"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "the output folder is read-only; choose another with --output or fix its permissions"
    return "check the output folder"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


TEMP_PATTERNS = (TMP_PREFIX + "*", ".report.json.*.tmp")
"""Temporary files an interrupted build can leave: ours, and the report writer's."""


def clean_temp_files(out_root: Path) -> list[Path]:
    """Removes temporary files left by an interrupted build; returns what was removed."""
    removed = []
    if out_root.is_dir():
        for p in (p for pattern in TEMP_PATTERNS for p in out_root.rglob(pattern)):
            try:
                p.unlink()
                removed.append(p)
            except OSError:
                pass
    return removed


def json_bytes(data) -> bytes:
    return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")
