"""End-to-end: YAML in, PDF and PPTX out, reopened and inspected; errors located; determinism."""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pikepdf
import pytest
import yaml
from conftest import run_build
from pptx import Presentation

HANDOUT = "gut-and-immune-system"
DECK = "gut-and-autoimmune-disease"


def _struct_types(pdf: pikepdf.Pdf) -> set[str]:
    seen: set[str] = set()
    stack = [pdf.Root.StructTreeRoot]
    while stack:
        node = stack.pop()
        if isinstance(node, pikepdf.Dictionary):
            if "/S" in node:
                seen.add(str(node.S))
            kids = node.get("/K")
            if kids is not None:
                stack.extend(kids if isinstance(kids, pikepdf.Array) else [kids])
        elif isinstance(node, pikepdf.Array):
            stack.extend(node)
    return seen


def test_handout_pdf_has_text_title_language_and_tags(built_default: Path):
    pdf_path = built_default / "summit-rheumatology" / f"{HANDOUT}.pdf"
    with pikepdf.open(pdf_path) as pdf:
        assert 1 <= len(pdf.pages) <= 2  # one sheet, both sides
        assert str(pdf.docinfo["/Title"]) == "Your Gut and Your Immune System"
        assert str(pdf.Root.Lang).startswith("en")
        assert pdf.Root.MarkInfo.Marked
        tags = _struct_types(pdf)
        assert {"/H1", "/H2", "/P", "/L", "/LI"} <= tags
    import subprocess
    text = subprocess.run(["pdftotext", "-layout", str(pdf_path), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "Your Gut and Your Immune System" in text
    assert "Summit Rheumatology" in text
    assert "What you can do" in text


def test_html_copy_is_written_beside_the_pdf(built_default: Path):
    html = (built_default / "summit-rheumatology" / f"{HANDOUT}.html").read_text(encoding="utf-8")
    assert "<h1>Your Gut and Your Immune System</h1>" in html
    assert 'lang="en-US"' in html
    assert "file://" not in html  # relative links only, so the copy opens from the output folder


def test_deck_reopens_with_titles_and_notes(built_default: Path):
    prs = Presentation(str(built_default / "summit-rheumatology" / f"{DECK}.pptx"))
    assert 30 <= len(prs.slides) <= 46  # 30-40 written slides, plus the references at 18 pt over up to 6 slides
    assert prs.slide_width * 9 == prs.slide_height * 16
    titles = [s.shapes.title.text for s in prs.slides if s.shapes.title is not None]
    assert titles and titles[0]
    for slide in prs.slides:
        assert slide.has_notes_slide and slide.notes_slide.notes_text_frame.text.strip()
    assert prs.core_properties.title


def test_broken_yaml_names_path_and_line_and_keeps_earlier_outputs(project: Path, tmp_path: Path):
    out = tmp_path / "out"
    ok = run_build("build", "--root", str(project), "--output", str(out), "--only", HANDOUT, "-q")
    assert ok.returncode == 0, ok.stderr
    pdf = out / "summit-rheumatology" / f"{HANDOUT}.pdf"
    before = pdf.read_bytes()

    src = project / "content" / "handouts" / f"{HANDOUT}.yml"
    lines = src.read_text(encoding="utf-8").splitlines()
    lines.insert(3, "titel: a misspelled key")
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")

    bad = run_build("build", "--root", str(project), "--output", str(out), "--only", HANDOUT)
    assert bad.returncode == 1
    assert f"content/handouts/{HANDOUT}.yml:4:1" in bad.stderr
    assert "titel" in bad.stderr and "did you mean 'title'" in bad.stderr
    assert "Traceback" not in bad.stderr
    assert pdf.read_bytes() == before
    assert not list(out.rglob(".clinicpress-tmp-*"))


def test_wrong_usage_exits_2_without_traceback():
    proc = run_build("build", "--format", "docx")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "invalid choice" in proc.stderr


def test_every_command_has_help():
    for cmd in ([], ["build"], ["check"], ["new-practice"]):
        proc = run_build(*cmd, "--help")
        assert proc.returncode == 0 and "usage:" in proc.stdout


def test_check_validates_without_writing(project: Path):
    proc = run_build("check", "--root", str(project))
    assert proc.returncode == 0, proc.stderr
    assert not (project / "output").exists()


def test_same_input_gives_identical_bytes(project: Path, tmp_path: Path):
    digests = []
    for name in ("a", "b"):
        out = tmp_path / name
        proc = run_build("build", "--root", str(project), "--output", str(out), "--only", HANDOUT,
                         "--only", DECK, "-q")
        assert proc.returncode == 0, proc.stderr
        digests.append({p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
                        for p in sorted(out.rglob("*")) if p.suffix in (".pdf", ".pptx", ".html")})
    assert digests[0] == digests[1]
    assert any(k.endswith(".pdf") for k in digests[0]) and any(k.endswith(".pptx") for k in digests[0])


def test_a_practice_can_ask_for_variants_on_every_build(project: Path, tmp_path: Path):
    yml = project / "practices" / "summit-rheumatology" / "practice.yml"
    yml.write_text(yml.read_text(encoding="utf-8") + "variants: [standard, large-print]\n", encoding="utf-8")
    out = tmp_path / "out"
    proc = run_build("build", "--root", str(project), "--output", str(out), "--only", HANDOUT, "-q")
    assert proc.returncode == 0, proc.stderr
    folder = out / "summit-rheumatology"
    standard, large = folder / f"{HANDOUT}.pdf", folder / f"{HANDOUT}.large-print.pdf"
    with pikepdf.open(standard) as a, pikepdf.open(large) as b:
        assert len(b.pages) > len(a.pages)  # 18 pt type needs more pages
    # The command line wins over the practice's list.
    only = tmp_path / "only"
    proc = run_build("build", "--root", str(project), "--output", str(only), "--only", HANDOUT,
                     "--variant", "standard", "-q")
    assert proc.returncode == 0, proc.stderr
    assert not (only / "summit-rheumatology" / f"{HANDOUT}.large-print.pdf").exists()


def _lowest_text_on_last_page(pdf_path: Path, footer_mm: float) -> tuple[int, float]:
    """(pages, y of the lowest word above the running footer on the last page), from pdftotext."""
    import re
    import subprocess

    xml = subprocess.run(["pdftotext", "-bbox", str(pdf_path), "-"], capture_output=True, text=True,
                         check=True).stdout
    pages = re.findall(r'<page width="[\d.]+" height="([\d.]+)">(.*?)</page>', xml, re.S)
    height, words = float(pages[-1][0]), pages[-1][1]
    limit = height - footer_mm * 72 / 25.4
    bottoms = [float(y) for y in re.findall(r'yMax="([\d.]+)"', words) if float(y) < limit]
    return len(pages), max(bottoms)


def test_a_handout_over_its_page_budget_warns_how_many_lines_to_cut(project: Path, tmp_path: Path):
    src = project / "content" / "handouts" / f"{HANDOUT}.yml"
    data = yaml.safe_load(src.read_text(encoding="utf-8"))
    data["sections"].append({"heading": "A diary helps", "no_claims": True,
                             "body": "You can write down how you feel each day. " * 70})
    src.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    out = tmp_path / "out"
    proc = run_build("build", "--root", str(project), "--output", str(out), "--only", HANDOUT, "-q")
    assert proc.returncode == 0, proc.stderr  # a warning: the file is written
    m = re.search(r"prints on (\d+) pages for summit-rheumatology \(standard\); the budget is 2: "
                  r"about (\d+) lines of body text too many.*\[handout.pages\]", proc.stderr)
    assert m, proc.stderr
    pages, over = int(m.group(1)), int(m.group(2))
    pdf = out / "summit-rheumatology" / f"{HANDOUT}.pdf"
    found_pages, lowest = _lowest_text_on_last_page(pdf, footer_mm=17)
    assert found_pages == pages >= 3
    if pages == 3:  # the lines over are the text on page 3: measure them from the PDF itself
        lines = (lowest - 11 * 72 / 25.4) / 18  # top margin 11 mm; 12 pt type at line height 1.5
        assert over == pytest.approx(lines, abs=1.5)
    entry = json.loads((out / "manifest.json").read_text())["outputs"][f"summit-rheumatology/{HANDOUT}.pdf"]
    assert entry["pages"] == pages
    assert [f["data"]["lines_over"] for f in entry["render_findings"] if f["check"] == "handout.pages"] == [over]
    # A build with nothing to render still lists the warning; --strict turns it into a failure.
    again = run_build("build", "--root", str(project), "--output", str(out), "--only", HANDOUT, "-q")
    assert again.returncode == 0 and "[handout.pages]" in again.stderr
    strict = run_build("build", "--root", str(project), "--output", str(out), "--only", HANDOUT, "-q", "--strict")
    assert strict.returncode == 1 and "[handout.pages]" in strict.stderr
    # The quality table of a build counts it too: one warning more than `check` (which renders nothing) shows.
    def warnings_in_table(proc) -> int:
        row = next(line for line in proc.stderr.splitlines()
                   if line.startswith(f"\u2502{HANDOUT} ") and "\u2502 en " in line)  # the English edition's row
        cells = [c.strip() for c in row.split("\u2502") if c.strip()]
        assert cells[2] == "warn", row  # status
        return int(cells[-2])  # the W column

    shown = run_build("build", "--root", str(project), "--output", str(tmp_path / "fresh"), "--only", HANDOUT, "-j", "1")
    checked = run_build("check", "--root", str(project), "--only", HANDOUT)
    assert warnings_in_table(shown) == warnings_in_table(checked) + 1
