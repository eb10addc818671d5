"""A tagline's own small font: the characters it prints, cut from the installed font it names.

A practice's language-help taglines print a line in up to 15 scripts. Drawn from the installed
fonts themselves, each Chinese, Japanese and Korean line loaded a face of the 19 MB Noto Sans CJK
collection: WeasyPrint copies the whole face into memory to subset it for the PDF, so three such
lines cost a worker about 115 MiB and each handout 0.1-0.2 s more. Cut to the few dozen
characters of its line (HarfBuzz's subsetter, once a process), the same outlines and metrics weigh a few
kilobytes. The handout names the cut face first and the installed family after it, so a browser
showing the HTML copy (which cannot load the cut face) draws the line from the installed font,
and any character the cut lacks still falls back to it.

The cut face is never written to disk: the renderer's fetcher serves it from memory under a
`clinicpress-subset:` URL (`SafeFetcher`), which only this module registers.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from .fetcher import serve_generated

MAX_CHARS = 400
"""More characters than a tagline has: a longer text is drawn from the installed font as it is."""


def tagline_face(family: str, text: str) -> tuple[str, str] | None:
    """(CSS family, URL) of a face holding `text`'s characters in the installed font `family`;
    None when that font is not installed as a file fontconfig knows (the line then uses it whole)."""
    from ...load.script import system_font

    chars = "".join(sorted(set(text)))
    path = system_font(family)
    if path is None or not chars or len(chars) > MAX_CHARS:
        return None
    try:
        stat = path.stat()
    except OSError:
        return None
    return _cut(family, chars, str(path), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=64)
def _cut(family: str, chars: str, path: str, size: int, mtime_ns: int) -> tuple[str, str] | None:
    data = _subset(Path(path), family, chars)
    if data is None:
        return None
    digest = hashlib.sha256(data).hexdigest()[:12]
    name = f"{family} {digest}"  # a family of its own: the shared font setup never mixes two cuts
    return name, serve_generated(f"{digest}.otf", data)


_CDEF = """
typedef struct hb_blob_t hb_blob_t;
typedef struct hb_face_t hb_face_t;
typedef struct hb_set_t hb_set_t;
typedef struct hb_subset_input_t hb_subset_input_t;
hb_blob_t *hb_blob_create_from_file_or_fail (const char *file_name);
void hb_blob_destroy (hb_blob_t *blob);
const char *hb_blob_get_data (hb_blob_t *blob, unsigned int *length);
hb_face_t *hb_face_create (hb_blob_t *blob, unsigned int index);
hb_blob_t *hb_face_reference_blob (hb_face_t *face);
void hb_face_destroy (hb_face_t *face);
void hb_set_add (hb_set_t *set, uint32_t codepoint);
hb_subset_input_t *hb_subset_input_create_or_fail (void);
hb_set_t *hb_subset_input_unicode_set (hb_subset_input_t *input);
void hb_subset_input_set_flags (hb_subset_input_t *input, unsigned value);
void hb_subset_input_destroy (hb_subset_input_t *input);
hb_face_t *hb_subset_or_fail (hb_face_t *source, const hb_subset_input_t *input);
"""
_NOTDEF_OUTLINE = 0x40  # HB_SUBSET_FLAGS_NOTDEF_OUTLINE
_LIBS = {
    "harfbuzz": ("libharfbuzz.so.0", "libharfbuzz.0.dylib", "libharfbuzz-0.dll", "harfbuzz"),
    "subset": ("libharfbuzz-subset.so.0", "libharfbuzz-subset.0.dylib", "libharfbuzz-subset-0.dll", "harfbuzz-subset"),
}


@functools.cache
def _harfbuzz():
    """HarfBuzz and its subsetter (the libraries WeasyPrint subsets the PDF's fonts with), or None."""
    import cffi

    ffi = cffi.FFI()
    ffi.cdef(_CDEF)
    libs = {}
    for key, names in _LIBS.items():
        for name in names:
            try:
                libs[key] = ffi.dlopen(name)
                break
            except OSError:
                continue
        else:
            return None
    return ffi, libs["harfbuzz"], libs["subset"]


def _face_index(path: Path, family: str) -> int:
    """The face of a collection (.ttc) whose family is `family` (0 for a single font)."""
    if path.suffix.lower() not in (".ttc", ".otc"):
        return 0
    from fontTools.ttLib import TTCollection

    with TTCollection(str(path), lazy=True) as collection:  # reads the name tables only
        names = [f["name"].getBestFamilyName() for f in collection.fonts]
    return names.index(family) if family in names else 0


def _subset(path: Path, family: str, chars: str) -> bytes | None:
    """The face named `family` in `path`, cut to `chars` by HarfBuzz's subsetter: outlines,
    metrics and layout tables as they are, the same bytes on every build. HarfBuzz maps the file
    and reads only the tables and glyphs it keeps (fontTools would parse all 65,000 glyphs' metrics
    of a CJK face: 45 MiB and 0.2 s a face)."""
    found = _harfbuzz()
    if found is None:
        return None
    ffi, hb, hbs = found
    try:
        index = _face_index(path, family)
    except Exception:  # a collection fontTools cannot read is drawn whole, as before
        return None
    blob = hb.hb_blob_create_from_file_or_fail(str(path).encode())
    if blob == ffi.NULL:
        return None
    face = hb.hb_face_create(blob, index)
    hb.hb_blob_destroy(blob)
    plan = hbs.hb_subset_input_create_or_fail()
    try:
        if plan == ffi.NULL:
            return None
        unicodes = hbs.hb_subset_input_unicode_set(plan)
        for ch in chars:
            hb.hb_set_add(unicodes, ord(ch))
        hbs.hb_subset_input_set_flags(plan, _NOTDEF_OUTLINE)
        cut = hbs.hb_subset_or_fail(face, plan)
        if cut == ffi.NULL:
            return None
        try:
            data = hb.hb_face_reference_blob(cut)
            try:
                length = ffi.new("unsigned int *")
                pointer = hb.hb_blob_get_data(data, length)
                return bytes(ffi.buffer(pointer, length[0])) if length[0] else None
            finally:
                hb.hb_blob_destroy(data)
        finally:
            hb.hb_face_destroy(cut)
    finally:
        if plan != ffi.NULL:
            hbs.hb_subset_input_destroy(plan)
        hb.hb_face_destroy(face)
