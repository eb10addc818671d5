"""Languages as data (issue 22): any BCP 47 tag Babel knows, a message catalogue and a language
record as files, the fallback chain en-GB → en, and clear errors naming file:line for a tag Babel
does not know or a language with no catalogue.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import ROOT, copy_project, run_build

from clinicpress.errors import UserError
from clinicpress.load import i18n
from clinicpress.load.project import load_project

HANDOUT_ES = Path("content/handouts/es/gut-and-immune-system.yml")


def _set_language(project: Path, tag: str) -> int:
    """Sets the Spanish handout's `language:` to `tag`; returns the line it is on."""
    path = project / HANDOUT_ES
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    n = next(i for i, line in enumerate(lines) if line.startswith("language:"))
    lines[n] = f"language: {tag}\n"
    path.write_text("".join(lines), encoding="utf-8")
    return n + 1


def _check_failing_with_language(tmp_path: Path, tag: str) -> str:
    """`check` on a copy whose Spanish handout says `language: TAG`: it must fail and name the
    handout at that line; returns what it printed."""
    project = copy_project(tmp_path / "p", practices=["valle-community-health"])
    line = _set_language(project, tag)
    proc = run_build("check", cwd=project)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert f"{HANDOUT_ES.as_posix()}:{line}" in out
    return out


def test_an_unknown_language_tag_is_an_error_naming_file_line_and_field(tmp_path: Path):
    out = _check_failing_with_language(tmp_path, "qq-ZZ")
    assert "language" in out
    assert "'qq-ZZ' is not a language tag Babel knows" in out and "zh-Hans" in out  # the hint


def test_a_language_with_no_catalogue_is_an_error_naming_the_missing_file(tmp_path: Path):
    out = _check_failing_with_language(tmp_path, "vi")
    assert "templates/i18n/vi.yml is missing" in out and "copy templates/i18n/en.yml" in out


def test_a_practice_language_with_no_catalogue_names_practice_yml(tmp_path: Path):
    project = copy_project(tmp_path / "p", practices=["valle-community-health"])
    yml = project / "practices" / "valle-community-health" / "practice.yml"
    text = yml.read_text(encoding="utf-8")
    line = next(i for i, s in enumerate(text.splitlines(), 1) if s.startswith("languages:"))
    offered = text.splitlines()[line - 1]
    yml.write_text(text.replace(offered, offered.replace("]", ", ko]")), encoding="utf-8")
    proc = run_build("check", cwd=project)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    index = offered.count(",") + 1  # ko's place in the list
    assert f"practice.yml:{line}" in out and f"languages[{index}]" in out and "templates/i18n/ko.yml is missing" in out


def test_adding_a_language_is_adding_files(tmp_path: Path):
    """Dutch: a catalogue and a record, no Python; the handout loads with its direction and record."""
    project = copy_project(tmp_path / "p", practices=["valle-community-health"])
    _set_language(project, "nl")
    shutil.copy(project / "templates/i18n/es.yml", project / "templates/i18n/nl.yml")
    (project / "templates/languages").mkdir(exist_ok=True)
    (project / "templates/languages/nl.yml").write_text("script: Latn\nhyphenation: null\n", encoding="utf-8")
    icons = project / "templates/pictures/icons.yml"  # the icons' meanings in Dutch (their alt text)
    icons.write_text("\n".join(line[:-1] + ", nl: " + line.split(":")[0] + "}" if line.endswith("}") else line
                               for line in icons.read_text(encoding="utf-8").splitlines()) + "\n", encoding="utf-8")
    loaded = load_project(project, practices=["valle-community-health"])
    assert any(s.language == "nl" for s in loaded.handouts)
    info = i18n.language(project, "nl")
    assert (info.direction, info.script, info.record) == ("ltr", "Latn", project / "templates/languages/nl.yml")


def test_tags_are_spelled_one_way_and_direction_comes_from_babel():
    from clinicpress.load.schema.base import language_tag

    assert language_tag("EN-gb") == "en-GB" and language_tag("zh-hans") == "zh-Hans"
    assert i18n.language(ROOT, "ar").direction == "rtl" and i18n.language(ROOT, "he").direction == "rtl"
    assert i18n.language(ROOT, "zh-Hans").script == "Hans" and i18n.language(ROOT, "hi").script == "Deva"
    with pytest.raises(ValueError):
        language_tag("english")


def test_en_gb_falls_back_to_english_messages_and_its_own_file_wins(tmp_path: Path):
    project = copy_project(tmp_path / "p", practices=[])
    english = i18n.messages(project, "en")
    assert i18n.messages(project, "en-GB") == english  # no en-GB.yml: every message from en.yml
    (project / "templates/i18n/en-GB.yml").write_text('hours: "Opening hours"\n', encoding="utf-8")
    i18n.reset_caches()
    gb = i18n.messages(project, "en-GB")
    assert gb.hours == "Opening hours" and gb.disclaimer == english.disclaimer
    assert i18n.html_lang("en-GB", "US") == "en-GB" and i18n.html_lang("es", "US") == "es-US"
    assert i18n.long_date(__import__("datetime").date(2026, 3, 2), "en-GB", "US") == "2 March 2026"


def test_an_unknown_tag_in_the_api_is_a_user_error(tmp_path: Path):
    project = copy_project(tmp_path / "p", practices=["valle-community-health"])
    _set_language(project, "xx")
    with pytest.raises(UserError) as exc:
        load_project(project)
    assert any(
        p.field == "language" and p.path.endswith("gut-and-immune-system.yml") and "Babel" in p.message
        for p in exc.value.problems
    )


# --------------------------------------------------------------------------- practice texts per language
PRACTICE = "valle-community-health"


@pytest.fixture(scope="module")
def valle(tmp_path_factory) -> Path:
    """Valle's gut-and-immune-system handout built in English and Spanish (standard print)."""
    out = tmp_path_factory.mktemp("valle")
    proc = run_build("build", "--practice", PRACTICE, "--only", "gut-and-immune-system", "--variant", "standard",
                     "--output", str(out), "-q")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out / PRACTICE


def _text(pdf: Path) -> str:
    from pdftext import page_texts

    return " ".join(" ".join(page_texts(pdf)).split())


def test_spanish_handout_prints_the_practice_details_in_spanish(valle: Path):
    es, en = _text(valle / "gut-and-immune-system.es.pdf"), _text(valle / "gut-and-immune-system.pdf")
    assert "De lunes a viernes: de 8 a. m. a 7 p. m." in es and "Clínica sin cita" in es
    assert "Monday to Friday" not in es and "Walk-in clinic" not in es
    assert "cumple con las leyes federales" in es and "follows federal civil rights laws" not in es
    assert "Atención para cada familia" in es and "Care for every family" not in es
    assert "Monday to Friday: 8 a.m. to 7 p.m." in en and "lunes a viernes" not in en
    # the language-help notice is printed in every language it is given in, the handout's first
    assert es.index("Ayuda gratuita con el idioma") < es.index("Free language help")
    assert en.index("Free language help") < en.index("Ayuda gratuita con el idioma")


def test_a_practice_field_not_given_in_a_language_warns_with_file_line_and_field(tmp_path: Path):
    project = copy_project(tmp_path / "p", practices=[PRACTICE])
    yml = project / "practices" / PRACTICE / "practice.yml"
    lines = yml.read_text(encoding="utf-8").splitlines(keepends=True)
    start = next(i for i, s in enumerate(lines) if s.startswith("hours:"))
    end = next(i for i in range(start + 2, len(lines)) if not lines[i].startswith("    "))  # hours[0]'s texts
    lines[start + 1 : end] = ['  - "Monday to Friday: 8 a.m. to 7 p.m."\n']
    yml.write_text("".join(lines), encoding="utf-8")
    proc = run_build("check", "--practice", PRACTICE, cwd=project)
    out = proc.stdout + proc.stderr
    assert f"practices/{PRACTICE}/practice.yml:{start + 2}: warning: hours[0]: no es text" in out, out
    assert "handouts in es print the en text" in out


def test_passages_in_another_language_carry_their_lang_in_html_and_pdf(valle: Path):
    """Matterhorn 11-006: the Spanish notice in the English handout, the English references and
    notice in the Spanish one, are tagged with their own language in the PDF's structure."""
    from pdftext import texts_by_lang

    html_en = (valle / "gut-and-immune-system.html").read_text(encoding="utf-8")
    assert '<p lang="es-US" dir="ltr">Ayuda gratuita con el idioma' in html_en
    en = texts_by_lang(valle / "gut-and-immune-system.pdf")
    assert en["es-US"].startswith("Ayuda gratuita con el idioma") and "en-US" not in en
    es = texts_by_lang(valle / "gut-and-immune-system.es.pdf")
    assert "es-US" not in es
    assert "Free language help" in es["en-US"] and "Allergy and the gastrointestinal system" in es["en-US"]
    assert "Ayuda gratuita" not in es["en-US"]


# --------------------------------------------------------------------------- UK spelling (en-GB)
def _us_words() -> list[str]:
    import yaml

    return list(yaml.safe_load((ROOT / "templates/languages/en-GB.yml").read_text(encoding="utf-8"))["spelling"])


def _words_outside_references(pdf: Path, html: Path) -> dict[str, int]:
    """How often each US word of the en-GB map is printed, not counting the reference list
    (titles of cited papers keep their own spelling): printed count minus the count in the
    HTML's references section."""
    import re

    from pdftext import page_texts

    printed = re.sub(r"[\u00ad\u2010-]\s*\n\s*", "", "\n".join(page_texts(pdf))).lower()
    refs = re.search(r'<section class="references".*?</section>', html.read_text(encoding="utf-8"), re.S)
    cited = re.sub(r"<[^>]+>", " ", refs.group(0)).lower() if refs else ""
    count = {}
    for word in _us_words():
        pattern = re.compile(rf"\b{re.escape(word)}\b")
        count[word] = len(pattern.findall(printed)) - len(pattern.findall(cited))
    return {w: n for w, n in count.items() if n}


@pytest.fixture(scope="module")
def diet_uk_and_us(tmp_path_factory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("spelling")
    for practice in ("thames-integrative-gi", "summit-rheumatology"):
        proc = run_build("build", "--practice", practice, "--only", "diet-gluten-and-the-aip-diet",
                         "--only", "autism-and-gut-symptoms", "--variant", "standard", "--output", str(out), "-q")
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return out / "thames-integrative-gi", out / "summit-rheumatology"


def test_uk_practice_prints_uk_spelling_and_us_practice_keeps_us_spelling(diet_uk_and_us):
    thames, summit = diet_uk_and_us
    for slug in ("diet-gluten-and-the-aip-diet", "autism-and-gut-symptoms"):
        assert _words_outside_references(thames / f"{slug}.pdf", thames / f"{slug}.html") == {}, slug
    from pdftext import page_texts

    uk = " ".join(page_texts(thames / "diet-gluten-and-the-aip-diet.pdf"))
    assert "Coeliac" in uk or "coeliac" in uk
    assert "diarrhoea" in " ".join(page_texts(thames / "autism-and-gut-symptoms.pdf")).replace("-\n", "")
    us = _words_outside_references(summit / "diet-gluten-and-the-aip-diet.pdf", summit / "diet-gluten-and-the-aip-diet.html")
    assert us.get("celiac", 0) >= 5
    assert '<html lang="en-GB"' in (thames / "diet-gluten-and-the-aip-diet.html").read_text(encoding="utf-8")


def test_respelling_keeps_case_links_citations_and_names():
    from clinicpress.load.spelling import spelling_for

    spelling = spelling_for(ROOT, "en", "GB")
    assert spelling is not None and spelling_for(ROOT, "en", "US") is None and spelling_for(ROOT, "es", "GB") is None
    text = "Celiac disease; DIARRHEA [@celiac2011] see https://example.org/celiac-center at Valley Celiac Center."
    assert spelling.respell(text, keep=("Valley Celiac Center",)) == (
        "Coeliac disease; DIARRHOEA [@celiac2011] see https://example.org/celiac-center at Valley Celiac Center."
    )
    assert spelling.respell("colorectal and colors") == "colorectal and colours"


def test_us_spelling_left_in_a_uk_handout_is_named_with_word_and_field(tmp_path: Path):
    project = copy_project(tmp_path / "p", practices=["thames-integrative-gi"])
    path = project / "content/handouts/autism-and-gut-symptoms.yml"
    text = path.read_text(encoding="utf-8")
    question = next(s for s in text.splitlines() if s.startswith("  - ") and s.endswith("diarrhea?"))
    path.write_text(text.replace(question, question.replace("diarrhea?", "diarrheas?")), encoding="utf-8")
    yml = project / "practices/thames-integrative-gi/practice.yml"
    yml.write_text(yml.read_text(encoding="utf-8").replace("at its centre", "at its center"), encoding="utf-8")
    proc = run_build("check", "--practice", "thames-integrative-gi", cwd=project)
    out = proc.stdout + proc.stderr
    line = next(i for i, s in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if "diarrheas" in s)
    assert f"content/handouts/autism-and-gut-symptoms.yml:{line}: warning: questions" in out, out
    assert "US spelling printed in thames-integrative-gi's en-GB handout: diarrheas" in out
    assert "practices/thames-integrative-gi/practice.yml:5: warning: tagline: US spelling" in out and "center" in out


# --------------------------------------------------------------------------- language-help taglines
TAGLINES = ["es", "zh-Hans", "tl", "vi", "ar", "fr", "ko", "ru", "ht", "de", "hi", "pt", "it", "pl", "ja"]


def test_fifteen_taglines_are_shipped_as_drafts_in_their_own_scripts():
    for tag in TAGLINES:
        record = i18n.language(ROOT, tag)
        assert record.language_help and "{phone}" in record.language_help, tag
        assert record.language_help_reviewed is False, tag  # drafts until a qualified translator reviews them
    assert i18n.language(ROOT, "ar").font == "Vazirmatn" and i18n.language(ROOT, "ja").script == "Jpan"


def test_each_tagline_prints_in_its_language_with_its_own_lang_and_fonts(valle: Path):
    """Valle lists the 15 languages: the English handout prints 14 taglines (Spanish is its
    language-help notice), each tagged with its own /Lang, drawn in fonts that cover it, and
    the draft note."""
    import subprocess

    from pdftext import texts_by_lang

    pdf = valle / "gut-and-immune-system.pdf"
    langs = texts_by_lang(pdf)
    expected = {f"{tag}-US" for tag in TAGLINES if tag != "es"}
    assert expected <= set(langs), sorted(expected - set(langs))
    for tag in ("fr", "de", "pl", "vi", "tl", "ht", "pt", "it"):
        first_words = " ".join(i18n.language(ROOT, tag).language_help.split()[:2])
        assert first_words in langs[f"{tag}-US"], (tag, langs[f"{tag}-US"][:80])
    assert "免费语言协助" in langs["zh-Hans-US"] and "無料の言語支援" in langs["ja-US"]
    assert "(559) 555-0186" in langs["ko-US"]
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    for family in ("Noto-Sans-CJK-SC", "Noto-Sans-CJK-JP", "Noto-Sans-CJK-KR", "Vazirmatn", "Lohit-Devanagari"):
        assert f"+{family}" in fonts, family  # embedded, subset
    assert "not yet reviewed by a qualified translator" in _text(pdf)
    # the Spanish handout prints the English notice and the other 14 taglines, not Spanish twice
    es = texts_by_lang(valle / "gut-and-immune-system.es.pdf")
    assert "es-US" not in es and "zh-Hans-US" in es and "en-US" in es


def test_taglines_in_installed_fonts_print_from_small_cuts_of_them(valle: Path):
    """A Chinese, Japanese or Korean tagline is drawn from a cut of the installed Noto Sans CJK face
    holding just its characters (not the 19 MB face, which cost a worker ~40 MiB each): the cut
    is the same bytes every time, holds every character of the line, and the HTML copy names the
    installed font after it (a browser cannot load the cut)."""
    import io
    import re

    import pikepdf
    from fontTools.ttLib import TTFont

    from clinicpress.load.script import system_font
    from clinicpress.render.handout.fetcher import _GENERATED
    from clinicpress.render.handout.subset import cut_family

    with pikepdf.open(valle / "gut-and-immune-system.pdf") as doc:
        cut = {}
        for page in doc.pages:
            for font in page.Resources.Font.values():
                name = str(font.BaseFont)
                if m := re.fullmatch(r"/[A-Z]{6}\+Noto-Sans-CJK-(SC|JP|KR)-[0-9a-f]{12}", name):
                    descriptor = font.DescendantFonts[0].FontDescriptor
                    cut[m.group(1)] = len(descriptor.FontFile3.read_bytes())
    assert set(cut) == {"SC", "JP", "KR"}, cut
    assert max(cut.values()) < 40_000, cut
    html = (valle / "gut-and-immune-system.html").read_text(encoding="utf-8")
    assert re.search(r'\.language-help \[lang="ko-US"\] \{ font-family: [^;]*"Noto Sans CJK KR [0-9a-f]{12}", "Noto Sans CJK KR"; \}', html)

    line = i18n.language(ROOT, "ko").language_help.replace("{phone}", "(559) 555-0186")
    family, faces = cut_family("Noto Sans CJK KR", line)
    assert cut_family("Noto Sans CJK KR", line) == (family, faces)
    (face,) = faces  # taglines print in the regular weight only
    data = _GENERATED[face["uri"]]
    face = TTFont(io.BytesIO(data))
    assert {ord(ch) for ch in line} <= set(face.getBestCmap())
    assert face["name"].getBestFamilyName() is None  # no names: it never answers to "Noto Sans CJK KR"
    assert len(data) * 500 < system_font("Noto Sans CJK KR").stat().st_size


def test_an_arabic_tagline_keeps_the_phone_number_left_to_right(valle: Path):
    """In right-to-left text "(559) 555-0186" must not come out as "0186-555 (559)"."""
    import re
    import subprocess

    import pikepdf

    pdf = valle / "gut-and-immune-system.pdf"
    with pikepdf.open(pdf) as doc:
        last = str(len(doc.pages))  # the taglines close the handout
    words = subprocess.run(["pdftotext", "-f", last, "-l", last, "-bbox", str(pdf), "-"],
                           capture_output=True, text=True, check=True).stdout
    found = [(float(x0), float(y), float(x1), w) for x0, y, x1, w in
             re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)"[^>]*>([^<]*)</word>', words)]
    arabic_y = [y for _, y, _, w in found if any("\u0600" <= ch <= "\u06ff" for ch in w)]
    numbers = [f for f in found if "555-0186" in f[3]]
    pairs = []
    for area in (f for f in found if "(559)" in f[3]):
        same_line = [n for n in numbers if abs(n[1] - area[1]) < 2
                     and min(abs(n[0] - area[2]), abs(area[0] - n[2])) < 6]  # printed beside it
        if not same_line:
            continue  # the number wrapped onto the next line
        # the number word printed next to this area code: right after it (in order) or right before it
        nearest = min(same_line, key=lambda n: min(abs(n[0] - area[2]), abs(area[0] - n[2])))
        pairs.append((area, nearest))
    assert all(n[0] > area[2] for area, n in pairs), [p for p in pairs if p[1][0] <= p[0][2]]
    assert any(0 <= a[1] - y < 15 for a, _ in pairs for y in arabic_y)  # ...the Arabic tagline's included


def test_a_tagline_whose_font_is_not_installed_is_an_error_with_a_hint(tmp_path: Path):
    project = copy_project(tmp_path / "p", practices=[PRACTICE])
    record = project / "templates/languages/hi.yml"
    record.write_text(record.read_text(encoding="utf-8").replace("font: Lohit Devanagari", "font: No Such Sans"),
                      encoding="utf-8")
    proc = run_build("check", "--practice", PRACTICE, cwd=project)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert "language_help[10]" in out and "'No Such Sans'" in out and "not installed" in out, out


def test_a_listed_language_without_a_tagline_is_an_error(tmp_path: Path):
    project = copy_project(tmp_path / "p", practices=[PRACTICE])
    yml = project / "practices" / PRACTICE / "practice.yml"
    yml.write_text(yml.read_text(encoding="utf-8").replace("language_help: [es,", "language_help: [hy,"),
                   encoding="utf-8")
    proc = run_build("check", "--practice", PRACTICE, cwd=project)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "language_help[0]" in out and "templates/languages/hy.yml" in out, out
