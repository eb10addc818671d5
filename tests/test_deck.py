"""Talk decks: real PPTX files reopened with python-pptx and converted by LibreOffice.

Each test builds into a temporary project (a copy of templates/, the references, the deck and
the practices it needs), so nothing in the repository is written. LibreOffice tests are
marked slow; they need `soffice`, `pdfinfo`, `pdftoppm` and `zbarimg` and skip without them.
"""
from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml
from conftest import require_tool
from pptx import Presentation
from pptx.enum.chart import XL_CHART_TYPE
from pptx.enum.dml import MSO_THEME_COLOR
from pptx.enum.shapes import MSO_SHAPE_TYPE, PP_PLACEHOLDER
from pptx.oxml.ns import qn

from clinicpress.load.colour import contrast
from clinicpress.load.project import load_project
from clinicpress.render import pptx_adapter as ad
from clinicpress.render.deck import FontBook, count_lines, render_deck, svg_png
from clinicpress.render.templating import strip_citations

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "decks"
SAMPLE_DECK = REPO / "content" / "decks" / "gut-and-autoimmune-disease.yml"
SAMPLE_DECK_ES = REPO / "content" / "decks" / "es" / "gut-and-autoimmune-disease.yml"
IMPRESS_TEMPLATE = Path("/usr/lib/libreoffice/share/template/common/presnt/Inspiration.otp")

DEFAULT_LAYOUTS = {
    "title": "Title", "section": "Section", "bullets": "Title and Bullets", "two_column": "Two Columns",
    "image": "Image with Caption", "big_number": "Big Number", "quote": "Quote", "chart": "Chart",
    "table": "Table", "references": "References", "closing": "Closing",
}
PICTURE_KINDS = {"diagram": "Title and Bullets", "icon_row": "Title and Bullets"}
"""The picture slides draw on the bullets' layout (templates/deck/layouts.yml)."""


# --------------------------------------------------------------------------- helpers
def make_project(tmp: Path, practices: dict[str, dict], decks: list[Path]) -> Path:
    """Writes a small project: templates, references, the given decks and practices.

    `practices` maps a new slug to {"from": existing slug, "master": Presentation | Path | None,
    "master_name": file name}.
    """
    root = tmp / "project"
    (root / "content" / "decks").mkdir(parents=True)
    shutil.copy(REPO / "content" / "references.json", root / "content")
    shutil.copytree(REPO / "templates", root / "templates")
    for deck in decks:
        shutil.copy(deck, root / "content" / "decks" / deck.name)
        images = deck.parent / "images"
        if images.is_dir() and not (root / "content" / "decks" / "images").exists():
            shutil.copytree(images, root / "content" / "decks" / "images")
    for slug, spec in practices.items():
        folder = root / "practices" / slug
        shutil.copytree(REPO / "practices" / spec.get("from", slug), folder)
        master = spec.get("master")
        if master is not None:
            name = spec.get("master_name", "master.pptx")
            if isinstance(master, Path):
                shutil.copy(master, folder / name)
            elif isinstance(master, bytes):
                (folder / name).write_bytes(master)
            else:
                master.save(folder / name)
            info = yaml.safe_load((folder / "practice.yml").read_text(encoding="utf-8"))
            info["deck_master"] = name
            (folder / "practice.yml").write_text(yaml.safe_dump(info, allow_unicode=True, sort_keys=False),
                                                 encoding="utf-8")
    return root


def build(root: Path, practice: str, slug: str, language: str = "en"):
    """Loads the project and renders one deck for one practice; returns (bytes, findings, deck)."""
    project = load_project(root, practices=[practice])
    src = next(s for s in project.decks if s.slug == slug and s.language == language)
    data, findings = render_deck(src, project.practices[practice], project.bibliography, project.root)
    return data, findings, src.model


def reopen(data: bytes):
    return Presentation(io.BytesIO(data))


def layout_kinds(deck) -> list[str]:
    """The slide kinds of a built deck, in order (references may span several slides)."""
    return [s.layout for s in deck.slides]


def theme_xml(data: bytes) -> bytes:
    return zipfile.ZipFile(io.BytesIO(data)).read("ppt/theme/theme1.xml")


def pictures(slide) -> list:
    return [s for s in slide.shapes if s.shape_type == MSO_SHAPE_TYPE.PICTURE or
            (s.is_placeholder and s.placeholder_format.type == PP_PLACEHOLDER.PICTURE and hasattr(s, "image"))]


def descr(shape) -> str:
    return shape._element.xpath("./*[1]/p:cNvPr")[0].get("descr") or ""


def checks(findings, check: str) -> list:
    return [f for f in findings if f.check == check]


def assert_no_orphans(data: bytes) -> None:
    names, reachable = ad.reachable_parts(data)
    parts = {n for n in names if not n.endswith(".rels") and n != "[Content_Types].xml"}
    assert parts == reachable, f"orphan parts: {sorted(parts - reachable)}; missing: {sorted(reachable - parts)}"
    prs = reopen(data)
    rids = {s.rId for s in prs.slides._sldIdLst}
    slide_rels = {rid for rid, rel in prs.part.rels.items() if rel.reltype.endswith("/slide")}
    assert rids == slide_rels
    xml = zipfile.ZipFile(io.BytesIO(data)).read("ppt/presentation.xml").decode()
    assert "sectionLst" not in xml and "custShow" not in xml


def has_tool(*names: str) -> bool:
    return all(shutil.which(n) for n in names)


def soffice_pdf(files: list[Path], outdir: Path, profile: Path, *, project_fonts: bool = True) -> None:
    """Converts files to PDF with LibreOffice headless, with a fresh profile and (unless told
    otherwise, to play a presenter's machine without the brand fonts) the project fonts."""
    conf = profile.parent / "fonts.conf"
    dirs = f'<dir>{REPO / "templates" / "handout" / "fonts"}</dir><dir>{REPO / "practices"}</dir>' \
        if project_fonts else ""
    conf.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        '<include ignore_missing="yes">/etc/fonts/fonts.conf</include>'
        f'{dirs}<cachedir>{profile.parent / "fc-cache"}</cachedir></fontconfig>', encoding="utf-8")
    env = dict(os.environ, FONTCONFIG_FILE=str(conf))
    cmd = ["soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to", "pdf",
           "--outdir", str(outdir), *map(str, files)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr
    for f in files:
        assert (outdir / (f.stem + ".pdf")).is_file(), f"LibreOffice did not convert {f.name}: {proc.stderr}"


def pdf_pages(pdf: Path) -> int:
    out = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(next(line.split()[-1] for line in out.splitlines() if line.startswith("Pages:")))


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """One project with the sample deck, the test deck and every practice, plus foreign masters."""
    tmp = tmp_path_factory.mktemp("deck")
    sample = Presentation()  # python-pptx's own default template, with sample slides and a section
    for layout in (sample.slide_layouts[0], sample.slide_layouts[1]):
        s = sample.slides.add_slide(layout)
        s.shapes.title.text = "Sample slide"
        s.notes_slide.notes_text_frame.text = "sample notes"
    ids = [str(s.slide_id) for s in sample.slides]
    ext = ('<p:extLst xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main">'
           '<p:ext uri="{521415D9-36F7-43E2-AB2F-B90AF26B5E84}"><p14:sectionLst '
           'xmlns:p14="http://schemas.microsoft.com/office/powerpoint/2010/main"><p14:section name="Intro" '
           'id="{11111111-2222-3333-4444-555555555555}"><p14:sldIdLst>'
           + "".join(f'<p14:sldId id="{i}"/>' for i in ids) + "</p14:sldIdLst></p14:section></p14:sectionLst>"
           "</p:ext></p:extLst>")
    from lxml import etree
    sample.part._element.append(etree.fromstring(ext))
    potx = io.BytesIO()
    Presentation().save(potx)
    potx_bytes = _as_potx(potx.getvalue())
    practices = {
        "summit-rheumatology": {},
        "thames-integrative-gi": {},
        "valle-community-health": {},
        "pptx-default": {"from": "summit-rheumatology", "master": sample},
        "potx-default": {"from": "thames-integrative-gi", "master": potx_bytes, "master_name": "brand.potx"},
    }
    decks = [FIXTURES / "all-layouts.yml"]
    if SAMPLE_DECK.is_file():
        decks.append(SAMPLE_DECK)
    root = make_project(tmp, practices, decks)
    if SAMPLE_DECK_ES.is_file():
        (root / "content" / "decks" / "es").mkdir()
        shutil.copy(SAMPLE_DECK_ES, root / "content" / "decks" / "es")
    return root


def _as_potx(pptx: bytes) -> bytes:
    """Saves a .pptx as a .potx: the main part becomes a template (what PowerPoint writes)."""
    return ad.swap_main_content_type(pptx, ad.PRESENTATION_MAIN, ad.TEMPLATE_MAIN)


@pytest.fixture(scope="module")
def fixture_deck(project):
    return build(project, "summit-rheumatology", "all-layouts")


@pytest.fixture(scope="module")
def sample_deck(project):
    if not SAMPLE_DECK.is_file():
        pytest.skip("the sample deck content/decks/gut-and-autoimmune-disease.yml is not there yet")
    return build(project, "summit-rheumatology", "gut-and-autoimmune-disease")


# --------------------------------------------------------------------------- the master
def test_default_master_is_reproducible():
    sys.path.insert(0, str(REPO / "templates" / "deck"))
    try:
        import make_master
    finally:
        sys.path.pop(0)
    assert make_master.build() == (REPO / "templates" / "deck" / "default-master.pptx").read_bytes(), \
        "run python templates/deck/make_master.py and commit the master"


def test_default_master_layouts_and_sizes():
    prs = Presentation(str(REPO / "templates" / "deck" / "default-master.pptx"))
    assert (prs.slide_width, prs.slide_height) == (12192000, 6858000)  # 13.333 x 7.5 in
    assert [lay.name for lay in prs.slide_layouts] == list(DEFAULT_LAYOUTS.values())
    master = prs.slide_master
    bullets = next(lay for lay in prs.slide_layouts if lay.name == "Title and Bullets")
    body = next(p for p in ad.layout_placeholders(bullets) if p.kind == "text")
    title = next(p for p in ad.layout_placeholders(bullets) if p.kind == "title")
    assert ad.inherited_style(body.element, master, 0).size == 28
    assert ad.inherited_style(body.element, master, 1).size == 24
    assert ad.inherited_style(title.element, master, 0).size == 40
    for lay in prs.slide_layouts:
        kinds = {p.type for p in ad.layout_placeholders(lay)}
        if lay.name not in ("Title", "Closing"):
            assert {"ftr", "sldNum"} <= kinds, lay.name
    # Colours and fonts are theme references only, so the theme restyles everything.
    pkg = zipfile.ZipFile(REPO / "templates" / "deck" / "default-master.pptx")
    for name in pkg.namelist():
        if name.startswith("ppt/slide"):
            xml = pkg.read(name).decode()
            assert "srgbClr" not in xml and "typeface=\"Atkinson" not in xml, name


# --------------------------------------------------------------------------- the sample deck
def test_sample_deck_structure(sample_deck):
    data, findings, deck = sample_deck
    prs = reopen(data)
    refs = [s for s in prs.slides if s.shapes.title is not None and
            s.shapes.title.text.startswith("References")]
    assert len(prs.slides) == len(deck.slides) + len(refs) - 1
    expected = []
    for kind in layout_kinds(deck):
        expected += [{**DEFAULT_LAYOUTS, **PICTURE_KINDS}[kind]] * (len(refs) if kind == "references" else 1)
    assert [s.slide_layout.name for s in prs.slides] == expected
    for i, slide in enumerate(prs.slides, 1):
        assert slide.has_notes_slide and slide.notes_slide.notes_text_frame.text.strip(), f"slide {i} has no notes"
    assert_no_orphans(data)
    assert not checks(findings, "deck.notes")
    assert not checks(findings, "deck.layout")


def test_sample_deck_brand_theme(sample_deck, project):
    data, _, _ = sample_deck
    prs = reopen(data)
    theme = load_project(project, practices=["summit-rheumatology"]).practices["summit-rheumatology"].theme
    colors = ad.theme_colors(prs)
    assert colors["accent1"] == theme.colors["primary"].lstrip("#").upper()
    assert colors["accent2"] == theme.colors["secondary"].lstrip("#").upper()
    assert colors["dk1"] == theme.colors["foreground"].lstrip("#").upper()
    assert colors["lt1"] == theme.colors["background"].lstrip("#").upper()
    assert ad.theme_fonts(prs) == (theme.heading_family, theme.base_family) == ("Public Sans", "Atkinson Hyperlegible")


def test_sample_deck_table_chart_and_citations(sample_deck):
    data, _, deck = sample_deck
    prs = reopen(data)
    tables = [sh for s in prs.slides for sh in s.shapes if sh.has_table]
    assert tables
    primary = ad.theme_colors(prs)["accent1"]
    for frame in tables:
        header = frame.table.rows[0].cells
        for cell in header:
            assert cell.fill.fore_color.theme_color == MSO_THEME_COLOR.ACCENT_1
        assert primary == "0B3C5D"  # Summit's navy, via the theme
        cells = [c for row in frame.table.rows for c in row.cells]
        assert not any(c.is_merge_origin or c.is_spanned for c in cells)
    charts = [sh.chart for s in prs.slides for sh in s.shapes if sh.has_chart]
    wanted = {"bar": XL_CHART_TYPE.BAR_CLUSTERED, "column": XL_CHART_TYPE.COLUMN_CLUSTERED,
              "line": XL_CHART_TYPE.LINE_MARKERS, "pie": XL_CHART_TYPE.PIE}
    assert sorted(c.chart_type for c in charts) == sorted(wanted[s.chart.type] for s in deck.slides if s.chart)
    supers = [r for s in prs.slides for sh in s.shapes if sh.has_text_frame for p in sh.text_frame.paragraphs
              for r in p.runs if r._r.get_or_add_rPr().get("baseline") == "30000"]
    assert supers and all(r.text.replace(",", "").replace("-", "").isdigit() for r in supers)


def test_sample_deck_logo_qr_footer_and_properties(sample_deck):
    data, _, deck = sample_deck
    prs = reopen(data)
    slides = list(prs.slides)
    title, closing = slides[0], slides[-1]
    assert any(descr(p) == "Summit Rheumatology" and p.name == "Logo" for p in pictures(title))
    assert any(p.name == "Logo" for p in pictures(closing))
    qr = [p for p in pictures(closing) if p.name == "QR Code"]
    assert qr and "https://summit-rheumatology.example/book" in descr(qr[0])
    contact = " ".join(sh.text_frame.text for sh in closing.shapes if sh.has_text_frame)
    for part in ("(303) 555-0142", "appointments@summit-rheumatology.example", "Pine Crest, CO 80999"):
        assert part in contact
    for i, slide in enumerate(slides[1:-1], 2):
        kinds = {sh.placeholder_format.type for sh in slide.placeholders}
        assert PP_PLACEHOLDER.FOOTER in kinds and PP_PLACEHOLDER.SLIDE_NUMBER in kinds, f"slide {i}"
        footer = next(sh for sh in slide.placeholders if sh.placeholder_format.type == PP_PLACEHOLDER.FOOTER)
        assert footer.text_frame.text == "Summit Rheumatology"
        assert 'type="slidenum"' in slide.part.blob.decode() and f">{i}</a:t>" in slide.part.blob.decode()
    props = prs.core_properties
    assert props.title == deck.title and props.author == "Summit Rheumatology"
    assert props.subject and props.keywords
    assert props.created.date() == props.modified.date() == props.last_printed.date() == deck.reviewed.date
    assert props.revision == 1


def test_build_is_deterministic(project):
    first = build(project, "thames-integrative-gi", "all-layouts")[0]
    second = build(project, "thames-integrative-gi", "all-layouts")[0]
    assert first == second
    dates = {i.date_time for i in zipfile.ZipFile(io.BytesIO(first)).infolist()}
    assert dates == {(2026, 3, 14, 0, 0, 0)}


def test_build_is_deterministic_across_processes(project):
    """Worker processes hash strings differently; the bytes must not depend on it."""
    code = ("import hashlib, sys; sys.path.insert(0, sys.argv[2]); from test_deck import build; "
            "from pathlib import Path; print(hashlib.sha256(build(Path(sys.argv[1]), 'valle-community-health', "
            "'all-layouts')[0]).hexdigest())")
    digests = set()
    for seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed, PYTHONPATH=str(REPO))
        out = subprocess.run([sys.executable, "-c", code, str(project), str(Path(__file__).parent)],
                             capture_output=True, text=True, env=env, timeout=300)
        assert out.returncode == 0, out.stderr
        digests.add(out.stdout.strip())
    assert len(digests) == 1


# --------------------------------------------------------------------------- every layout
def test_the_thumbnail_is_slide_one_of_the_whole_deck_as_libreoffice_draws_it(sample_deck, tmp_path):
    """The index's deck thumbnail is drawn from a copy with slide one only (in a profile the
    process keeps): the same PNG as drawing the whole deck and taking its first page."""
    from clinicpress.load.ooxml import package_problems
    from clinicpress.render import raster

    require_tool("soffice")
    pptx = sample_deck[0]
    one = ad.first_slide_only(pptx)
    kept, whole = reopen(one), reopen(pptx)
    assert len(kept.slides) == 1 < len(whole.slides)
    assert kept.slides[0].shapes.title.text == whole.slides[0].shapes.title.text
    assert package_problems(one) == []  # what LibreOffice is given is audited like any deck
    thumbnail = raster.slide_thumbnail(pptx)
    assert thumbnail is not None
    assert thumbnail == raster.pdf_thumbnail(raster.pptx_to_pdf(pptx, tmp_path / "whole"))


def test_fixture_deck_every_layout(fixture_deck):
    data, findings, deck = fixture_deck
    prs = reopen(data)
    names = [s.slide_layout.name for s in prs.slides]
    kinds = layout_kinds(deck)
    # The deck cites and has no references slide: one is added before the closing slide.
    assert names == [DEFAULT_LAYOUTS[k] for k in kinds[:-1]] + ["References", "Closing"]
    assert all(s.notes_slide.notes_text_frame.text.strip() for s in list(prs.slides)[:-3])
    charts = sorted(sh.chart.chart_type for s in prs.slides for sh in s.shapes if sh.has_chart)
    assert charts == sorted([XL_CHART_TYPE.COLUMN_CLUSTERED, XL_CHART_TYPE.LINE_MARKERS, XL_CHART_TYPE.PIE,
                             XL_CHART_TYPE.BAR_CLUSTERED])
    assert_no_orphans(data)


def test_fixture_deck_bullets_and_inline_formatting(fixture_deck):
    data, _, _ = fixture_deck
    slide = reopen(data).slides[2]
    body = next(sh for sh in slide.placeholders if sh.placeholder_format.idx == 1)
    paras = body.text_frame.paragraphs
    assert [p.level for p in paras] == [0, 1, 1, 0, 0]
    assert any(r.font.bold and r.text == "seven in ten" for r in paras[1].runs)
    assert any(r.font.italic and r.text == "estimate" for r in paras[2].runs)
    assert any(r.hyperlink.address == "https://example.org/gut" for r in paras[4].runs)
    assert paras[0].runs[-1].text == "1" and paras[3].runs[-1].text == "1,2"  # numbered per deck, in order
    assert all(r._r.get_or_add_rPr().get("lang") == "en-US" for p in paras for r in p.runs)


def test_fixture_deck_pictures_alt_text(fixture_deck):
    data, findings, _ = fixture_deck
    prs = reopen(data)
    by_title = {s.shapes.title.text.replace("\u00a0", " "): s for s in prs.slides if s.shapes.title is not None}
    svg = [p for p in pictures(by_title["The gut lining (SVG)"]) if p.name == "Picture"]
    assert svg and descr(svg[0]) == "A row of gut lining cells with immune cells below them"
    assert svg[0].image.content_type == "image/png"  # rasterised for PowerPoint
    assert svg[0].crop_left == svg[0].crop_right == 0  # fitted, not cropped
    png = pictures(by_title["A bar picture (PNG)"])
    assert png and descr(png[0]) == "Four bars rising from left to right"
    jpeg = pictures(by_title["A cell (JPEG, decorative)"])
    assert jpeg and jpeg[0].image.content_type == "image/jpeg"
    assert "decorative" in jpeg[0]._element.xml
    notes = by_title["The gut lining (SVG)"].notes_slide.notes_text_frame.text
    assert "gut lining" in notes
    assert not checks(findings, "deck.image")


def test_fixture_deck_warnings(fixture_deck):
    _, findings, _ = fixture_deck
    bullets = checks(findings, "deck.bullets")
    assert len(bullets) == 1 and "Too many bullets" in bullets[0].message and bullets[0].line
    notes = checks(findings, "deck.notes")
    assert len(notes) == 1 and "Too many bullets" in notes[0].message
    assert all(f.path == "content/decks/all-layouts.yml" for f in findings)


def test_closing_slide_added_when_missing(tmp_path):
    deck = yaml.safe_load((FIXTURES / "all-layouts.yml").read_text(encoding="utf-8"))
    deck["slug"] = "no-closing"
    deck["slides"] = [s for s in deck["slides"] if s["layout"] in ("title", "bullets")][:2]
    path = tmp_path / "no-closing.yml"
    path.write_text(yaml.safe_dump(deck), encoding="utf-8")
    root = make_project(tmp_path, {"valle-community-health": {}}, [path])
    data, findings, _ = build(root, "valle-community-health", "no-closing")
    prs = reopen(data)
    assert [s.slide_layout.name for s in prs.slides] == ["Title", "Title and Bullets", "References", "Closing"]
    closing = list(prs.slides)[-1]
    assert any(p.name == "QR Code" for p in pictures(closing))
    assert closing.notes_slide.notes_text_frame.text.strip()
    assert [f.severity for f in checks(findings, "deck.closing")] == ["info"]


def test_overflow_is_reported(tmp_path):
    deck = yaml.safe_load((FIXTURES / "all-layouts.yml").read_text(encoding="utf-8"))
    long = "This bullet is written far too long for a slide, so that it wraps over many lines " * 3
    deck["slug"] = "overflow"
    deck["slides"] = [deck["slides"][0], {"layout": "bullets", "title": "Far too much text",
                                          "bullets": [long.strip()] * 4, "notes": "Too long."}]
    path = tmp_path / "overflow.yml"
    path.write_text(yaml.safe_dump(deck), encoding="utf-8")
    root = make_project(tmp_path, {"summit-rheumatology": {}}, [path])
    _, findings, _ = build(root, "summit-rheumatology", "overflow")
    over = checks(findings, "deck.overflow")
    assert len(over) == 1 and "slide 2" in over[0].message and "Far too much text" in over[0].message


def test_line_count_uses_font_metrics(project):
    practice = load_project(project, practices=["summit-rheumatology"]).practices["summit-rheumatology"]
    book = FontBook(practice, "Public Sans", "Atkinson Hyperlegible")
    from clinicpress.render.deck import Run
    m = book.metrics("+mn-lt", False)
    assert m.path.name == "AtkinsonHyperlegible-Regular.ttf"
    width = m.width("iiii", 28)
    assert width < m.width("WWWW", 28)
    assert count_lines([Run("word " * 10)], 10_000, 28, book, None, False) == 1
    assert count_lines([Run("word " * 40)], m.width("word " * 10, 28), 28, book, None, False) == 4
    assert book.metrics("+mj-lt", True).path.name == "PublicSans-Bold.ttf"


def test_word_widths_kept_per_font_are_the_measured_ones_and_bounded(project, monkeypatch):
    """Line counting asks for the same words at every width it tries: a font keeps their
    widths, gives back exactly what measuring gives, and forgets them past its limit (content
    is untrusted: a text of unique words must not grow a worker without end)."""
    import clinicpress.render.deck.text as deck_text

    metrics = deck_text.Metrics(deck_text.BUNDLED_FONTS / "AtkinsonHyperlegible-Regular.ttf")
    measured = sum(metrics.widths.get(ord(c), metrics.fallback) for c in "gut") * 28 / metrics.upem
    assert metrics.width("gut", 28) == measured == metrics.width("gut", 28)
    assert metrics.width("gut", 14) == measured / 2
    monkeypatch.setattr(deck_text, "WIDTHS_KEPT", 50)
    for n in range(120):
        metrics.width(f"word{n}", 20)
        assert len(metrics._units) <= 50
    assert metrics.width("word119", 20) == sum(metrics.widths.get(ord(c), metrics.fallback) for c in "word119") * 20 / metrics.upem


def test_svg_rasterises_with_its_aspect():
    from PIL import Image

    svg = FIXTURES / "images" / "gut-lining.svg"
    png = svg_png(svg, (0,), 960, (REPO,))
    with Image.open(io.BytesIO(png)) as im:
        assert im.format == "PNG" and im.size[0] == 960 and abs(im.size[1] - 600) <= 2


# --------------------------------------------------------------------------- other masters
def test_python_pptx_default_master(project):
    data, findings, deck = build(project, "pptx-default", "all-layouts")
    prs = reopen(data)
    assert len(prs.slides) == len(deck.slides) + 1  # + references; the two sample slides are gone
    assert not any(s.shapes.title is not None and s.shapes.title.text == "Sample slide" for s in prs.slides)
    assert_no_orphans(data)
    names = {kind: s.slide_layout.name for kind, s in zip(layout_kinds(deck)[:-1], prs.slides, strict=False)}
    assert names["title"] == "Title Slide" and names["bullets"] == "Title and Content"
    assert names["two_column"] == "Comparison" and names["image"] == "Picture with Caption"
    approximated = sorted(f.data["kind"] for f in checks(findings, "deck.layout"))
    assert approximated == ["big_number", "chart", "closing", "quote", "references", "table"]
    assert all(f.severity == "warning" for f in checks(findings, "deck.layout"))
    assert ad.theme_colors(prs)["accent1"] == "0B3C5D"
    assert prs.slide_width == 9144000  # the master's own 4:3 size is kept
    assert all(s.notes_slide.notes_text_frame.text.strip() for s in list(prs.slides)[:-3])


def test_layouts_found_by_placeholders_when_names_are_unknown(tmp_path):
    prs = Presentation()
    for i, layout in enumerate(prs.slide_layouts, 1):
        layout._element.cSld.set("name", f"Design {i}")
    root = make_project(tmp_path, {"renamed": {"from": "summit-rheumatology", "master": prs}},
                        [FIXTURES / "all-layouts.yml"])
    data, findings, deck = build(root, "renamed", "all-layouts")
    warned = checks(findings, "deck.layout")
    assert sorted(f.data["kind"] for f in warned) == sorted(set(layout_kinds(deck)) | {"references"})
    assert all("placeholders are the closest match" in f.message for f in warned)
    prs = reopen(data)
    assert len(prs.slides) == len(deck.slides) + 1  # the references fit one slide
    by_kind = {f.data["kind"]: f.data["layout"] for f in warned}
    assert by_kind["title"] == "Design 1"  # Title Slide
    assert by_kind["references"] == "Design 2"  # Title and Content: the biggest text box
    assert by_kind["image"] == "Design 9"  # Picture with Caption: a real picture placeholder
    assert by_kind["two_column"] in ("Design 4", "Design 5")  # Two Content or Comparison
    assert by_kind["bullets"] == "Design 2"  # Title and Content
    assert_no_orphans(data)


def test_unreadable_master_is_a_user_error(tmp_path):
    from clinicpress.errors import UserError

    root = make_project(tmp_path, {"broken": {"from": "summit-rheumatology", "master": b"not a zip file"}},
                        [FIXTURES / "all-layouts.yml"])
    with pytest.raises(UserError) as err:
        build(root, "broken", "all-layouts")
    assert "master.pptx" in str(err.value)


def test_potx_master(project):
    data, findings, deck = build(project, "potx-default", "all-layouts")
    prs = reopen(data)
    assert len(prs.slides) == len(deck.slides) + 1
    ctypes = zipfile.ZipFile(io.BytesIO(data)).read("[Content_Types].xml").decode()
    assert ad.PRESENTATION_MAIN in ctypes and ad.TEMPLATE_MAIN not in ctypes
    assert ad.theme_colors(prs)["accent1"] == "1E5A43"  # Thames forest green


@pytest.fixture(scope="module")
def impress_master(tmp_path_factory):
    """Debian LibreOffice's Inspiration.otp converted to .pptx by LibreOffice itself."""
    if not (IMPRESS_TEMPLATE.is_file() and has_tool("soffice")):
        pytest.skip("LibreOffice or its Inspiration.otp template is not installed")
    tmp = tmp_path_factory.mktemp("impress")
    cmd = ["soffice", f"-env:UserInstallation={(tmp / 'profile').as_uri()}", "--headless", "--convert-to",
           "pptx", "--outdir", str(tmp), str(IMPRESS_TEMPLATE)]
    subprocess.run(cmd, capture_output=True, timeout=300, check=True)
    out = tmp / "Inspiration.pptx"
    assert out.is_file()
    return out


@pytest.mark.slow
def test_libreoffice_impress_master(tmp_path, impress_master):
    template_slides = len(Presentation(str(impress_master)).slides)
    assert template_slides >= 1
    root = make_project(tmp_path, {"impress": {"from": "valle-community-health", "master": impress_master}},
                        [FIXTURES / "all-layouts.yml"])
    data, findings, deck = build(root, "impress", "all-layouts")
    prs = reopen(data)
    assert len(prs.slides) == len(deck.slides) + 1
    assert_no_orphans(data)
    names = {kind: s.slide_layout.name for kind, s in zip(layout_kinds(deck)[:-1], prs.slides, strict=False)}
    assert names["bullets"] == "Title, Content" and names["two_column"] == "Title, 2 Content"
    approximated = [f.data["kind"] for f in checks(findings, "deck.layout")]
    assert len(approximated) == len(set(approximated))  # one warning per approximated layout
    assert set(approximated) >= {"section", "big_number", "quote", "chart", "table", "references", "closing"}
    assert ad.theme_colors(prs)["accent1"] == "A84800"  # Valle ember


# --------------------------------------------------------------------------- readable text colours
def _colour_of(props, theme: dict[str, str], clr_map: dict[str, str]) -> str | None:
    """The solid fill colour an a:rPr / a:defRPr / a:tcPr sets (#RRGGBB), or None."""
    fill = props.find(qn("a:solidFill")) if props is not None else None
    if fill is None or not len(fill):
        return None
    c = fill[0]
    if c.tag == qn("a:srgbClr"):
        return "#" + c.get("val").upper()
    assert c.tag == qn("a:schemeClr"), c.tag
    slot = clr_map.get(c.get("val"), c.get("val"))
    return "#" + theme[slot].upper()


def _placeholder(sp):
    return sp.find(f"{qn('p:nvSpPr')}/{qn('p:nvPr')}/{qn('p:ph')}")


def _same_placeholder(tree, ph):
    """The shape in a layout or master that a slide placeholder inherits from (by idx, else type)."""
    shapes = [sp for sp in tree.iter(qn("p:sp")) if _placeholder(sp) is not None]
    if ph.get("idx") is not None:
        for sp in shapes:
            if _placeholder(sp).get("idx") == ph.get("idx"):
                return sp
    kind = {"ctrTitle": "title", "subTitle": "body"}.get(ph.get("type", "body"), ph.get("type", "body"))
    for sp in shapes:
        other = _placeholder(sp).get("type", "body")
        if {"ctrTitle": "title", "subTitle": "body"}.get(other, other) == kind:
            return sp
    return None


def run_colour(prs, slide, sp, run) -> str:
    """The colour a text run is shown in, resolved as PowerPoint does: run → shape list style →
    layout placeholder → master placeholder → master text styles, through the theme."""
    theme = ad.theme_colors(prs)
    master = slide.slide_layout.slide_master
    clr_map = dict(master._element.find(qn("p:clrMap")).attrib)
    colour = _colour_of(run.find(qn("a:rPr")), theme, clr_map)
    if colour:
        return colour
    ppr = run.getparent().find(qn("a:pPr"))
    level = int(ppr.get("lvl", 0)) if ppr is not None else 0
    chain = [sp.find(f"{qn('p:txBody')}/{qn('a:lstStyle')}")]
    styles = master._element.find(qn("p:txStyles"))
    ph = _placeholder(sp)
    if ph is not None:
        from_layout = _same_placeholder(slide.slide_layout._element, ph)
        from_master = _same_placeholder(master._element, _placeholder(from_layout) if from_layout is not None
                                        else ph)
        chain += [s.find(f"{qn('p:txBody')}/{qn('a:lstStyle')}") for s in (from_layout, from_master)
                  if s is not None]
        kind = ph.get("type", "body")
        chain.append(styles.find(qn("p:titleStyle")) if kind in ("title", "ctrTitle") else
                     styles.find(qn("p:bodyStyle")) if kind in ("body", "obj", "subTitle") else
                     styles.find(qn("p:otherStyle")))
    for container in chain:
        lvl = container.find(qn(f"a:lvl{level + 1}pPr")) if container is not None else None
        colour = _colour_of(lvl.find(qn("a:defRPr")) if lvl is not None else None, theme, clr_map)
        if colour:
            return colour
    return "#" + theme[clr_map["tx1"]].upper()


def text_on_backgrounds(prs):
    """Yields (slide number, shape name, text, colour, background) for every text run and field
    of a deck on the default master; the background is where the master draws that text."""
    theme = ad.theme_colors(prs)
    band, page, footer_band = "#" + theme["accent1"], "#" + theme["lt1"], "#" + theme["lt2"]
    for number, slide in enumerate(prs.slides, 1):
        layout = slide.slide_layout.name
        for shape in slide.shapes:
            sp = shape._element
            if shape.has_table:
                for r, row in enumerate(shape.table.rows):
                    for cell in row.cells:
                        fill = _colour_of(cell._tc.tcPr, theme, {"bg1": "lt1", "bg2": "lt2", "tx1": "dk1"})
                        for run in cell._tc.iter(qn("a:r")):
                            yield number, f"table row {r}", run.findtext(qn("a:t")), \
                                run_colour(prs, slide, sp, run), fill
                continue
            ph = _placeholder(sp)
            kind = ph.get("type", "body") if ph is not None else None
            if layout == "Section" or kind == "sldNum" or \
                    (layout in ("Title", "Closing") and kind in ("ctrTitle", "title", "subTitle")):
                background = band
            elif kind == "ftr":
                background = footer_band
            else:
                background = page
            for run in [*sp.iter(qn("a:r")), *sp.iter(qn("a:fld"))]:
                yield number, shape.name, run.findtext(qn("a:t")), run_colour(prs, slide, sp, run), background


def pale_deck(tmp_path, primary: str):
    root = make_project(tmp_path, {"pale": {"from": "summit-rheumatology"}}, [FIXTURES / "all-layouts.yml"])
    brand = root / "practices" / "pale" / "_brand.yml"
    text = brand.read_text(encoding="utf-8").replace("  primary: navy", f"  primary: '{primary}'")
    brand.write_text(text.replace("    color: navy", "    color: primary"), encoding="utf-8")
    return build(root, "pale", "all-layouts")


@pytest.mark.parametrize("primary", ["#7FB3E0", "#F24242"])
def test_pale_primary_prints_no_text_below_4_5_to_1(tmp_path, primary):
    data, _, _ = pale_deck(tmp_path, primary)
    prs = reopen(data)
    theme = ad.theme_colors(prs)
    assert theme["accent1"] == primary.lstrip("#")  # fills, bands and rules keep the brand colour
    texts = list(text_on_backgrounds(prs))
    low = [(n, name, text, colour, bg, round(contrast(colour, bg), 2)) for n, name, text, colour, bg in texts
           if contrast(colour, bg) < 4.5]
    assert not low, low
    # The runs that used to take the primary colour: the big number, the column headings, the
    # quotation's attribution; and white text on the primary band (title, section, closing).
    layouts = {n: s.slide_layout.name for n, s in enumerate(prs.slides, 1)}
    seen = {(layouts[n], name.split()[0]) for n, name, *_ in texts}
    assert {("Big Number", "Text"), ("Two Columns", "Text"), ("Quote", "Text"), ("Title", "Title"),
            ("Section", "Title"), ("Closing", "Title"), ("Table", "table")} <= seen, seen
    number = next(c for n, name, text, c, _ in texts if layouts[n] == "Big Number" and "70%" in (text or ""))
    heading = next(c for n, name, text, c, _ in texts if layouts[n] == "Two Columns" and text == "What we know")
    assert number == heading != "#" + theme["accent1"]
    assert contrast(number, "#" + theme["lt1"]) >= 4.5


def test_brand_primary_that_is_readable_stays_a_theme_reference(fixture_deck):
    data, _, _ = fixture_deck
    pkg = zipfile.ZipFile(io.BytesIO(data))
    for name in pkg.namelist():
        if name.startswith(("ppt/slideMasters/", "ppt/slideLayouts/")) and name.endswith(".xml"):
            assert "srgbClr" not in pkg.read(name).decode(), name  # nothing replaced for Summit's navy
    prs = reopen(data)
    assert not [t for t in text_on_backgrounds(prs) if contrast(t[3], t[4]) < 4.5]


# --------------------------------------------------------------------------- LibreOffice, a real client
@pytest.mark.slow
def test_libreoffice_converts_every_deck(project, tmp_path, impress_master):
    if not has_tool("soffice", "pdfinfo", "pdftoppm", "zbarimg"):
        pytest.skip("needs soffice, pdfinfo, pdftoppm and zbarimg")
    builds = {
        "fixture-summit": build(project, "summit-rheumatology", "all-layouts"),
        "fixture-pptx-default": build(project, "pptx-default", "all-layouts"),
        "fixture-potx": build(project, "potx-default", "all-layouts"),
    }
    if SAMPLE_DECK.is_file():
        builds["sample-thames"] = build(project, "thames-integrative-gi", "gut-and-autoimmune-disease")
    if SAMPLE_DECK_ES.is_file():
        builds["sample-valle-es"] = build(project, "valle-community-health", "gut-and-autoimmune-disease", "es")
    root = make_project(tmp_path / "impress", {"impress": {"from": "valle-community-health",
                                                           "master": impress_master}},
                        [FIXTURES / "all-layouts.yml"])
    builds["fixture-impress"] = build(root, "impress", "all-layouts")
    files = []
    for name, (data, _, _) in builds.items():
        path = tmp_path / f"{name}.pptx"
        path.write_bytes(data)
        files.append(path)
    soffice_pdf(files, tmp_path, tmp_path / "profile")
    for name, (data, _, _) in builds.items():
        assert pdf_pages(tmp_path / f"{name}.pdf") == len(reopen(data).slides), name
    # The QR code on the closing slide decodes to the booking page.
    pdf = tmp_path / "fixture-summit.pdf"
    last = pdf_pages(pdf)
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-f", str(last), "-l", str(last), str(pdf),
                    str(tmp_path / "closing")], check=True)
    image = next(tmp_path.glob("closing*.png"))
    out = subprocess.run(["zbarimg", "--quiet", "--raw", str(image)], capture_output=True, text=True)
    assert out.stdout.strip() == "https://summit-rheumatology.example/book"


@pytest.mark.slow
def test_table_caption_stays_clear_of_the_table_without_the_brand_fonts(sample_deck, tmp_path):
    """On a machine without Atkinson Hyperlegible the table's rows wrap more in the fallback
    font; LibreOffice must still print the caption below the last row, not over it."""
    require_tool("soffice")
    require_tool("pdftotext")
    data, _, deck = sample_deck
    number, spec = next((i + 1, sl) for i, sl in enumerate(deck.slides) if sl.table and sl.table.caption)
    path = tmp_path / "deck.pptx"
    path.write_bytes(data)
    soffice_pdf([path], tmp_path, tmp_path / "profile", project_fonts=False)
    fonts = subprocess.run(["pdffonts", "-f", str(number), "-l", str(number), str(tmp_path / "deck.pdf")],
                           capture_output=True, text=True, check=True).stdout
    assert "Atkinson" not in fonts  # really the fallback
    xml = subprocess.run(["pdftotext", "-bbox", "-f", str(number), "-l", str(number), str(tmp_path / "deck.pdf"),
                          "-"], capture_output=True, text=True, check=True).stdout
    words = [(w, float(y0), float(y1)) for y0, y1, w in
             re.findall(r'yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">([^<]*)</word>', xml)]
    def tokens(text: str) -> list[str]:  # "Lupus-prone" and "liver4" as printed -> lupus, prone, liver
        return [t for t in re.split(r"[-\s]+", re.sub(r"[\d,.;]+(?=\s|$)", "", text).lower()) if t]

    caption = tokens(strip_citations(spec.table.caption))
    last_row = {t for cell in spec.table.rows[-1] for t in tokens(strip_citations(cell))} - set(caption)
    printed = [(t, y0, y1) for w, y0, y1 in words for t in tokens(w)]
    caption_top = max(y0 for t, y0, _ in printed if t == caption[0])  # the title may share the word
    table_words = [(t, y1) for t, y0, y1 in printed if t in last_row and y0 < caption_top + 30]
    assert {t for t, _ in table_words} == last_row, "the last row is not where it should be"
    row_bottom = max(y1 for _, y1 in table_words)
    assert caption_top > row_bottom, (caption_top, row_bottom)
