"""Hyphenation dictionaries read in milliseconds instead of parsed from text on every run.

WeasyPrint hyphenates (`hyphens: auto`) and textstat counts syllables with pyphen, which parses
a language's patterns from its text file the first time a process asks for that language:
50-70 ms of CPU for each English file (en-US and en-GB are two), about 40 ms for Spanish. Every
fresh worker and every build's checks paid it again. `install()` has pyphen take each
dictionary's parsed patterns from the data cache (clinicpress.load.datacache: a digest-checked
marshal entry in a private folder), written the first time a dictionary is parsed, and checked
again for the shape pyphen makes before use. The patterns, and so every hyphen and every
syllable count, are the same.

A dictionary is kept only when its parsed form is exactly what this version of pyphen makes of
plain patterns (a dict of pattern -> (offset, values)); dictionaries with pyphen's nonstandard
alternatives, a pyphen whose dictionaries keep anything else, and dictionaries not in a folder
(a zipped install) are parsed as before.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import TypeGuard

from . import datacache

LIMIT = 32 * 2**20
"""Largest cache entry read back (German, the largest dictionary pyphen ships, makes 2.7 MB)."""
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
            digest = _digest(path)
            entry = _entry(Path(path), pyphen.__version__, digest) if digest else None
            patterns = datacache.read_marshal(entry, LIMIT) if entry else None
            if not _plain(patterns):  # missing, damaged or not pyphen's shape: parsed again, entry rewritten
                super().__init__(path)
                # kept only if the file did not change while it was parsed
                if entry and set(vars(self)) == _FIELDS and _digest(path) == digest and _plain(self.patterns):
                    datacache.write_marshal(entry, self.patterns)
                return
            self.patterns = patterns
            self.cache = {}
            self.maxlen = max(map(len, patterns))

    # pickled and shown as pyphen's own (a process without install() reads it back as one)
    CachedHyphDict.__module__ = parse.__module__
    CachedHyphDict.__name__ = CachedHyphDict.__qualname__ = parse.__name__
    CachedHyphDict.__doc__ = parse.__doc__
    pyphen.HyphDict = CachedHyphDict


def _digest(path) -> str | None:
    """sha256 of a dictionary file (None where it is not a file on disk, or unreadable)."""
    if not isinstance(path, (str, os.PathLike)):
        return None
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:20]
    except OSError:
        return None


def _entry(path: Path, version: str, digest: str) -> Path | None:
    """The cache file for a dictionary, named for pyphen's version and the file's bytes (an
    edited or updated dictionary is parsed again), or None without a cache folder."""
    folder = datacache.folder()
    return folder / f"pyphen-{version}-{path.stem}-{digest}.marshal" if folder else None


def _plain(patterns: object) -> TypeGuard[dict[str, tuple[int, tuple[int, ...]]]]:
    """Whether `patterns` has the shape pyphen gives plain patterns: {pattern: (offset, values)}
    with values ints 0-9 whose first and last are not 0 (pyphen chops zeros from both ends) and
    an offset inside the pattern (a negative one would wrap round the word)."""
    if type(patterns) is not dict or not patterns:
        return False
    for key, value in patterns.items():
        if type(key) is not str or not key or type(value) is not tuple or len(value) != 2:
            return False
        offset, values = value
        if type(offset) is not int or not 0 <= offset <= len(key) or type(values) is not tuple or not values:
            return False
        if not values[0] or not values[-1] or not all(type(v) is int and 0 <= v <= 9 for v in values):
            return False
    return True
