"""Pictures (issues 20 and 21): the library's icons and diagrams in the printed handouts, their
alternative text in the PDF structure tree, the practice's colour in the drawing, and the
located errors a writer gets for a missing alt text, an unknown picture or a bad SVG file.

Every PDF here is built by `python build.py` into a temporary folder and reopened with pikepdf.
"""
from __future__ import annotations

import re
from pathlib import Path

import pikepdf
import pytest
from conftest import ROOT, copy_project, run_build

from clinicpress.load.pictures import load_pictures
from clinicpress.load.project import load_project, walk_figures, walk_icons

VALLE = "valle-community-health"


# --------------------------------------------------------------------------- helpers
def pdf_figures(pdf: pikepdf.Pdf) -> list[pikepdf.Dictionary]:
    """Every Figure of the structure tree, in reading order."""
    out: list[pikepdf.Dictionary] = []

    def walk(node) -> None:
        if isinstance(node, pikepdf.Array):
            for kid in node:
                walk(kid)
        elif isinstance(node, pikepdf.Dictionary) and "/S" in node:
            if node.S == "/Figure":
                out.append(node)
            if "/K" in node:
                walk(node.K)

    walk(pdf.Root.StructTreeRoot.K)
    return out


def expected_alts(src) -> list[str]:
    """The alternative texts the content asks for, in document order: each figure's alt and
    each icon's meaning in the content's language."""
    library, _ = load_pictures(ROOT)
    found = [(loc, fig.alt) for loc, fig in walk_figures(src.model) if not fig.decorative]
    found += [(loc, library.alt(name, src.language)) for loc, name in walk_icons(src.model)]
    return [alt for _, alt in sorted(found, key=lambda item: _order(item[0]))]


def _order(loc: tuple) -> tuple:
    # a section's icon sits in its heading, before its figure and its callout
    rank = {"icon": 0, "figure": 1, "callout": 2}
    return tuple((rank.get(p, 3), 0) if isinstance(p, str) else (-1, p) for p in loc)


def figure_colours(pdf: pikepdf.Pdf, figure: pikepdf.Dictionary) -> set[tuple[str, tuple[float, ...]]]:
    """The colour operators drawn inside a Figure's marked content on its page."""
    mcids = {int(k) for k in (figure.K if isinstance(figure.K, pikepdf.Array) else [figure.K])
             if isinstance(k, (int, pikepdf.Object)) and not isinstance(k, pikepdf.Dictionary)}
    page = pikepdf.Page(figure.Pg)
    colours: set[tuple[str, tuple[float, ...]]] = set()
    stack: list[int | None] = []
    for operands, op in pikepdf.parse_content_stream(page):
        name = str(op)
        if name in ("BDC", "BMC"):
            props = operands[1] if name == "BDC" and len(operands) > 1 else None
            stack.append(int(props.MCID) if isinstance(props, pikepdf.Dictionary) and "/MCID" in props else None)
        elif name == "EMC":
            stack.pop()
        elif name in ("rg", "RG", "sc", "SC", "scn", "SCN") and stack and stack[-1] in mcids:
            colours.add((name, tuple(round(float(x), 2) for x in operands)))
    return colours


def rgb(hex_colour: str) -> tuple[float, ...]:
    return tuple(round(int(hex_colour[i:i + 2], 16) / 255, 2) for i in (1, 3, 5))


# --------------------------------------------------------------------------- handouts
@pytest.fixture(scope="module")
def valle_handouts(tmp_path_factory) -> Path:
    """Every shipped handout, English and Spanish, as Valle prints them (standard variant)."""
    out = tmp_path_factory.mktemp("pictures")
    proc = run_build("build", "--practice", VALLE, "--format", "pdf", "--variant", "standard",
                     "--output", str(out), "-q")
    assert proc.returncode == 0, proc.stderr
    return out / VALLE


def test_every_shipped_handout_prints_its_pictures_with_their_alt_text(valle_handouts):
    """Issue 20: every handout carries at least one picture with meaning; each is a Figure of the
    structure tree whose /Alt is the content's alt text (or the icon's meaning, in the handout's
    language), in reading order, and no Figure lacks an /Alt."""
    project = load_project(ROOT, practices=[VALLE])
    assert len(project.handouts) == 24  # 10 in English, 10 in Spanish, 2 in Arabic, 2 in Chinese
    for src in project.handouts:
        name = src.slug + (f".{src.language}" if src.language != "en" else "") + ".pdf"
        wanted = expected_alts(src)
        assert wanted, f"{src.key}: the content names no picture"
        with pikepdf.open(valle_handouts / name) as pdf:
            alts = [str(f.get("/Alt", "")) for f in pdf_figures(pdf)]
        assert all(alts), f"{name}: a Figure without /Alt: {alts}"
        # the logo comes first and the QR code last; the pictures are the figures between them
        assert alts[1:-1] == wanted, name


def test_pictures_are_drawn_in_the_practice_colour(tmp_path):
    """Issue 20: a picture takes the practice's primary colour: change the brand's primary and
    every colour drawn inside each picture's Figure is the new colour."""
    proj = copy_project(tmp_path / "proj", practices=["summit-rheumatology"])
    brand = proj / "practices" / "summit-rheumatology" / "_brand.yml"
    brand.write_text(re.sub(r"(?m)^  primary: navy$", '  primary: "#6A1B9A"', brand.read_text()))
    out = tmp_path / "out"
    proc = run_build("build", "--root", str(proj), "--only", "gut-and-immune-system", "--format", "pdf",
                     "--variant", "standard", "--output", str(out), "-q")
    assert proc.returncode == 0, proc.stderr
    src = next(s for s in load_project(proj).handouts if s.key == "handout:gut-and-immune-system:en")
    wanted = set(expected_alts(src))
    with pikepdf.open(out / "summit-rheumatology" / "gut-and-immune-system.pdf") as pdf:
        pictures = [f for f in pdf_figures(pdf) if str(f.get("/Alt", "")) in wanted]
        assert len(pictures) == len(wanted) == 3
        for figure in pictures:
            colours = {values for _, values in figure_colours(pdf, figure)}
            assert colours == {rgb("#6A1B9A")}, (str(figure.Alt), colours)


def _error_lines(proc) -> str:
    assert proc.returncode != 0, proc.stdout
    return proc.stdout + proc.stderr


def test_picture_mistakes_are_located_errors(tmp_path):
    """Issue 20: a figure without alt text, an unknown icon or picture name, and a practice's
    replacement SVG that could run a script are errors naming the file, line and field, with a
    hint; nothing is built."""
    proj = copy_project(tmp_path / "proj", practices=["summit-rheumatology"])
    gut = proj / "content" / "handouts" / "gut-and-immune-system.yml"
    gut.write_text(re.sub(r'(?m)^      alt: "A row of cells.*\n', "", gut.read_text()))  # the gate's alt text
    stress = proj / "content" / "handouts" / "stress-the-brain-and-the-gut.yml"
    stress.write_text(stress.read_text().replace("icon: stress", "icon: stres", 1)
                      .replace("src: gut-brain", "src: gut-brian", 1))

    def line_of(path: Path, needle: str) -> int:
        return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)

    own = proj / "practices" / "summit-rheumatology" / "templates" / "pictures" / "icons"
    own.mkdir(parents=True)
    (own / "bacteria.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 48 48">\n'
                                 '<script>alert(1)</script>\n<path d="M0 0h48v48z" fill="currentColor"/>\n</svg>\n')
    out = _error_lines(run_build("check", "--root", str(proj)))
    shown = "content/handouts/gut-and-immune-system.yml"
    assert f"{shown}:{line_of(gut, 'figure:')}:5: error: sections[2].figure.alt: required field is missing\n" \
           "    hint: Alternative text" in out, out
    shown = "content/handouts/stress-the-brain-and-the-gut.yml"
    assert (f"{shown}:{line_of(stress, 'icon: stres')}: error: sections[2].icon: unknown icon 'stres'\n"
            "    hint: did you mean 'stress'?") in out, out
    assert (f"{shown}:{line_of(stress, 'src: gut-brian')}: error: sections[0].figure.src: unknown picture 'gut-brian'\n"
            "    hint: did you mean 'gut-brain'?") in out, out
    assert ("practices/summit-rheumatology/templates/pictures/icons/bacteria.svg:2: error: picture: contains a <script>"
            in out), out
    assert "nothing was written" in out


# --------------------------------------------------------------------------- slides
NOT_CONTENT = ("title", "section", "references", "closing")


def slide_pictures(slide) -> list:
    """The pictures of a slide that carry content (the practice logo and the QR code left out)."""
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    return [s for s in slide.shapes if s.shape_type == MSO_SHAPE_TYPE.PICTURE
            and not s.name.startswith(("Logo", "QR"))]


def main_colour(blob: bytes) -> tuple[int, int, int]:
    """The most common colour of a picture's opaque pixels."""
    import io

    from PIL import Image

    with Image.open(io.BytesIO(blob)) as im:
        counts = im.convert("RGBA").getcolors(1 << 24) or []
    (n, (red, green, blue, _)), *_ = sorted(((n, c) for n, c in counts if c[3] == 255), reverse=True)
    return red, green, blue


@pytest.fixture(scope="module")
def talks(tmp_path_factory) -> dict[str, Path]:
    """The shipped talk as Summit builds it (English) and as Valle builds it (Spanish too)."""
    out = tmp_path_factory.mktemp("talks")
    for practice in ("summit-rheumatology", VALLE):
        proc = run_build("build", "--practice", practice, "--format", "pptx", "--no-slide-images",
                         "--output", str(out), "-q")
        assert proc.returncode == 0, proc.stderr
    return {"en": out / "summit-rheumatology" / "gut-and-autoimmune-disease.pptx",
            "es": out / VALLE / "gut-and-autoimmune-disease.es.pptx"}


def test_the_talk_shows_pictures_with_descriptions_in_the_brand_colour(talks):
    """Issue 21: at least a third of the talk's content slides carry a picture; every picture has
    its description (alt text) in the PPTX and is described in the slide's speaker notes; the
    library's pictures are drawn in the practice's primary colour."""
    from pptx import Presentation

    project = load_project(ROOT, practices=["summit-rheumatology", VALLE])
    navy = "#0B3C5D"  # Summit's primary (practices/summit-rheumatology/_brand.yml)
    assert navy.lower() in (ROOT / "practices" / "summit-rheumatology" / "_brand.yml").read_text().lower()
    for language, path in talks.items():
        src = next(s for s in project.decks if s.language == language)
        kinds = [sl.layout for sl in src.model.slides]
        prs = Presentation(str(path))
        content = [(slide, kind) for slide, kind in zip(prs.slides, kinds, strict=False) if kind not in NOT_CONTENT]
        with_picture = [slide for slide, _ in content if slide_pictures(slide)]
        assert len(content) >= 25 and 3 * len(with_picture) >= len(content), (len(with_picture), len(content))
        assert {kind for slide, kind in content if slide_pictures(slide)} >= {"diagram", "icon_row", "two_column"}
        for n, slide in enumerate(prs.slides, 1):
            notes = slide.notes_slide.notes_text_frame.text.casefold() if slide.has_notes_slide else ""
            for picture in slide_pictures(slide):
                alt = picture._element.nvPicPr.cNvPr.get("descr") or ""
                assert len(alt) > 3, f"{path.name} slide {n}: picture {picture.name!r} has no description"
                assert alt.casefold() in notes, f"{path.name} slide {n}: the notes do not describe {alt!r}"
        if language == "en":
            colours = {main_colour(p.image.blob) for slide, _ in content for p in slide_pictures(slide)}
            assert colours == {tuple(int(navy[i:i + 2], 16) for i in (1, 3, 5))}, colours


def test_a_slide_left_mostly_empty_is_warned(tmp_path):
    """Issue 21: a content slide whose text leaves more than 40% of the body area empty gets a
    deck.empty warning naming the slide and the YAML line; the same slide with a picture beside
    its text (layout: diagram) does not."""
    proj = copy_project(tmp_path / "proj", practices=["summit-rheumatology"])
    deck = proj / "content" / "decks" / "gut-and-autoimmune-disease.yml"
    text = deck.read_text()
    start = text.index("    title: What a good evaluation covers\n")
    end = text.index("    notes:", start)
    deck.write_text(text[:start] + "    title: What a good evaluation covers\n    bullets:\n"
                    "      - Your symptoms and how they change over time\n"
                    "      - Your health history and your family's\n"
                    "      - All medicines, vitamins and supplements\n" + text[end:])
    line = deck.read_text()[:start].count("\n")  # the slide's "- layout:" line, 1-based
    args = ("build", "--root", str(proj), "--only", "gut-and-autoimmune-disease", "--format", "pptx",
            "--no-slide-images", "--output", str(tmp_path / "out"))
    proc = run_build(*args)
    out = proc.stdout + proc.stderr
    assert re.search(rf"gut-and-autoimmune-disease\.yml:{line}: .*'What a good evaluation covers'\) leaves "
                     r"\d+% of its body area empty \(at most 40%\) \[deck\.empty\]", out), out
    text = deck.read_text()
    deck.write_text(text[:start - len("  - layout: bullets\n")] + "  - layout: diagram\n"
                    "    image: {src: clinician, alt: An icon of a clinician.}\n" + text[start:])
    proc = run_build(*args)
    assert "What a good evaluation covers') leaves" not in proc.stdout + proc.stderr


def test_a_library_picture_rasterises_to_the_same_bytes_every_time():
    """Issue 21: slides carry library pictures as PNGs made at build time (python-pptx 1.0.2
    cannot insert SVG, and LibreOffice 7.4 draws only a picture's PNG, not PowerPoint's svgBlip
    extension): the same picture in the same colour gives the same bytes, so builds reproduce."""
    from clinicpress.render.deck.pictures import markup_png
    from clinicpress.render.pictures import svg_markup

    library, problems = load_pictures(ROOT)
    assert not problems
    markup = str(svg_markup(library.file("gut-gate"), "#0b3c5d", None, "picture"))
    first = markup_png.__wrapped__(markup, 600)
    assert first[:8] == b"\x89PNG\r\n\x1a\n" and markup_png.__wrapped__(markup, 600) == first
    assert main_colour(first) == (0x0B, 0x3C, 0x5D)


def test_a_step_can_carry_an_icon(tmp_path):
    """Issue 20: a numbered step may be `{text, icon}`: the icon prints beside the step as a
    Figure whose /Alt is its meaning; an unknown icon there is an error at its line."""
    proj = copy_project(tmp_path / "proj", practices=["summit-rheumatology"])
    handout = proj / "content" / "handouts" / "chronic-pain-and-autoimmune-disease.yml"
    step = "      - Rate your pain each day from 0 (no pain) to 10 (worst pain).\n"
    text = handout.read_text()
    assert step in text
    handout.write_text(text.replace(step, "      - text: Rate your pain each day from 0 (no pain) to 10 (worst pain).\n"
                                          "        icon: pain\n"))
    out = tmp_path / "out"
    proc = run_build("build", "--root", str(proj), "--only", "chronic-pain-and-autoimmune-disease", "--format",
                     "pdf", "--variant", "standard", "--output", str(out), "-q")
    assert proc.returncode == 0, proc.stderr
    src = next(s for s in load_project(proj).handouts if s.slug == "chronic-pain-and-autoimmune-disease")
    wanted = expected_alts(src)
    assert "Pain" in wanted
    with pikepdf.open(out / "summit-rheumatology" / "chronic-pain-and-autoimmune-disease.pdf") as pdf:
        alts = [str(f.get("/Alt", "")) for f in pdf_figures(pdf)]
    assert alts[1:-1] == wanted
    handout.write_text(handout.read_text().replace("        icon: pain\n", "        icon: pains\n"))
    line = next(i for i, t in enumerate(handout.read_text().splitlines(), 1) if "icon: pains" in t)
    bad = _error_lines(run_build("check", "--root", str(proj)))
    assert (f"chronic-pain-and-autoimmune-disease.yml:{line}: error: sections[3].steps[0].icon: "
            "unknown icon 'pains'") in bad, bad
