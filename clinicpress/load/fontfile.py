"""Font files: which installed file fontconfig draws a family from, which characters a face maps
(HarfBuzz), and a face cut to some characters (HarfBuzz's subsetter).

HarfBuzz is the library WeasyPrint shapes text and subsets the PDF's fonts with, so it is
always there. It maps the file and reads only the tables it needs; fontTools, which parses
tables into Python objects, took 1.4 s to list the characters of the ten faces of Noto Sans
CJK (the glyph check of every Chinese handout) and 45 MiB to cut one face to a tagline. Here
both take milliseconds. Without HarfBuzz 4.2 or later and its subset library (Ubuntu 22.04
ships 2.7), `unicodes` falls back to fontTools and `cut` answers None (the font is then used
whole).

Fontconfig is asked directly too (the same library and configuration WeasyPrint's Pango draws
with), not through WeasyPrint's bindings: importing WeasyPrint for them cost every build's main
process 0.44 s, before anything was rendered.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import NamedTuple

_CDEF = """
typedef struct hb_blob_t hb_blob_t;
typedef struct hb_face_t hb_face_t;
typedef struct hb_set_t hb_set_t;
typedef struct hb_subset_input_t hb_subset_input_t;
hb_blob_t *hb_blob_create_from_file_or_fail (const char *file_name);
void hb_blob_destroy (hb_blob_t *blob);
const char *hb_blob_get_data (hb_blob_t *blob, unsigned int *length);
unsigned int hb_face_count (hb_blob_t *blob);
hb_face_t *hb_face_create (hb_blob_t *blob, unsigned int index);
hb_blob_t *hb_face_reference_blob (hb_face_t *face);
void hb_face_collect_unicodes (hb_face_t *face, hb_set_t *out);
void hb_face_destroy (hb_face_t *face);
hb_set_t *hb_set_create (void);
void hb_set_add (hb_set_t *set, uint32_t codepoint);
unsigned int hb_set_get_population (const hb_set_t *set);
unsigned int hb_set_next_many (const hb_set_t *set, uint32_t codepoint, uint32_t *out, unsigned int size);
void hb_set_destroy (hb_set_t *set);
hb_subset_input_t *hb_subset_input_create_or_fail (void);
hb_set_t *hb_subset_input_unicode_set (hb_subset_input_t *input);
void hb_subset_input_set_flags (hb_subset_input_t *input, unsigned value);
void hb_subset_input_destroy (hb_subset_input_t *input);
hb_face_t *hb_subset_or_fail (hb_face_t *source, const hb_subset_input_t *input);
hb_set_t *hb_subset_input_set (hb_subset_input_t *input, int set_type);
void hb_set_clear (hb_set_t *set);
int hb_version_atleast (unsigned int major, unsigned int minor, unsigned int micro);
"""
_HB_SUBSET_SETS_NAME_ID = 4
_HB_SET_VALUE_INVALID = 0xFFFFFFFF
_NOTDEF_OUTLINE = 0x40  # HB_SUBSET_FLAGS_NOTDEF_OUTLINE
_LIBS = {
    "harfbuzz": ("libharfbuzz.so.0", "libharfbuzz.0.dylib", "libharfbuzz-0.dll", "harfbuzz"),
    "subset": ("libharfbuzz-subset.so.0", "libharfbuzz-subset.0.dylib", "libharfbuzz-subset-0.dll", "harfbuzz-subset"),
}
COLLECTIONS = (".ttc", ".otc")

_FC_CDEF = """
typedef int FcBool;
typedef struct _FcConfig FcConfig;
typedef struct _FcPattern FcPattern;
typedef unsigned char FcChar8;
typedef enum { FcResultMatch, FcResultNoMatch, FcResultTypeMismatch, FcResultNoId, FcResultOutOfMemory } FcResult;
typedef enum { FcMatchPattern, FcMatchFont, FcMatchScan } FcMatchKind;
FcConfig *FcInitLoadConfigAndFonts (void);
void FcConfigDestroy (FcConfig *config);
void FcDefaultSubstitute (FcPattern *pattern);
FcBool FcConfigSubstitute (FcConfig *config, FcPattern *p, FcMatchKind kind);
FcPattern *FcPatternCreate (void);
void FcPatternDestroy (FcPattern *p);
FcBool FcPatternAddString (FcPattern *p, const char *object, const FcChar8 *s);
FcBool FcPatternAddInteger (FcPattern *p, const char *object, int i);
FcResult FcPatternGetString (FcPattern *p, const char *object, int n, FcChar8 **s);
FcResult FcPatternGetInteger (FcPattern *p, const char *object, int n, int *i);
FcPattern *FcFontMatch (FcConfig *config, FcPattern *p, FcResult *result);
"""
_FC_LIBS = ("libfontconfig.so.1", "libfontconfig.1.dylib", "libfontconfig-1.dll", "fontconfig")


def _dlopen(cdef: str, names: tuple[str, ...]):
    import cffi

    ffi = cffi.FFI()
    ffi.cdef(cdef)
    for name in names:
        try:
            return ffi, ffi.dlopen(name)
        except OSError:
            continue
    return None


@functools.cache
def _fontconfig():
    """(ffi, fontconfig, this process's configuration), or None; the configuration is loaded once."""
    found = _dlopen(_FC_CDEF, _FC_LIBS)
    if found is None:
        return None
    ffi, fc = found
    config = fc.FcInitLoadConfigAndFonts()
    return None if config == ffi.NULL else (ffi, fc, config)


FC_WEIGHT = {400: 80, 700: 200}
"""CSS weights in fontconfig's scale (FC_WEIGHT_REGULAR, FC_WEIGHT_BOLD)."""
FC_SLANT_ROMAN = 0


class InstalledFace(NamedTuple):
    """A face fontconfig draws a family from: its file, its number in a collection, and the weight
    and slant it prints with (for a family without a bold or italic face, fontconfig answers with
    the regular face and the weight or slant it will make from it)."""

    path: Path
    number: int
    weight: int
    """fontconfig's scale: 80 regular, 200 bold."""
    slant: int
    """0 upright, 100 italic, 110 oblique."""


@functools.cache
def installed_face(family: str, weight: int = 400, italic: bool = False) -> InstalledFace | None:
    """The face fontconfig draws `family` from at a CSS `weight`, upright or `italic`; None when no
    installed font has that family (fontconfig always answers with some font: another family is
    no match)."""
    found = _fontconfig()
    if found is None:
        return None
    ffi, fc, config = found
    pattern = fc.FcPatternCreate()
    try:
        fc.FcPatternAddString(pattern, b"family", family.encode())
        fc.FcPatternAddInteger(pattern, b"weight", FC_WEIGHT.get(weight, 80))
        fc.FcPatternAddInteger(pattern, b"slant", 100 if italic else FC_SLANT_ROMAN)
        fc.FcConfigSubstitute(config, pattern, fc.FcMatchPattern)
        fc.FcDefaultSubstitute(pattern)
        result = ffi.new("FcResult *")
        match = fc.FcFontMatch(config, pattern, result)
        if match == ffi.NULL:
            return None
        try:
            text = ffi.new("FcChar8 **")
            number = ffi.new("int *")

            def integer(name: bytes, default: int) -> int:
                return number[0] if fc.FcPatternGetInteger(match, name, 0, number) == 0 else default

            if fc.FcPatternGetString(match, b"family", 0, text) != 0:
                return None
            if ffi.string(text[0]).decode("utf-8", "replace").casefold() != family.casefold():
                return None
            if fc.FcPatternGetString(match, b"file", 0, text) != 0:
                return None
            path = Path(os.fsdecode(ffi.string(text[0])))
            return InstalledFace(path, integer(b"index", 0) & 0xFFFF, integer(b"weight", 80), integer(b"slant", 0))
        finally:
            fc.FcPatternDestroy(match)
    finally:
        fc.FcPatternDestroy(pattern)


def installed_file(family: str) -> Path | None:
    """The file fontconfig draws `family` from (regular, upright), or None when it is not installed."""
    face = installed_face(family)
    return face.path if face else None


@functools.cache
def _harfbuzz():
    """(ffi, HarfBuzz, its subsetter), or None when a library cannot be opened."""
    hb = _dlopen(_CDEF, _LIBS["harfbuzz"])
    if hb is None:
        return None
    ffi, lib = hb
    try:  # cffi finds functions when called: an older HarfBuzz fails there, not here
        if not lib.hb_version_atleast(4, 2, 0):  # hb_set_next_many; the subset API as used here
            return None
    except AttributeError:
        return None
    for name in _LIBS["subset"]:
        try:
            return ffi, lib, ffi.dlopen(name)
        except OSError:
            continue
    return None


@functools.lru_cache(maxsize=64)
def _unicodes(path: str, mtime_ns: int, index: int | None) -> frozenset[int]:
    found = _harfbuzz()
    if found is None:
        return _unicodes_fonttools(path, index)
    ffi, hb, _ = found
    blob = hb.hb_blob_create_from_file_or_fail(os.fsencode(path))
    if blob == ffi.NULL:
        return frozenset()
    out: set[int] = set()
    try:
        faces = range(hb.hb_face_count(blob)) if index is None else (index,)
        for i in faces:
            face = hb.hb_face_create(blob, i)
            codes = hb.hb_set_create()
            try:
                hb.hb_face_collect_unicodes(face, codes)
                size = hb.hb_set_get_population(codes)
                buffer = ffi.new("uint32_t[]", max(size, 1))
                got = hb.hb_set_next_many(codes, _HB_SET_VALUE_INVALID, buffer, size)
                out.update(ffi.unpack(buffer, got))
            finally:
                hb.hb_set_destroy(codes)
                hb.hb_face_destroy(face)
    finally:
        hb.hb_blob_destroy(blob)
    return frozenset(out)


def _unicodes_fonttools(path: str, index: int | None) -> frozenset[int]:
    from fontTools.ttLib import TTCollection, TTFont

    if path.lower().endswith(COLLECTIONS):
        with TTCollection(path, lazy=True) as collection:
            fonts = collection.fonts if index is None else collection.fonts[index : index + 1]
            return frozenset().union(*(font.getBestCmap() or {} for font in fonts))
    with TTFont(path, lazy=True) as font:
        return frozenset(font.getBestCmap() or {})


def unicodes(path: Path, family: str | None = None) -> frozenset[int]:
    """The characters a font file maps to glyphs (cached per file version): in a collection, of
    the face fontconfig draws `family` from (Noto Sans CJK holds a face per region: SC, JP,
    KR...), or of every face when no family is given. A broken file maps none."""
    try:
        face = installed_face(family) if family and path.suffix.lower() in COLLECTIONS else None
        index = face.number if face is not None and face.path == path else None
        return _unicodes(str(path), path.stat().st_mtime_ns, index)
    except Exception:  # a broken font covers nothing (project loading reports it)
        return frozenset()


def cut(path: Path, index: int, chars: str) -> bytes | None:
    """Face `index` of `path`, cut to `chars` by HarfBuzz's subsetter: outlines, metrics and layout
    tables as they are, the same bytes on every build; None when it cannot be cut. The cut keeps
    no names: it answers only to the family the handout's CSS gives it, never to the installed
    family's name (a later document asking for that must get the whole installed face)."""
    found = _harfbuzz()
    if found is None:
        return None
    ffi, hb, hbs = found
    blob = hb.hb_blob_create_from_file_or_fail(os.fsencode(path))
    if blob == ffi.NULL:
        return None
    face = hb.hb_face_create(blob, index)
    hb.hb_blob_destroy(blob)
    plan = hbs.hb_subset_input_create_or_fail()
    try:
        if plan == ffi.NULL:
            return None
        codes = hbs.hb_subset_input_unicode_set(plan)
        for ch in chars:
            hb.hb_set_add(codes, ord(ch))
        hb.hb_set_clear(hbs.hb_subset_input_set(plan, _HB_SUBSET_SETS_NAME_ID))
        hbs.hb_subset_input_set_flags(plan, _NOTDEF_OUTLINE)
        result = hbs.hb_subset_or_fail(face, plan)
        if result == ffi.NULL:
            return None
        try:
            data = hb.hb_face_reference_blob(result)
            try:
                length = ffi.new("unsigned int *")
                pointer = hb.hb_blob_get_data(data, length)
                return bytes(ffi.buffer(pointer, length[0])) if length[0] else None
            finally:
                hb.hb_blob_destroy(data)
        finally:
            hb.hb_face_destroy(result)
    finally:
        if plan != ffi.NULL:
            hbs.hb_subset_input_destroy(plan)
        hb.hb_face_destroy(face)
