"""Issue 20, what patients need: "When to get help" in three ordered levels, the emergency and
crisis numbers of the practice's country, teach-back questions, and a "My notes" space that
prints as lines to write on (not as text). Asserted on the printed PDFs."""

from __future__ import annotations

import re
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
import yaml
from conftest import ROOT, copy_project, run_build
from pdftext import page_texts

SLUG = "gut-and-immune-system"
US, GB = "summit-rheumatology", "thames-integrative-gi"


def _squash(text: str) -> str:
    return re.sub(r"[\s\u00ad\ufffe\u2010\u2011\-]+", "", text).casefold()


@pytest.fixture(scope="module")
def printed(tmp_path_factory) -> dict[str, Path]:
    """One handout built for the US and the UK sample practice."""
    tmp = tmp_path_factory.mktemp("safety")
    root = copy_project(tmp / "proj", practices=[US, GB])
    out = tmp / "out"
    proc = run_build("build", "--root", str(root), "--only", SLUG, "--output", str(out), "-q")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return {"US": out / US / f"{SLUG}.pdf", "GB": out / GB / f"{SLUG}.pdf"}


def _messages() -> dict:
    return yaml.safe_load((ROOT / "templates" / "i18n" / "en.yml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("country, emergency, phone", [("US", "911", "(303) 555-0142"), ("GB", "999", "01632 960123")])
def test_three_help_levels_print_in_order_on_one_page(printed, country, emergency, phone):
    t = _messages()
    pages = [_squash(p) for p in page_texts(printed[country])]
    (page,) = [p for p in pages if _squash(t["get_help"]) in p]
    levels = [t["help_now"].format(number=emergency), t["help_today"].format(phone=phone), t["help_soon"]]
    at = [page.find(_squash(level)) for level in levels]
    assert -1 not in at, f"{country}: a help level is missing or split from the box: {list(zip(levels, at, strict=True))}"
    assert at == sorted(at), f"{country}: the levels are out of order: {list(zip(levels, at, strict=True))}"
    english = yaml.safe_load((ROOT / "content" / "handouts" / f"{SLUG}.yml").read_text(encoding="utf-8"))
    for level, start, end in zip(("emergency", "today", "soon"), at, [*at[1:], len(page)], strict=True):
        for sign in english["get_help"][level]:  # each sign under its own level's heading
            plain = _squash(re.sub(r"\s*\[@[^\]]+\]", "", sign)).rstrip(".")  # a citation number may follow
            assert plain in page[start:end], f"{country}: {sign!r} is not under {level}"


def test_emergency_and_crisis_numbers_follow_the_practice_country(printed):
    us, gb = (_squash(" ".join(page_texts(printed[c]))) for c in ("US", "GB"))
    # US: 911 and the 988 Lifeline with its Spanish option (call and press 2, or text AYUDA)
    for needle in ("call911nowif", "callortext988.español:marque2oenvíeayuda"):
        assert needle in us, f"US handout lacks {needle!r}"
    # UK: 999, NHS 111 for urgent advice, Samaritans on 116 123
    for needle in ("call999nowif", "nhs111", "samaritansfreeon116123"):
        assert needle in gb, f"UK handout lacks {needle!r}"
    for needle in ("call999", "116123", "nhs111"):
        assert needle not in us, f"US handout prints the UK's {needle!r}"
    for needle in ("call911", "988", "ayuda"):
        assert needle not in gb, f"UK handout prints the US's {needle!r}"


def _where(pdf: Path, needle: str) -> tuple[int, float]:
    """The page and the distance from the page top of the first line that holds `needle`
    (reading position on the page: the content stream's order is not the reading order)."""
    doc = pdfium.PdfDocument(pdf)
    try:
        for index in range(len(doc)):
            page = doc[index]
            textpage = page.get_textpage()
            text = textpage.get_text_range()
            start = " ".join(needle.split()[:3])  # the first words: a line break may follow
            if start in text:
                top = textpage.get_charbox(text.index(start))[3]
                return index, page.get_height() - top
    finally:
        doc.close()
    raise AssertionError(f"{needle!r} is not printed")


def test_teach_back_questions_follow_the_help_box(printed):
    t = _messages()
    english = yaml.safe_load((ROOT / "content" / "handouts" / f"{SLUG}.yml").read_text(encoding="utf-8"))
    assert 2 <= len(english["teach_back"]) <= 3
    heading = _where(printed["US"], t["teach_back"])
    assert heading > _where(printed["US"], t["help_soon"]), "teach-back comes after the help levels"
    for question in english["teach_back"]:
        assert _where(printed["US"], question) > heading, question


def _notes_geometry(pdf: Path, heading: str) -> tuple[str, int]:
    """The text printed between the notes heading and the next heading, and how many
    horizontal rules are drawn under the heading inside the notes box."""
    doc = pdfium.PdfDocument(pdf)
    try:
        for index in range(len(doc)):
            page = doc[index]
            textpage = page.get_textpage()
            text = textpage.get_text_range()
            if heading not in text:
                continue
            at = text.index(heading)
            left, bottom, right, top = textpage.get_charbox(at)
            after = text[at + len(heading):]
            rules = 0
            for obj in page.get_objects():
                if obj.type != pdfium_c.FPDF_PAGEOBJ_PATH:
                    continue
                x0, y0, x1, y1 = obj.get_bounds()
                # a rule: a drawing wider than 60 pt and at most a writing line tall (WeasyPrint
                # draws each border with its line's box as bounds), under the heading
                flat, wide = (y1 - y0) < 20, (x1 - x0) > 60
                if flat and wide and y1 <= bottom + 0.5 and x0 > left - 40 and top - y1 < 120:
                    rules += 1
            return after, rules
    finally:
        doc.close()
    raise AssertionError(f"{heading!r} is not printed")


def test_my_notes_prints_ruled_lines_not_text(printed):
    t = _messages()
    after, rules = _notes_geometry(printed["US"], t["my_notes"])
    following = _squash(after.split("References")[0])
    assert following == "", f"the notes space holds text a screen reader would read: {following[:60]!r}"
    assert rules >= 2, f"expected at least 2 ruled lines under {t['my_notes']!r}, found {rules}"


def _set_practice(root: Path, slug: str, **changes) -> Path:
    path = root / "practices" / slug / "practice.yml"
    text = path.read_text(encoding="utf-8")
    for key, value in changes.items():
        text, n = re.subn(rf"^{key}: .*$", f"{key}: {value}", text, flags=re.M)
        assert n == 1, key
    path.write_text(text, encoding="utf-8")
    return path


def test_a_country_without_help_lines_is_an_error_naming_it(tmp_path):
    root = copy_project(tmp_path / "proj", practices=[US])
    path = _set_practice(root, US, country="CA")
    line = next(i for i, row in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if row.startswith("country:"))
    out = tmp_path / "out"
    proc = run_build("build", "--root", str(root), "--only", SLUG, "--output", str(out), "-q")
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1, output
    assert f"practices/{US}/practice.yml:{line}" in output and "country" in output, output
    assert "'CA'" in output and "templates/help-lines.yml" in output and "Traceback" not in output, output
    assert not list(out.rglob("*.pdf")), "nothing is written"


def test_a_language_without_crisis_line_text_is_an_error_naming_it(tmp_path):
    root = copy_project(tmp_path / "proj", practices=[GB])
    _set_practice(root, GB, languages="[en, es]")
    proc = run_build("check", "--root", str(root))
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1, output
    assert re.search(r"templates/help-lines\.yml:\d+", output), output
    assert "116 123" in output and "'es'" in output, output
