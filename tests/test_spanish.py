"""Spanish edition (issue 10): the bilingual sample practice builds both languages, the Spanish
PDF is tagged es-US and uses the Spanish built-in texts, every translation links to its English
original with the same citations, the Spanish readability gate holds, and an outdated
translation is reported.

Builds run as a user would (`python build.py ...`) on a copy of the project in a temp folder.
"""
from __future__ import annotations

import datetime as dt
import re
import subprocess
from pathlib import Path

import pikepdf
import pytest
import yaml
from conftest import ROOT, copy_project, require_tool, run_build

from clinicpress.checks import check_project, prose
from clinicpress.checks.readability import textstat_for
from clinicpress.load.project import load_project, walk_text
from clinicpress.load.schema import Deck, Handout, cite_keys

PRACTICE = "valle-community-health"
HANDOUT = "gut-and-immune-system"
INFLESZ_MIN = 55.0
MIN_SECTION_WORDS = 40  # shorter sections are too small for a stable score
CATALOGUE_ES = yaml.safe_load((ROOT / "templates" / "i18n" / "es.yml").read_text(encoding="utf-8"))

KINDS = {"handouts": Handout, "decks": Deck}


def _translations() -> list[tuple[str, Path, Path]]:
    """(kind, Spanish file, English original) for every file in content/<kind>/es/."""
    found = []
    for kind in KINDS:
        for es in sorted((ROOT / "content" / kind / "es").glob("*.yml")):
            data = yaml.safe_load(es.read_text(encoding="utf-8"))
            original = ROOT / "content" / kind / f"{data.get('translation_of') or es.stem}.yml"
            found.append((kind, es, original))
    return found


TRANSLATIONS = _translations()


def _load(kind: str, path: Path):
    return KINDS[kind].model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def _all_keys(model) -> set[str]:
    return {key for _, text in walk_text(model) for key in cite_keys(text)}


def _pdf_text(path: Path) -> str:
    """Text of a PDF in reading order, with line-end hyphenation undone and spaces collapsed."""
    require_tool("pdftotext")
    raw = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    raw = re.sub(r"[\u00ad\u2010-]\s*\n\s*", "", raw)  # "inme-\ndiato" -> "inmediato"
    return re.sub(r"\s+", " ", raw)


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


# --------------------------------------------------------------------------- build both languages
@pytest.fixture(scope="module")
def valle_build(tmp_path_factory) -> Path:
    """The Valle practice (languages en + es) built for one handout into a temp folder."""
    base = tmp_path_factory.mktemp("spanish")
    proj = copy_project(base / "proj", practices=[PRACTICE])
    out = base / "out"
    proc = run_build("build", "--root", str(proj), "--output", str(out), "--only", HANDOUT, "-q")
    assert proc.returncode == 0, proc.stderr + proc.stdout
    return out / PRACTICE


def test_valle_builds_the_handout_in_english_and_spanish(valle_build: Path):
    for name in (f"{HANDOUT}.pdf", f"{HANDOUT}.html", f"{HANDOUT}.es.pdf", f"{HANDOUT}.es.html"):
        assert (valle_build / name).is_file(), f"{name} was not built"
    with pikepdf.open(valle_build / f"{HANDOUT}.es.pdf") as pdf:
        assert 1 <= len(pdf.pages) <= 4
        assert str(pdf.docinfo["/Title"]) == "Su intestino y su sistema inmunitario"


def test_spanish_pdf_is_tagged_es_us_and_english_stays_en_us(valle_build: Path):
    with pikepdf.open(valle_build / f"{HANDOUT}.es.pdf") as pdf:
        assert str(pdf.Root.Lang) == "es-US"
    with pikepdf.open(valle_build / f"{HANDOUT}.pdf") as pdf:
        assert str(pdf.Root.Lang) == "en-US"
    html = (valle_build / f"{HANDOUT}.es.html").read_text(encoding="utf-8")
    assert 'lang="es-US"' in html or 'lang="es"' in html


def test_spanish_pdf_has_spanish_footer_callouts_disclaimer_and_emergency_line(valle_build: Path):
    text = _pdf_text(valle_build / f"{HANDOUT}.es.pdf")
    expected = [
        "Página 1 de",
        "Lo que usted puede hacer",
        "Preguntas para su próxima cita",
        "Revisado el",  # the practice's sign-off (approvals.yml)
        "Revisión del equipo de contenido, 7 de diciembre de 2026",  # the writers' review date, in Spanish (Babel)
        _squash(CATALOGUE_ES["disclaimer"]),
        _squash(CATALOGUE_ES["emergency"].format(number="911")),
    ]
    for s in expected:
        assert s in text, f"Spanish PDF lacks {s!r}"
    for english in ("What you can do", "Questions for your next visit", "Reviewed", "Draft", "Page 1 of"):
        assert english not in text, f"Spanish PDF still shows the English {english!r}"
    # Accented characters survive extraction (fonts embedded with the glyphs).
    assert "intestino" in text and "inmunitario" in text and "próxima" in text


def test_english_pdf_of_the_same_practice_keeps_english_texts(valle_build: Path):
    text = _pdf_text(valle_build / f"{HANDOUT}.pdf")
    assert "What you can do" in text and "Page 1 of" in text
    assert "Lo que usted puede hacer" not in text


# --------------------------------------------------------------------------- translations link to originals
def test_there_are_spanish_translations():
    kinds = {kind for kind, _, _ in TRANSLATIONS}
    assert "handouts" in kinds, "no Spanish handouts in content/handouts/es/"


@pytest.mark.parametrize("kind,es,original", TRANSLATIONS, ids=[p.stem for _, p, _ in TRANSLATIONS])
def test_translation_links_to_an_existing_english_original_with_the_same_citations(kind, es, original):
    model = _load(kind, es)
    assert model.language == "es"
    assert model.slug == es.stem, "slug must equal the file name"
    assert model.translation_of, "a translation names its original (translation_of)"
    assert original.is_file(), f"translation_of {model.translation_of!r}: {original} does not exist"
    english = _load(kind, original)
    assert english.language == "en"
    assert model.slug == english.slug, "the Spanish file keeps the English slug"
    assert model.translated_from_review == english.reviewed.date, (
        f"{es.name}: translated from the {model.translated_from_review} review, "
        f"but the original was reviewed {english.reviewed.date}")
    assert model.reviewed.date == english.reviewed.date
    assert _all_keys(model) == _all_keys(english), "the translation cites exactly the original's sources"


@pytest.mark.parametrize("kind,es,original", [t for t in TRANSLATIONS if t[0] == "handouts"],
                         ids=[p.stem for k, p, _ in TRANSLATIONS if k == "handouts"])
def test_translated_handout_keeps_the_original_structure(kind, es, original):
    model, english = _load(kind, es), _load(kind, original)
    assert len(model.sections) == len(english.sections)
    for sec, en_sec in zip(model.sections, english.sections, strict=True):
        assert sec.no_claims == en_sec.no_claims
        assert len(sec.bullets) == len(en_sec.bullets) and len(sec.steps) == len(en_sec.steps)
        assert (sec.callout is None) == (en_sec.callout is None) and (sec.table is None) == (en_sec.table is None)
        for cites, en_cites in ((sec.body, en_sec.body), *zip(sec.bullets, en_sec.bullets, strict=True)):
            assert set(cite_keys(cites or "")) == set(cite_keys(en_cites or "")), (es.name, sec.heading)
    assert len(model.actions) == len(english.actions)
    assert len(model.questions) == len(english.questions)
    for level in ("emergency", "today", "soon"):  # the same warning signs at the same level
        assert len(getattr(model.get_help, level)) == len(getattr(english.get_help, level)), level
    assert len(model.teach_back) == len(english.teach_back)
    assert len(model.glossary) == len(english.glossary)
    if english.deck:
        assert model.deck == english.deck


def test_translated_deck_has_spanish_notes_on_every_slide():
    for kind, es, original in TRANSLATIONS:
        if kind != "decks":
            continue
        deck, english = _load(kind, es), _load(kind, original)
        assert [s.layout for s in deck.slides] == [s.layout for s in english.slides]
        titles = [s.title for s in deck.slides if s.title]
        assert len(titles) == len(set(titles)), "slide titles must be unique"
        for slide in deck.slides:
            assert slide.notes and len(slide.notes.split()) >= 12, slide.title


# --------------------------------------------------------------------------- readability gate
def _inflesz(text: str) -> tuple[float, float]:
    ts = textstat_for("es")
    return ts.szigriszt_pazos(text), ts.fernandez_huerta(text)


@pytest.mark.parametrize("es", [p for k, p, _ in TRANSLATIONS if k == "handouts"],
                         ids=[p.stem for k, p, _ in TRANSLATIONS if k == "handouts"])
def test_spanish_handout_reads_at_inflesz_55_or_more(es: Path):
    handout = _load("handouts", es)
    whole = prose.scoring_text(prose.handout_pieces(handout))
    assert "[@" not in whole, "citations must be stripped before scoring"
    inflesz, _ = _inflesz(whole)
    assert inflesz >= INFLESZ_MIN, f"{es.stem}: INFLESZ {inflesz:.1f} < {INFLESZ_MIN}"
    for i, section in enumerate(handout.sections):
        text = prose.scoring_text(prose.section_pieces(section, i))
        if len(text.split()) < MIN_SECTION_WORDS:
            continue
        score, _ = _inflesz(text)
        assert score >= INFLESZ_MIN, f"{es.stem} / {section.heading}: INFLESZ {score:.1f}"


def test_spanish_readability_gate_flags_hard_spanish(tmp_path: Path):
    """The same gate in the checks: a dense Spanish section is reported, the shipped ones are not."""
    proj = copy_project(tmp_path / "proj", practices=[PRACTICE])
    findings = check_project(load_project(proj))
    key = f"handout:{HANDOUT}:es"
    assert not [f for f in findings[key] if f.check.startswith("readability")], findings[key]

    target = proj / "content" / "handouts" / "es" / f"{HANDOUT}.yml"
    data = yaml.safe_load(target.read_text(encoding="utf-8"))
    hard = ("La caracterización inmunológica de las alteraciones microbianas intestinales constituye una "
            "consideración fundamentalmente interdisciplinaria, especialmente respecto de las "
            "manifestaciones inflamatorias sistémicas [@vighi2008]. Las intervenciones farmacológicas "
            "demuestran efectividad considerablemente heterogénea entre poblaciones fisiológicamente "
            "diferenciadas [@vighi2008]. ")
    data["sections"][0]["body"] = hard * 3
    target.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    findings = check_project(load_project(proj))
    flagged = [f for f in findings[key] if f.check.startswith("readability") and "INFLESZ" in f.message]
    assert flagged, findings[key]
    assert any(f.severity in ("warning", "error") for f in flagged)


# --------------------------------------------------------------------------- outdated translation
def _outdate_original(tmp_path: Path) -> Path:
    """A project copy whose English original was reviewed after its Spanish translation."""
    proj = copy_project(tmp_path / "proj", practices=[PRACTICE])
    original = proj / "content" / "handouts" / f"{HANDOUT}.yml"
    text = original.read_text(encoding="utf-8")
    es = yaml.safe_load((proj / "content" / "handouts" / "es" / f"{HANDOUT}.yml").read_text(encoding="utf-8"))
    later = es["translated_from_review"] + dt.timedelta(days=10)
    new, n = re.subn(r"(?m)^(reviewed:\s*\n\s+date:\s*)\S+", rf"\g<1>{later.isoformat()}", text)
    assert n == 1, "could not find reviewed.date in the English original"
    original.write_text(new, encoding="utf-8")
    return proj


def test_outdated_translation_is_reported_by_the_checks(tmp_path: Path):
    proj = _outdate_original(tmp_path)
    findings = check_project(load_project(proj))
    outdated = [f for f in findings[f"handout:{HANDOUT}:es"] if f.check == "governance.translation_outdated"]
    assert outdated, "an English original reviewed after its translation must be reported"
    (f,) = outdated
    assert f.severity == "warning"
    assert "outdated translation" in f.message and "gut-and-immune-system.yml" in f.message
    assert f.path.endswith(f"content/handouts/es/{HANDOUT}.yml")
    # The other, current translations are not reported.
    for key, items in findings.items():
        if key.endswith(":es") and key != f"handout:{HANDOUT}:es":
            assert not [x for x in items if x.check == "governance.translation_outdated"], key


def test_outdated_translation_is_reported_by_build_check(tmp_path: Path):
    proj = _outdate_original(tmp_path)
    proc = run_build("check", "--root", str(proj), "--only", HANDOUT)
    output = proc.stdout + proc.stderr
    assert "internal error" not in output, output
    assert "outdated translation" in output, output
    assert f"content/handouts/es/{HANDOUT}.yml" in output, output


def test_current_translations_are_not_reported_as_outdated():
    findings = check_project(load_project(ROOT))
    for key, items in findings.items():
        if key.endswith(":es"):
            assert not [f for f in items if f.check.startswith("governance.translation")], (key, items)
