"""Practices: brand.yml themes and warnings, contrast, the scaffold, template overrides,
a practice's own .potx master, and the sample practices' branding in real outputs."""
from __future__ import annotations

import io
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT, copy_project, require_tool, run_build

from clinicpress.errors import UserError
from clinicpress.load import schema
from clinicpress.load.practice import load_practice
from clinicpress.load.theme import parse_color

HANDOUT = "gut-and-immune-system"
DECK = "gut-and-autoimmune-disease"
SAMPLES = ("summit-rheumatology", "thames-integrative-gi", "valle-community-health")
SUMMIT = ROOT / "practices" / "summit-rheumatology"


BRAND_DIR = Path(__file__).resolve().parent / "fixtures" / "brand-yml"
"""The brand.yml project's example files, committed with the tests (no test reads a folder outside the repo)."""
BRAND_FILES = sorted(p.name for p in BRAND_DIR.glob("*.yml"))


def make_practice(project: Path, slug: str, brand: str | None = None, *, brand_file: Path | None = None,
                  practice_extra: str = "") -> Path:
    """Adds practices/<slug>/ to `project`: Summit's practice.yml and the given _brand.yml."""
    folder = project / "practices" / slug
    folder.mkdir(parents=True)
    (folder / "practice.yml").write_text((SUMMIT / "practice.yml").read_text(encoding="utf-8") + practice_extra,
                                         encoding="utf-8")
    if brand_file is not None:
        shutil.copy(brand_file, folder / "_brand.yml")
    elif brand is not None:
        (folder / "_brand.yml").write_text(brand, encoding="utf-8")
    return folder


def pdf_text(path: Path) -> str:
    require_tool("pdftotext")
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


def words(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def bare(tmp_path: Path) -> Path:
    """An empty project folder (practices are added by each test)."""
    (tmp_path / "practices").mkdir()
    return tmp_path


# --------------------------------------------------------------------------- sample practices load
@pytest.mark.parametrize("slug", SAMPLES)
def test_sample_practice_loads_without_warnings(slug: str):
    ctx = load_practice(ROOT / "practices" / slug, ROOT)
    assert ctx.warnings == (), [str(w) for w in ctx.warnings]
    medium = ctx.theme.logo("medium")
    assert medium is not None and medium.light.parent == ROOT / "practices" / slug
    assert medium.alt and ctx.info.name.split()[0] in medium.alt


def test_sample_themes_differ_and_honour_the_brand():
    themes = {s: load_practice(ROOT / "practices" / s, ROOT).theme for s in SAMPLES}
    assert len({t.colors["primary"] for t in themes.values()}) == 3
    assert themes["summit-rheumatology"].colors["primary"] == "#0B3C5D"      # palette name "navy"
    assert themes["summit-rheumatology"].heading_family == "Public Sans"
    assert themes["thames-integrative-gi"].heading_family == "Source Serif 4"
    assert themes["thames-integrative-gi"].heading_color == "#1E5A43"       # headings.color: forest
    assert themes["valle-community-health"].base_size_pt == 12               # typography.base.size: 12pt
    assert themes["summit-rheumatology"].palette["teal"] == "#0B7372"


# --------------------------------------------------------------------------- brand.yml fixtures
def test_palette_names_resolve_on_the_posit_fixture(bare: Path):
    folder = make_practice(bare, "posit", brand_file=BRAND_DIR / "brand-color-palette-posit.yml")
    theme = load_practice(folder, bare).theme
    assert theme.colors["primary"] == "#447099"
    assert theme.colors["foreground"] == "#151515"
    assert theme.colors["danger"] == "#9A4665"
    assert theme.colors["secondary"] == "#707073"       # a hex value next to palette names
    assert theme.palette["orange"] == "#EE6331"


EXPECTED_WARNINGS = {
    "brand-color-palette-posit.yml": [],  # everything honoured
    "brand-logo-full.yml": [
        (9, "logo.images.both", "light/dark pair inside logo.images"),
        (8, "logo.images.icon", "'favicon.png' not found"),
        (3, "logo.images.primary", "'full-color.png' not found"),
        (5, "logo.images.reverse", "'full-color-reverse.png' not found"),
        (4, "logo.images.primary-svg", "'full-color.svg' not found"),
    ],
    "brand-typography-fonts.yml": [
        (11, "typography.fonts[0].files[0].path", "'fonts/open-sans/OpenSans-Variable.ttf' not found"),
        (12, "typography.fonts[0].files[1].path", "OpenSans-Variable-Italic.ttf' not found"),
        (19, "typography.fonts[1].files[0].path", "'https://example.com/Closed-Sans-Bold.woff2' is remote"),
        (21, "typography.fonts[1].files[1].path", "is remote"),
        (25, "typography.fonts[2]", "'Roboto Slab' comes from Google Fonts"),
        (31, "typography.fonts[3]", "'Fira Code' comes from Bunny Fonts"),
        (37, "typography.base.family", "'Open Sans' has no usable files"),
        (38, "typography.base.line-height", "line-height 1.25 is below 1.5"),
        (42, "typography.headings.family", "'Roboto Slab' comes from Google Fonts"),
    ],
}


EXPECTED_CONTRAST = {
    # Text colour pairs below 4.5:1 are reported with the colour handouts and slides print instead
    # (clinicpress/colour.py); only body text (foreground on background) failing stops a build.
    "brand-color-palette-posit.yml": [
        (13, "color.primary", "primary text (#447099) on tertiary (#C2C2C4) has contrast 2.93:1, below 4.5:1; "
                              "handouts and slides print it as #404041"),
    ],
    "brand-logo-full.yml": [],
    "brand-typography-fonts.yml": [
        (4, "color.primary", "primary text (#F24242) on background (#FFFFFF) has contrast 3.73:1, below 4.5:1; "
                             "handouts and slides print it as #1F2933"),
        (4, "color.primary", "background text (#FFFFFF) on primary (#F24242) has contrast 3.73:1, below 4.5:1; "
                             "handouts and slides print it as #000000"),
        (4, "color.primary", "primary text (#F24242) on tertiary (#E4ECF5) has contrast 3.13:1, below 4.5:1; "
                             "handouts and slides print it as #1F2933"),
        (43, "typography.headings.color", "heading text (#F24242) on background (#FFFFFF) has contrast 3.73:1, "
                                          "below 4.5:1; handouts and slides print it as #1F2933"),
    ],
}


def test_every_fixture_has_expected_warnings():
    assert set(BRAND_FILES) <= set(EXPECTED_WARNINGS), "a new brand fixture needs its expected warnings here"
    assert set(BRAND_FILES) <= set(EXPECTED_CONTRAST), "a new brand fixture needs its expected contrast warnings"


@pytest.mark.parametrize("name", BRAND_FILES)
def test_brand_fixture_loads_with_located_warnings(bare: Path, name: str):
    folder = make_practice(bare, "fixture", brand_file=BRAND_DIR / name)
    ctx = load_practice(folder, bare)
    found = [(w.line, w.field, w.message) for w in ctx.warnings]
    for line, field, text in EXPECTED_WARNINGS[name]:
        assert any(line == fl and field == ff and text in fm for fl, ff, fm in found), \
            f"no warning {field} at line {line} containing {text!r}; got:\n" + "\n".join(map(str, ctx.warnings))
    for w in ctx.warnings:
        assert w.severity == "warning"
        assert w.path == "practices/fixture/_brand.yml" and w.line and w.field, str(w)


def build_fixture(tmp_path: Path, name: str):
    """Builds the sample handout (PDF) and deck (PPTX) for a practice whose _brand.yml is `name`,
    with default settings; returns the process and the output folder of the practice."""
    project = copy_project(tmp_path / "proj", practices=[])
    make_practice(project, "fixture", brand_file=BRAND_DIR / name)
    out = tmp_path / "out"
    proc = run_build("--root", str(project), "--practice", "fixture", "--only", HANDOUT, "--only", DECK,
                     "--format", "pdf", "--format", "pptx", "--no-slide-images", "--output", str(out))
    return proc, out / "fixture"


@pytest.mark.parametrize("name", BRAND_FILES)
def test_brand_fixture_builds_with_the_expected_warnings(tmp_path: Path, name: str):
    proc, out = build_fixture(tmp_path, name)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert not [line for line in proc.stderr.splitlines() if re.search(r"\berror\b:", line)], proc.stderr
    for line, field, _ in EXPECTED_WARNINGS[name]:
        assert re.search(rf"practices/fixture/_brand\.yml:{line}: warning: {re.escape(field)}:", proc.stderr), \
            proc.stderr
    flat = " ".join(proc.stderr.split())
    for line, field, text in EXPECTED_CONTRAST[name]:
        assert f"practices/fixture/_brand.yml:{line}: warning: {field}: {text} [accessibility.contrast]" in flat, \
            proc.stderr
    assert flat.count("[accessibility.contrast]") == len(EXPECTED_CONTRAST[name]), proc.stderr
    assert (out / f"{DECK}.pptx").is_file()
    text = words(pdf_text(out / f"{HANDOUT}.pdf"))
    assert "Summit Rheumatology" in text  # the practice name stands in for a missing logo


def test_strict_check_fails_on_the_contrast_warnings(tmp_path: Path):
    project = copy_project(tmp_path / "proj", practices=[])
    make_practice(project, "fixture", brand_file=BRAND_DIR / "brand-typography-fonts.yml")
    proc = run_build("check", "--root", str(project), "--practice", "fixture", "--only", HANDOUT, "--strict", "-q")
    assert proc.returncode == 1, proc.stderr
    assert "primary text (#F24242) on background (#FFFFFF) has contrast 3.73:1" in " ".join(proc.stderr.split())


def test_light_dark_pair_in_images_keeps_alt_text(bare: Path):
    folder = make_practice(bare, "pair", """\
logo:
  images:
    main: {path: logo.svg, alt: Pair Clinic logo}
    reverse: {path: logo-reverse.svg, alt: "Pair Clinic logo, reversed"}
    both: {light: main, dark: reverse}
  medium: both
""")
    for name in ("logo.svg", "logo-reverse.svg"):
        shutil.copy(SUMMIT / name, folder / name)
    ctx = load_practice(folder, bare)
    medium = ctx.theme.logos["medium"]
    assert (medium.light.name, medium.dark.name, medium.alt) == ("logo.svg", "logo-reverse.svg", "Pair Clinic logo")
    assert [w.field for w in ctx.warnings] == ["logo.images.both"]


def test_plain_logo_path_serves_every_size(bare: Path):
    folder = make_practice(bare, "plain", "logo: logo.svg\n")
    shutil.copy(SUMMIT / "logo.svg", folder / "logo.svg")
    theme = load_practice(folder, bare).theme
    assert set(theme.logos) == {"small", "medium", "large"}


@pytest.mark.parametrize("brand, line, field, text", [
    ("color:\n  primary: 12\n", 2, "color.primary", "the number 12 where text is expected"),
    ("meta:\n  name: X\ncolour:\n  primary: '#123456'\n", 3, "colour", "unknown key"),
    ("color:\n  primry: '#123456'\n", 2, "color.primry", "unknown key"),
    ("typography:\n  fonts:\n    - family: X\n      source: dropbox\n", 3, "typography.fonts[0]", "dropbox"),
    ("typography:\n  headings:\n    weight: heavyish\n", 3, "typography.headings.weight", "heavyish"),
    ("typography:\n  fonts:\n    - family: X\n      source: file\n      files:\n        - path: x.exe\n",
     6, "typography.fonts[0].files[0].path", "x.exe"),
    ("logo:\n  tiny: a.png\n", 2, "logo.tiny", "unknown key"),
])
def test_rejected_brand_is_an_error_naming_file_line_and_field(bare: Path, brand: str, line: int, field: str,
                                                                text: str):
    folder = make_practice(bare, "bad", brand)
    with pytest.raises(UserError) as info:
        load_practice(folder, bare)
    problems = info.value.problems
    assert any(p.path == "practices/bad/_brand.yml" and p.line == line and p.field == field and text in p.message
               for p in problems), "\n".join(map(str, problems))


def test_palette_loop_is_an_error_not_a_crash(bare: Path):
    folder = make_practice(bare, "loop", "color:\n  palette:\n    a: b\n    b: a\n  primary: a\n")
    with pytest.raises(UserError) as info:
        load_practice(folder, bare)
    assert "_brand.yml" in str(info.value) and "ircular" in str(info.value)


def test_rejected_brand_fails_the_build_without_traceback(tmp_path: Path):
    project = copy_project(tmp_path / "proj", practices=[])
    make_practice(project, "bad", "color:\n  primary: 12\n")
    proc = run_build("--root", str(project), "--practice", "bad", "--only", HANDOUT, "--format", "pdf",
                     "--output", str(tmp_path / "out"), "-q")
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "practices/bad/_brand.yml:2" in proc.stderr and "color.primary" in proc.stderr
    assert not (tmp_path / "out" / "bad").exists()


@pytest.mark.parametrize("brand, field, text", [
    ("typography:\n  base:\n    size: 10px\n", "typography.base.size", "below the 12pt minimum"),
    ("typography:\n  base:\n    size: 2rem\n", "typography.base.size", "16pt is used"),
    ("typography:\n  headings:\n    color: nope\n", "typography.headings.color", "not a colour"),
    ("typography:\n  base: Surely Not Installed Sans\n", "typography.base.family", "not installed"),
    ("color:\n  secondary: rgba(0, 0, 0, 0.6)\n", "color.secondary", "translucent"),
])
def test_brand_values_that_cannot_be_honoured_warn(bare: Path, brand: str, field: str, text: str):
    ctx = load_practice(make_practice(bare, "warn", brand), bare)
    assert any(w.field == field and text in w.message for w in ctx.warnings), [str(w) for w in ctx.warnings]
    assert 12 <= ctx.theme.base_size_pt <= 16 and ctx.theme.line_height >= 1.5


def test_base_size_units(bare: Path):
    sizes = {"16px": 12, "1rem": 12, "13pt": 13, "18px": 13.5}
    for i, (given, pt) in enumerate(sizes.items()):
        folder = make_practice(bare, f"size-{i}", f"typography:\n  base:\n    size: {given}\n")
        assert load_practice(folder, bare).theme.base_size_pt == pt


@pytest.mark.parametrize("extra, message", [
    ("deck_master: missing.potx\n", "not found"),
    ("deck_master: ../summit-rheumatology/practice.yml\n", "inside the practice folder"),
    ("deck_master: notes.txt\n", ".pptx or .potx"),
    ("deck_master: fake.pptx\n", "not a PowerPoint file"),
])
def test_bad_deck_master_is_an_error_on_its_line(bare: Path, extra: str, message: str):
    folder = make_practice(bare, "master", None, practice_extra=extra)
    (folder / "fake.pptx").write_text("not a zip", encoding="utf-8")
    (folder / "notes.txt").write_text("x", encoding="utf-8")
    with pytest.raises(UserError) as info:
        load_practice(folder, bare)
    (p,) = info.value.problems
    lines = (folder / "practice.yml").read_text(encoding="utf-8").splitlines()
    assert (p.path, p.field, p.line) == ("practices/master/practice.yml", "deck_master", len(lines))
    assert message in p.message


# --------------------------------------------------------------------------- contrast
def test_colours_are_normalised_to_hex():
    assert parse_color("#abc") == ("#AABBCC", 1.0)
    assert parse_color("darkred") == ("#8B0000", 1.0)
    assert parse_color("rgb(10, 20, 30)") == ("#0A141E", 1.0)
    assert parse_color("rgba(0, 0, 0, 0.5)") == ("#000000", 0.5)
    assert parse_color("primary") is None and parse_color(12) is None


def test_low_contrast_primary_is_reported_with_the_pair_and_its_substitute(tmp_path: Path):
    project = copy_project(tmp_path / "proj", practices=[])
    make_practice(project, "faint", "color:\n  palette:\n    sky: '#77AADD'\n  primary: sky\n")
    out = tmp_path / "out"
    proc = run_build("--root", str(project), "--practice", "faint", "--only", HANDOUT, "--format", "pdf",
                     "--output", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    reported = [line for line in proc.stderr.splitlines() if "[accessibility.contrast]" in line]
    assert any("practices/faint/_brand.yml:4: warning: color.primary: primary text (#77AADD) on background "
               "(#FFFFFF) has contrast 2.45:1, below 4.5:1; handouts and slides print it as #1F2933" in line
               for line in reported), proc.stderr
    assert (out / "faint" / f"{HANDOUT}.pdf").is_file()


def test_unreadable_body_text_fails_the_build(tmp_path: Path):
    project = copy_project(tmp_path / "proj", practices=[])
    make_practice(project, "grey", "color:\n  foreground: '#999999'\n")
    out = tmp_path / "out"
    proc = run_build("--root", str(project), "--practice", "grey", "--only", HANDOUT, "--format", "pdf",
                     "--output", str(out), "-q")
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error") and "[accessibility.contrast]"
              in line]
    assert any("practices/grey/_brand.yml:2: color.foreground: foreground text (#999999) on background (#FFFFFF) "
               "has contrast 2.85:1, below 4.5:1" in line for line in errors), proc.stderr
    assert not (out / "grey" / f"{HANDOUT}.pdf").exists()


# --------------------------------------------------------------------------- new-practice
def test_new_practice_scaffolds_a_folder_that_builds(tmp_path: Path):
    project = copy_project(tmp_path / "proj", practices=[])
    proc = run_build("new-practice", "lakeside-family-care", "--root", str(project))
    assert proc.returncode == 0, proc.stderr
    folder = project / "practices" / "lakeside-family-care"
    assert sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) == [
        "_brand.yml", "logo.svg", "practice.yml", "templates/README.md"]

    text = (folder / "practice.yml").read_text(encoding="utf-8")
    for model in (schema.Practice, schema.Clinician, schema.Notices):
        for name in model.model_fields:
            assert re.search(rf"^\s*(# )?(- )?{name}:", text, re.M), f"practice.yml does not show {name}"
    assert text.count("\n#") >= 10  # commented

    ctx = load_practice(folder, project)
    assert ctx.warnings == (), [str(w) for w in ctx.warnings]
    assert ctx.info.name == "Lakeside Family Care"
    assert ctx.theme.logo("medium").light == folder / "logo.svg"
    assert "<text" not in (folder / "logo.svg").read_text(encoding="utf-8")

    readme = (folder / "templates" / "README.md").read_text(encoding="utf-8")
    assert '{% extends "!default/handout/handout.html.j2" %}' in readme
    default = (project / "templates" / "handout" / "handout.html.j2").read_text(encoding="utf-8")
    for block in re.findall(r"`(\w+)`", readme.split("Blocks in the default handout template:")[1].split(".")[0]):
        assert f"block {block}" in default

    out = tmp_path / "out"
    built = run_build("--root", str(project), "--practice", "lakeside-family-care", "--only", HANDOUT,
                      "--format", "pdf", "--output", str(out), "-q")
    assert built.returncode == 0, built.stderr
    pdf = words(pdf_text(out / "lakeside-family-care" / f"{HANDOUT}.pdf"))
    assert "Lakeside Family Care" in pdf and "(555) 555-0100" in pdf


def test_new_practice_refuses_an_existing_folder(tmp_path: Path):
    project = copy_project(tmp_path / "proj", practices=["summit-rheumatology"])
    listing = sorted(p.name for p in (project / "practices").iterdir())
    before = sorted(p.read_bytes() for p in (project / "practices" / "summit-rheumatology").rglob("*") if p.is_file())
    proc = run_build("new-practice", "summit-rheumatology", "--root", str(project))
    assert proc.returncode == 1
    assert "already exists" in proc.stderr and "Traceback" not in proc.stderr
    after = sorted(p.read_bytes() for p in (project / "practices" / "summit-rheumatology").rglob("*") if p.is_file())
    assert before == after
    assert sorted(p.name for p in (project / "practices").iterdir()) == listing  # no half-made folder left


@pytest.mark.parametrize("slug", ["My Clinic", "UPPER", "a--b", "trail-", "dot.name", "x" * 81, "../up", ""])
def test_new_practice_refuses_a_bad_slug(bare: Path, slug: str):
    project = bare
    proc = run_build("new-practice", slug, "--root", str(project))
    assert proc.returncode == 2, proc.stderr
    assert "not a valid practice slug" in proc.stderr and "Traceback" not in proc.stderr
    assert list((project / "practices").iterdir()) == []


def test_new_practice_outside_a_project_is_a_usage_error(tmp_path: Path):
    proc = run_build("new-practice", "clinic", "--root", str(tmp_path))
    assert proc.returncode == 2 and "not a ClinicPress project" in proc.stderr
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- template overrides
@pytest.fixture(scope="module")
def override_builds(tmp_path_factory) -> dict[str, Path]:
    """The same handout built for Summit, for Summit with one block replaced, and with its CSS replaced."""
    base = tmp_path_factory.mktemp("overrides")
    project = copy_project(base / "proj", practices=["summit-rheumatology"])
    for slug in ("block-override", "css-override"):
        shutil.copytree(project / "practices" / "summit-rheumatology", project / "practices" / slug)
    block = project / "practices" / "block-override" / "templates" / "handout"
    block.mkdir(parents=True)
    (block / "handout.html.j2").write_text(
        '{% extends "!default/handout/handout.html.j2" %}{% block footer_note %}OVERRIDE-MARK{% endblock %}\n',
        encoding="utf-8")
    css = project / "practices" / "css-override" / "templates" / "handout"
    css.mkdir(parents=True)
    default_css = (project / "templates" / "handout" / "handout.css").read_text(encoding="utf-8")
    (css / "handout.css").write_text(default_css + '\nh1::before { content: "CSS-OVERRIDE "; }\n', encoding="utf-8")
    out = base / "out"
    proc = run_build("--root", str(project), "--practice", "summit-rheumatology", "--practice", "block-override",
                     "--practice", "css-override", "--only", HANDOUT, "--format", "pdf", "--format", "html",
                     "--output", str(out), "-q")
    assert proc.returncode == 0, proc.stderr
    return {slug: out / slug for slug in ("summit-rheumatology", "block-override", "css-override")}


def test_single_block_override_changes_only_that_block(override_builds: dict[str, Path]):
    note = load_practice(SUMMIT, ROOT).info.footer_note
    default_html = (override_builds["summit-rheumatology"] / f"{HANDOUT}.html").read_text(encoding="utf-8")
    override_html = (override_builds["block-override"] / f"{HANDOUT}.html").read_text(encoding="utf-8")
    assert note in default_html and note not in override_html
    # The override's HTML is the default's with the block's text replaced, and nothing else;
    # practice paths differ only by the folder name.
    expected = default_html.replace(note, "OVERRIDE-MARK").replace("summit-rheumatology", "block-override")
    assert override_html.replace("summit-rheumatology", "block-override") == expected

    default_pdf = words(pdf_text(override_builds["summit-rheumatology"] / f"{HANDOUT}.pdf"))
    override_pdf = words(pdf_text(override_builds["block-override"] / f"{HANDOUT}.pdf"))
    assert note in default_pdf and "OVERRIDE-MARK" in override_pdf
    assert override_pdf == default_pdf.replace(note, "OVERRIDE-MARK")


def test_full_file_override_replaces_the_stylesheet(override_builds: dict[str, Path]):
    html = (override_builds["css-override"] / f"{HANDOUT}.html").read_text(encoding="utf-8")
    assert "CSS-OVERRIDE" in html
    text = words(pdf_text(override_builds["css-override"] / f"{HANDOUT}.pdf"))
    assert "CSS-OVERRIDE Your Gut and Your Immune System" in text
    assert "CSS-OVERRIDE" not in pdf_text(override_builds["summit-rheumatology"] / f"{HANDOUT}.pdf")


# --------------------------------------------------------------------------- .potx master
def make_potx(path: Path) -> set[str]:
    """Writes a .potx made from python-pptx's default template, its master marked; returns its layout names."""
    from pptx import Presentation

    prs = Presentation()
    prs.slide_master.element.cSld.set("name", "MASTER-MARK")
    names = {layout.name for layout in prs.slide_layouts}
    buf = io.BytesIO()
    prs.save(buf)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "[Content_Types].xml":
                old = b"presentationml.presentation.main+xml"
                assert old in data
                data = data.replace(old, b"presentationml.template.main+xml")
            dst.writestr(item, data)
    return names


def test_practice_potx_master_gives_the_deck_its_layouts(tmp_path: Path):
    from pptx import Presentation

    project = copy_project(tmp_path / "proj", practices=["summit-rheumatology"])
    folder = project / "practices" / "summit-rheumatology"
    names = make_potx(folder / "master.potx")
    with (folder / "practice.yml").open("a", encoding="utf-8") as fh:
        fh.write("deck_master: master.potx\n")
    assert load_practice(folder, project).master == folder / "master.potx"

    out = tmp_path / "out"
    proc = run_build("--root", str(project), "--only", DECK, "--format", "pptx", "--output", str(out), "-q")
    assert proc.returncode == 0, proc.stderr
    prs = Presentation(str(out / "summit-rheumatology" / f"{DECK}.pptx"))
    assert len(prs.slide_masters) == 1
    assert prs.slide_master.name == "MASTER-MARK", "the deck is not on the practice master"
    used = {slide.slide_layout.name for slide in prs.slides}
    assert used and used <= names, f"layouts {used - names} are not from the practice master"


# --------------------------------------------------------------------------- sample practices' outputs
@pytest.fixture(scope="module")
def sample_builds(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("samples")
    args = [a for s in SAMPLES for a in ("--practice", s)]
    proc = run_build(*args, "--only", HANDOUT, "--format", "pdf", "--format", "html", "--output", str(out), "-q")
    assert proc.returncode == 0, proc.stderr
    return out


FONTS = {"summit-rheumatology": "PublicSans", "thames-integrative-gi": "SourceSerif4",
         "valle-community-health": "AtkinsonHyperlegible"}


@pytest.mark.parametrize("slug", SAMPLES)
def test_sample_handout_shows_its_practice(sample_builds: Path, slug: str):
    ctx = load_practice(ROOT / "practices" / slug, ROOT)
    pdf = sample_builds / slug / f"{HANDOUT}.pdf"
    text = words(pdf_text(pdf))
    assert ctx.info.name in text and ctx.info.phone in text
    others = [load_practice(ROOT / "practices" / s, ROOT).info for s in SAMPLES if s != slug]
    assert not any(o.name in text or o.phone in text for o in others)

    require_tool("pdffonts")
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    embedded = {line.split()[0].split("+")[-1].replace("-", "") for line in fonts.splitlines()[2:] if line.strip()}
    assert any(name.startswith(FONTS[slug]) for name in embedded), embedded
    assert all(line.split()[-5] == "yes" for line in fonts.splitlines()[2:] if line.strip()), fonts  # embedded

    html = (sample_builds / slug / f"{HANDOUT}.html").read_text(encoding="utf-8")
    logos = re.findall(r'<img[^>]+src="([^"]*logo[^"]*\.svg)"', html)
    assert logos and all(f"practices/{slug}/" in src for src in logos), logos
    assert ctx.theme.colors["primary"].lower() in html.lower()
