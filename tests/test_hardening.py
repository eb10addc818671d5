"""Hardening catalogue (issue 11): bad inputs and attacks, each refused clearly and safely.

Content is written by many hands and practice templates come from outside designers, so both
are untrusted. Every case here copies a small project (the shipped practices and templates,
plus the fixture content in tests/fixtures/hardening/), builds it once into an output folder,
breaks one thing, and builds again. A refused build must:

- exit non-zero, with a message naming the file and line (and field or template line);
- print no Python traceback;
- leave every earlier output byte-for-byte as it was, and no temporary file behind.

Cases that must *not* be refused (layout extremes, Jinja syntax typed in content, links in
content) build and are reopened to check what reached the PDF. A local HTTP server counts
requests, to prove that nothing in a document is ever fetched from the network.
"""
from __future__ import annotations

import errno
import http.server
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pikepdf
import pytest
from conftest import ROOT, copy_project, require_tool, run_build

PRACTICE = "summit-rheumatology"
HANDOUT = "sample"
DECK = "sample-talk"
HANDOUT_YML = "content/handouts/sample.yml"
DECK_YML = "content/decks/sample-talk.yml"
REFS = "content/references.json"
FIXTURES = Path(__file__).parent / "fixtures" / "hardening"
OVERRIDES = f"practices/{PRACTICE}/templates"
TMP_PREFIX = ".clinicpress-tmp-"
DOCUMENT_SUFFIXES = (".pdf", ".html", ".pptx")


# --------------------------------------------------------------------------- project set-up
def make_project(dest: Path, practices: tuple[str, ...] | None = (PRACTICE,)) -> Path:
    """A copy of the shipped practices and templates with the hardening fixture content only.

    The fixture content is small and fixed, so a change to the real library never moves the
    lines these tests expect; the practices and templates are the real, shipped ones.
    """
    root = copy_project(dest, practices=list(practices) if practices is not None else None)
    for sub in ("handouts", "decks"):
        shutil.rmtree(root / "content" / sub, ignore_errors=True)
    shutil.copytree(FIXTURES / "content", root / "content", dirs_exist_ok=True)
    shutil.copy2(FIXTURES / "clinicpress.toml", root / "clinicpress.toml")
    write_png(root / "content" / "handouts" / "sample.png")
    return root


def write_png(path: Path, size=(40, 40), colour=(30, 80, 200)) -> None:
    from PIL import Image

    Image.new("RGB", size, colour).save(path, format="PNG")


def build_cmd(root: Path, out: Path, *extra: str, only=(HANDOUT,), env=None, timeout=300):
    args = ["build", "--root", str(root), "--output", str(out), "--no-slide-images"]
    for slug in only:
        args += ["--only", slug]
    return run_build(*args, *extra, env=env, timeout=timeout)


def snapshot(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def temp_files(out: Path) -> list[Path]:
    return [p for p in out.rglob("*") if p.name.startswith(TMP_PREFIX) or p.suffix in (".tmp", ".part")]


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based line of the `occurrence`-th `needle` in `text`."""
    pos = -1
    for _ in range(occurrence):
        pos = text.index(needle, pos + 1)
    return text.count("\n", 0, pos) + 1


def pdf_text(path: Path) -> str:
    return subprocess.run([require_tool("pdftotext"), "-enc", "UTF-8", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


@dataclass
class Case:
    """One broken copy of the project, with an output folder holding an earlier good build."""

    root: Path
    out: Path
    before: dict[str, bytes]

    def path(self, rel: str) -> Path:
        return self.root / rel

    def read(self, rel: str) -> str:
        return self.path(rel).read_text(encoding="utf-8")

    def write(self, rel: str, data: str | bytes) -> Path:
        p = self.path(rel)
        p.parent.mkdir(parents=True, exist_ok=True)
        if p.is_symlink():
            p.unlink()
        if isinstance(data, bytes):
            p.write_bytes(data)
        else:
            p.write_text(data, encoding="utf-8")
        return p

    def replace(self, rel: str, old: str, new: str) -> int:
        """Replaces the first `old` in a file; returns the line where the change starts."""
        text = self.read(rel)
        assert old in text, f"{old!r} not in {rel}"
        line = line_of(text, old)
        self.write(rel, text.replace(old, new, 1))
        return line

    def build(self, *extra: str, only=(HANDOUT,), env=None, timeout=300) -> subprocess.CompletedProcess:
        return build_cmd(self.root, self.out, *extra, only=only, env=env, timeout=timeout)

    def refused(self, proc: subprocess.CompletedProcess, *needles: str, code: int | None = 1,
                at_load: bool = True) -> str:
        """Asserts a clean refusal: exit code, every needle, no traceback, nothing lost."""
        output = proc.stdout + proc.stderr
        assert proc.returncode != 0, f"build was not refused:\n{output}"
        if code is not None:
            assert proc.returncode == code, f"exit {proc.returncode}, expected {code}:\n{output}"
        assert "Traceback" not in output, output
        assert "internal error" not in output, output
        for needle in needles:
            assert needle in output, f"{needle!r} not in output:\n{output}"
        self.assert_intact(everything=at_load)
        return output

    def assert_intact(self, *, everything: bool = True) -> None:
        """Earlier outputs are byte-identical and no temporary file is left.

        `everything`: a build refused while loading writes nothing at all; a build refused
        while rendering may still record the failure in the manifest and report, but every
        earlier document (PDF, HTML, PPTX) must be untouched.
        """
        assert not temp_files(self.out), temp_files(self.out)
        after = snapshot(self.out)
        if everything:
            assert after.keys() == self.before.keys()
            keys = self.before.keys()
        else:
            keys = [k for k in self.before if k.startswith(PRACTICE + "/") and k.endswith(DOCUMENT_SUFFIXES)]
            assert keys
        for key in keys:
            assert after.get(key) == self.before[key], f"{key} changed or vanished"

    def ok(self, proc: subprocess.CompletedProcess) -> str:
        output = proc.stdout + proc.stderr
        assert proc.returncode == 0, output
        assert "Traceback" not in output, output
        assert not temp_files(self.out)
        return output

    @property
    def pdf(self) -> Path:
        return self.out / PRACTICE / f"{HANDOUT}.pdf"

    @property
    def html(self) -> Path:
        return self.out / PRACTICE / f"{HANDOUT}.html"

    @property
    def pptx(self) -> Path:
        return self.out / PRACTICE / f"{DECK}.pptx"


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> tuple[Path, Path]:
    """The fixture project and one good build of its handout and deck (shared per module)."""
    base = tmp_path_factory.mktemp("pristine")
    root = make_project(base / "proj")
    out = base / "out"
    proc = build_cmd(root, out, "-q", only=(HANDOUT, DECK))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (out / PRACTICE / f"{HANDOUT}.pdf").is_file() and (out / PRACTICE / f"{DECK}.pptx").is_file()
    return root, out


@pytest.fixture
def case(pristine, tmp_path) -> Case:
    root, out = pristine
    mine = shutil.copytree(root, tmp_path / "proj", symlinks=True)
    mine_out = shutil.copytree(out, tmp_path / "out", symlinks=True)
    return Case(mine, mine_out, snapshot(mine_out))


def render_in_process(case: Case, *, pdf: bool = False) -> str:
    """Loads the project and renders the handout's HTML (and PDF) in this process.

    The parametrised variants of a render-time attack run here (a CLI build also runs every
    quality check, several seconds each); one CLI case per family proves the exit code, the
    message and that earlier outputs stay intact.
    """
    from clinicpress.load.project import load_project
    from clinicpress.render.handout import VARIANTS, print_handout, render_html
    from clinicpress.render.templating import Templates

    project = load_project(case.root)
    src = next(s for s in project.handouts if s.slug == HANDOUT)
    practice = project.practices[PRACTICE]
    out_dir = case.out / PRACTICE
    html = render_html(src.model, practice, project.bibliography, VARIANTS["standard"], Templates(case.root),
                       src.path.parent, out_dir)
    if pdf:
        print_handout(html, base_url=out_dir, root=case.root, practice=practice, reviewed=src.model.reviewed.date,
                      source_path=HANDOUT_YML)
    return html


def refused_in_process(case: Case, *needles: str, pdf: bool = False) -> str:
    """Asserts that rendering in-process raises UserError (nothing else) mentioning every needle."""
    from clinicpress.errors import UserError

    with pytest.raises(UserError) as info:
        render_in_process(case, pdf=pdf)
    text = str(info.value)
    for needle in needles:
        assert needle in text, f"{needle!r} not in {text!r}"
    return text


class Trap:
    """A local HTTP server that records every request: proof that nothing was fetched."""

    def __init__(self):
        hits = self.hits = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                hits.append(self.path)
                body = (FIXTURES / "content" / "references.json").read_bytes()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, name: str = "x.png") -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/{name}"


@pytest.fixture(scope="module")
def trap():
    t = Trap()
    yield t
    t.server.shutdown()


@pytest.fixture(autouse=True)
def _no_request_reaches_the_trap(request):
    """Every test in this module ends with the trap server untouched (if it was started)."""
    yield
    if "trap" in request.fixturenames:
        t = request.getfixturevalue("trap")
        assert t.hits == [], f"something was fetched over HTTP: {t.hits}"
        del t.hits[:]


# =========================================================================== YAML
def test_invalid_yaml_syntax_names_file_line_and_column(case: Case):
    line = case.replace(HANDOUT_YML, "language: en\n", "language: en\noops: value: another\n") + 1
    case.refused(case.build(), f"{HANDOUT_YML}:{line}:", "YAML syntax error", "mapping values are not allowed")


def test_tab_indentation_is_named_with_a_hint(case: Case):
    line = case.replace(HANDOUT_YML, "  date: 2026-11-02", "\tdate: 2026-11-02")
    case.refused(case.build(), f"{HANDOUT_YML}:{line}:", "tab character", "indent with spaces")


def test_duplicate_key_is_an_error_not_last_wins(case: Case):
    text = case.read(HANDOUT_YML)
    first = line_of(text, "title:")
    line = case.replace(HANDOUT_YML, "language: en\n", "language: en\ntitle: A Second Title\n") + 1
    case.refused(case.build(), f"{HANDOUT_YML}:{line}:", "duplicate key", f"first defined on line {first}")


def test_duplicate_key_inside_a_list_item(case: Case):
    line = case.replace(HANDOUT_YML, "  - heading: A picture\n",
                        "  - heading: A picture\n    heading: Another picture\n") + 1
    case.refused(case.build(), f"{HANDOUT_YML}:{line}:", "sections[1].heading", "duplicate key")


@pytest.mark.parametrize("old, new, field, message", [
    ("get_help:\n  - Call us", "get_help: Call us", "get_help", "where a list is expected"),
    ("  date: 2026-11-02", "  date: next Tuesday", "reviewed.date", "'next Tuesday' is not a date"),
    ("title: Sample Handout for Hardening Tests", "title: [a, list, of, words]", "title",
     "found a list where one piece of text is expected"),
    ("language: en", "language: fr", "language", "'fr' is not one of: en, es, ar, zh-Hans"),
    ("      alt: A blue square standing in for a diagram.", "      alt: {text: not a string}",
     "sections[1].figure.alt", "'text: not a string' read as a key and a value"),
    ("      alt: A blue square standing in for a diagram.", '      alt: ""', "sections[1].figure.alt", "is empty"),
], ids=["list-as-text", "bad-date", "title-as-list", "unknown-choice", "mapping-as-text", "empty-alt"])
def test_wrong_type_names_line_and_field(case: Case, old, new, field, message):
    line = case.replace(HANDOUT_YML, old, new)
    out = case.refused(case.build(), f"{HANDOUT_YML}:{line}", f"{field}:", message)
    assert "input_value" not in out  # pydantic's raw dump is not shown
    assert "Input should be" not in out and "hint:" in out  # ClinicPress's own words, with a hint


def test_impossible_date_is_located_not_a_crash(case: Case):
    line = case.replace(HANDOUT_YML, "  date: 2026-11-02", "  date: 2026-13-45")
    case.refused(case.build(), f"{HANDOUT_YML}:{line}:", "reviewed.date", "month must be in 1..12")


@pytest.mark.parametrize("where, old, new, field, suggestion", [
    ("top", "title: Sample", "titel: Sample", "titel", "did you mean 'title'?"),
    ("nested", "  - heading: A picture", "  - heding: A picture", "sections[1].heding", "did you mean 'heading'?"),
    ("figure", "      caption: A test picture.", "      captoin: A test picture.", "sections[1].figure.captoin",
     "did you mean 'caption'?"),
])
def test_unknown_key_gets_did_you_mean(case: Case, where, old, new, field, suggestion):
    line = case.replace(HANDOUT_YML, old, new)
    case.refused(case.build(), f"{HANDOUT_YML}:{line}:", f"{field}: unknown key", suggestion)


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "~\n"], ids=["empty", "blank", "comment", "null"])
def test_empty_file(case: Case, text):
    case.write("content/handouts/empty.yml", text)
    case.refused(case.build(), "content/handouts/empty.yml:1:", "file is empty")


def test_top_level_list_instead_of_keys(case: Case):
    case.write("content/handouts/listy.yml", "- slug: listy\n- title: A list\n")
    case.refused(case.build(), "content/handouts/listy.yml:1:1:", "expected a mapping of keys, found a list")


def test_non_utf8_file_names_line_and_byte(case: Case):
    text = case.read(HANDOUT_YML)
    line = line_of(text, "The picture above")
    data = text.replace("The picture above", "The caf\u00e9 picture above").encode("latin-1")
    case.write(HANDOUT_YML, data)
    case.refused(case.build(), f"{HANDOUT_YML}:{line}:", "not valid UTF-8", "0xe9", "save the file as UTF-8")


def test_byte_order_mark_is_accepted(case: Case):
    """Decision: a UTF-8 byte-order mark (Windows editors add one) is accepted and dropped.

    The file builds, and the PDF is the same as without the mark.
    """
    case.write(HANDOUT_YML, b"\xef\xbb\xbf" + case.path(HANDOUT_YML).read_bytes())
    case.write(REFS, b"\xef\xbb\xbf" + case.path(REFS).read_bytes())
    case.ok(case.build("--no-cache"))
    assert pdf_text(case.pdf) and "Sample Handout for Hardening Tests" in pdf_text(case.pdf)
    assert case.html.read_bytes() == case.before[f"{PRACTICE}/{HANDOUT}.html"]


@pytest.mark.parametrize("style", ["block", "flow"])
def test_very_deep_nesting_is_refused(case: Case, style):
    if style == "block":
        text = "slug: deep\nx:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 200)) + "  " * 200 + "end: 1\n"
    else:
        text = "slug: deep\nx: " + "[" * 100_000 + "]" * 100_000 + "\n"
    case.write("content/handouts/deep.yml", text)
    case.refused(case.build(), "content/handouts/deep.yml:", "nesting deeper than 40 levels")


def test_alias_bomb_is_refused_without_expanding(case: Case):
    bomb = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i, name in enumerate("bcdefghi"):
        prev = "abcdefghi"[i]
        bomb.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    case.write("content/handouts/bomb.yml", "slug: bomb\n" + "\n".join(bomb) + "\n")
    start = time.monotonic()
    case.refused(case.build(), "content/handouts/bomb.yml:3:", "anchors and aliases", "not supported")
    assert time.monotonic() - start < 30


@pytest.mark.parametrize("tag", ["!!python/object/apply:os.system ['touch PWNED']",
                                 "!!python/name:os.system", "!!binary aGVsbG8=", "!custom value"])
def test_yaml_tags_are_refused(case: Case, tag):
    line = case.replace(HANDOUT_YML, "description: A short handout used to test bad inputs.",
                        f"description: {tag}")
    case.refused(case.build(), f"{HANDOUT_YML}:{line}:", "description: YAML tag", "not supported")
    assert not (case.root / "PWNED").exists() and not Path("PWNED").exists()


def test_file_over_the_size_limit(case: Case):
    from clinicpress.load.loading import MAX_BYTES

    filler = "# " + "x" * 98 + "\n"
    case.write(HANDOUT_YML, case.read(HANDOUT_YML) + filler * (MAX_BYTES // len(filler) + 100))
    # A size problem has no line: the whole file is the problem, so the message names the file.
    case.refused(case.build(), f"{HANDOUT_YML}: ", f"the limit is {MAX_BYTES // 1024} KiB", "split it")


def test_content_file_linking_outside_the_project(case: Case, tmp_path: Path):
    outside = tmp_path / "elsewhere.yml"
    outside.write_text(case.read(HANDOUT_YML).replace("slug: sample", "slug: linked"), encoding="utf-8")
    case.path("content/handouts/linked.yml").symlink_to(outside)
    case.refused(case.build(), "content/handouts/linked.yml", "outside the project folder")


def test_practice_yml_that_is_a_fifo_does_not_hang(case: Case):
    p = case.path(f"practices/{PRACTICE}/practice.yml")
    p.unlink()
    os.mkfifo(p)
    case.refused(case.build(timeout=60), f"practices/{PRACTICE}/practice.yml", "not a regular file")


def test_every_problem_is_reported_at_once(case: Case):
    """Several mistakes in several files come out in one run (as MkDocs does)."""
    l1 = case.replace(HANDOUT_YML, "title: Sample", "titel: Sample")
    l2 = case.replace(DECK_YML, "layout: bullets", "layout: bulets")
    case.write("content/handouts/empty.yml", "")
    case.refused(case.build(), f"{HANDOUT_YML}:{l1}:", f"{DECK_YML}:{l2}", "content/handouts/empty.yml:1")


def test_broken_practice_yml_is_located(case: Case):
    rel = f"practices/{PRACTICE}/practice.yml"
    line = case.replace(rel, "paper: letter", "paper: legal")
    case.refused(case.build(), f"{rel}:{line}:", "paper:", "'legal' is not one of: letter, a4")


# =========================================================================== references
def test_unknown_citation_key_gets_did_you_mean(case: Case):
    # the key's own line inside the block of text, not the first line of the field (issue 23)
    line = case.replace(HANDOUT_YML, "      The gut takes in food", "      The gut [@smiht2020] takes in food")
    case.refused(case.build(), f"{HANDOUT_YML}:{line}:", "unknown citation key [@smiht2020]",
                 "did you mean [@smith2020]?")


def test_malformed_csl_json_names_line(case: Case):
    line = case.replace(REFS, '"volume": "12",', '"volume": "12"')
    case.refused(case.build(), f"{REFS}:{line + 1}:", "JSON syntax error", "Expecting ',' delimiter")


def test_duplicate_reference_id_names_the_second_item(case: Case):
    text = case.read(REFS)
    second = text.rstrip().removesuffix("]").rstrip() + ',\n  {"id": "smith2020", "type": "book", "title": "Again"}\n]\n'
    case.write(REFS, second)
    line = line_of(second, '{"id": "smith2020", "type": "book"')
    first = line_of(second, '"id": "smith2020"') - 1
    case.refused(case.build(), f"{REFS}:{line}:", "duplicate id 'smith2020'", f"line {first}")


@pytest.mark.parametrize("old, new, message", [
    ('"issued": {"date-parts": [[2019]]}', '"issued": {"date-parts": [["spring"]]}', "citeproc cannot format"),
    ('"author": [{"family": "Jones", "given": "C."}]', '"author": "Jones C"', '"author" must be a list'),
    ('"issued": {"date-parts": [[2019]]}', '"issued": "2019"', '"issued" must be an object'),
    ('"title": "Immune tolerance in the gut",', '', 'needs a text "type" and "title"'),
], ids=["date-words", "author-text", "date-text", "no-title"])
def test_reference_citeproc_cannot_format_is_located(case: Case, old, new, message):
    text = case.read(REFS)
    line = line_of(text, '"id": "jones2019"') - 1
    case.replace(REFS, old, new)
    case.refused(case.build(), f"{REFS}:{line}:", message)


def test_references_not_a_list(case: Case):
    case.write(REFS, '{"smith2020": {"title": "x"}}\n')
    case.refused(case.build(), f"{REFS}:1:1:", "expected a JSON array")


def test_references_nested_too_deep(case: Case):
    case.write(REFS, "[" * 200_000 + "]" * 200_000)
    case.refused(case.build(), f"{REFS}:", "too deep")


def test_html_in_reference_fields_is_escaped(case: Case, trap: Trap):
    """citeproc-py does not escape (#97): markup in any CSL field must reach the PDF as text."""
    case.replace(REFS, '"DOI": "10.0000/test.2020.1"', f'"DOI": "10.1/<img src=\\"{trap.url()}\\">"')
    case.replace(REFS, '"family": "Smith"', '"family": "Smith<link rel=attachment href=/etc/passwd>"')
    case.ok(case.build())
    html = case.html.read_text(encoding="utf-8")
    assert "<img src=\"http" not in html and "&lt;img" in html
    assert "<link rel=attachment" not in html
    with pikepdf.open(case.pdf) as pdf:
        assert "/EmbeddedFiles" not in pdf.Root.get("/Names", {})


# =========================================================================== assets
def _figure(case: Case, src: str) -> int:
    return case.replace(HANDOUT_YML, "      src: sample.png", f"      src: {src!r}")


def test_missing_image(case: Case):
    line = _figure(case, "missing.png")
    case.refused(case.build(), f"{HANDOUT_YML}:{line}:", "sections[1].figure.src", "'missing.png' file not found")


@pytest.mark.parametrize("kind", ["truncated", "garbage", "svg-named-png", "bad-crc"])
def test_corrupt_png_is_an_error_naming_the_file(case: Case, kind):
    png = case.path("content/handouts/sample.png").read_bytes()
    data = {
        "truncated": png[: len(png) // 2],
        "garbage": b"\x89PNG\r\n\x1a\n" + os.urandom(200),
        "svg-named-png": b"<svg xmlns='http://www.w3.org/2000/svg'/>",
        "bad-crc": png[:-20] + bytes(b ^ 0xFF for b in png[-20:-12]) + png[-12:],
    }[kind]
    case.write("content/handouts/broken.png", data)
    line = _figure(case, "broken.png")
    case.refused(case.build(), f"{HANDOUT_YML}:{line}:", "content/handouts/broken.png", "PNG")


def test_image_bomb_is_refused(case: Case):
    from PIL import Image

    Image.new("1", (10_000, 10_000)).save(case.path("content/handouts/huge.png"))
    line = _figure(case, "huge.png")
    case.refused(case.build(), f"{HANDOUT_YML}:{line}:", "content/handouts/huge.png", "pixels")


SVG_ATTACKS = {
    "http-image": '<image href="{url}" width="10" height="10"/>',
    "xlink-file": '<image xlink:href="file:///etc/passwd" width="10" height="10"/>',
    "relative-climb": '<image href="../../../../../../etc/passwd" width="10" height="10"/>',
    "data-uri": '<image href="data:image/png;base64,iVBORw0KGgo=" width="10" height="10"/>',
    "use-external": '<use href="{url}#x"/>',
    "script": '<script>alert(1)</script>',
    "onload": '<rect width="10" height="10" onload="alert(1)"/>',
    "style-url": '<style>rect {{ fill: url("{url}"); }}</style><rect width="10" height="10"/>',
    "style-import": '<style>@import "{url}";</style>',
    "attr-url": '<rect width="10" height="10" style="fill: url({url})"/>',
    "foreign-object": '<foreignObject width="10" height="10"><img xmlns="http://www.w3.org/1999/xhtml" '
                      'src="{url}"/></foreignObject>',
    "stylesheet-pi": None,
    "xxe": None,
}


@pytest.mark.parametrize("attack", list(SVG_ATTACKS))
def test_unsafe_svg_figure_is_refused_and_nothing_fetched(case: Case, trap: Trap, attack):
    body = SVG_ATTACKS[attack]
    head = '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 10 10">'
    if attack == "stylesheet-pi":
        svg = f'<?xml version="1.0"?>\n<?xml-stylesheet href="{trap.url("s.css")}"?>\n{head}\n</svg>\n'
        bad_line = 2
    elif attack == "xxe":
        svg = ('<?xml version="1.0"?>\n<!DOCTYPE svg [\n<!ENTITY xxe SYSTEM "file:///etc/passwd">\n]>\n'
               f'{head}\n<text>&xxe;</text>\n</svg>\n')
        bad_line = 3
    else:
        svg = f'{head}\n<rect width="10" height="10" fill="url(#ok)"/>\n{body.format(url=trap.url())}\n</svg>\n'
        bad_line = 3
    case.write("content/handouts/evil.svg", svg)
    line = _figure(case, "evil.svg")
    case.refused(case.build(), f"{HANDOUT_YML}:{line}:", f"content/handouts/evil.svg:{bad_line}")


def test_safe_svg_figure_builds(case: Case):
    case.write("content/handouts/ok.svg",
               '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><title>Square</title>'
               '<defs><linearGradient id="g"><stop offset="0" stop-color="#00f"/></linearGradient></defs>'
               '<rect width="10" height="10" fill="url(#g)"/><use href="#g"/></svg>')
    _figure(case, "ok.svg")
    case.ok(case.build())


@pytest.mark.parametrize("src, message", [
    ("../../../../../../../../etc/passwd", "points outside the project folder"),
    ("../../../practices/../../../etc/hosts", "points outside the project folder"),
    ("/etc/passwd", "must be a relative path"),
    ("file:///etc/passwd", "must be a relative path"),
    ("http://127.0.0.1:9/x.png", "must be a relative path"),
    ("data:image/png;base64,iVBORw0KGgo=", "must be a relative path"),
    ("~/.ssh/id_rsa", "must be a relative path"),
    ("bad\x00name.png", "not a usable file path"),
    ("sample.gif", "must be PNG, JPEG or SVG"),
], ids=["climb", "climb-via-practices", "absolute", "file-url", "http-url", "data-url", "home", "nul", "gif"])
def test_figure_paths_that_leave_the_project(case: Case, src, message):
    if src == "sample.gif":
        case.write("content/handouts/sample.gif", b"GIF89a")
    if "\x00" in src:  # YAML single quotes cannot hold a NUL; use a double-quoted escape
        line = case.replace(HANDOUT_YML, "      src: sample.png", '      src: "bad\\0name.png"')
    else:
        line = _figure(case, src)
    case.refused(case.build(), f"{HANDOUT_YML}:{line}:", "sections[1].figure.src", message)


@pytest.mark.parametrize("target", ["/etc/passwd", "outside.png", "/dev/zero"])
def test_figure_symlink_pointing_outside(case: Case, tmp_path: Path, target):
    if target == "outside.png":
        write_png(tmp_path / "outside.png")
        target = str(tmp_path / "outside.png")
    case.path("content/handouts/link.png").symlink_to(target)
    line = _figure(case, "link.png")
    case.refused(case.build(timeout=60), f"{HANDOUT_YML}:{line}:", "points outside the project folder")


def test_links_and_images_in_content_are_never_fetched(case: Case, trap: Trap):
    """Markdown links stay links (a PDF reader may open them); nothing is fetched at build time.

    Images and raw HTML are disabled in content markdown, so `![..](..)`, `<img>`, `<link>` and
    `<iframe>` come out as text; file:, data: and javascript: links are not made clickable.
    """
    body = (f"See [the trap]({trap.url('page')}) and ![img]({trap.url('img.png')}) and "
            f"<img src=\"{trap.url('raw.png')}\"> and [secret](file:///etc/passwd) and "
            f"[data](data:text/html;base64,PHNjcmlwdD4=) and [js](javascript:alert(1)) and "
            f"<link rel=\"attachment\" href=\"/etc/passwd\"> and <iframe src=\"{trap.url('f')}\"></iframe>.")
    case.replace(HANDOUT_YML, "    body: The picture above is a plain blue square.", f"    body: {body!r}")
    case.ok(case.build())
    html = case.html.read_text(encoding="utf-8")
    assert f'href="{trap.url("page")}"' in html
    for bad in ("<img src=\"http", 'href="file:', 'href="data:', 'href="javascript:', "<link rel=\"attachment",
                "<iframe"):
        assert bad not in html, bad
    text = " ".join(pdf_text(case.pdf).split())
    assert "<img src=" in text and "<iframe" in text
    with pikepdf.open(case.pdf) as pdf:
        assert "/EmbeddedFiles" not in pdf.Root.get("/Names", {})
        assert "root:" not in pdf_text(case.pdf)


# --------------------------------------------------------------------------- practice CSS, fonts, logos
CSS_ATTACKS = {
    "http-background": 'body {{ background: url("{url}"); }}',
    "file-url": "body {{ background: url(file:///etc/passwd); }}",
    "climb": "body {{ background: url(../../../../../../../../etc/passwd); }}",
    "absolute": "body {{ background: url('/etc/passwd'); }}",
    "data-url": "body {{ background: url(data:image/png;base64,iVBORw0KGgo=); }}",
    "import": '@import "{url}";',
    "font-face": '@font-face {{ font-family: X; src: url("{url}"); }}',
}


@pytest.mark.parametrize("attack", list(CSS_ATTACKS))
def test_practice_css_override_with_external_url_is_refused(case: Case, trap: Trap, attack):
    css = case.read("templates/handout/handout.css")
    rule = CSS_ATTACKS[attack].format(url=trap.url())
    case.write(f"{OVERRIDES}/handout/handout.css", css + "\n" + rule + "\n")
    line = css.count("\n") + 2
    case.refused(case.build(), f"{OVERRIDES}/handout/handout.css:{line}:")


def test_practice_css_built_at_render_time_is_refused_by_the_fetcher(case: Case, trap: Trap):
    """A URL the template assembles at render time escapes the static check; the fetcher stops it."""
    css = case.read("templates/handout/handout.css")
    host, port = trap.server.server_address
    rule = 'body { background: url("{{ "ht" ~ "tp://' + f'{host}:{port}' + '/built.png" }}"); }'
    case.write(f"{OVERRIDES}/handout/handout.css", css + "\n" + rule + "\n")
    case.refused(case.build(), HANDOUT_YML, "refused", "built.png", code=None, at_load=False)


BRAND = f"practices/{PRACTICE}/_brand.yml"


def _brand_attack(case: Case, trap: Trap, tmp_path: Path, kind: str, target: str) -> int:
    suffix = ".ttf" if kind == "font" else ".svg"
    outside = tmp_path / f"outside{suffix}"
    outside.write_bytes(b"<svg xmlns='http://www.w3.org/2000/svg'><text>OUTSIDE-MARKER</text></svg>"
                        if kind == "logo" else (case.root / f"practices/{PRACTICE}/fonts/PublicSans-Bold.ttf").read_bytes())
    practice_dir = case.path(f"practices/{PRACTICE}")
    value = {
        "http": trap.url(f"brand{suffix}"),
        "file-url": outside.as_uri(),
        "climb": os.path.relpath(outside, practice_dir),
        "absolute": str(outside),
        "symlink": f"sneaky{suffix}",
    }[target]
    if target == "symlink":
        (practice_dir / value).symlink_to(outside)
    old = "fonts/PublicSans-Bold.ttf" if kind == "font" else "path: logo.svg"
    new = value if kind == "font" else f"path: {value}"
    return case.replace(BRAND, old, new)


@pytest.mark.parametrize("kind", ["font", "logo"])
@pytest.mark.parametrize("target", ["http", "file-url", "climb", "absolute", "symlink"])
def test_brand_font_and_logo_paths_outside_the_practice(case: Case, trap: Trap, tmp_path: Path, kind, target):
    """A brand file outside the practice folder is never read. ClinicPress warns (naming
    _brand.yml and the line) and uses the fallback (bundled font, practice name); --strict makes
    it an error. brand_yml itself rejects some forms as invalid: then an error at the same line."""
    from clinicpress.errors import UserError
    from clinicpress.load.project import load_project

    line = _brand_attack(case, trap, tmp_path, kind, target)
    try:
        project = load_project(case.root)
    except UserError as exc:
        assert f"{BRAND}:{line}:" in str(exc), str(exc)
        return
    warnings = [str(w) for w in project.warnings if w.path == BRAND and w.line == line]
    assert warnings and ("outside the practice folder" in warnings[0] or "not found" in warnings[0]), warnings
    theme = project.practices[PRACTICE].theme
    used = [f.path for f in theme.fonts] + [p for logo in theme.logos.values() for p in (logo.light, logo.dark) if p]
    assert all(p.resolve().is_relative_to(case.root / "practices" / PRACTICE) for p in used), used
    html = render_in_process(case, pdf=True)
    assert "OUTSIDE-MARKER" not in html and "outside" + suffix_of(kind) not in html


def suffix_of(kind: str) -> str:
    return ".ttf" if kind == "font" else ".svg"


@pytest.mark.parametrize("kind, target", [("logo", "http"), ("font", "symlink")])
def test_brand_paths_outside_through_the_cli(case: Case, trap: Trap, tmp_path: Path, kind, target):
    line = _brand_attack(case, trap, tmp_path, kind, target)
    case.refused(case.build("--strict"), f"{BRAND}:{line}:")
    soft = case.build()
    out = soft.stdout + soft.stderr
    assert soft.returncode == 0 and "Traceback" not in out and f"{BRAND}:{line}" in out, out
    assert "OUTSIDE-MARKER" not in pdf_text(case.pdf)
    with pikepdf.open(case.pdf) as pdf:
        fonts = {str(f.get("/BaseFont", "")) for page in pdf.pages for f in page.Resources.get("/Font", {}).values()}
    assert not any("PublicSans" in f for f in fonts) or kind == "logo", fonts


def test_corrupt_brand_font_is_an_error(case: Case):
    case.write(f"practices/{PRACTICE}/fonts/PublicSans-Bold.ttf", b"\x00\x01\x00\x00" + b"\x00" * 64)
    case.refused(case.build(), f"practices/{PRACTICE}/fonts/PublicSans-Bold.ttf", "not a usable font file")


@pytest.mark.parametrize("attack", ["http-image", "xlink-file", "script", "xxe"])
def test_unsafe_logo_svg_is_refused(case: Case, trap: Trap, attack):
    logo = case.read(f"practices/{PRACTICE}/logo.svg")
    if attack == "xxe":
        evil = '<?xml version="1.0"?>\n<!DOCTYPE svg [\n<!ENTITY x SYSTEM "file:///etc/passwd">\n]>\n' + logo
        bad_line = 3
    else:
        head_end = logo.index(">", logo.index("<svg")) + 1
        insert = "\n" + SVG_ATTACKS[attack].format(url=trap.url()) + "\n"
        evil = logo[:head_end] + insert + logo[head_end:]
        bad_line = logo[:head_end].count("\n") + 2
    case.write(f"practices/{PRACTICE}/logo.svg", evil)
    case.refused(case.build(), f"practices/{PRACTICE}/logo.svg:{bad_line}:", "logo")


def test_corrupt_logo_png_is_an_error(case: Case):
    case.write(f"practices/{PRACTICE}/logo.png", b"\x89PNG\r\n\x1a\nnot really")
    case.replace(BRAND, "path: logo.svg", "path: logo.png")
    case.refused(case.build(), f"practices/{PRACTICE}/logo.png", "not a valid PNG image")


# =========================================================================== templates
OVERRIDE = f"{OVERRIDES}/handout/handout.html.j2"


def _override(case: Case, snippet: str, *, block: str = "footer_note") -> int:
    """Writes a practice override that extends the default and puts `snippet` on line 3."""
    case.write(OVERRIDE, '{% extends "!default/handout/handout.html.j2" %}\n'
                         f"{{% block {block} %}}\n{snippet}\n{{% endblock %}}\n")
    return 3


def _full_override(case: Case, snippet: str) -> int:
    """Copies the default template into the practice and adds `snippet` after <main>."""
    text = case.read("templates/handout/handout.html.j2")
    marker = "<main"
    pos = text.index(marker)
    line = text.count("\n", 0, pos) + 1
    case.write(OVERRIDE, text[:pos] + snippet + "\n" + text[pos:])
    return line


def test_template_syntax_error_names_the_practice_template_and_line(case: Case):
    line = _full_override(case, "{{ foo( }}")
    case.refused(case.build(), f"{OVERRIDE}:{line}:", "template syntax error", code=None, at_load=False)


def test_template_undefined_variable_names_template_and_line(case: Case):
    line = _full_override(case, "<p>{{ undefined_var }}</p>")
    case.refused(case.build(), f"{OVERRIDE}:{line}:", "'undefined_var' is undefined", code=None, at_load=False)


def test_template_error_in_an_extending_override(case: Case):
    line = _override(case, "{{ practice.no_such_field }}")
    case.refused(case.build(), f"{OVERRIDE}:{line}:", "no_such_field", code=None, at_load=False)


def test_template_error_in_an_included_css_override(case: Case):
    css = case.read("templates/handout/handout.css")
    case.write(f"{OVERRIDES}/handout/handout.css", css + "\n/* {{ 1 // 0 }} */\n")
    line = css.count("\n") + 2
    case.refused(case.build(), f"{OVERRIDES}/handout/handout.css:{line}:", "ZeroDivisionError",
                 code=None, at_load=False)


SANDBOX_ESCAPES = {
    "str-mro": "{{ ''.__class__.__mro__ }}",
    "mro-subclasses": "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "cycler-globals": "{{ cycler.__init__.__globals__ }}",
    "lipsum-globals": "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "joiner-init": "{{ joiner.__init__.__globals__.__builtins__ }}",
    "model-class": "{{ handout.__class__ }}",
    "model-machinery": "{{ handout.model_copy }}",
    "self-context": "{{ self._TemplateReference__context }}",
    "format-walk": "{{ '{0.__class__.__init__.__globals__}'.format(handout) }}",
    "path-read": "{{ theme.fonts[0].path.read_text() }}",
    "path-write": "{{ (theme.logos['large'].light.parent / 'PWNED').write_text('x') }}",
    "classmethod": "{{ numbering.bib.load }}",
    "pow-bomb": "{{ 9 ** 9 ** 9 ** 9 }}",
    "repeat-bomb": "{{ 'x' * 10000000000 }}",
    "range-bomb": "{{ range(10000000000) | list | length }}",
    "recursion": "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
}


@pytest.mark.parametrize("attack", list(SANDBOX_ESCAPES))
def test_sandbox_escape_is_refused_with_template_line(case: Case, attack):
    line = _override(case, SANDBOX_ESCAPES[attack])
    text = refused_in_process(case, f"{OVERRIDE}:{line}")
    assert "uid=" not in text and "root:x" not in text
    assert not list(case.root.rglob("PWNED"))


@pytest.mark.parametrize("attack", ["cycler-globals", "path-write"])
def test_sandbox_escape_through_the_cli(case: Case, attack):
    line = _override(case, SANDBOX_ESCAPES[attack])
    out = case.refused(case.build(timeout=120), f"{OVERRIDE}:{line}", "unsafe", code=None, at_load=False)
    assert "uid=" not in out and not list(case.root.rglob("PWNED"))


@pytest.mark.parametrize("name", ["/etc/passwd", "../../../../../../etc/passwd", "!default/../../../etc/passwd",
                                  "handout/../../../../../../etc/passwd"])
def test_include_outside_the_search_path(case: Case, name):
    line = _override(case, f'{{% include "{name}" %}}')
    refused_in_process(case, f"{OVERRIDE}:{line}", "not found on the search path")


def test_include_outside_the_search_path_through_the_cli(case: Case):
    line = _override(case, '{% include "../../../../../../etc/passwd" %}')
    out = case.refused(case.build(), f"{OVERRIDE}:{line}", "not found on the search path", code=None,
                       at_load=False)
    assert "root:x" not in out


def test_template_symlink_leading_outside_is_refused(case: Case, tmp_path: Path):
    case.path(f"{OVERRIDES}/handout").mkdir(parents=True, exist_ok=True)
    case.path(f"{OVERRIDES}/handout/evil.j2").symlink_to("/etc/passwd")
    _override(case, '{% include "handout/evil.j2" %}')
    case.refused(case.build(), f"{OVERRIDES}/handout/evil.j2", "outside")


def test_css_override_symlink_leading_outside_is_refused(case: Case):
    case.path(f"{OVERRIDES}/handout").mkdir(parents=True, exist_ok=True)
    case.path(f"{OVERRIDES}/handout/handout.css").symlink_to("/etc/passwd")
    case.refused(case.build(), f"{OVERRIDES}/handout/handout.css", "outside")


@pytest.mark.parametrize("form", ['<link rel="attachment" href="/etc/passwd">',
                                  '<link rel=attachment href="../../content/references.json">',
                                  '<a rel="nofollow attachment" href="../../content/references.json">x</a>'])
def test_attachment_link_in_template_is_refused(case: Case, form):
    line = _override(case, form)
    case.refused(case.build(), f"{OVERRIDE}:{line}:", "attachment")
    with pikepdf.open(case.pdf) as pdf:
        assert "/EmbeddedFiles" not in pdf.Root.get("/Names", {})


def test_attachment_link_built_at_render_time_is_refused(case: Case):
    line = _override(case, '<link rel="{{ "attach" ~ "ment" }}" href="sample.html">')
    case.refused(case.build(), OVERRIDE, "attachment", code=None, at_load=False)
    with pikepdf.open(case.pdf) as pdf:
        assert "/EmbeddedFiles" not in pdf.Root.get("/Names", {})
    assert line == 3


def test_inline_svg_in_template_cannot_fetch(case: Case, trap: Trap):
    """WeasyPrint swallows errors inside SVG (SVGImage.draw catches BaseException); the fetcher
    still refuses, and print_handout turns any refusal into a build error."""
    host, port = trap.server.server_address
    _override(case, '<svg width="10" height="10"><image href="{{ "http://" ~ "' + f"{host}:{port}" +
              '/inline.png" }}" width="10" height="10"/></svg>')
    case.refused(case.build(), HANDOUT_YML, "refused", "inline.png", code=None, at_load=False)


I18N = f"{OVERRIDES}/i18n/en.yml"


def _i18n_attack(case: Case, message: str) -> None:
    case.write(I18N, "# practice wording\nfooter_leak: " + json.dumps(message) + "\n")
    _override(case, '{{ t.fmt("footer_leak", x=handout, number=practice.phone) }}')


@pytest.mark.parametrize("message", ["{number.__class__.__mro__}", "{x.__init__.__globals__[sys].modules[os].environ}",
                                     "{number:>999999999}", "{number!r}", "{0}", "{x[0]}"])
def test_i18n_override_cannot_use_format_fields_to_walk_objects(case: Case, message):
    """Catalogue texts are filled in with str.format outside the sandbox, and a practice template
    can call t.fmt(key, x=anything): only plain {name} fields are allowed, or `{x.__init__.__globals__}`
    would print the environment into the PDF."""
    _i18n_attack(case, message)
    text = refused_in_process(case, f"{I18N}:2", "footer_leak", "plain {name} field")
    assert "PATH" not in text


def test_i18n_format_attack_through_the_cli(case: Case):
    _i18n_attack(case, "{x.__init__.__globals__[sys].modules[os].environ[HOME]}")
    out = case.refused(case.build(), f"{I18N}:2", "plain {name} field", code=None, at_load=False)
    assert "LEAK" not in out and "/root]" not in out


JINJA_SNIPPETS = ["{{ 7*7 }}", "{% include '/etc/passwd' %}", "{{ cycler.__init__.__globals__ }}",
                  "{{ handout.__class__ }}", "{# comment #}", "{% raw %}"]


def test_jinja_in_content_is_shown_as_text(case: Case):
    """Content is data, never compiled as a template: Jinja typed by a writer prints as typed.

    (In prose, markdown still applies: `__x__` is bold. In a code span it shows verbatim.)
    """
    body = " ".join(f"Typed: `{snippet}` end{i}." for i, snippet in enumerate(JINJA_SNIPPETS))
    case.replace(HANDOUT_YML, "    body: The picture above is a plain blue square.", "    body: " + json.dumps(body))
    case.replace(HANDOUT_YML, "  - Is this handout right for me?", "  - " + json.dumps("Is {{ 7*7 }} right?"))
    case.ok(case.build())
    text = "".join(pdf_text(case.pdf).split())  # line breaks may fall inside a snippet
    for i, snippet in enumerate(JINJA_SNIPPETS):
        assert "".join(f"Typed: {snippet} end{i}.".split()) in text
    assert "Is{{7*7}}right?" in text
    assert "49" not in text.replace("2026", "") and "root:x" not in text


def test_jinja_in_practice_details_is_shown_as_text(case: Case):
    rel = f"practices/{PRACTICE}/practice.yml"
    text = case.read(rel)
    old = next(ln for ln in text.splitlines() if ln.startswith("footer_note:"))
    case.replace(rel, old, "footer_note: " + json.dumps("{{ 7*7 }} and {% raw %}", ensure_ascii=False))
    case.ok(case.build())
    text = " ".join(pdf_text(case.pdf).split())
    assert "{{ 7*7 }} and {% raw %}" in text and " 49 " not in text


# =========================================================================== layout extremes
def _body(case: Case, text: str) -> None:
    case.replace(HANDOUT_YML, "    body: The picture above is a plain blue square.", "    body: " + json.dumps(text, ensure_ascii=False))


def test_very_long_word_and_url_do_not_crash(case: Case):
    word = "Pneumono" + "ultramicroscopic" * 18 + "osis"
    url = "https://example.org/" + "a" * 280
    assert len(word) >= 300 and len(url) >= 300
    _body(case, f"A long word: {word}. A long link: <{url}>. The end.")
    case.replace(HANDOUT_YML, "  - heading: A picture", f"  - heading: A{'b' * 110}")
    case.ok(case.build())
    text = "".join(pdf_text(case.pdf).split())
    assert word[:40] in text and "The end." in " ".join(pdf_text(case.pdf).split())


def _glyph_warning(case: Case):
    from clinicpress.checks.glyphs import check_glyphs
    from clinicpress.load.project import load_project

    project = load_project(case.root)
    found = check_glyphs(project)[next(s.key for s in project.handouts if s.slug == HANDOUT)]
    assert len(found) <= 1
    return found[0] if found else None


def test_emoji_build_and_are_named_by_the_glyph_check(case: Case):
    _body(case, "Smile \U0001F642 and a heart \u2764\ufe0f and a flag \U0001F1EC\U0001F1E7.")
    case.ok(case.build())
    assert "Smile" in pdf_text(case.pdf)
    warning = _glyph_warning(case)
    assert warning and "U+1F642" in warning.message and "U+1F1EC" in warning.message
    assert "U+FE0F" not in warning.message  # a variation selector is not a glyph of its own


def test_right_to_left_text_builds(case: Case):
    hebrew, arabic = "\u05e9\u05dc\u05d5\u05dd \u05e2\u05d5\u05dc\u05dd", "\u0645\u0631\u062d\u0628\u0627 \u0628\u0643\u0645"
    _body(case, f"Hebrew: {hebrew}. Arabic: {arabic}. Mixed: abc {hebrew} 123.")
    case.ok(case.build())
    text = pdf_text(case.pdf)
    assert "Hebrew:" in text and "Arabic:" in text
    # DejaVu Sans (installed with the Debian tools) covers both scripts: the letters are real text
    assert any("\u05d0" <= ch <= "\u05ea" for ch in text) and any("\u0621" <= ch <= "\u064a" for ch in text)
    # ...but the handout's own fonts do not, so the glyph check says so (another machine may lack DejaVu)
    warning = _glyph_warning(case)
    assert warning and "U+05E9" in warning.message and "U+0645" in warning.message


CHINESE = "\u80a0\u9053\u548c\u514d\u75ab\u7cfb\u7edf"  # 肠道和免疫系统


def test_chinese_without_a_covering_font_warns_with_the_missing_glyphs(case: Case):
    """The glyph check compares the characters of the content with the cmaps of the fonts the
    handout ships (bundled + practice fonts) and names every character they lack."""
    from clinicpress.checks.glyphs import check_glyphs
    from clinicpress.load.project import load_project

    line = case.replace(HANDOUT_YML, "    body: The picture above is a plain blue square.",
                        f"    body: 'In Chinese: {CHINESE}.'")
    project = load_project(case.root)
    findings = check_glyphs(project)
    src = next(s for s in project.handouts if s.slug == HANDOUT)
    found = findings[src.key]
    assert len(found) == 1, found
    f = found[0]
    assert f.severity == "warning" and f.check == "glyphs.missing"
    assert f.path == HANDOUT_YML and f.line == line and f.field == "sections[1].body"
    for ch in CHINESE:
        assert ch in f.message and f"U+{ord(ch):04X}" in f.message
    assert "Atkinson Hyperlegible" in f.message and PRACTICE in f.message
    case.ok(case.build())  # a warning, not an error: the handout still builds


def test_build_prints_the_missing_glyph_warning(case: Case):
    line = case.replace(HANDOUT_YML, "    body: The picture above is a plain blue square.",
                        f"    body: 'In Chinese: {CHINESE}.'")
    out = case.ok(case.build())
    assert f"{HANDOUT_YML}:{line}" in out and "U+80A0" in out


def test_slide_with_40_bullets_warns_and_still_builds(case: Case):
    bullets = "".join(f"      - Point number {i}\n" for i in range(1, 41))
    line = case.replace(DECK_YML, "    bullets:\n      - The gut holds", "    bullets:\n" + bullets + "      - The gut holds")
    out = case.ok(case.build(only=(DECK,)))
    assert "bullet" in out.lower() and f"{DECK_YML}:" in out, out
    from pptx import Presentation

    prs = Presentation(str(case.pptx))
    assert len(prs.slides) >= 3
    assert line > 0


def test_empty_handout_is_a_schema_error(case: Case):
    text = case.read(HANDOUT_YML)
    start, end = text.index("sections:\n"), text.index("actions:\n")
    case.write(HANDOUT_YML, text[:start] + "sections: []\n" + text[end:])
    line = line_of(case.read(HANDOUT_YML), "sections: []")
    case.refused(case.build(), f"{HANDOUT_YML}:{line}:", "sections:", "is an empty list", "give at least one item")


def test_handout_with_only_a_slug_lists_every_missing_field(case: Case):
    case.write(HANDOUT_YML, "slug: sample\n")
    out = case.refused(case.build(), f"{HANDOUT_YML}:1:1:", "required field is missing")
    for field in ("title", "main_message", "summary", "sections", "actions", "questions", "reviewed"):
        assert f"{field}: required field is missing" in out


# =========================================================================== faults
def _valid_document(path: Path) -> bool:
    if path.suffix == ".pdf":
        try:
            with pikepdf.open(path) as pdf:
                return len(pdf.pages) >= 1
        except Exception:
            return False
    if path.suffix == ".pptx":
        try:
            with zipfile.ZipFile(path) as z:
                return z.testzip() is None
        except Exception:
            return False
    return path.stat().st_size > 0


def test_kill_9_during_a_parallel_build_loses_nothing(tmp_path: Path):
    """SIGKILL cannot be caught: whatever temp file a worker was writing stays behind. Every
    output present afterwards must still be a complete document (old or new, never half), and
    the next build removes the leftovers and completes."""
    root = make_project(tmp_path / "proj", practices=None)
    out = tmp_path / "out"
    args = ["--root", str(root), "--output", str(out), "--no-slide-images", "-q", "--no-cache", "-j", "2",
            "--variant", "standard", "--variant", "large-print", "--variant", "print-shop"]
    first = run_build("build", *args)
    assert first.returncode == 0, first.stdout + first.stderr
    docs = {p: p.read_bytes() for p in out.rglob("*") if p.suffix in (".pdf", ".pptx")}
    assert len(docs) >= 6
    # A temp file as a kill during a write would leave it (the kill below may or may not hit a write).
    stale = out / PRACTICE / f"{TMP_PREFIX}stale.pdf"
    stale.write_bytes(b"%PDF-1.7\nhalf a file")

    loud = [a for a in args if a != "-q"]
    proc = subprocess.Popen([sys.executable, str(ROOT / "build.py"), "build", *loud], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:  # kill the whole process group (the build and its workers) once the first job is done
        for line in proc.stderr:
            if re.match(r"\s*\[\s*1/", line):
                break
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL, "the build finished before it could be killed"
    time.sleep(0.2)  # let the killed workers go
    for p in docs:
        assert p.exists() and _valid_document(p), f"{p} is missing or half-written after kill -9"

    again = run_build("build", *args)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Traceback" not in again.stdout + again.stderr
    assert not temp_files(out), temp_files(out)
    for p in docs:
        assert _valid_document(p)
    assert {p for p in out.rglob("*") if p.suffix in (".pdf", ".pptx")} == set(docs)


def _mount_tmpfs(path: Path, size: str) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                          capture_output=True).returncode == 0


def _umount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], capture_output=True)


def test_read_only_output_folder(case: Case, tmp_path: Path):
    """A read-only output folder gives a clear error and leaves the earlier outputs.

    Tests run as root in CI, where chmod does not stop writes, so the output folder is a
    tmpfs remounted read-only (EROFS stops root too). Without mount rights (not root), chmod
    0o555 is used, which does stop an ordinary user. Root without mount rights falls back to
    `chattr +i` (immutable), which stops root on ext2/3/4.
    """
    out = tmp_path / "ro-out"
    mounted = _mount_tmpfs(out, "4m")
    immutable = False
    try:
        shutil.copytree(case.out, out, dirs_exist_ok=True)
        before = snapshot(out)
        if mounted:
            assert subprocess.run(["mount", "-o", "remount,ro", str(out)]).returncode == 0
        elif os.geteuid() != 0:
            for d in [out, *[p for p in out.rglob("*") if p.is_dir()]]:
                d.chmod(0o555)
        else:
            for d in [out, *[p for p in out.rglob("*") if p.is_dir()]]:
                assert subprocess.run(["chattr", "+i", str(d)]).returncode == 0, "no way to make a read-only folder"
            immutable = True
        probe = out / PRACTICE / "probe"
        with pytest.raises(OSError):
            probe.write_bytes(b"x")
        proc = build_cmd(case.root, out, "--no-cache")
        output = proc.stdout + proc.stderr
        assert proc.returncode != 0 and "Traceback" not in output, output
        assert "read-only" in output.lower() or "permission denied" in output.lower(), output
        assert str(out) in output or f"{PRACTICE}/{HANDOUT}" in output, output
        assert snapshot(out) == before
        assert not temp_files(out)
    finally:
        if mounted:
            _umount(out)
        elif immutable:
            for d in [out, *[p for p in out.rglob("*") if p.is_dir()]]:
                subprocess.run(["chattr", "-i", str(d)])
        else:
            for d in [out, *[p for p in out.rglob("*") if p.is_dir()]]:
                d.chmod(0o755)


def test_full_disk(case: Case, tmp_path: Path):
    """A full disk gives a clear error, removes its temp file and leaves the earlier outputs.

    The output folder is a small tmpfs filled to the last byte (root in CI may mount). Without
    mount rights, RLIMIT_FSIZE stands in: the write fails with EFBIG instead of ENOSPC.
    """
    out = tmp_path / "full-out"
    mounted = _mount_tmpfs(out, "2m")
    try:
        shutil.copytree(case.out, out, dirs_exist_ok=True)
        before = snapshot(out)
        if mounted:
            fd = os.open(out / "filler", os.O_WRONLY | os.O_CREAT, 0o644)
            try:
                for chunk in (b"\0" * 65536, b"\0" * 512, b"\0"):
                    try:
                        while True:
                            os.write(fd, chunk)
                    except OSError as exc:
                        assert exc.errno == errno.ENOSPC
            finally:
                os.close(fd)
            before["filler"] = (out / "filler").read_bytes()
            proc = build_cmd(case.root, out, "--no-cache")
        else:
            code = ("import resource,runpy,sys;resource.setrlimit(resource.RLIMIT_FSIZE,(20000,20000));"
                    f"sys.argv=['build.py','build','--root',{str(case.root)!r},'--output',{str(out)!r},"
                    f"'--only',{HANDOUT!r},'--no-cache','--no-slide-images'];"
                    f"runpy.run_path({str(ROOT / 'build.py')!r},run_name='__main__')")
            proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                                  env={**os.environ, "PYTHONPATH": str(ROOT)})
        output = proc.stdout + proc.stderr
        assert proc.returncode != 0 and "Traceback" not in output, output
        assert ("disk is full" in output or "No space left" in output or "File too large" in output), output
        after = snapshot(out)
        assert after == before, sorted(set(after) ^ set(before))
        assert not temp_files(out)
    finally:
        if mounted:
            _umount(out)


def test_output_path_that_is_a_file(case: Case):
    """An output folder that is really a file: a clear error, and the file is left alone."""
    target = case.out / PRACTICE
    shutil.rmtree(target)
    target.write_text("not a folder", encoding="utf-8")
    proc = case.build("--no-cache")
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "Traceback" not in output, output
    assert PRACTICE in output and "internal error" not in output, output
    assert target.read_text(encoding="utf-8") == "not a folder"
