"""Decks that travel and show (issue 21): embedded fonts, fit, logo contrast, masters people
already have, the presenter's PDF. Real PPTX files reopened with python-pptx and zipfile."""
from __future__ import annotations

import io
import struct
import unicodedata
import zipfile

import pytest
from conftest import require_tool
from fontTools.ttLib import TTFont
from lxml import etree
from test_deck import REPO, SAMPLE_DECK, build, checks, make_project

P = "{http://schemas.openxmlformats.org/presentationml/2006/main}"
R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PKG_R = "{http://schemas.openxmlformats.org/package/2006/relationships}"
CT = "{http://schemas.openxmlformats.org/package/2006/content-types}"
FONT_RT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/font"


def parse_eot(blob: bytes) -> dict:
    """Reads an EOT (W3C submission, versions 0x00020001/0x00020002) written independently of the
    code under test: the header fields, the four name strings and the FontData as stored."""
    eot_size, data_size, version, flags = struct.unpack_from("<IIII", blob, 0)
    panose = blob[16:26]
    charset, italic = blob[26], blob[27]
    weight, fs_type, magic = struct.unpack_from("<IHH", blob, 28)
    pos = 82  # end of the fixed prefix: ... CheckSumAdjustment, Reserved1-4, Padding1
    names = []
    for i in range(5 if version >= 0x00020001 else 4):
        if i:
            pad, = struct.unpack_from("<H", blob, pos)
            assert pad == 0, f"padding before string {i} is {pad}"
            pos += 2
        size, = struct.unpack_from("<H", blob, pos)
        names.append(blob[pos + 2:pos + 2 + size].decode("utf-16-le"))
        pos += 2 + size
    if version == 0x00020002:  # RootStringCheckSum, EUDCCodePage, Padding6, Signature, EUDC data
        pos += 8
        pos += 2
        sig, = struct.unpack_from("<H", blob, pos)
        pos += 2 + sig + 4
        eudc, = struct.unpack_from("<I", blob, pos)
        pos += 4 + eudc
    data = blob[pos:pos + data_size]
    if flags & 0x10000000:  # TTEMBED_XORENCRYPTDATA: every byte XOR 0x50
        data = bytes(b ^ 0x50 for b in data)
    assert not flags & 0x4, "MTX-compressed font data: this reader does not undo MicroType Express"
    return {"size": eot_size, "version": version, "flags": flags, "panose": panose, "charset": charset,
            "italic": italic, "weight": weight, "fs_type": fs_type, "magic": magic, "names": names,
            "data": data, "end": pos + data_size}


def embedded_fonts(data: bytes) -> dict[tuple[str, str], bytes]:
    """(typeface, slot) -> the EOT part's bytes, found the way PowerPoint finds them:
    p:embeddedFontLst in presentation.xml, r:ids through presentation.xml.rels."""
    zf = zipfile.ZipFile(io.BytesIO(data))
    pres = etree.fromstring(zf.read("ppt/presentation.xml"))
    rels = {r.get("Id"): r for r in etree.fromstring(zf.read("ppt/_rels/presentation.xml.rels"))}
    types = etree.fromstring(zf.read("[Content_Types].xml"))
    defaults = {d.get("Extension"): d.get("ContentType") for d in types.iter(f"{CT}Default")}
    overrides = {o.get("PartName"): o.get("ContentType") for o in types.iter(f"{CT}Override")}
    out = {}
    lst = pres.find(f"{P}embeddedFontLst")
    assert lst is not None, "no p:embeddedFontLst in presentation.xml"
    order = [c.tag for c in pres]
    assert order.index(f"{P}embeddedFontLst") > order.index(f"{P}notesSz")  # schema order
    for entry in lst.findall(f"{P}embeddedFont"):
        typeface = entry.find(f"{P}font").get("typeface")
        for el in entry:
            if el.tag == f"{P}font":
                continue
            rel = rels[el.get(f"{R}id")]
            assert rel.get("Type") == FONT_RT
            part = "ppt/" + rel.get("Target")
            assert part.startswith("ppt/fonts/") and part.endswith(".fntdata")
            ctype = overrides.get("/" + part) or defaults.get("fntdata")
            assert ctype == "application/x-fontdata"
            out[(typeface, el.tag.removeprefix(P))] = zf.read(part)
    return out


@pytest.fixture(scope="module")
def travel_project(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("travel")
    practices = {"thames-integrative-gi": {}, "summit-rheumatology": {}}
    return make_project(tmp, practices, [SAMPLE_DECK])


def test_fonts_are_embedded_as_eot_that_unwraps_to_the_source_fonts(travel_project):
    data, findings, _ = build(travel_project, "thames-integrative-gi", "gut-and-autoimmune-disease")
    fonts = embedded_fonts(data)
    bundled = REPO / "templates" / "handout" / "fonts"
    expected = {
        ("Source Serif 4", "bold"): REPO / "practices" / "thames-integrative-gi" / "fonts" / "SourceSerif4-Bold.ttf",
        ("Atkinson Hyperlegible", "regular"): bundled / "AtkinsonHyperlegible-Regular.ttf",
        ("Atkinson Hyperlegible", "bold"): bundled / "AtkinsonHyperlegible-Bold.ttf",
        ("Atkinson Hyperlegible", "italic"): bundled / "AtkinsonHyperlegible-Italic.ttf",
        ("Atkinson Hyperlegible", "boldItalic"): bundled / "AtkinsonHyperlegible-BoldItalic.ttf",
    }
    assert set(fonts) == set(expected)
    for key, path in expected.items():
        eot = parse_eot(fonts[key])
        source = path.read_bytes()
        assert eot["magic"] == 0x504C and eot["version"] in (0x00020001, 0x00020002)
        assert eot["size"] == len(fonts[key]) == eot["end"], key
        assert eot["data"] == source, f"{key} does not unwrap to {path.name}"
        os2 = TTFont(path)["OS/2"]
        assert (eot["weight"], eot["fs_type"], eot["italic"]) == (
            os2.usWeightClass, os2.fsType, os2.fsSelection & 1)
        assert eot["names"][0] == key[0]  # FamilyName: the typeface the slides ask for
    assert not checks(findings, "deck.font_embedding")
    theme = zipfile.ZipFile(io.BytesIO(data)).read("ppt/theme/theme1.xml").decode()
    assert 'typeface="Source Serif 4"' in theme


def test_font_that_forbids_embedding_falls_back_with_a_warning(tmp_path):
    root = make_project(tmp_path, {"summit-rheumatology": {}}, [SAMPLE_DECK])
    font_path = root / "practices" / "summit-rheumatology" / "fonts" / "PublicSans-Bold.ttf"
    font = TTFont(font_path)
    font["OS/2"].fsType = 0x0002  # restricted licence embedding
    font.save(font_path)
    data, findings, _ = build(root, "summit-rheumatology", "gut-and-autoimmune-disease")
    warned = checks(findings, "deck.font_embedding")
    assert len(warned) == 1 and warned[0].severity == "warning"
    assert "Public Sans" in warned[0].message and "Atkinson Hyperlegible" in warned[0].message
    fonts = embedded_fonts(data)
    assert {typeface for typeface, _ in fonts} == {"Atkinson Hyperlegible"}
    theme = zipfile.ZipFile(io.BytesIO(data)).read("ppt/theme/theme1.xml").decode()
    assert "Public Sans" not in theme and 'typeface="Atkinson Hyperlegible"' in theme


@pytest.mark.parametrize("fs_type,allowed", [(0x0000, True), (0x0002, False), (0x0004, True), (0x0008, True),
                                             (0x0006, True), (0x0102, False), (0x0200, False),
                                             (0x0100, True)])
def test_embedding_permission_follows_the_fstype_bits(fs_type, allowed):
    from clinicpress.render.pptx_adapter.fonts import permission
    assert permission(fs_type).allowed is allowed


# --------------------------------------------------------------------------- fit
FOOTER_TOP_PT = (7.5 - 6.95) * 72
"""The default master's footer band (footer text and slide number), from the slide's bottom edge."""
CITATION = set("0123456789,\u2013-")


@pytest.fixture(scope="module")
def shipped(tmp_path_factory):
    """The four shipped decks as the build writes them (every practice, every language it offers),
    with the renderer's findings for each."""
    from conftest import copy_project, run_build

    from clinicpress.load.project import load_project
    from clinicpress.render.deck import render_deck

    root = copy_project(tmp_path_factory.mktemp("shipped") / "proj")
    out = root / "output"
    proc = run_build("build", "--root", str(root), "--format", "pptx", "--no-slide-images", "-o", str(out), "-q")
    assert proc.returncode == 0, proc.stderr
    files = sorted(out.glob("*/*.pptx"))
    project = load_project(root)
    decks = {}
    for path in files:
        slug, _, rest = path.name.partition(".")
        language = rest.removesuffix("pptx").rstrip(".") or "en"
        src = next(s for s in project.decks if s.slug == slug and s.language == language)
        _, findings = render_deck(src, project.practices[path.parent.name], project.bibliography, project.root)
        decks[path] = findings
    return decks


def test_every_shipped_deck_passes_the_fit_and_size_checks(shipped):
    assert len(shipped) == 5  # the talk for three practices, Valle's Spanish edition and its Arabic proof
    for path, findings in shipped.items():
        bad = [f for f in findings if f.check in ("deck.overflow", "deck.font_size", "deck.empty")
               and f.severity != "info"]
        assert not bad, f"{path.name} ({path.parent.name}): {[f.message for f in bad]}"


def _display_lines(textpage) -> dict[float, list[tuple[float, str]]]:
    """Lines of display text (36 pt and over) on a PDF page: font size -> [(baseline, text)]."""
    import ctypes

    import pypdfium2.raw as pdfium_c

    x, y = ctypes.c_double(), ctypes.c_double()
    lines: dict[tuple[float, float], list[str]] = {}
    for i in range(textpage.count_chars()):
        size = round(pdfium_c.FPDFText_GetFontSize(textpage.raw, i))
        if size < 36:
            continue
        pdfium_c.FPDFText_GetCharOrigin(textpage.raw, i, ctypes.byref(x), ctypes.byref(y))
        bottom = round(y.value / 4) * 4  # the baseline
        lines.setdefault((size, bottom), []).append(textpage.get_text_range(i, 1))
    out: dict[float, list[tuple[float, str]]] = {}
    for (size, bottom), chars in lines.items():
        out.setdefault(size, []).append((bottom, "".join(chars).replace("\u00a0", " ").strip()))
    return out


@pytest.mark.slow
@pytest.mark.parametrize("project_fonts", [True, False], ids=["brand-fonts", "fonts-hidden"])
def test_shipped_slides_have_no_small_text_and_no_lone_short_word(shipped, tmp_path, project_fonts):
    """LibreOffice draws every shipped slide, with the project fonts and with them hidden (as on
    a presenter's laptop: LibreOffice ignores embedded fonts); on each page no character outside
    the footer band is under 18 pt (citation numbers aside: superscripts by design), and no title
    or big number leaves one short word alone on a line."""
    import pypdfium2 as pdfium
    from pdftext import drawn_size
    from test_deck import soffice_pdf

    require_tool("soffice")
    files = []
    for k, path in enumerate(shipped):
        files.append(tmp_path / f"deck{k}.pptx")
        files[-1].write_bytes(path.read_bytes())
    soffice_pdf(files, tmp_path, tmp_path / "profile", project_fonts=project_fonts)
    for path, pptx in zip(shipped, files, strict=True):
        doc = pdfium.PdfDocument(tmp_path / f"{pptx.stem}.pdf")
        for n in range(len(doc)):
            textpage = doc[n].get_textpage()
            small = set()
            for i in range(textpage.count_chars()):
                ch = textpage.get_text_range(i, 1)
                if not ch.strip() or ch in CITATION:
                    continue
                size = drawn_size(textpage, i)
                if size < 17.95 and textpage.get_charbox(i)[3] > FOOTER_TOP_PT + 1:
                    small.add((round(size, 1), ch))
            assert not small, f"{path.parent.name}/{path.name} slide {n + 1}: text under 18 pt: {sorted(small)[:8]}"
            for size, lines in _display_lines(textpage).items():
                if len(lines) < 2:
                    continue
                # (a vowel mark such as Arabic tanween sits above its letter: PDFium puts it on a line of its own)
                lone = [t for _, t in lines if len(t.split()) == 1 and len(t) <= 3
                        and not all(unicodedata.category(c) == "Mn" for c in t.strip())]
                assert not lone, f"{path.parent.name}/{path.name} slide {n + 1}: {lone} alone on a line ({size} pt)"


# --------------------------------------------------------------------------- logo contrast
PURPLE = "#5B2A86"
PURPLE_LOGO = ('<svg xmlns="http://www.w3.org/2000/svg" width="300" height="100" viewBox="0 0 300 100">'
               '<rect x="0" y="0" width="100" height="100" rx="20" fill="{fill}"/>'
               '<rect x="120" y="30" width="180" height="40" fill="{fill}"/></svg>')


def purple_practice(tmp_path, *, dark_variant: bool):
    """Summit with a purple primary colour and a purple logo (and, if asked, a white one for dark
    backgrounds)."""
    import yaml

    root = make_project(tmp_path, {"summit-rheumatology": {}}, [SAMPLE_DECK])
    folder = root / "practices" / "summit-rheumatology"
    (folder / "purple.svg").write_text(PURPLE_LOGO.format(fill=PURPLE), encoding="utf-8")
    (folder / "white.svg").write_text(PURPLE_LOGO.format(fill="#FFFFFF"), encoding="utf-8")
    brand = yaml.safe_load((folder / "_brand.yml").read_text(encoding="utf-8"))
    brand["color"]["palette"]["navy"] = PURPLE
    brand["logo"] = {"images": {"purple": {"path": "purple.svg", "alt": "Purple"},
                                "white": {"path": "white.svg", "alt": "Purple"}},
                     "large": {"light": "purple", "dark": "white"} if dark_variant else "purple"}
    (folder / "_brand.yml").write_text(yaml.safe_dump(brand, sort_keys=False), encoding="utf-8")
    return root


def closing_logo_colour(data: bytes) -> tuple[int, int, int]:
    """The most common opaque colour of the logo picture on the closing slide."""
    from PIL import Image
    from pptx import Presentation

    closing = Presentation(io.BytesIO(data)).slides[-1]
    logo = next(s for s in closing.shapes if s.name == "Logo")
    with Image.open(io.BytesIO(logo.image.blob)) as im:
        colours = [(n, c) for n, c in im.convert("RGBA").getcolors(1 << 20) if c[3] > 128]
    return max(colours)[1][:3]


def test_purple_logo_on_a_purple_band_is_warned_and_a_readable_variant_is_used(tmp_path):
    data, findings, _ = build(purple_practice(tmp_path / "one", dark_variant=False), "summit-rheumatology",
                              "gut-and-autoimmune-disease")
    warned = checks(findings, "deck.logo_contrast")
    assert len(warned) == 1 and warned[0].severity == "warning", [f.message for f in findings]
    assert "purple.svg" in warned[0].message and PURPLE in warned[0].message
    # With a white variant for dark backgrounds, the closing band gets it and nothing is said.
    data, findings, _ = build(purple_practice(tmp_path / "two", dark_variant=True), "summit-rheumatology",
                              "gut-and-autoimmune-disease")
    assert not checks(findings, "deck.logo_contrast")
    assert closing_logo_colour(data) == (255, 255, 255)


# --------------------------------------------------------------------------- masters people have
def default_master(*, width_in: float, height_in: float, title_pt: int, body_pt: tuple[int, int]):
    """python-pptx's default template with the slide size, title size and first two body levels
    of a well-known master (Pandoc's reference.pptx: 10 x 5.625 in, 33 pt titles, 24/21 pt body;
    PowerPoint's blank presentation: 13.333 x 7.5 in, 44 pt titles, 28/24 pt body)."""
    from pptx import Presentation
    from pptx.util import Inches

    prs = Presentation()
    prs.slide_width, prs.slide_height = Inches(width_in), Inches(height_in)
    master = prs.slide_masters[0]._element
    a = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
    master.find(f"{P}txStyles/{P}titleStyle/{a}lvl1pPr/{a}defRPr").set("sz", str(title_pt * 100))
    for level, size in enumerate(body_pt, start=1):
        master.find(f"{P}txStyles/{P}bodyStyle/{a}lvl{level}pPr/{a}defRPr").set("sz", str(size * 100))
    return prs


def master_body_sizes(data: bytes) -> list[float]:
    from pptx import Presentation

    master = Presentation(io.BytesIO(data)).slide_masters[0]._element
    a = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
    return [int(master.find(f"{P}txStyles/{P}bodyStyle/{a}lvl{n}pPr/{a}defRPr").get("sz")) / 100 for n in (1, 2)]


def test_pandoc_and_powerpoint_default_masters_build(tmp_path):
    """Pandoc's master (21 pt sub-bullets) builds with its body text raised to 24 pt and a warning
    naming the master, the rule and both sizes; PowerPoint's passes untouched."""
    import json

    from conftest import run_build

    pandoc = default_master(width_in=10, height_in=5.625, title_pt=33, body_pt=(24, 21))
    powerpoint = default_master(width_in=13.333, height_in=7.5, title_pt=44, body_pt=(28, 24))
    root = make_project(tmp_path, {
        "pandoc-practice": {"from": "summit-rheumatology", "master": pandoc, "master_name": "reference.pptx"},
        "powerpoint-practice": {"from": "thames-integrative-gi", "master": powerpoint,
                                "master_name": "Default.pptx"},
    }, [SAMPLE_DECK])
    out = tmp_path / "out"
    proc = run_build("build", "--root", str(root), "--format", "pptx", "--no-slide-images", "-o", str(out))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    found = {item["key"]: [f for f in item["findings"] if f["check"] == "accessibility.font_size"]
             for item in report["items"]}
    warned = found["practice:pandoc-practice"]
    assert len(warned) == 1 and warned[0]["severity"] == "warning", warned
    text = json.dumps(warned[0])
    assert "reference.pptx" in text and "slide_body_pt_min" in text and "21 pt" in text and "24 pt" in text
    assert not found["practice:powerpoint-practice"]
    deck = "gut-and-autoimmune-disease.pptx"
    assert master_body_sizes((out / "pandoc-practice" / deck).read_bytes()) == [24, 24]
    assert master_body_sizes((out / "powerpoint-practice" / deck).read_bytes()) == [28, 24]


# --------------------------------------------------------------------------- the presenter's PDF
def _squash(text: str) -> str:
    """Text for comparing: spaces collapsed; hyphens left out (PDFium reports a hyphen that ends a
    line as U+FFFE)."""
    for mark in ("-", "\ufffe", "\u00ad"):
        text = text.replace(mark, "")
    return " ".join(text.replace("\u00a0", " ").split())


@pytest.mark.slow
def test_presenter_pdf_has_one_page_per_slide_with_its_notes(tmp_path):
    import pypdfium2 as pdfium
    from conftest import copy_project, run_build
    from pptx import Presentation

    require_tool("soffice")
    root = copy_project(tmp_path / "proj", practices=["summit-rheumatology"])
    out = tmp_path / "out"
    proc = run_build("build", "--root", str(root), "--only", "gut-and-autoimmune-disease", "--format", "pptx",
                     "--format", "slides-pdf", "--no-slide-images", "-o", str(out), "-q")
    assert proc.returncode == 0, proc.stderr
    folder = out / "summit-rheumatology"
    prs = Presentation(str(folder / "gut-and-autoimmune-disease.pptx"))
    doc = pdfium.PdfDocument(folder / "gut-and-autoimmune-disease.slides.pdf")
    assert len(doc) == len(prs.slides)
    for n, (slide, page) in enumerate(zip(prs.slides, doc, strict=True), start=1):
        w, h = page.get_size()
        assert h > w, "notes pages are portrait"
        notes = _squash(slide.notes_slide.notes_text_frame.text)
        text = _squash(page.get_textpage().get_text_range())
        assert notes and notes in text, f"page {n} does not carry slide {n}'s notes"
        title = _squash(slide.shapes.title.text) if slide.shapes.title is not None else ""
        assert title in text, f"page {n} does not show slide {n}"
    index = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="summit-rheumatology/gut-and-autoimmune-disease.slides.pdf"' in index


def test_presenter_pdf_without_libreoffice_is_a_clear_error(tmp_path):
    import os
    import subprocess
    import sys

    from conftest import ROOT, copy_project

    root = copy_project(tmp_path / "proj", practices=["summit-rheumatology"])
    empty = tmp_path / "bin"
    empty.mkdir()
    proc = subprocess.run([sys.executable, str(ROOT / "build.py"), "build", "--root", str(root), "--only",
                           "gut-and-autoimmune-disease", "--format", "slides-pdf", "-o", str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT), "PATH": str(empty)})
    assert proc.returncode != 0
    said = proc.stdout + proc.stderr
    assert "presenter's PDF" in said and "LibreOffice" in said and "Traceback" not in said
    assert not list((tmp_path / "out").glob("*/*.slides.pdf"))


def test_woff_travels_as_its_truetype_font_and_a_cff_font_falls_back(tmp_path):
    """A WOFF heading font is embedded as the TrueType font inside it; a font with PostScript (CFF)
    outlines, which PowerPoint cannot embed, gives the warning and the bundled font."""
    import yaml
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.t2CharStringPen import T2CharStringPen

    root = make_project(tmp_path, {"summit-rheumatology": {}, "thames-integrative-gi": {}}, [SAMPLE_DECK])
    # Summit's heading font as WOFF.
    folder = root / "practices" / "summit-rheumatology"
    font = TTFont(folder / "fonts" / "PublicSans-Bold.ttf")
    font.flavor = "woff"
    font.save(folder / "fonts" / "PublicSans-Bold.woff")
    brand_path = folder / "_brand.yml"
    brand_path.write_text(brand_path.read_text(encoding="utf-8").replace("PublicSans-Bold.ttf", "PublicSans-Bold.woff"),
                          encoding="utf-8")
    data, findings, _ = build(root, "summit-rheumatology", "gut-and-autoimmune-disease")
    assert not checks(findings, "deck.font_embedding")
    inside = TTFont(folder / "fonts" / "PublicSans-Bold.woff", recalcTimestamp=False)
    inside.flavor = None
    sfnt = io.BytesIO()
    inside.save(sfnt, reorderTables=False)
    embedded = parse_eot(embedded_fonts(data)[("Public Sans", "bold")])["data"]
    assert embedded == sfnt.getvalue() and embedded[:4] == b"\x00\x01\x00\x00"
    # Thames's heading font replaced by a CFF-outline font of the same family name.
    folder = root / "practices" / "thames-integrative-gi"
    fb = FontBuilder(1000, isTTF=False)
    fb.setupGlyphOrder([".notdef", "A"])
    fb.setupCharacterMap({ord("A"): "A"})
    pen = T2CharStringPen(600, None)
    pen.moveTo((0, 0)), pen.lineTo((600, 0)), pen.lineTo((300, 700)), pen.closePath()
    fb.setupCFF("SourceSerif4-Bold", {}, {".notdef": pen.getCharString(), "A": pen.getCharString()}, {})
    fb.setupHorizontalMetrics({".notdef": (600, 0), "A": (600, 0)})
    fb.setupHorizontalHeader(ascent=800, descent=-200)
    fb.setupNameTable({"familyName": "Source Serif 4", "styleName": "Bold"})
    fb.setupOS2(usWeightClass=700, fsType=0)
    fb.setupPost()
    fb.save(folder / "fonts" / "SourceSerif4-Bold.otf")
    brand = yaml.safe_load((folder / "_brand.yml").read_text(encoding="utf-8"))
    (folder / "_brand.yml").write_text(
        (folder / "_brand.yml").read_text(encoding="utf-8").replace("SourceSerif4-Bold.ttf", "SourceSerif4-Bold.otf"),
        encoding="utf-8")
    assert brand["typography"]["headings"]["family"] == "Source Serif 4"
    data, findings, _ = build(root, "thames-integrative-gi", "gut-and-autoimmune-disease")
    (warned,) = checks(findings, "deck.font_embedding")
    assert "Source Serif 4" in warned.message and "CFF" in warned.message
    assert {typeface for typeface, _ in embedded_fonts(data)} == {"Atkinson Hyperlegible"}
