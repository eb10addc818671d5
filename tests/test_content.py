"""The shipped library: every seed topic covered, citations resolve, plain language, own words."""
from __future__ import annotations

import importlib.util
import re
import unicodedata
from pathlib import Path

import pytest
import yaml

from clinicpress.checks.readability import textstat_for
from clinicpress.load.project import load_project, walk_text
from clinicpress.render.templating import strip_citations

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
_spec = importlib.util.spec_from_file_location("seedprint", FIXTURES / "make_seed_shingles.py")
seedprint = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(seedprint)

# The topics issue 3 names, each as words its coverage entry's title must contain.
SEED_TOPICS = [
    ("immune tissue",), ("autoimmune diseases linked",), ("microbiome", "immune regulation"),
    ("medicines", "nitric oxide"), ("glutathione",), ("autism",), ("probiotics",), ("gluten", "aip"),
    ("customi",), ("stress", "gut-brain"), ("antibiotics", "heavy metals"), ("concussion",),
    ("immune responses",), ("chronic pain",), ("individual evaluation", "clinician"), ("research",),
]


@pytest.fixture(scope="module")
def project():
    return load_project(ROOT)


@pytest.fixture(scope="module")
def coverage():
    return yaml.safe_load((ROOT / "content" / "coverage.yml").read_text(encoding="utf-8"))


def test_every_seed_topic_is_covered_by_real_sections_and_slides(project, coverage):
    headings = {(s.slug, sec.heading) for s in project.handouts if s.language == "en" for sec in s.model.sections}
    deck = next(s.model for s in project.decks if s.slug == "gut-and-autoimmune-disease" and s.language == "en")
    titles = {sl.title for sl in deck.slides if sl.title}
    for words in SEED_TOPICS:
        entries = [c for c in coverage if all(w in c["title"].lower() for w in words)]
        assert entries, f"no coverage entry for topic {words}"
        for entry in entries:
            assert entry["handouts"] and entry["slides"], entry["id"]
            for h in entry["handouts"]:
                assert (h["handout"], h["section"]) in headings, h
            for title in entry["slides"]:
                assert title in titles, title


def test_every_coverage_entry_is_covered_or_says_why_not(coverage):
    for entry in coverage:
        if entry.get("left_out"):
            assert not entry["handouts"] and not entry["slides"], entry["id"]
            assert len(entry["left_out"].split()) >= 12, f"{entry['id']}: say why it is left out"
        else:
            assert entry["handouts"] and entry["slides"], entry["id"]


def test_library_size(project):
    english = [s for s in project.handouts if s.language == "en"]
    assert len(english) >= 8
    deck = next(s.model for s in project.decks if s.slug == "gut-and-autoimmune-disease" and s.language == "en")
    assert 30 <= len(deck.slides) <= 40
    assert all(sl.notes and len(sl.notes.split()) >= 12 for sl in deck.slides)
    assert any(sl.layout == "closing" for sl in deck.slides)
    assert any(sl.layout == "references" for sl in deck.slides)
    audience = [s for s in english if s.model.deck == "gut-and-autoimmune-disease"]
    assert audience, "the talk needs an audience handout"


def test_every_citation_resolves_and_every_reference_is_used(project):
    used = set()
    for src in project.sources:
        for _, text in walk_text(src.model):
            used.update(re.findall(r"@([A-Za-z0-9_:.\-]+)", " ".join(re.findall(r"\[@[^\]]+\]", text))))
    assert used <= set(project.bibliography.items)
    assert set(project.bibliography.items) <= used


def _prose(handout) -> str:
    parts = [handout.main_message, handout.summary]
    for sec in handout.sections:
        parts += [sec.body or "", *sec.bullets, *sec.steps, sec.callout.body if sec.callout else ""]
    parts += [*handout.actions, *handout.questions, *handout.teach_back,
              *handout.get_help.emergency, *handout.get_help.today, *handout.get_help.soon]
    text = strip_citations("\n".join(p for p in parts if p))
    return re.sub(r"[*_`#>]", "", text)


def test_reading_grade_of_every_english_handout(project):
    ts = textstat_for("en")
    for src in project.handouts:
        if src.language != "en":
            continue
        grade = ts.flesch_kincaid_grade(_prose(src.model))
        assert grade <= 8, f"{src.slug}: grade {grade}"
        for sec in src.model.sections:
            if sec.body:
                assert ts.flesch_kincaid_grade(strip_citations(sec.body)) <= 8, (src.slug, sec.heading)


def test_required_blocks_on_every_handout(project):
    for src in project.handouts:
        h = src.model
        assert h.main_message and h.summary and h.actions and h.questions and h.get_help and h.teach_back, src.slug
        assert h.reviewed.by and h.reviewed.date, src.slug
        assert h.glossary, src.slug
        claims = [s for s in h.sections if not s.no_claims]
        assert all("[@" in (s.body or "") + " ".join(s.bullets) for s in claims if s.body), src.slug


def _seed_fingerprint() -> set[str]:
    """The hashed 8-word runs of the seed, committed so that no clone needs the seed itself."""
    lines = (FIXTURES / "seed-shingles.txt").read_text(encoding="utf-8").splitlines()
    return {line for line in lines if line and not line.startswith("#")}


def test_content_is_in_our_own_words(project):
    seed = _seed_fingerprint()
    assert len(seed) > 1000  # the whole seed, not an empty or truncated file
    for src in project.sources:
        text = " ".join(t for _, t in walk_text(src.model))
        overlap = [s for s in seedprint.shingles(strip_citations(text)) if seedprint.digest(s) in seed]
        assert not overlap, f"{src.slug} repeats the seed: {' '.join(sorted(overlap)[0])}"
        for name in ("Rutherford", "Gates", "Power Health", "Reno"):
            assert name not in text, f"{src.slug} names {name}"


def _squash(text: str) -> str:
    return " ".join(text.replace("\u00ad", "").replace("-\r\n", "").split())


def _smallest_text(pdf: bytes) -> tuple[float, str]:
    """The smallest printed type size in the PDF (points, as drawn) and a sample of the text set in it."""
    import pypdfium2 as pdfium
    from pdftext import drawn_size

    doc = pdfium.PdfDocument(pdf)
    smallest, sample = 1000.0, ""
    try:
        for index in range(len(doc)):
            text = doc[index].get_textpage()
            for i in range(text.count_chars()):
                char = text.get_text_range(i, 1)
                if char.isspace():
                    continue
                size = drawn_size(text, i)
                if size < smallest - 0.05:
                    smallest, sample = size, ""
                if abs(size - smallest) <= 0.05 and len(sample) < 40:
                    sample += char
    finally:
        doc.close()
    return smallest, sample


ENGLISH_SLUGS = sorted(p.stem for p in (ROOT / "content" / "handouts").glob("*.yml"))


def _on_page(page: str, passage: str) -> bool:
    """Whether a page holds `passage`. Right-to-left text is compared by its words that PDF
    readers extract faithfully: not those with vowel marks or the lam-alef ligature, which
    pdfium and poppler give out of order (see tests/test_script.py)."""
    from clinicpress.render.handout.pdf import contains_passage

    if contains_passage(page, passage):
        return True
    words = [w.strip(".,،:؟!") for w in passage.split()
             if any(unicodedata.bidirectional(c) in ("R", "AL") for c in w)
             and not any(unicodedata.category(c) == "Mn" for c in w) and "\u0644\u0627" not in w
             and "\u0644\u0623" not in w and "\u0644\u0625" not in w]
    flat = " ".join(page.split())
    return bool(words) and all(w in flat for w in words)


@pytest.mark.parametrize("slug", ENGLISH_SLUGS)
def test_every_handout_fits_its_page_budget_for_every_practice(project, slug, tmp_path):
    """Issue 3: one to two pages (large print: three sheets), in every shipped practice's paper,
    columns, notices, languages and the variants it builds on every run."""
    import io

    import pikepdf
    from pdftext import page_texts

    from clinicpress.jobs.model import plan
    from clinicpress.jobs.run import run_job
    from clinicpress.load.i18n import messages
    from clinicpress.render.handout import VARIANTS

    printed = []
    for job in plan(project, only=[slug], formats={"pdf"}):  # the jobs `python build.py` runs
        pdf = run_job(project, job, tmp_path).files["pdf"]
        with pikepdf.open(io.BytesIO(pdf)) as doc:
            printed.append((job.practice.slug, job.source.language, job.variant.name, len(doc.pages),
                            job.variant.max_pages))
        if job.variant.large_print:  # issue 20: in large print nothing is under 14 pt, small print included
            smallest = _smallest_text(pdf)
            assert smallest[0] >= 13.95, f"{job.key}: {smallest[0]:.1f} pt text: {smallest[1]!r}"
            # ...and "When to get help" continues on the next page only between its levels: the
            # heading opens the call-now level, and each level's heading, signs and lines share a page
            t = messages(project.root, job.source.language, job.practice.templates_dir)
            pages = page_texts(pdf)
            page = next(i for i, text in enumerate(pages) if t.get_help in text)
            lines, gh = job.practice.lines, job.source.model.get_help
            levels = [
                (t.fmt("help_now", number=lines.emergency), [*gh.emergency, *(x.say(job.source.language) for x in lines.crisis)]),
                (t.fmt("help_today", phone=job.practice.info.phone), [*gh.today, *(x.say(job.source.language) for x in lines.urgent)]),
                (t.help_soon, list(gh.soon)),
            ]
            for n, (level_heading, parts) in enumerate(levels):
                bare = [re.sub(r"\s*\[@[^\]]+\]", "", part) for part in parts]
                at = next((i for i in range(page, len(pages))
                           if _on_page(pages[i], level_heading) and all(_on_page(pages[i], b) for b in bare)), None)
                assert at is not None and (n > 0 or at == page), (
                    f"{job.key}: help level {n + 1} is split from its heading or out of order")
                page = at
    editions = {"en", "es"} | ({"ar", "zh-Hans"} if slug in ("gut-and-immune-system", "diet-gluten-and-the-aip-diet")
                               else set())
    assert {(lang, name) for _, lang, name, _, _ in printed} == {
        (lang, name) for lang in editions for name in ("standard", "large-print")}
    assert VARIANTS["standard"].max_pages == 2
    assert all(pages <= budget for *_, pages, budget in printed), printed


def test_every_reference_has_an_evidence_record_and_no_record_is_orphaned():
    """docs/evidence.md says how strongly each source may be stated; it must cover the bibliography exactly."""
    import json
    import re

    keys = {item["id"] for item in json.loads((ROOT / "content" / "references.json").read_text(encoding="utf-8"))}
    evidence = (ROOT / "docs" / "evidence.md").read_text(encoding="utf-8")
    recorded = set(re.findall(r"^\*\*([a-z0-9]+)\*\* — ", evidence, re.M))
    assert keys - recorded == set(), "references without an evidence record in docs/evidence.md"
    assert recorded - keys == set(), "evidence records for keys that references.json does not have"


def test_the_field_reference_in_docs_matches_the_models():
    """docs/reference.md is generated from the schema; a schema change must regenerate it."""
    from clinicpress.load.schema.reference import reference

    committed = (ROOT / "docs" / "reference.md").read_text(encoding="utf-8")
    assert committed == reference(ROOT), "run: python -m clinicpress.load.schema.reference"
    for field in ("`src`", "`alt`", "`caption`", "`translation_of`", "`translated_from_review`", "`human_review`"):
        assert field in committed
    assert committed.count("#### Slide layout") == 13  # one per layout, the picture slides included
