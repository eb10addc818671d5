"""Handout rendering: real PDFs reopened and inspected (tags, fonts, QR, text, paper, variants).

Every PDF here is rendered into a temporary folder, either by the build command (subprocess)
or by the renderer's functions; nothing depends on files in output/.
"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pikepdf
import pytest
from conftest import ROOT, copy_project, require_tool, run_build

from clinicpress.load.colour import contrast
from clinicpress.load.project import load_project
from clinicpress.render.handout import (
    VARIANTS,
    Variant,
    box_split,
    css_counter_content,
    css_str,
    layout,
    print_handout,
    render_html,
    section_groups,
)
from clinicpress.render.templating import Templates

HANDOUT = "gut-and-immune-system"
MM = 72 / 25.4
LETTER = (612.0, 792.0)
A4 = (595.28, 841.89)


# --------------------------------------------------------------------------- helpers
class Rendered:
    """One rendered handout: its HTML, PDF path and the objects it was made from."""

    def __init__(self, root: Path, out: Path, practice: str, slug: str, language: str = "en",
                 variant: Variant = VARIANTS["standard"], name: str | None = None):
        project = load_project(root, practices=[practice])
        self.source = next(s for s in project.handouts if s.slug == slug and s.language == language)
        self.practice = project.practices[practice]
        self.out_dir = out / practice
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.root = root
        self.html = render_html(self.source.model, self.practice, project.bibliography, variant,
                                Templates(root), self.source.path.parent, self.out_dir,
                                project.signoffs[practice][self.source.key])
        pdf = print_handout(self.html, base_url=self.out_dir, root=root, practice=self.practice,
                            reviewed=self.source.model.reviewed.date, source_path=str(self.source.path), language=language).pdf
        stem = name or f"{slug}{'' if language == 'en' else '.' + language}{variant.suffix}"
        self.pdf = self.out_dir / f"{stem}.pdf"
        self.pdf.write_bytes(pdf)
        (self.out_dir / f"{stem}.html").write_text(self.html, encoding="utf-8")

    @property
    def pages(self) -> int:
        with pikepdf.open(self.pdf) as pdf:
            return len(pdf.pages)

    def text(self, page: int | None = None) -> str:
        args = ["pdftotext", "-layout"]
        if page is not None:
            args += ["-f", str(page), "-l", str(page)]
        return subprocess.run([*args, str(self.pdf), "-"], capture_output=True, text=True, check=True).stdout

    def document(self):
        return layout(self.html, base_url=self.out_dir, root=self.root)


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("handouts")


@pytest.fixture(scope="module")
def summit(out) -> Rendered:
    return Rendered(ROOT, out, "summit-rheumatology", HANDOUT)


@pytest.fixture(scope="module")
def thames(out) -> Rendered:
    return Rendered(ROOT, out, "thames-integrative-gi", HANDOUT)


@pytest.fixture(scope="module")
def valle_es(out) -> Rendered:
    return Rendered(ROOT, out, "valle-community-health", HANDOUT, language="es")


FIGURE_HANDOUT = """\
slug: figure-and-table
title: A Handout With a Figure and a Table
language: en
main_message: Pictures and tables are tagged so screen readers can use them.
summary: This handout exists only for tests. It has a figure, a decorative image and a table.
sections:
  - heading: A figure with a caption
    body: The figure below has alternative text and a caption.
    figure:
      src: images/layers.svg
      alt: Three stacked bars labelled lining, wall and blood vessels
      caption: The gut wall has several layers.
  - heading: A decorative image
    body: The image in this section carries no information.
    figure:
      src: images/wave.svg
      alt: Decorative wave
      decorative: true
  - heading: A simple table
    table:
      caption: What is known
      header: [Question, Answer]
      rows:
        - ["Where is most immune tissue?", "In the gut"]
        - ["Do gut bacteria cause autoimmune disease?", "Not known"]
actions:
  - Ask your care team about this handout.
questions:
  - Is this handout right for me?
get_help:
  emergency:
    - You have chest pain or trouble breathing.
  today:
    - You feel worse.
  soon:
    - You have a question about this handout.
teach_back:
  - What is this handout about?
  - When do you call us today?
glossary:
  - term: figure
    definition: A picture that shows an idea.
reviewed:
  date: 2026-11-02
  by: Test Reviewer, MD
"""

LAYERS_SVG = """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 90" width="200" height="90">
<rect x="0" y="0" width="200" height="25" fill="#c9e4de"/><rect x="0" y="32" width="200" height="25" fill="#9cc7a8"/>
<rect x="0" y="64" width="200" height="25" fill="#386f47"/></svg>
"""
WAVE_SVG = """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 20" width="200" height="20">
<path d="M0 10 C50 0 50 20 100 10 C150 0 150 20 200 10" fill="none" stroke="#888" stroke-width="3"/></svg>
"""


@pytest.fixture(scope="module")
def figures(tmp_path_factory) -> Rendered:
    root = copy_project(tmp_path_factory.mktemp("figproj") / "proj", practices=["summit-rheumatology"])
    handouts = root / "content" / "handouts"
    (handouts / "images").mkdir(exist_ok=True)
    (handouts / "images" / "layers.svg").write_text(LAYERS_SVG)
    (handouts / "images" / "wave.svg").write_text(WAVE_SVG)
    (handouts / "figure-and-table.yml").write_text(FIGURE_HANDOUT)
    return Rendered(root, root / "output", "summit-rheumatology", "figure-and-table")


def struct_elements(pdf: pikepdf.Pdf) -> list[pikepdf.Dictionary]:
    """Every structure element reachable from the StructTreeRoot, in tree order."""
    found, stack, seen = [], [pdf.Root.StructTreeRoot], set()
    while stack:
        node = stack.pop()
        kids = node.get("/K")
        if kids is None:
            continue
        for kid in reversed(list(kids) if isinstance(kids, pikepdf.Array) else [kids]):
            if isinstance(kid, pikepdf.Dictionary) and kid.objgen not in seen:
                seen.add(kid.objgen)
                found.append(kid)
                stack.append(kid)
    return found


def tag_types(pdf: pikepdf.Pdf) -> set[str]:
    return {str(e.S) for e in struct_elements(pdf) if "/S" in e}


def pdffonts(path: Path) -> list[list[str]]:
    lines = subprocess.run([require_tool("pdffonts"), str(path)], capture_output=True, text=True,
                           check=True).stdout.splitlines()[2:]
    return [line.split() for line in lines if line.strip()]


def words_with_boxes(path: Path, page: int = 1) -> list[tuple[str, float, float, float, float]]:
    """Words on one page with their boxes (xMin, yMin, xMax, yMax), from pdftotext -bbox."""
    xml = subprocess.run(["pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(path), "-"],
                         capture_output=True, text=True, check=True).stdout
    return [(m.group(5), float(m.group(1)), float(m.group(2)), float(m.group(3)), float(m.group(4)))
            for m in re.finditer(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', xml)]


def media_and_trim(path: Path) -> tuple[list[float], list[float]]:
    with pikepdf.open(path) as pdf:
        page = pdf.pages[0].obj
        media = [float(v) for v in page.MediaBox]
        trim = [float(v) for v in page.get("/TrimBox", page.MediaBox)]
    return media, trim


# --------------------------------------------------------------------------- PDF/UA and file checks
def test_pdfinfo_reports_tagged_pdf_with_title(summit):
    info = subprocess.run([require_tool("pdfinfo"), str(summit.pdf)], capture_output=True, text=True,
                          check=True).stdout
    assert re.search(r"^Tagged:\s+yes$", info, re.M)
    assert re.search(r"^Title:\s+Your Gut and Your Immune System$", info, re.M)
    assert re.search(r"^Page size:\s+612 x 792 pts \(letter\)$", info, re.M)


@pytest.mark.parametrize("which", ["summit", "thames", "valle_es"])
def test_every_font_is_embedded_and_nothing_falls_back(which, request):
    rendered = request.getfixturevalue(which)
    fonts = pdffonts(rendered.pdf)
    assert fonts, "no fonts listed"
    for row in fonts:
        # columns from the right: object ID (2), uni, sub, emb
        emb = row[-5]
        assert emb == "yes", f"font not embedded: {row}"
    names = {row[0].split("+", 1)[-1] for row in fonts}
    # ...and the fonts the language records name for the language-help taglines (issue 22)
    from clinicpress.load.i18n import language
    from clinicpress.load.practice import load_practice

    practice = load_practice(ROOT / "practices" / "valle-community-health", ROOT) if which == "valle_es" else None
    taglines = tuple(f.replace(" ", "-") for tag in (practice.info.language_help if practice else [])
                     if (f := language(ROOT, tag).font))
    allowed = ("Atkinson-Hyperlegible", "Public-Sans", "SourceSerif4", "Source-Serif", *taglines)
    assert all(name.startswith(allowed) for name in names), f"fallback font used: {names}"


def test_qpdf_finds_no_problems(summit, thames, valle_es):
    qpdf = require_tool("qpdf")
    for rendered in (summit, thames, valle_es):
        proc = subprocess.run([qpdf, "--check", str(rendered.pdf)], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "No syntax or stream encoding errors found" in proc.stdout


@pytest.mark.parametrize("which", ["summit", "thames"])
def test_qr_code_reads_back_the_practice_url(which, request, tmp_path):
    rendered = request.getfixturevalue(which)
    zbarimg = require_tool("zbarimg")
    last = rendered.pages
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-f", str(last), "-l", str(last), str(rendered.pdf),
                    str(tmp_path / "page")], check=True)
    image = next(tmp_path.glob("page*.png"))
    proc = subprocess.run([zbarimg, "--quiet", "--raw", str(image)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert rendered.practice.qr_url in proc.stdout.split()


def test_structure_tree_language_title_and_pdfua_identifier(summit):
    with pikepdf.open(summit.pdf) as pdf:
        assert {"/H1", "/H2", "/P", "/L", "/LI", "/LBody", "/Figure", "/Sect"} <= tag_types(pdf)
        assert [str(e.get("/S")) for e in struct_elements(pdf)].count("/H1") == 1
        assert str(pdf.Root.Lang) == "en-US"
        assert pdf.Root.ViewerPreferences.DisplayDocTitle is True
        assert pdf.Root.MarkInfo.Marked is True
        with pdf.open_metadata() as meta:
            assert meta.get("pdfuaid:part") == "1"
            assert meta.get("dc:title") == "Your Gut and Your Immune System"
        figures = [e for e in struct_elements(pdf) if e.get("/S") == "/Figure"]
        assert figures and all(str(e.get("/Alt", "")).strip() for e in figures)
        alts = {str(e.Alt) for e in figures}
        assert "Summit Rheumatology" in alts  # the logo
        assert any(a.startswith("QR code") and "summit-rheumatology.example/book" in a for a in alts)


def test_running_footer_is_an_artifact_and_all_content_is_tagged(summit, thames):
    for rendered in (summit, thames):
        with pikepdf.open(rendered.pdf) as pdf:
            reachable = {e.objgen for e in struct_elements(pdf)}
            nums = pdf.Root.StructTreeRoot.ParentTree.Nums
            parent_tree = {int(nums[i]): nums[i + 1] for i in range(0, len(nums), 2)}
            for index, page in enumerate(pdf.pages):
                artifacts = 0
                for operands, op in pikepdf.parse_content_stream(page):
                    if str(op) != "BDC":
                        continue
                    props = operands[1]
                    if operands[0] == "/Artifact":
                        artifacts += props.get("/Type") == "/Pagination"
                    elif isinstance(props, pikepdf.Dictionary) and "/MCID" in props:
                        element = parent_tree[index][int(props.MCID)]
                        assert isinstance(element, pikepdf.Dictionary) and element.objgen in reachable, \
                            f"page {index + 1}: marked content {int(props.MCID)} is outside the structure tree"
                assert artifacts >= 2, f"page {index + 1}: footer and page number are not artifacts"
                if "/Annots" in page.obj:
                    assert page.obj.Tabs == "/S"


def test_citation_links_have_readable_descriptions(summit):
    with pikepdf.open(summit.pdf) as pdf:
        contents = [str(a.Contents) for page in pdf.pages for a in page.obj.get("/Annots", [])]
    assert "Reference 1" in contents
    assert not any(c.startswith("ref-") for c in contents)
    assert "https://summit-rheumatology.example/book" in contents


def test_table_header_cells_figures_and_decorative_images(figures):
    with pikepdf.open(figures.pdf) as pdf:
        elements = struct_elements(pdf)
        types = {str(e.get("/S")) for e in elements}
        assert {"/Table", "/TR", "/TH", "/TD", "/Caption", "/Figure"} <= types
        scopes = sorted(str(e.A.Scope) for e in elements if e.get("/S") == "/TH")
        assert scopes == ["/Column", "/Column", "/Row", "/Row"]
        alts = [str(e.get("/Alt", "")) for e in elements if e.get("/S") == "/Figure"]
        assert "Three stacked bars labelled lining, wall and blood vessels" in alts
        assert all(alts), "a figure in the structure tree has no alternative text"
        assert not any("wave" in a.lower() for a in alts), "the decorative image should be an artifact"
    assert "The gut wall has several layers." in figures.text()
    assert '<th scope="col">Question</th>' in figures.html
    assert '<th scope="row">Where is most immune tissue?</th>' in figures.html


# --------------------------------------------------------------------------- visible text
def test_text_title_message_footer_and_closing(summit):
    n = summit.pages
    first = summit.text(1)
    assert "Your Gut and Your Immune System" in first
    assert "Most of your immune system lives in your gut" in first
    assert f"Page 1 of {n}" in first
    for page in range(1, n + 1):
        text = summit.text(page)
        assert f"Page {page} of {n}" in text
        # the sign-off once per page: in the footer, and on the page of the closing block only
        # there (the footer leaves it out where the closing block prints it in full)
        assert len(re.findall(r"Reviewed \w+ \d+, \d{4} by Miriam Castellano, MD, FACR", text)) == 1
        assert "Summit Rheumatology · (303) 555-0142 · summit-rheumatology.example/book" in text
    last = " ".join(summit.text(n).split())
    assert "It does not replace advice from your own doctor or care team" in last
    assert "In an emergency, call 911 right away." in last
    assert "summit-rheumatology.example/book" in last  # printed beside the QR code
    body = " ".join(summit.text().split())
    for heading in ("What you can do", "Questions for your next visit", "When to get help",
                    "Words to know", "References"):
        assert heading in body


def _sign_off_pages(rendered: Rendered, pattern: str, disclaimer: str) -> list[tuple[int, int, bool]]:
    """(page, how often the sign-off prints there, whether the disclaimer is on it), for each page."""
    pages = []
    for page in range(1, rendered.pages + 1):
        text = " ".join(rendered.text(page).split())
        pages.append((page, len(re.findall(pattern, text)), disclaimer in text))
    return pages


def test_the_footer_leaves_out_the_sign_off_only_on_the_disclaimers_page(out):
    """The sign-off prints once on every page: in the footer, except on the page of the
    disclaimer, which prints it in full. In large print the closing block starts a page before
    its disclaimer: that page's footer keeps the sign-off (the footer's lines are named strings
    the disclaimer clears, so no page is laid out twice to learn them)."""
    large = Rendered(ROOT, out, "summit-rheumatology", "autism-and-gut-symptoms", variant=VARIANTS["large-print"])
    pages = _sign_off_pages(large, r"Reviewed \w+ \d+, \d{4} by Miriam Castellano, MD, FACR",
                            "It does not replace advice from your own doctor")
    assert [p for p, _, has_disclaimer in pages if has_disclaimer] == [large.pages], pages
    contact = [p for p in range(1, large.pages + 1) if "Contact us" in large.text(p)]
    assert contact == [large.pages - 1], "the test needs a closing block that starts a page before its disclaimer"
    assert all(count == 1 for _, count, _ in pages), pages


def test_an_unchecked_translation_says_so_in_the_footer_until_the_disclaimer(out):
    arabic = Rendered(ROOT, out, "valle-community-health", "gut-and-immune-system", language="ar")
    english_note = "Draft translation: needs review by a medical translator."
    for page in range(1, arabic.pages + 1):
        text = " ".join(arabic.text(page).split())
        footer_keeps_it = page < arabic.pages
        assert (english_note in text) == footer_keeps_it, (page, text[-400:])


def test_spanish_handout_uses_the_spanish_catalogue(valle_es):
    n = valle_es.pages
    assert 'lang="es-US"' in valle_es.html
    assert f"Página 1 de {n}" in valle_es.text(1)
    last = " ".join(valle_es.text(n).split())
    assert "En una emergencia, llame al 911 de inmediato." in last
    assert "Este folleto da información general." in last
    with pikepdf.open(valle_es.pdf) as pdf:
        assert str(pdf.Root.Lang) == "es-US"
        contents = [str(a.Contents) for page in pdf.pages for a in page.obj.get("/Annots", [])]
        assert "Referencia 1" in contents
    # Built-in English texts must not leak into the Spanish handout.
    for english in ("What you can do", "Words to know", "Page 1 of", "In an emergency"):
        assert english not in valle_es.text()


def test_uk_practice_gets_british_date_and_999(thames):
    text = " ".join(thames.text().split())
    assert re.search(r"Reviewed \d+ \w+ \d{4} by Dr Eleanor Hartley, FRCP", text)
    assert "Content team review 7 December 2026: ClinicPress medical writing team" in text
    assert "In an emergency, call 999 right away." in text


# --------------------------------------------------------------------------- paper and variants
def test_letter_and_a4_page_sizes(summit, out):
    a4 = Rendered(ROOT, out, "summit-rheumatology", HANDOUT, variant=Variant(paper="a4"), name="a4")
    media, _ = media_and_trim(summit.pdf)
    assert media[2:] == pytest.approx(LETTER, abs=0.1)
    media, _ = media_and_trim(a4.pdf)
    assert media[2:] == pytest.approx(A4, abs=0.1)


def test_practice_paper_setting_is_used(thames):
    media, _ = media_and_trim(thames.pdf)
    assert media[2:] == pytest.approx(A4, abs=0.1)


def _words_across_the_middle(rendered: Rendered) -> tuple[int, int]:
    """Counts body words on page 1 that cross the page's vertical middle, and all body words."""
    with pikepdf.open(rendered.pdf) as pdf:
        width, height = float(pdf.pages[0].MediaBox[2]), float(pdf.pages[0].MediaBox[3])
    words = [w for w in words_with_boxes(rendered.pdf) if height * 0.35 < w[2] < height * 0.85]
    return sum(1 for _, x0, _, x1, _ in words if x0 < width / 2 < x1), len(words)


def test_two_column_layout(thames, out):
    assert "cols-2" in thames.html
    crossing, total = _words_across_the_middle(thames)
    assert total > 150 and crossing == 0, "text runs across the gutter: not two columns"
    one_col = Rendered(ROOT, out, "thames-integrative-gi", HANDOUT, variant=Variant(columns=1), name="one-col")
    assert "cols-1" in one_col.html
    crossing, total = _words_across_the_middle(one_col)
    # (the gate diagram floats beside a few of page one's lines, which then stop short of the middle)
    assert crossing >= 5, "one-column text should run across the middle of the page"


def test_large_print_is_18pt_one_column_and_longer(summit, out):
    large = Rendered(ROOT, out, "summit-rheumatology", HANDOUT, variant=VARIANTS["large-print"])
    assert "large-print" in large.html and "cols-1" in large.html
    assert large.pages > summit.pages

    assert body_size(summit) == pytest.approx(12, abs=0.01)
    assert body_size(large) == pytest.approx(18, abs=0.01)


def body_size(rendered: Rendered) -> float:
    """The size in points of the section paragraphs on page one."""
    document = rendered.document()
    sizes = []
    for box, ancestors in _content_boxes(document.pages[0]):
        if getattr(box, "element_tag", None) == "p" and not box.element.get("class") and \
                ancestors[-1].element.get("class") == "section":
            sizes.append(box.style["font_size"])
    assert sizes
    return min(sizes) * 0.75  # px → pt


def test_brand_base_size_sets_the_body_size(tmp_path, out):
    # A brand that asks for typography.base.size: 13pt gets 13 pt body text; large print stays 18 pt.
    root = copy_project(tmp_path / "proj", practices=["valle-community-health"])
    brand = root / "practices" / "valle-community-health" / "_brand.yml"
    text = brand.read_text(encoding="utf-8")
    assert "    size: 12pt" in text
    brand.write_text(text.replace("    size: 12pt", "    size: 13pt", 1), encoding="utf-8")
    bigger = Rendered(root, tmp_path / "out", "valle-community-health", HANDOUT, language="es")
    assert "--base-size: 13pt;" in bigger.html
    assert body_size(bigger) == pytest.approx(13, abs=0.01)
    large = Rendered(root, tmp_path / "out", "valle-community-health", HANDOUT, language="es",
                     variant=VARIANTS["large-print"])
    assert body_size(large) == pytest.approx(18, abs=0.01)


def test_print_shop_has_3mm_bleed_and_trim_box(out):
    shop = Rendered(ROOT, out, "summit-rheumatology", HANDOUT, variant=VARIANTS["print-shop"])
    media, trim = media_and_trim(shop.pdf)
    bleed = 3 * MM
    assert trim == pytest.approx([0, 0, *LETTER], abs=0.1)
    assert media == pytest.approx([-bleed, -bleed, LETTER[0] + bleed, LETTER[1] + bleed], abs=0.1)
    with pikepdf.open(shop.pdf) as pdf:
        assert [float(v) for v in pdf.pages[0].BleedBox] == pytest.approx(media, abs=0.1)


def test_build_command_writes_every_variant(tmp_path):
    out = tmp_path / "out"
    proc = run_build("build", "--root", str(ROOT), "--output", str(out), "--practice", "summit-rheumatology",
                     "--only", HANDOUT, "--variant", "standard", "--variant", "large-print",
                     "--variant", "print-shop", "-q")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    folder = out / "summit-rheumatology"
    for stem in (HANDOUT, f"{HANDOUT}.large-print", f"{HANDOUT}.print-shop"):
        assert (folder / f"{stem}.pdf").read_bytes().startswith(b"%PDF-1.7")
        html = (folder / f"{stem}.html").read_text(encoding="utf-8")
        assert "<h1>Your Gut and Your Immune System</h1>" in html


# --------------------------------------------------------------------------- typography (layout)
def _boxes(box, ancestors: tuple = ()):
    """Yields (box, ancestors) for a box tree; ancestors are the enclosing boxes, outermost first."""
    yield box, ancestors
    for child in getattr(box, "children", ()):
        yield from _boxes(child, (*ancestors, box))


def _content_boxes(page):
    """Yields (box, ancestors) for the page's flowing content (margin boxes left out)."""
    for box, ancestors in _boxes(page._page_box):
        if not any(type(a).__name__ == "MarginBox" for a in (*ancestors, box)):
            yield box, ancestors


SMALL_TYPE = {"references", "closing", "mm-label", "cite"}


def _in_small_type(box, ancestors) -> bool:
    for b in (*ancestors, box):
        element = getattr(b, "element", None)
        if element is None:
            continue
        if set((element.get("class") or "").split()) & SMALL_TYPE or element.tag in ("figcaption", "sup", "header"):
            return True
    return False


@pytest.mark.parametrize("which", ["summit", "thames", "valle_es"])
def test_patient_text_is_at_least_12pt_with_line_height_1_5(which, request):
    rendered = request.getfixturevalue(which)
    document = rendered.document()
    checked = 0
    for page in document.pages:
        for box, ancestors in _content_boxes(page):
            if type(box).__name__ != "TextBox" or not box.text.strip() or box.element is None:
                continue
            if _in_small_type(box, ancestors) or box.element.tag in ("h1", "h2", "h3"):
                continue
            size_pt = box.style["font_size"] * 0.75
            assert size_pt >= 12 - 0.01, f"{box.text!r} is {size_pt:.1f} pt"
            line_height = box.style["line_height"]
            pseudo = "::" in (box.element_tag or "")  # list numbers drawn in circles
            if line_height != "normal" and box.element.tag in ("p", "li", "dd") and not pseudo:
                if isinstance(line_height, (int, float)):
                    ratio = line_height  # a unitless factor
                else:
                    ratio = line_height.value / (1 if line_height.unit is None else box.style["font_size"])
                assert ratio >= 1.5 - 0.01, f"{box.text!r} has line height {ratio}"
            checked += 1
    assert checked > 60  # every text box of a two-page handout


def test_callouts_and_boxes_are_never_split_across_pages(summit, thames, valle_es):
    for rendered in (summit, thames, valle_es):
        document = rendered.document()
        pages_of: dict[int, set[int]] = {}
        for number, page in enumerate(document.pages):
            for box, _ in _content_boxes(page):
                element = box.element if getattr(box, "element", None) is not None else None
                if element is None:
                    continue
                classes = set((element.get("class") or "").split())
                if classes & {"box", "callout", "main-message", "closing-row", "disclaimer"}:
                    pages_of.setdefault(id(element), set()).add(number)
        assert pages_of
        split = [k for k, v in pages_of.items() if len(v) > 1]
        assert not split, f"{len(split)} boxes split across pages in {rendered.pdf.name}"


def test_no_widows_or_orphans_in_body_paragraphs(summit, thames):
    for rendered in (summit, thames):
        document = rendered.document()
        lines_per_page: dict[int, dict[int, int]] = {}
        for number, page in enumerate(document.pages):
            for box, _ in _content_boxes(page):
                if type(box).__name__ == "LineBox" and box.element is not None and box.element.tag == "p":
                    lines_per_page.setdefault(id(box.element), {}).setdefault(number, 0)
                    lines_per_page[id(box.element)][number] += 1
        for counts in lines_per_page.values():
            if len(counts) > 1:
                assert min(counts.values()) >= 2, f"a paragraph leaves a single line on a page: {counts}"


def test_hyphenation_follows_the_document_language(summit, valle_es):
    assert 'lang="en-US"' in summit.html
    assert "hyphens: auto" in summit.html
    assert 'hyphenate-character: "-"' in summit.html  # U+2010 is not in Atkinson Hyperlegible


# --------------------------------------------------------------------------- HTML for browsers
def test_html_is_the_same_document_and_has_a_screen_layout(summit):
    html = summit.html
    assert html.startswith("<!DOCTYPE html>")
    assert "@media screen" in html and "max-width" in html
    assert "file://" not in html
    assert "<link" not in html  # no attachments or external stylesheets
    assert re.search(r'<div class="running-footer[^"]*" aria-hidden="true">', html)
    # fonts are loaded with url() relative to the output folder, never local()
    assert "local(" not in html
    assert re.search(r'url\("(\.\./)+([\w.-]+/)*templates/handout/fonts/AtkinsonHyperlegible-Regular\.ttf"\)', html)


@pytest.mark.slow
def test_chromium_renders_the_html_copy(summit, tmp_path):
    chromium = require_tool("chromium")
    shot = tmp_path / "screen.png"
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", f"--screenshot={shot}",
                    "--window-size=1000,1400", summit.pdf.with_suffix(".html").as_uri()],
                   capture_output=True, timeout=120)
    assert shot.exists() and shot.stat().st_size > 20_000
    from PIL import Image

    image = Image.open(shot).convert("RGB")
    # The page is centred on a grey background: both margins are grey, the middle is white.
    assert image.getpixel((10, 700)) == image.getpixel((990, 700)) != (255, 255, 255)
    middle = [image.getpixel((x, y)) for x in range(300, 700, 4) for y in range(600, 800, 20)]
    assert sum(p == (255, 255, 255) for p in middle) > 0.6 * len(middle)  # white paper (text is sparse)


# --------------------------------------------------------------------------- small units
def test_css_strings_are_escaped_for_style_elements():
    assert css_str('Font "X" </style>') == '"Font \\22 X\\22  \\3c /style\\3e "'
    assert css_counter_content("Page {page} of {pages}") == '"Page " counter(page) " of " counter(pages)'
    assert css_counter_content("{page}/{pages}") == 'counter(page) "/" counter(pages)'


def test_box_split_gives_the_longer_list_more_room():
    long_items = ["A step of about forty-five characters in all."] * 4
    short_items = ["Short?"] * 4
    left, right = (float(x.removesuffix("fr")) for x in box_split(long_items, short_items, "Do", "Ask").split())
    assert left > right
    assert box_split(["Same"] * 3, ["Same"] * 3, "A", "B") == "0.50fr 0.50fr"


def test_sections_with_tables_are_grouped_as_wide_runs():
    from types import SimpleNamespace as S

    sections = [S(table=None), S(table=None), S(table=object()), S(table=None)]
    groups = section_groups(sections)
    assert [(g["wide"], len(g["sections"])) for g in groups] == [(False, 2), (True, 1), (False, 1)]


def test_theme_colours_are_checked_for_contrast():
    assert contrast("#ffffff", "#000000") == pytest.approx(21)
    from clinicpress.load.theme import DEFAULT_COLORS, Theme
    from clinicpress.render.handout import css_variables

    theme = Theme(colors={**DEFAULT_COLORS, "primary": "#ffd27a", "foreground": "#1f2933;}body{x:y"})
    values = css_variables(theme, band_dark=True)
    assert values["c-fg"] == DEFAULT_COLORS["foreground"].lower()  # not a hex colour → default
    assert contrast(values["c-on-primary"], "#ffd27a") >= 4.5  # light primary gets dark text
    assert contrast(values["c-link"], "#ffffff") >= 4.5


def css_vars_of(html: str) -> dict[str, str]:
    """The --name: value custom properties the template writes into :root."""
    return dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6});", html))


def test_pale_brand_prints_readable_text_colours(tmp_path):
    # A pale primary (2.1:1 on white, and white on it) with headings in that colour: the HTML's
    # text colours are substitutes that meet 4.5:1 where they are printed (clinicpress/colour.py).
    root = copy_project(tmp_path / "proj", practices=["summit-rheumatology"])
    brand = root / "practices" / "summit-rheumatology" / "_brand.yml"
    text = brand.read_text(encoding="utf-8")
    text = text.replace("  primary: navy", "  primary: '#7FB3E0'").replace("    color: navy", "    color: primary")
    brand.write_text(text, encoding="utf-8")
    project = load_project(root, practices=["summit-rheumatology"])
    source = next(s for s in project.handouts if s.slug == HANDOUT and s.language == "en")
    practice = project.practices["summit-rheumatology"]
    assert practice.theme.colors["primary"] == "#7FB3E0" and practice.theme.heading_color == "#7FB3E0"
    html = render_html(source.model, practice, project.bibliography, VARIANTS["standard"], Templates(root),
                       source.path.parent, tmp_path / "out")
    v = css_vars_of(html)
    assert v["c-primary"] == "#7fb3e0"  # fills keep the brand colour
    for name in ("c-heading", "c-link"):
        for surface in ("c-bg", "c-tint"):
            assert contrast(v[name], v[surface]) >= 4.5, (name, v[name], surface, v[surface])
        assert v[name] != "#7fb3e0"
    assert contrast(v["c-link"], v["c-light"]) >= 4.5
    for name in ("c-muted", "c-secondary-text", "c-danger", "c-fg"):
        assert contrast(v[name], v["c-bg"]) >= 4.5, name
    assert contrast(v["c-fg"], v["c-tint"]) >= 4.5 and contrast(v["c-fg"], v["c-light"]) >= 4.5
    assert contrast(v["c-on-primary"], v["c-primary"]) >= 4.5  # table headers, step numbers
    assert contrast(v["c-on-band"], v["c-band"]) >= 4.5
    assert contrast(v["c-on-danger"], v["c-danger"]) >= 4.5
