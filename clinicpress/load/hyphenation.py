"""Hyphenation dictionaries read in milliseconds instead of parsed from text on every run.

WeasyPrint hyphenates (`hyphens: auto`) and textstat counts syllables with pyphen, which parses
a language's patterns from its text file the first time a process asks for that language:
45-180 ms for English (en-US and en-GB are two files), about 55 ms for Spanish. Every fresh
worker and every build's checks paid it again. `install()` has pyphen take each dictionary's
parsed patterns from the data cache (clinicpress.load.datacache: marshal, a bounded regular
file in a private folder, every entry checked before use), written the first time a dictionary
is parsed. The patterns, and so every hyphen and every syllable count, are the same.

A dictionary is kept only when its parsed form is exactly what this version of pyphen makes of
plain patterns (a dict of pattern -> (offset, values)); dictionaries with pyphen's nonstandard
alternatives, and a pyphen whose dictionaries keep anything else, are parsed as before.
"""

from __future__ import annotations

import hashlib
import marshal
from pathlib import Path

from . import datacache

LIMIT = 32 * 2**20
"""Largest cache entry read back (German, the largest dictionary pyphen ships, is about 4 MB)."""
_FIELDS = {"patterns", "cache", "maxlen"}
"""What pyphen 0.18's HyphDict holds; a version keeping more is not served from the cache."""


def install() -> None:
    """Makes pyphen read parsed dictionaries from the data cache (once per process)."""
    import pyphen

    if getattr(pyphen.HyphDict, "_from_cache", False):
        return
    parse = pyphen.HyphDict

    class CachedHyphDict(parse):  # type: ignore[misc, valid-type]
        _from_cache = True
        patterns: dict[str, tuple[int, tuple[int, ...]]]
        cache: dict[str, list[int]]
        maxlen: int

        def __init__(self, path) -> None:
            entry = _entry(Path(path), pyphen.__version__)
            patterns = _read(entry) if entry else None
            if patterns is None:
                super().__init__(path)
                if entry and set(vars(self)) == _FIELDS:
                    _write(entry, self.patterns)
                return
            self.patterns = patterns
            self.cache = {}
            self.maxlen = max(map(len, patterns))

    CachedHyphDict.__name__ = CachedHyphDict.__qualname__ = parse.__name__
    CachedHyphDict.__doc__ = parse.__doc__
    pyphen.HyphDict = CachedHyphDict


def _entry(path: Path, version: str) -> Path | None:
    """The cache file for the dictionary at `path` (named for pyphen's version and the file's
    bytes, so an edited or updated dictionary is parsed again), or None without a cache folder."""
    folder = datacache.folder()
    if folder is None:
        return None
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:20]
    except OSError:
        return None
    return folder / f"pyphen-{version}-{path.stem}-{digest}.marshal"


def _read(entry: Path) -> dict[str, tuple[int, tuple[int, ...]]] | None:
    """The parsed patterns in `entry`, or None (missing, too large, or not of the right shape:
    then it is removed and written again)."""
    if not datacache.regular_file(entry, LIMIT):
        return None
    try:
        patterns = marshal.loads(entry.read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        patterns = None
    if _plain(patterns):
        return patterns
    datacache.discard(entry)
    return None


def _plain(patterns: object) -> bool:
    """Whether `patterns` is a non-empty {pattern: (offset, (value, ...))} of plain ints."""
    if type(patterns) is not dict or not patterns:
        return False
    for key, value in patterns.items():
        if type(key) is not str or not key or type(value) is not tuple or len(value) != 2:
            return False
        offset, values = value
        if type(offset) is not int or type(values) is not tuple or not values:
            return False
        if not all(type(v) is int and 0 <= v <= 9 for v in values):
            return False
    return True


def _write(entry: Path, patterns: dict) -> None:
    """Keeps a freshly parsed dictionary; one with pyphen's special values (not plain ints,
    which marshal cannot write) is not kept. Never fails the caller."""
    if not _plain(patterns):
        return
    datacache.discard(entry)
    draft = datacache.draft_name(entry)
    try:
        draft.write_bytes(marshal.dumps(patterns))
        datacache.publish(draft, entry)
    except (OSError, ValueError):
        datacache.discard(draft)
