"""Right-to-left and Chinese handouts, end to end: Valle's Arabic and Simplified Chinese editions
are built and their PDFs read back as a reader's tools read them (poppler's pdftotext and
pdffonts, pikepdf on the catalogue and fonts)."""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pikepdf
import pytest
import yaml
from conftest import ROOT, copy_project, require_tool, run_build

PRACTICE = "valle-community-health"
SLUG = "gut-and-immune-system"
PT_PER_MM = 72 / 25.4
LETTER_WIDTH = 612.0
MARGIN_X = 13 * PT_PER_MM  # the standard letter page's side margins (render/handout/variants.py)
RIGHT_EDGE = LETTER_WIDTH - MARGIN_X
ARABIC = re.compile(r"[\u0600-\u06ff]")
HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """Valle's gut-and-immune-system handout in every language it builds, PDF only."""
    out = tmp_path_factory.mktemp("script")
    proc = run_build("build", "--practice", PRACTICE, "--only", SLUG, "--format", "pdf", "--output", str(out), "-q")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out / PRACTICE


def _lines(pdf: Path, page: int) -> list[dict]:
    """Each text line of one page as poppler lays it out: its box and its words."""
    html = subprocess.run(
        [require_tool("pdftotext"), "-bbox-layout", "-f", str(page), "-l", str(page), str(pdf), "-"],
        capture_output=True, text=True, check=True,
    ).stdout
    lines = []
    for m in re.finditer(r'<line xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</line>', html, re.S):
        words = re.findall(r">([^<]*)</word>", m.group(5))
        lines.append({"x0": float(m.group(1)), "y0": float(m.group(2)), "x1": float(m.group(3)),
                      "y1": float(m.group(4)), "text": " ".join(words)})
    return lines


def _words(pdf: Path, page: int) -> list[tuple[float, float, str]]:
    """(xMin, xMax, word) of every word poppler finds on one page."""
    html = subprocess.run(
        [require_tool("pdftotext"), "-bbox", "-f", str(page), "-l", str(page), str(pdf), "-"],
        capture_output=True, text=True, check=True,
    ).stdout
    return [(float(a), float(b), w) for a, b, w in
            re.findall(r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)</word>', html)]


def _text(pdf: Path) -> str:
    """The PDF's text as pdftotext reads it, without the bidi embedding marks it adds around runs."""
    text = subprocess.run([require_tool("pdftotext"), str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    return re.sub("[\u202a-\u202e]", "", text)


def _plain(markdown: str) -> str:
    return re.sub(r"\s*\[@[^\]]*\]|\*\*", "", markdown)


def test_arabic_pdf_is_tagged_ar_and_its_text_extracts_in_logical_order(built):
    pdf = built / f"{SLUG}.ar.pdf"
    with pikepdf.open(pdf) as doc:
        assert str(doc.Root.Lang) == "ar-US"
        assert "/StructTreeRoot" in doc.Root  # still a tagged PDF/UA document
    text = _text(pdf)
    source = yaml.safe_load((ROOT / "content" / "handouts" / "ar" / f"{SLUG}.yml").read_text(encoding="utf-8"))
    # Poppler gives the two letters of a lam-alef ligature in reverse (the PDF maps the glyph to
    # lam then alef: see test_arabic_ligature_maps_to_letters_in_logical_order) and splits a word
    # around a vowel mark (ً ّ), so words holding either are left out; every other word must come
    # out whole, in the order it is written.
    def norm(word: str) -> str:
        """Without punctuation and citation numbers (superscripts run into words)."""
        return re.sub(r"[\d.,،:؛؟«»()]", "", word)

    extracted = [norm(w) for w in text.split()]
    for passage in (source["main_message"], source["summary"], source["sections"][0]["body"], source["actions"][0]):
        words = [norm(w) for w in _plain(passage).split()]
        words = [w for w in words if w and ARABIC.search(w) and not re.search("ل[اأإآ]", w)
                 and not re.search("[\u064b-\u065f\u0670]", w)]
        assert len(words) >= 5
        at = 0
        for word in words:
            found = next((i for i in range(at, len(extracted)) if extracted[i] == word), None)
            assert found is not None, f"{word!r} missing or out of order in the extracted text of {passage!r}"
            at = found + 1


def test_arabic_ligature_maps_to_letters_in_logical_order(built):
    """The lam-alef ligature's ToUnicode entry is lam (U+0644) then alef: logical order."""
    entries = set()
    with pikepdf.open(built / f"{SLUG}.ar.pdf") as doc:
        for page in doc.pages:
            for font in page.Resources.Font.values():
                if "/ToUnicode" in font and "Vazirmatn" in str(font.BaseFont):
                    entries |= set(re.findall(rb"<[0-9a-f]{4}> <(0644062[37])>", font.ToUnicode.read_bytes(), re.I))
    assert entries, "no lam-alef ligature found in the Arabic handout's fonts"


def test_arabic_lines_are_right_aligned(built):
    """Page one's body lines end at the right margin and start wherever they end (ragged left)."""
    lines = _lines(built / f"{SLUG}.ar.pdf", 1)
    title = next(line for line in lines if "أمعاؤك وجهازك المناعي" in line["text"] or "يعانملا كزاهجو كؤاعمأ" in line["text"])
    body = [line for line in lines if line["y0"] > title["y1"] and ARABIC.search(line["text"]) and line["y1"] < 700]
    flush = [line for line in body if abs(line["x1"] - RIGHT_EDGE) <= 1.0]
    assert len(flush) >= 10, [(round(line["x1"], 1), line["text"][:20]) for line in body]
    assert max(line["x1"] for line in body) <= RIGHT_EDGE + 1.0
    starts = [line["x0"] for line in flush]
    assert max(starts) - min(starts) > 100, "right-aligned lines should start at different places"
    # The bullets and the numbered steps hang on the right: their text is indented from the right margin.
    bullet = next(line for line in body if line["text"].startswith("•") or line["text"].endswith("•"))
    assert bullet["x1"] > RIGHT_EDGE - 20


def test_arabic_phone_number_reads_left_to_right(built):
    """The practice's phone number keeps its digit order inside the right-to-left text."""
    text = _text(built / f"{SLUG}.ar.pdf")
    assert "(559) 555-0186" in text
    assert "0186-555" not in text


def test_arabic_phone_number_prints_left_to_right_wherever_it_appears(built):
    """On the page: the area code just left of the rest, in the help box's "call us today"
    heading as in the contact block and footer (bidi alone prints "0186-555 (559)")."""
    pdf = built / f"{SLUG}.ar.pdf"
    with pikepdf.open(pdf) as doc:
        pages = len(doc.pages)
    pairs = []
    for page in range(1, pages + 1):
        html = subprocess.run([require_tool("pdftotext"), "-bbox", "-f", str(page), "-l", str(page), str(pdf), "-"],
                              capture_output=True, text=True, check=True).stdout
        words = [(float(x0), float(y), float(x1), w) for x0, y, x1, w in
                 re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)</word>', html)]
        assert not [w for *_, w in words if "0186-555" in w], f"page {page}: the number's groups print swapped"
        for x0, y, x1, w in words:
            if not w.endswith("(559)"):
                continue
            for rx0, ry, rx1, rw in words:
                if rw.startswith("555-0186") and abs(ry - y) < 2:
                    assert not 0 <= x0 - rx1 < 6, f"page {page}: '(559)' prints right of '555-0186'"
                    if 0 <= rx0 - x1 < 6:
                        pairs.append(page)
    help_page = next(p for p in range(1, pages + 1) if "إذا" in subprocess.run(
        [require_tool("pdftotext"), "-f", str(p), "-l", str(p), str(pdf), "-"], capture_output=True, text=True,
        check=True).stdout)
    assert help_page in pairs  # the "call us today" heading
    assert len(pairs) >= 3  # with the contact block and the footer


def test_arabic_help_box_and_teach_back_read_from_the_right(built):
    """Right to left, the first box of a row is on the right: "call us today" right of "tell us
    at your next visit", teach-back right of "My notes" (the grids are mirrored)."""
    pdf = built / f"{SLUG}.ar.pdf"
    with pikepdf.open(pdf) as doc:
        pages = len(doc.pages)

    def x_of(word: str) -> float:
        """The left edge of `word` (poppler may give Arabic letters in visual order, and the two
        letters of a lam-alef ligature in logical order inside it)."""
        def norm(text: str) -> str:
            return text.strip(":").replace("ال", "لا")

        for page in range(1, pages + 1):
            for x0, _, w in _words(pdf, page):
                if norm(w) in (norm(word), norm(word[::-1])):
                    return x0
        raise AssertionError(f"{word!r} is not printed")

    assert x_of("اليوم") > x_of("زيارتك") + 100  # help_today, help_soon (templates/i18n/ar.yml)
    assert x_of("بكلماتك") > x_of("ملاحظاتي") + 100  # teach_back, my_notes


def test_chinese_pdf_embeds_a_subset_cjk_font(built):
    pdf = built / f"{SLUG}.zh-Hans.pdf"
    fonts = subprocess.run([require_tool("pdffonts"), str(pdf)], capture_output=True, text=True, check=True).stdout
    cjk = [line.split() for line in fonts.splitlines() if "Noto-Sans-CJK-SC" in line]
    assert cjk, fonts
    for name, *rest in cjk:
        # a subset's tag, and the cut of the installed font holding this document's characters
        # (render/handout/subset.py): never the whole 19 MB face, whose copy cost a worker 90 MiB
        assert re.fullmatch(r"[A-Z]{6}\+Noto-Sans-CJK-SC-[0-9a-f]{12}(-Bold)?", name), name
        assert rest[-5:-2] == ["yes", "yes", "yes"], rest  # embedded, subset, ToUnicode
    assert {name.endswith("-Bold") for name, *_ in cjk} == {True, False}, cjk  # bold is the font's own
    with pikepdf.open(pdf) as doc:
        assert str(doc.Root.Lang) == "zh-Hans-US"
    assert pdf.stat().st_size < 1_000_000  # a subset: the system font file alone is over 16 MB
    main = yaml.safe_load((ROOT / "content" / "handouts" / "zh-Hans" / f"{SLUG}.yml").read_text(encoding="utf-8"))
    assert _plain(main["main_message"]) in re.sub(r"[\d\n]", "", _text(pdf))  # without citation numbers


def _vazirmatn_weights(pdf: Path) -> dict[str, int]:
    """The Vazirmatn fonts a PDF embeds, by name (without the subset tag), and the weight class
    each font program declares."""
    import io

    from fontTools.ttLib import TTFont

    weights = {}
    with pikepdf.open(pdf) as doc:
        for page in doc.pages:
            for font in page.Resources.Font.values():
                if "Vazirmatn" in str(font.BaseFont):
                    program = font.DescendantFonts[0].FontDescriptor.FontFile2.read_bytes()
                    weights[str(font.BaseFont).split("+")[1]] = TTFont(io.BytesIO(program))["OS/2"].usWeightClass
    return weights


_PRINT_IN_ORDER = """
import sys
from pathlib import Path
from clinicpress.jobs.model import plan
from clinicpress.jobs.run import run_job
from clinicpress.load.project import load_project
project = load_project(Path(sys.argv[1]), practices=[sys.argv[2]])
jobs = {job.key: job for job in plan(project)}
out = Path(sys.argv[3])
for n, key in enumerate(sys.argv[4:]):
    result = run_job(project, jobs[key], out)
    assert result.files, result.problems or result.error
    pdf = out / f"{n}.pdf"
    pdf.write_bytes(result.files["pdf"])
    print(key, pdf)
"""


def _printed_in_one_process(out: Path, *items: str) -> dict[str, Path]:
    """Valle's SLUG editions (`items`: "", ".ar"...) printed one after another by one fresh process,
    as a worker prints them; each one's PDF by job key."""
    import os
    import sys

    out.mkdir(parents=True, exist_ok=True)
    keys = [f"{PRACTICE}/{SLUG}{item}" for item in items]
    proc = subprocess.run([sys.executable, "-c", _PRINT_IN_ORDER, str(ROOT), PRACTICE, str(out), *keys],
                          capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    return {key: Path(path) for key, path in (line.split() for line in proc.stdout.splitlines())}


def test_a_tagline_prints_in_its_fonts_regular_weight_whatever_was_printed_before(tmp_path):
    """The Arabic tagline of Valle's English and Spanish handouts is drawn in Vazirmatn Regular.
    Both of its files used to be declared as the normal weight for taglines, while the Arabic
    handout declared them as 400 and 700: in one worker process, which file a tagline got
    depended on the documents printed before it (after the deck, whose pictures print with the
    same font setup, it was the bold one: serially, the deck comes first)."""
    import shutil

    project = copy_project(tmp_path / "p", practices=[PRACTICE])
    shutil.rmtree(project / "content" / "handouts" / "ar")  # an Arabic handout in between set it right
    proc = run_build("build", "--practice", PRACTICE, "--only", "gut-and-autoimmune-disease", "--only", SLUG,
                     "--no-slide-images", "-j", "1", "--output", str(tmp_path / "out"), "-q", cwd=project)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for name in (f"{SLUG}.pdf", f"{SLUG}.es.pdf", f"{SLUG}.zh-Hans.pdf"):
        weights = set(_vazirmatn_weights(tmp_path / "out" / PRACTICE / name).values())
        assert weights == {400}, (name, weights)


def test_arabic_text_prints_regular_after_an_english_handout_in_the_same_process(tmp_path):
    """The Arabic handout's text is Vazirmatn Regular and its headings Vazirmatn Bold, whatever the
    worker printed before: after an English handout with an Arabic tagline (which declared both
    files as the normal weight), every Arabic word used to come out bold."""
    printed = _printed_in_one_process(tmp_path, "", ".ar")
    weights = _vazirmatn_weights(printed[f"{PRACTICE}/{SLUG}.ar"])
    assert weights.get("Vazirmatn") == 400 and weights.get("Vazirmatn-Bold") == 700, weights


def test_a_handout_is_the_same_bytes_whatever_its_worker_printed_before(tmp_path):
    """Documents of one worker share its font setup, and cut fonts are added to it as they come:
    the English, Chinese and Arabic handouts must be the same bytes printed alone, first or after
    the others (a cut answering to the installed font's name, or a weight declared two ways,
    would make them depend on the order)."""
    import itertools

    runs = itertools.count()  # a folder of its own for each process

    def printed(*items: str) -> dict[str, bytes]:
        files = _printed_in_one_process(tmp_path / str(next(runs)), *items)
        return {key: path.read_bytes() for key, path in files.items()}

    together = printed(".zh-Hans", ".ar", "", ".es")
    assert printed("")[f"{PRACTICE}/{SLUG}"] == together[f"{PRACTICE}/{SLUG}"]
    assert printed(".ar")[f"{PRACTICE}/{SLUG}.ar"] == together[f"{PRACTICE}/{SLUG}.ar"]
    assert printed(".es", "", ".zh-Hans")[f"{PRACTICE}/{SLUG}.zh-Hans"] == together[f"{PRACTICE}/{SLUG}.zh-Hans"]


def test_chinese_lines_break_without_spaces_and_never_overflow(built):
    pdf = built / f"{SLUG}.zh-Hans.pdf"
    for page in (1, 2):
        for x0, x1, word in _words(pdf, page):
            assert MARGIN_X - 1.0 <= x0 and x1 <= RIGHT_EDGE + 1.0, f"page {page}: {word!r} at {x0:.1f}-{x1:.1f}"
    lines = _lines(pdf, 1)
    # Chinese has no spaces: a paragraph's lines break between characters and run to the margin.
    full = [line for line in lines if HAN.search(line["text"][-2:] or "") and line["x1"] > RIGHT_EDGE - 14]
    assert len(full) >= 5, [(round(line["x1"], 1), line["text"][-6:]) for line in lines]
    # ...and a line never starts with closing punctuation (the line-breaking rules of CJK text).
    assert not [line["text"] for line in lines if line["text"][:1] in "，。、：；？！）」』"]


def test_glyph_check_covers_arabic_and_chinese(built):
    proc = run_build("check", "--practice", PRACTICE, "--format", "json")
    report = json.loads(proc.stdout)
    languages = [item["language"] for item in report["items"] if item["kind"] == "handout"]
    assert languages.count("ar") == 2 and languages.count("zh-Hans") == 2
    for item in report["items"]:
        if item["language"] in ("ar", "zh-Hans"):
            assert not [f for f in item["findings"] if f["check"].startswith("glyphs.")], item["key"]


def test_missing_script_font_is_an_error_not_boxes(tmp_path):
    """A character no shipped font draws is a warning naming it; without the Arabic font, Arabic
    handouts are refused with file:line and a hint, and the rest still builds."""
    proj = copy_project(tmp_path / "proj", practices=[PRACTICE])
    (proj / "content" / "handouts" / "ar" / f"{SLUG}.yml").write_text(
        (ROOT / "content" / "handouts" / "ar" / f"{SLUG}.yml").read_text(encoding="utf-8").replace(
            "يوجد معظم جهازك", "יש يوجد معظم جهازك", 1), encoding="utf-8")
    report = json.loads(run_build("check", "--format", "json", cwd=proj).stdout)
    item = next(i for i in report["items"] if i["key"] == f"handout:{SLUG}:ar")
    missing = [f for f in item["findings"] if f["check"] == "glyphs.missing"]
    assert [(f["data"]["missing"], f["line"], f["field"]) for f in missing] == [
        (["U+05D9", "U+05E9"], 14, "main_message")]  # Hebrew: in no font of an Arabic handout

    # Valle's Arabic language-help tagline needs the font in every handout: without it, only the
    # Arabic editions need it
    yml = proj / "practices" / PRACTICE / "practice.yml"
    text = yml.read_text(encoding="utf-8")
    taglines = next(line for line in text.splitlines() if line.startswith("language_help:"))
    yml.write_text(text.replace(taglines, taglines.replace(" ar,", "")), encoding="utf-8")
    for font in (proj / "templates" / "handout" / "fonts").glob("Vazirmatn-*.ttf"):
        font.unlink()
    proc = run_build("build", "--only", SLUG, "--format", "pdf", cwd=proj)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    out = proc.stdout + proc.stderr
    assert f"content/handouts/ar/{SLUG}.yml:3: language: the ar handouts need the font 'Vazirmatn'" in out
    assert "[glyphs.font_missing]" in out and "restore Vazirmatn-Regular.ttf, Vazirmatn-Bold.ttf" in out
    assert not (proj / "output" / PRACTICE / f"{SLUG}.ar.pdf").exists()
    assert (proj / "output" / PRACTICE / f"{SLUG}.pdf").exists()


def test_readability_of_arabic_and_chinese_is_mean_sentence_length():
    """No textstat formula exists for either: Chinese sentences are measured in characters (they
    end at 。 with no space after), Arabic ones in words; long sentences warn, then fail."""
    from clinicpress.checks import prose
    from clinicpress.checks.readability import _gate, score_text
    from clinicpress.load.config import load_config

    config = load_config(ROOT)
    zh = score_text("肠道接触的大多数东西都是安全的。这叫作耐受。", "zh-Hans")
    assert (zh.sentences, zh.sentence_length, zh.fkgl, zh.inflesz) == (2, 10.0, None, None)  # 15 and 5
    assert prose.sentences("这叫作耐受。它会攻击病菌！为什么？") == ["这叫作耐受。", "它会攻击病菌！", "为什么？"]
    assert prose.is_sentence("继续按医嘱服药。") and not prose.is_sentence("大便带血")
    assert _gate(zh, "zh-Hans", config)[0] is None
    assert _gate(score_text("我" * 25 + "。", "zh-Hans"), "zh-Hans", config)[0] == "warning"
    assert _gate(score_text("我" * 31 + "。", "zh-Hans"), "zh-Hans", config)[0] == "error"
    ar = score_text("يوجد معظم جهازك المناعي في أمعائك. هل أحتاج إلى فحوص لأمعائي؟", "ar")
    assert (ar.sentences, ar.sentence_length) == (2, 5.5)
    assert _gate(score_text(" ".join(["كلمة"] * 13) + ".", "ar"), "ar", config)[0] == "warning"
    assert _gate(score_text(" ".join(["كلمة"] * 17) + ".", "ar"), "ar", config)[0] == "error"


def test_arabic_deck_proof_is_right_to_left_and_opens_in_libreoffice(tmp_path):
    """The Arabic proof deck: every Arabic paragraph is stored right to left and right-aligned with
    the Arabic font in its complex-script slot (python-pptx has no API for either); the phone
    number keeps its order; LibreOffice opens it and draws the title from the right."""
    from pptx import Presentation
    from pptx.oxml.ns import qn
    from test_deck import soffice_pdf

    slug = "gut-and-autoimmune-disease-proof"
    out = tmp_path / "out"
    proc = run_build("build", "--practice", PRACTICE, "--only", slug, "--format", "pptx", "--output", str(out), "-q")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    pptx = out / PRACTICE / f"{slug}.ar.pptx"
    prs = Presentation(str(pptx))
    arabic = []
    for slide in prs.slides:
        for shape in slide.shapes:
            if shape.has_text_frame:
                arabic += [p for p in shape.text_frame.paragraphs if ARABIC.search(p.text)]
        arabic += [p for p in slide.notes_slide.notes_text_frame.paragraphs if ARABIC.search(p.text)]
    assert len(arabic) >= 2 * 9  # a title and a subtitle on each of the nine slides at least
    for p in arabic:
        ppr = p._p.pPr
        assert ppr.get("rtl") == "1" and ppr.get("algn") in ("r", "ctr"), p.text
        for r in p.runs:
            assert r._r.rPr.get("lang") == "ar-US" and r._r.rPr.find(qn("a:cs")).get("typeface") == "Vazirmatn"
    phone = next(p for p in arabic if "555-0186" in p.text)
    assert "\u200e(559) 555-0186\u200e" in phone.text

    require_tool("soffice")
    soffice_pdf([pptx], tmp_path, tmp_path / "profile")
    pdf = tmp_path / f"{slug}.ar.pdf"
    assert "لماذا تهم" in _text(pdf)  # words in logical order
    with pikepdf.open(pdf) as doc:
        width = float(doc.pages[1].MediaBox[2])
    title = next(line for line in _lines(pdf, 2) if "لماذا" in line["text"] or "اذامل" in line["text"])
    assert title["x1"] > 0.85 * width and title["x0"] > 0.4 * width, (title, width)  # drawn from the right
