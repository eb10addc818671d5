"""Language identification: content whose text is not in its declared language.

A Spanish edition left with English body text passed every other check. Each longer text field
of a handout or deck (MIN_WORDS words or more, citations and Markdown removed) is identified
with py3langid (an offline n-gram model, langid.py's); a field that is, with probability
MIN_PROBABILITY or more, in another language than the file's `language` is named in one
warning per file, with the language the text looks like.

The model loads on first use and only when the checks run (a build whose content did not change
reuses the cached findings): about 25 ms from the data cache (clinicpress.load.datacache),
0.4 s the first time, when it is unpacked from the package.

Mixed direction: a paragraph that mixes left-to-right letters (Latin, Chinese...) with
right-to-left ones (Arabic, Hebrew) and no Unicode isolate around the fragment is laid out by
the bidi rules alone: numbers, punctuation and the words next to the fragment can swap places.
Citation keys (`[@key]`) are left out: they print as reference numbers.

Check ids: `language_id.mismatch` (warning), `language_id.mixed_direction` (warning).
"""

from __future__ import annotations

import functools
import re
import shutil
import unicodedata

from ..errors import Finding
from ..load import datacache

MIN_WORDS = 20
"""Shorter fields (titles, bullets, glossary terms) are too short to identify reliably."""
MIN_PROBABILITY = 0.95
MAX_LISTED = 3
SKIPPED = ("slug", "language", "translation_of", "src", "layout", "kind", "deck", "by", "keywords", "alt")

_MARKUP = re.compile(r"[*_`#>\[\]()!]|https?://\S+")


@functools.cache
def _identifier():
    from py3langid.langid import LanguageIdentifier

    ptc, pc, classes, nextmove, row, output = _model()
    return LanguageIdentifier(ptc, pc, classes, nextmove, output, norm_probs=True, tk_row=row)


ARRAYS = ("ptc", "pc", "classes", "nextmove", "row", "output")
"""The model's parts as py3langid's `modelio.load_model` returns them, one .npy file each."""
MAX_ARRAY_BYTES = 256 * 2**20
"""No part of py3langid's model is near this (the largest, the DFA, is 39 MB)."""


def _model() -> tuple:
    """py3langid's model: from the data cache (plain .npy files, about 25 ms), else unpacked
    from the package (LZMA, about 0.4 s) and kept in the cache for the next run."""
    import importlib.metadata

    from py3langid.langid import MODEL_DIR, MODEL_FILE
    from py3langid.modelio import load_model

    source = MODEL_DIR / MODEL_FILE
    cache = datacache.folder()
    entry = None
    if cache:
        version = importlib.metadata.version("py3langid")
        entry = cache / f"py3langid-{version}-{source.stat().st_size}"
        model = _read_cached(entry)
        if model:
            return model
        datacache.discard(entry)
    model = load_model(source)
    if entry:
        _write_cached(entry, model)
    return model


def _read_cached(entry) -> tuple | None:
    """The model's arrays from a cache entry, or None when it is missing or not a well-formed
    model: every DFA move, row and feature index must fall inside its table."""
    from array import array

    import numpy as np

    try:
        if not all(datacache.regular_file(entry / f"{name}.npy", MAX_ARRAY_BYTES) for name in ARRAYS):
            return None
        a = {name: np.load(entry / f"{name}.npy", mmap_mode="r", allow_pickle=False) for name in ARRAYS}
        ptc, pc, classes, moves, row, output = (a[name] for name in ARRAYS)
        features, languages = ptc.shape
        states = len(row)
        well_formed = (
            (ptc.dtype, pc.dtype, classes.dtype.kind, output.dtype) == (np.float16, np.float32, "U", np.int32)
            and moves.dtype in (np.uint16, np.uint32)
            and row.dtype in (np.uint16, np.uint32)
            and pc.shape == classes.shape == (languages,)
            and moves.ndim == row.ndim == output.ndim == 1
            and features > 0
            and languages > 0
            and moves.size % 256 == 0
            and 0 < moves.size <= 256 * states
            and len(output) == states > 0
            and int(moves.max()) < states
            and int(row.max()) < moves.size // 256
            and -1 <= int(output.min())
            and int(output.max()) < features
            and bool(np.isfinite(pc).all())
            and bool(np.isfinite(ptc).all())
        )
        if not well_formed:
            return None
        tables = []
        for part in (moves, row):
            table = array("H" if part.dtype == np.uint16 else "I")
            table.frombytes(np.ascontiguousarray(part).data.cast("B"))
            tables.append(table)
        return ptc, np.asarray(pc), classes.tolist(), tables[0], tables[1], output.tolist()
    except (OSError, ValueError, TypeError, EOFError):
        return None


def _write_cached(entry, model: tuple) -> None:
    """Keeps the model's arrays as .npy files (about 70 MB, written once per py3langid version)."""
    import numpy as np

    draft = datacache.draft_name(entry)
    try:  # BaseException too: Ctrl-C or a stop while writing leaves no 70 MB draft behind
        draft.mkdir()
        for name, value in zip(ARRAYS, model, strict=True):
            if name in ("nextmove", "row"):  # stdlib arrays: 16 or 32-bit unsigned integers
                value = np.frombuffer(value, dtype=np.uint16 if value.itemsize == 2 else np.uint32)
            elif name == "output":
                value = np.asarray(value, dtype=np.int32)
            elif name == "classes":
                value = np.asarray(value, dtype=str)
            np.save(draft / f"{name}.npy", value, allow_pickle=False)
        datacache.publish(draft, entry)
    except OSError:
        pass  # a full or read-only cache: unpack again next time
    finally:
        shutil.rmtree(draft, ignore_errors=True)  # gone once published; else never left behind


def identify(text: str) -> tuple[str, float]:
    """The language `text` looks like (an ISO 639-1 code) and how sure the model is (0-1)."""
    lang, probability = _identifier().classify(text)
    return str(lang), float(probability)


ISOLATES = frozenset("\u2066\u2067\u2068\u2069")
"""LRI, RLI, FSI and PDI: a writer's way to isolate a fragment written the other way."""


def mixed_direction(text: str) -> str | None:
    """The first right-to-left (or, in right-to-left text, left-to-right) fragment of a paragraph
    that mixes both directions without an isolate; None when no paragraph does."""
    for paragraph in text.split("\n"):
        if ISOLATES & set(paragraph):
            continue
        kinds = [unicodedata.bidirectional(ch) for ch in paragraph]
        ltr = sum(k == "L" for k in kinds)
        rtl = sum(k in ("R", "AL") for k in kinds)
        if ltr and rtl:
            minority = ("R", "AL") if rtl <= ltr else ("L",)
            words = paragraph.split()
            marked = [any(unicodedata.bidirectional(ch) in minority for ch in w) for w in words]
            start = marked.index(True)
            end = next((i for i in range(start, len(words)) if not marked[i]), len(words))
            return " ".join(words[start:end])
    return None


def check(src, ctx) -> list[Finding]:
    """Item check: fields written in another language than the file declares; fields that mix
    both text directions without isolating the fragment."""
    return _mismatch(src, ctx) + _mixed(src, ctx)


def _mixed(src, ctx) -> list[Finding]:
    from ..load.project import walk_text
    from ..render.templating import strip_citations

    out = []
    for loc, text in walk_text(src.model):
        if any(part in SKIPPED for part in loc if isinstance(part, str)):
            continue
        # `[@key]` prints as a reference number, not as the Latin key: only the printed text counts
        fragment = mixed_direction(strip_citations(text))
        if fragment:
            out.append(
                ctx.at(
                    src,
                    "language_id.mixed_direction",
                    "warning",
                    f"this text mixes left-to-right and right-to-left writing without isolating {fragment!r}: "
                    "the words and numbers around it may print in the wrong order",
                    loc,
                    hint="put the fragment in its own paragraph or field, or surround it with U+2068 (first strong "
                    'isolate) and U+2069 (pop directional isolate), written in YAML as "\\u2068...\\u2069"',
                    needle=fragment[:20],
                    fragment=fragment,
                )
            )
    return out


def _mismatch(src, ctx) -> list[Finding]:
    """Fields written in another language than the file declares."""
    from ..load.project import walk_text
    from ..render.templating import strip_citations

    declared = src.language.split("-")[0]
    wrong: list[tuple[tuple, str, float]] = []
    for loc, text in walk_text(src.model):
        if any(part in SKIPPED for part in loc if isinstance(part, str)):
            continue
        plain = _MARKUP.sub(" ", strip_citations(text))
        if len(plain.split()) < MIN_WORDS:
            continue
        found, probability = identify(plain)
        if found != declared and probability >= MIN_PROBABILITY:
            wrong.append((loc, found, probability))
    if not wrong:
        return []
    from babel import Locale

    def name(code: str) -> str:
        try:
            return Locale.parse(code).get_display_name("en") or code
        except Exception:  # a code Babel does not know: print it as it is
            return code

    from ..errors import dotted

    loc, found, probability = wrong[0]
    fields = ", ".join(f"{dotted(w[0])} ({w[1]})" for w in wrong[:MAX_LISTED])
    more = f" and {len(wrong) - MAX_LISTED} more" if len(wrong) > MAX_LISTED else ""
    return [
        ctx.at(
            src,
            "language_id.mismatch",
            "warning",
            f"the file says language: {src.language}, but {len(wrong)} field(s) read as another language: "
            f"{fields}{more}; {dotted(loc)} looks like {name(found)} ({probability:.0%})",
            loc,
            hint=f"translate the text into {name(declared)}, or set `language:` to the language it is written in",
            fields=[dotted(w[0]) for w in wrong],
            looks_like=found,
        )
    ]
