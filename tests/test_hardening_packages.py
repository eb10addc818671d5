"""Hardening, round two (issue 17): deck masters and SVG pictures as untrusted packages.

Deck masters: a master is read as an untrusted zip at load time, before python-pptx opens it,
and the built deck is audited again before it is returned or handed to LibreOffice. SVG: parsed
with a safe XML parser and walked (scripts, handlers, external references in attributes and
CSS, `xml:base`), and the expansion through references (`<use>`, `url(#id)`) is counted.

Most cases load or render in this process (a refused load is a UserError, nothing else); one
case per family goes through the command line to prove the exit code, the message and that
earlier outputs stay as they were.
"""
from __future__ import annotations

import io
import shutil
import time
import zipfile
from pathlib import Path

import pytest
import test_hardening as th
from conftest import ROOT, require_tool
from test_hardening import DECK, HANDOUT_YML, PRACTICE, Case, Trap, _figure

from clinicpress.errors import UserError

DEFAULT_MASTER = ROOT / "templates" / "deck" / "default-master.pptx"
PRACTICE_YML = f"practices/{PRACTICE}/practice.yml"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
MS_REL = "http://schemas.microsoft.com/office/2006/relationships"
LAYOUT_RELS = "ppt/slideLayouts/_rels/slideLayout1.xml.rels"
PRES_RELS = "ppt/_rels/presentation.xml.rels"
pristine, case, trap = th.pristine, th.case, th.trap  # the catalogue's fixtures: one good build, a trap server
PRES_MAIN = "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"


# --------------------------------------------------------------------------- making masters
def master_with(*, parts: dict[str, bytes] | None = None, types: dict[str, str] | None = None,
                rels: dict[str, list[str]] | None = None, main_type: str | None = None,
                base: bytes | None = None, extra_entries: list[tuple[zipfile.ZipInfo | str, bytes]] = ()) -> bytes:
    """The default master with parts, content-type overrides and relationships added."""
    src = zipfile.ZipFile(io.BytesIO(base or DEFAULT_MASTER.read_bytes()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            blob = src.read(info.filename)
            if info.filename == "[Content_Types].xml":
                text = blob.decode()
                for name, ctype in (types or {}).items():
                    text = text.replace("</Types>", f'<Override PartName="/{name}" ContentType="{ctype}"/></Types>')
                if main_type:
                    text = text.replace(PRES_MAIN, main_type)
                blob = text.encode()
            for rel_part, items in (rels or {}).items():
                if info.filename == rel_part:
                    blob = blob.replace(b"</Relationships>", "".join(items).encode() + b"</Relationships>")
            dst.writestr(info.filename, blob)
        for name, blob in (parts or {}).items():
            dst.writestr(name, blob)
        for entry, blob in extra_entries:
            dst.writestr(entry, blob)
    return out.getvalue()


def rel(rid: str, rtype: str, target: str, external: bool = False) -> str:
    mode = ' TargetMode="External"' if external else ""
    return f'<Relationship Id="{rid}" Type="{rtype}" Target="{target}"{mode}/>'


def practice_copy(tmp: Path, master: bytes, name: str = "master.pptx") -> Path:
    """A project holding one practice (a copy of the shipped one) whose practice.yml names `master`."""
    root = tmp / "proj"
    folder = root / "practices" / PRACTICE
    shutil.copytree(ROOT / "practices" / PRACTICE, folder)
    (folder / name).write_bytes(master)
    with open(folder / "practice.yml", "a", encoding="utf-8") as f:
        f.write(f"deck_master: {name}\n")
    return root


def load_refused(tmp: Path, master: bytes, *needles: str, name: str = "master.pptx") -> str:
    from clinicpress.load.practice import load_practice

    root = practice_copy(tmp, master, name)
    with pytest.raises(UserError) as info:
        load_practice(root / "practices" / PRACTICE, root)
    text = str(info.value)
    assert f"{PRACTICE_YML}:" in text and "deck_master" in text, text
    for needle in needles:
        assert needle in text, f"{needle!r} not in {text!r}"
    return text


VBA = {"ppt/vbaProject.bin": b"\xd0\xcf\x11\xe0" + b"\0" * 508}
VBA_REL = {PRES_RELS: [rel("rIdVba", f"{MS_REL}/vbaProject", "vbaProject.bin")]}
MACRO_MAIN = "application/vnd.ms-powerpoint.presentation.macroEnabled.main+xml"

ACTIVE_MASTERS = {
    # The attack from the issue: a .pptm renamed .pptx (macro part, its relationship, macro content type).
    "macro-pptm-renamed": (dict(parts=VBA, rels=VBA_REL, main_type=MACRO_MAIN,
                                types={"ppt/vbaProject.bin": "application/vnd.ms-office.vbaProject"}),
                           "ppt/vbaProject.bin", "macros"),
    "macro-part-only": (dict(parts=VBA), "ppt/vbaProject.bin", "macros"),
    "macro-relationship-only": (dict(rels=VBA_REL), PRES_RELS, "macros"),
    "macro-content-type-only": (dict(main_type=MACRO_MAIN), "ppt/presentation.xml", "macroEnabled"),
    "potm-content-type": (dict(main_type="application/vnd.ms-powerpoint.template.macroEnabled.main+xml"),
                          "ppt/presentation.xml", "macroEnabled"),
    "vba-data": (dict(parts={"ppt/vbaData.xml": b"<vbaSuppData/>"}), "ppt/vbaData.xml", "macros"),
    "activex": (dict(parts={"ppt/activeX/activeX1.xml": b"<ax:ocx xmlns:ax='x'/>",
                            "ppt/activeX/activeX1.bin": b"\0" * 64},
                     types={"ppt/activeX/activeX1.xml": "application/vnd.ms-office.activeX+xml"},
                     rels={LAYOUT_RELS: [rel("rIdAx", f"{REL}/control", "../activeX/activeX1.xml")]}),
                "ppt/activeX/activeX1.xml", "ActiveX"),
    "ole-object": (dict(parts={"ppt/embeddings/oleObject1.bin": b"\xd0\xcf\x11\xe0" + b"\0" * 60},
                        types={"ppt/embeddings/oleObject1.bin": "application/vnd.openxmlformats-officedocument.oleObject"},
                        rels={LAYOUT_RELS: [rel("rIdOle", f"{REL}/oleObject", "../embeddings/oleObject1.bin")]}),
                   "ppt/embeddings/oleObject1.bin", "OLE"),
    "embedded-docx": (dict(parts={"ppt/embeddings/doc.docx": b"PK\x05\x06" + b"\0" * 18},
                           rels={LAYOUT_RELS: [rel("rIdPkg", f"{REL}/package", "../embeddings/doc.docx")]}),
                      "ppt/embeddings/doc.docx", "embedded object"),
}


@pytest.mark.parametrize("kind", list(ACTIVE_MASTERS))
def test_master_with_macros_activex_or_ole_is_refused_at_load(tmp_path, kind):
    spec, part, what = ACTIVE_MASTERS[kind]
    load_refused(tmp_path, master_with(**spec), "master.pptx", part, what)


EXTERNAL_TARGETS = {
    "http-image": ("image", "http://127.0.0.1:9/x.png"),
    "https-image": ("image", "https://example.invalid/logo.png"),
    "file-url": ("image", "file:///etc/passwd"),
    "unc-path": ("image", "\\\\attacker\\share\\x.png"),
    "relative-file": ("image", "../../../../outside.png"),
    "ole-link": ("oleObject", "file:///C:/Windows/system32/calc.exe"),
    "attached-template": ("attachedTemplate", "http://127.0.0.1:9/t.potx"),
    "file-hyperlink": ("hyperlink", "file:///etc/passwd"),
    "smb-hyperlink": ("hyperlink", "smb://attacker/share"),
}


@pytest.mark.parametrize("kind", list(EXTERNAL_TARGETS))
def test_master_with_external_relationship_is_refused_at_load(tmp_path, kind):
    rtype, target = EXTERNAL_TARGETS[kind]
    master = master_with(rels={LAYOUT_RELS: [rel("rIdX", f"{REL}/{rtype}", target.replace("&", "&amp;"), True)]})
    load_refused(tmp_path, master, "master.pptx", LAYOUT_RELS, repr(target)[1:20])


@pytest.mark.parametrize("target", ["../../../../etc/passwd", "/../../etc/passwd", "file:///etc/passwd",
                                    "..\\..\\secret.png"])
def test_master_relationship_leaving_the_package_is_refused(tmp_path, target):
    master = master_with(rels={LAYOUT_RELS: [rel("rIdX", f"{REL}/image", target)]})
    load_refused(tmp_path, master, LAYOUT_RELS)


def zeros_part(size: int) -> bytes:
    return b"\0" * size


def test_master_zip_bomb_part_is_refused_without_inflating_it(tmp_path):
    """The issue's case, scaled: one part of zeros far over the per-part limit (1000:1)."""
    from clinicpress.load import ooxml

    master = master_with(parts={"ppt/media/image1.png": zeros_part(ooxml.MAX_PART_BYTES + 1024 * 1024)})
    assert len(master) < 200_000
    started = time.perf_counter()
    load_refused(tmp_path, master, "ppt/media/image1.png", "inflates")
    assert time.perf_counter() - started < 5


def test_master_part_inflating_past_the_ratio_is_refused(tmp_path):
    master = master_with(parts={"ppt/media/image1.png": zeros_part(4 * 1024 * 1024)})
    load_refused(tmp_path, master, "ppt/media/image1.png", "100 times")


def test_master_parts_inflating_past_the_total_are_refused(tmp_path):
    """Parts each under the part and ratio limits, together over the total."""
    from clinicpress.load import ooxml

    rng = __import__("random").Random(7)
    block = b"".join(bytes(rng.getrandbits(8) for _ in range(512)) * 40 for _ in range(4))  # packs ~40:1
    part = block * (ooxml.MAX_PART_BYTES // len(block) - 1)
    count = ooxml.MAX_TOTAL_BYTES // len(part) + 1
    master = master_with(parts={f"ppt/media/image{i}.png": part for i in range(count)})
    load_refused(tmp_path, master, "inflate to more than")


def test_master_with_too_many_parts_is_refused(tmp_path):
    from clinicpress.load import ooxml

    master = master_with(parts={f"ppt/media/p{i}.png": b"x" for i in range(ooxml.MAX_PARTS)})
    load_refused(tmp_path, master, "parts")


def test_master_header_lying_about_sizes_is_refused_cleanly(tmp_path):
    """Sizes in the zip headers are not trusted: a part declared small that inflates large is an error."""
    master = bytearray(master_with(parts={"ppt/media/image1.png": zeros_part(2 * 1024 * 1024)}))
    zf = zipfile.ZipFile(io.BytesIO(bytes(master)))
    info = zf.getinfo("ppt/media/image1.png")
    real = (2 * 1024 * 1024).to_bytes(4, "little")
    for at in range(len(master) - 4):  # local header and central directory both say 100 bytes
        if master[at:at + 4] == real and at > info.header_offset - 1:
            master[at:at + 4] = (100).to_bytes(4, "little")
    load_refused(tmp_path, bytes(master), "ppt/media/image1.png")


@pytest.mark.parametrize("name, needle", [("../evil.xml", "'..'"), ("/abs.xml", "absolute"),
                                          ("ppt/a\\b.xml", "characters"), ("ppt//x.xml", "empty"),
                                          ("[content_types].XML", "twice")])
def test_master_with_unsafe_part_names_is_refused(tmp_path, name, needle):
    info = zipfile.ZipInfo(name)
    load_refused(tmp_path, master_with(extra_entries=[(info, b"<x/>")]), needle)


def test_master_part_with_doctype_or_entities_is_refused(tmp_path):
    xxe = (b'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
           b'<p:presentation xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main">&x;</p:presentation>')
    base = DEFAULT_MASTER.read_bytes()
    src = zipfile.ZipFile(io.BytesIO(base))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info.filename, xxe if info.filename == "ppt/presentation.xml" else src.read(info.filename))
    load_refused(tmp_path, out.getvalue(), "ppt/presentation.xml", "DOCTYPE")


def test_master_that_is_an_encrypted_or_broken_zip_is_refused(tmp_path):
    master = DEFAULT_MASTER.read_bytes()
    load_refused(tmp_path, master[: len(master) // 2], "master.pptx")


def test_master_over_the_file_size_limit_is_refused_without_reading_it(tmp_path, monkeypatch):
    from clinicpress.load import ooxml

    monkeypatch.setattr(ooxml, "MAX_PACKAGE_BYTES", 1000)
    monkeypatch.setattr(ooxml.read_capped, "__defaults__", (1000,))
    load_refused(tmp_path, DEFAULT_MASTER.read_bytes(), "larger than")


def replace_part(base: bytes, name: str, edit) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(base))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            blob = src.read(info.filename)
            dst.writestr(info.filename, edit(blob) if info.filename == name else blob)
    return out.getvalue()


def test_master_with_a_dangling_relationship_id_is_refused_at_load(tmp_path):
    """Found by the fuzz: a layout list naming a relationship the .rels lacks crashed the renderer (KeyError)."""
    import re

    rels = "ppt/slideMasters/_rels/slideMaster1.xml.rels"
    master = replace_part(DEFAULT_MASTER.read_bytes(), rels,
                          lambda b: re.sub(rb'<Relationship Id="rId1"[^>]*/>', b"", b, count=1))
    load_refused(tmp_path, master, "ppt/slideMasters/slideMaster1.xml", "'rId1'")


def test_master_without_a_slide_size_is_an_error_naming_it(tmp_path):
    """Found by the fuzz: a presentation.xml without <p:sldSz> crashed the renderer (TypeError)."""
    import re

    from clinicpress.errors import BuildError
    from clinicpress.load.project import load_project
    from clinicpress.render.deck import render_deck

    root = th.make_project(tmp_path / "p")
    master = replace_part(DEFAULT_MASTER.read_bytes(), "ppt/presentation.xml",
                          lambda b: re.sub(rb"<p:sldSz[^>]*/>", b"", b, count=1))
    (root / "practices" / PRACTICE / "master.pptx").write_bytes(master)
    with open(root / PRACTICE_YML, "a", encoding="utf-8") as f:
        f.write("deck_master: master.pptx\n")
    project = load_project(root)
    src = next(s for s in project.decks if s.slug == DECK)
    with pytest.raises(BuildError, match="slide size"):
        render_deck(src, project.practices[PRACTICE], project.bibliography, root)


def test_master_python_pptx_cannot_use_is_an_error_naming_it(case: Case):
    """Found by the fuzz: well-formed XML missing an element python-pptx requires is the master's fault, named."""
    import re

    master = replace_part(DEFAULT_MASTER.read_bytes(), "ppt/slideMasters/slideMaster1.xml",
                          lambda b: re.sub(rb"<p:cSld>.*?</p:cSld>", b"", b, count=1, flags=re.S))
    case.write(f"practices/{PRACTICE}/master.pptx", master)
    case.write(PRACTICE_YML, case.read(PRACTICE_YML) + "deck_master: master.pptx\n")
    case.refused(case.build(only=(DECK,)), f"practices/{PRACTICE}/master.pptx", "deck master cannot be used",
                 "cSld", at_load=False)


# --------------------------------------------------------------------------- what is still accepted
def good_master_with_chart_and_link() -> bytes:
    """A master made with python-pptx holding a sample slide with a chart (an embedded workbook)
    and a web hyperlink: what ClinicPress writes itself, so it must stay accepted."""
    from pptx import Presentation
    from pptx.chart.data import CategoryChartData
    from pptx.enum.chart import XL_CHART_TYPE
    from pptx.util import Inches

    prs = Presentation(str(DEFAULT_MASTER))
    slide = prs.slides.add_slide(prs.slide_layouts[1])
    data = CategoryChartData()
    data.categories = ["a", "b"]
    data.add_series("s", (1, 2))
    slide.shapes.add_chart(XL_CHART_TYPE.COLUMN_CLUSTERED, 0, 0, Inches(4), Inches(3), data)
    box = slide.shapes.add_textbox(0, 0, Inches(2), Inches(1))
    box.text_frame.text = "site"
    box.text_frame.paragraphs[0].runs[0].hyperlink.address = "https://example.org/"
    buf = io.BytesIO()
    prs.save(buf)
    return buf.getvalue()


def test_master_with_chart_workbook_and_web_link_is_accepted(tmp_path):
    from clinicpress.load.practice import load_practice

    master = good_master_with_chart_and_link()
    assert "ppt/embeddings/" in " ".join(zipfile.ZipFile(io.BytesIO(master)).namelist())
    root = practice_copy(tmp_path, master)
    assert load_practice(root / "practices" / PRACTICE, root).master.name == "master.pptx"


def test_nested_workbook_with_macros_is_refused(tmp_path):
    """The chart workbook is audited as a package too (one level deep)."""
    master = good_master_with_chart_and_link()
    src = zipfile.ZipFile(io.BytesIO(master))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            blob = src.read(info.filename)
            if info.filename.endswith(".xlsx"):
                blob = master_with(base=blob, parts={"xl/vbaProject.bin": b"\0" * 64})
            dst.writestr(info.filename, blob)
    load_refused(tmp_path, out.getvalue(), "xl/vbaProject.bin", "macros")


# --------------------------------------------------------------------------- through the command line
def test_macro_master_through_the_cli_is_refused_and_nothing_is_lost(case: Case, trap: Trap):
    master = master_with(parts=VBA, rels={**VBA_REL, LAYOUT_RELS: [rel("rIdX", f"{REL}/image", trap.url(), True)]},
                         main_type=MACRO_MAIN)
    case.write(f"practices/{PRACTICE}/master.pptx", master)
    yml = case.read(PRACTICE_YML)
    case.write(PRACTICE_YML, yml + "deck_master: master.pptx\n")
    line = yml.count("\n") + 1
    out = case.refused(case.build(only=(DECK,)), f"{PRACTICE_YML}:{line}:", "deck_master",
                       "ppt/vbaProject.bin", "macros", LAYOUT_RELS, trap.url()[:20])
    assert "Traceback" not in out
    assert trap.hits == []


def test_master_swapped_after_load_is_refused_before_python_pptx_opens_it(tmp_path):
    """The bytes python-pptx opens are the bytes audited (a master changed after loading is caught)."""
    from clinicpress.errors import BuildError
    from clinicpress.render.deck import render_deck

    root = th.make_project(tmp_path / "p")
    (root / "practices" / PRACTICE / "master.pptx").write_bytes(DEFAULT_MASTER.read_bytes())
    with open(root / PRACTICE_YML, "a", encoding="utf-8") as f:
        f.write("deck_master: master.pptx\n")
    from clinicpress.load.project import load_project

    project = load_project(root)
    swapped = master_with(rels={LAYOUT_RELS: [rel("rIdX", f"{REL}/image", "file:///etc/passwd", True)]})
    (root / "practices" / PRACTICE / "master.pptx").write_bytes(swapped)
    src = next(s for s in project.decks if s.slug == DECK)
    with pytest.raises(BuildError) as info:
        render_deck(src, project.practices[PRACTICE], project.bibliography, root)
    assert "external relationship" in str(info.value) and "master.pptx" in str(info.value)
    assert LAYOUT_RELS in str(info.value)


def test_libreoffice_never_gets_an_unchecked_package(tmp_path, trap: Trap):
    """The rasteriser audits the package first: LibreOffice would fetch the http picture of this
    deck (and open the local file) if it were handed over."""
    from clinicpress.render import raster

    require_tool("soffice")
    secret = tmp_path / "outside.png"
    secret.write_bytes(b"not read")
    deck = master_with(rels={LAYOUT_RELS: [rel("rIdX", f"{REL}/image", trap.url("lo.png"), True),
                                           rel("rIdY", f"{REL}/image", secret.as_uri(), True)]})
    with pytest.raises(raster.RasterError, match="external relationship"):
        raster.pptx_to_pdf(deck, tmp_path / "work", timeout=60)
    assert raster.slide_thumbnail(deck) is None
    assert trap.hits == []


def test_built_decks_carry_nothing_unsafe(tmp_path):
    """The shipped master builds a deck the audit accepts, and the audit costs little."""
    from clinicpress.load.ooxml import package_problems
    from clinicpress.load.project import load_project
    from clinicpress.render.deck import render_deck

    root = th.make_project(tmp_path / "p")
    project = load_project(root)
    src = next(s for s in project.decks if s.slug == DECK)
    pptx, _ = render_deck(src, project.practices[PRACTICE], project.bibliography, root)
    assert package_problems(pptx) == []
    names = zipfile.ZipFile(io.BytesIO(pptx)).namelist()
    assert not [n for n in names if "vba" in n.lower() or "activex" in n.lower() or n.endswith(".bin")]


def test_built_deck_carrying_an_unsafe_part_is_refused_before_it_is_returned(tmp_path, monkeypatch):
    """The last step of the deck renderer audits its own output: were anything to slip a macro
    part into the saved package, the deck is an error naming it, never written."""
    from clinicpress.errors import BuildError
    from clinicpress.load.project import load_project
    from clinicpress.render import pptx_adapter as ad
    from clinicpress.render.deck import render_deck

    root = th.make_project(tmp_path / "p")
    project = load_project(root)
    src = next(s for s in project.decks if s.slug == DECK)
    real = ad.package_bytes
    monkeypatch.setattr(ad, "package_bytes", lambda prs, when: master_with(base=real(prs, when), parts=VBA,
                                                                            rels=VBA_REL))
    with pytest.raises(BuildError, match="vbaProject.bin") as info:
        render_deck(src, project.practices[PRACTICE], project.bibliography, root)
    assert "sample-talk.yml" in str(info.value)


# =========================================================================== SVG
SVG_HEAD = '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 10 10">'


def svg_refused(body: str, *needles: str, head: str = SVG_HEAD) -> str:
    from clinicpress.load.assets import svg_problems

    started = time.perf_counter()
    problems = svg_problems(f"{head}\n{body}\n</svg>\n".encode())
    assert time.perf_counter() - started < 2, "the check itself must be quick"
    assert problems, f"not refused: {body}"
    text = " | ".join(m for _, m in problems)
    for needle in needles:
        assert needle in text, f"{needle!r} not in {text!r}"
    return text


def use_bomb(levels: int = 9, fan: int = 7) -> str:
    """Nested <use>: each level uses the one below `fan` times (7 ** 9 = 40 million elements) in 1.3 KB."""
    out = ['<defs><path id="l0" d="M0 0h1v1z"/>']
    for level in range(1, levels + 1):
        uses = "".join(f'<use href="#l{level - 1}"/>' for _ in range(fan))
        out.append(f'<g id="l{level}">{uses}</g>')
    out.append(f'</defs><use href="#l{levels}"/>')
    return "".join(out)


SVG_CASES = {
    "use-bomb": (use_bomb(), "expand"),
    "use-bomb-xlink": (use_bomb().replace("href=", "xlink:href="), "expand"),
    "pattern-bomb": ("<defs>" + "".join(
        f'<pattern id="p{i}" width="1" height="1">' + f'<rect width="1" height="1" fill="url(#p{i - 1})"/>' * 10
        + "</pattern>" for i in range(1, 12)) + '<pattern id="p0"/></defs><rect fill="url(#p11)"/>', "expand"),
    "style-pattern-bomb": ("<style>" + "".join(f".l{i} {{ fill: url(#p{i - 1}) }}" for i in range(1, 12)) + "</style>"
                           + "<defs><pattern id='p0'/>" + "".join(f'<pattern id="p{i}">' + f'<rect class="l{i}"/>' * 10
                                                                 + "</pattern>" for i in range(1, 12))
                           + '</defs><rect fill="url(#p11)"/>', "expand"),
    "use-cycle": ('<g id="a"><use href="#b"/></g><g id="b"><use href="#a"/></g>', "itself"),
    "use-self": ('<use id="s" href="#s"/>', "itself"),
    "deep-nesting": ("<g>" * 200 + "</g>" * 200, "nested"),
    "deep-use-chain": ('<rect id="u0"/>' + "".join(f'<use id="u{i}" href="#u{i - 1}"/>' for i in range(1, 200)),
                       "nested"),
    "too-many-elements": ('<rect/>' * 30_000, "elements"),
    "css-escape-url": ('<style>rect { fill: \\75 rl(http://x/a.png) }</style>', "url()"),
    "css-escape-url-attr": ('<rect style="fill: u\\72l(\'file:///etc/passwd\')"/>', "url()"),
    "css-escape-import": ('<style>@\\69mport "http://x/s.css";</style>', "@import"),
    "css-import-url": ("<style>@import url(s.css);</style>", "@import"),
    "css-image-set": ('<style>rect { fill: image-set("http://x/a.png" 1x) }</style>', "image-set"),
    "css-font-face": ('<style>@font-face { font-family: x; src: url(/etc/fonts/x.ttf) }</style>', "url()"),
    "css-comment-split": ('<style>rect { fill: url(/**/http://x/a.png) }</style>', "url()"),
    "presentation-attr-url": ('<rect filter="url(http://x/f.svg#f)"/>', "url()"),
    "marker-url": ('<path d="M0 0" marker-start="url(file:///etc/passwd#m)"/>', "url()"),
    "cdata-style": ("<style><![CDATA[ rect { fill: url('http://x/a.png') } ]]></style>", "url()"),
    "xml-base": ('<g xml:base="http://x/"><use href="#a"/></g><rect id="a"/>', "xml:base"),
    "href-no-hash": ('<use href="other.svg#a"/>', "refers to"),
    "href-whitespace": ('<use href=" http://x/a.svg#a"/>', "refers to"),
    "href-other-ns": ('<image xmlns:foo="http://www.w3.org/1999/xlink" foo:href="http://x/a.png"/>', "refers to"),
    "script-namespaced": ('<html:script xmlns:html="http://www.w3.org/1999/xhtml">alert(1)</html:script>', "script"),
    "script-uppercase": ("<SCRIPT>alert(1)</SCRIPT>", "script"),
    "handler-uppercase": ('<rect ONCLICK="alert(1)"/>', "event handler"),
    "foreign-object-nested": ("<g><switch><foreignObject/></switch></g>", "foreignObject"),
    "image-self-reference": ('<image id="me" href="#me" width="1" height="1"/>', "pictures inside SVG"),
    "image-without-href": ('<image width="1" height="1"/>', "pictures inside SVG"),
    "animate-href": ('<a><set attributeName="href" to="http://x/"/></a>', "animation"),
    "iframe-in-xhtml-ns": ('<iframe xmlns="http://www.w3.org/1999/xhtml" src="http://x/"/>', "refers to"),
    "entity-reference": (None, "entit"),
    "xxe-parameter": (None, "entit"),
}


@pytest.mark.parametrize("kind", list(SVG_CASES))
def test_unsafe_or_amplifying_svg_is_refused(kind):
    body, needle = SVG_CASES[kind]
    if kind == "entity-reference":
        from clinicpress.load.assets import svg_problems

        svg = (b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
               b'<svg xmlns="http://www.w3.org/2000/svg"><text>&b;&b;</text></svg>')
        assert needle in " ".join(m for _, m in svg_problems(svg))
        return
    if kind == "xxe-parameter":
        from clinicpress.load.assets import svg_problems

        svg = (b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x.dtd"> %p;]>'
               b'<svg xmlns="http://www.w3.org/2000/svg"/>')
        assert needle in " ".join(m for _, m in svg_problems(svg))
        return
    svg_refused(body, needle)


SAFE_SVGS = {
    "gradient-and-use": '<defs><linearGradient id="g"><stop offset="0" stop-color="#00f"/></linearGradient>'
                        '<rect id="r" width="1" height="1"/></defs><rect fill="url(#g)"/><use href="#r"/>',
    "quoted-fragment-url": "<style>rect { fill: url('#g') }</style><linearGradient id=\"g\"/>",
    "many-uses-within-limit": '<defs><rect id="r" width="1" height="1"/></defs>' + '<use href="#r"/>' * 2000,
    "doctype-without-subset": None,
    "illustrator-classes": "<style>" + "".join(f".st{i}{{fill:url(#g{i});}}" for i in range(100)) + "</style><defs>"
                           + "".join(f'<linearGradient id="g{i}"><stop offset="0"/></linearGradient>' for i in range(100))
                           + "</defs>" + "".join(f'<path class="st{i % 100}" d="M0 0h1v1z"/>' for i in range(2000)),
    "comment-and-title": "<!-- drawn by hand --><title>A square</title><rect width=\"1\" height=\"1\"/>",
    "inkscape-metadata": '<metadata><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/></metadata>'
                         '<g xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape" inkscape:label="L1"/>',
}


@pytest.mark.parametrize("kind", list(SAFE_SVGS))
def test_ordinary_svg_is_accepted(kind):
    from clinicpress.load.assets import svg_problems

    body = SAFE_SVGS[kind]
    if body is None:
        svg = ('<?xml version="1.0"?>\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
               '"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n' + SVG_HEAD + "</svg>")
    else:
        svg = f"{SVG_HEAD}{body}</svg>"
    assert svg_problems(svg.encode()) == []


def test_shipped_svgs_are_accepted():
    from clinicpress.load.assets import svg_problems

    files = [p for p in ROOT.glob("practices/*/*.svg")] + [ROOT / "tests/fixtures/decks/images/gut-lining.svg"]
    assert files
    for path in files:
        assert svg_problems(path.read_bytes()) == [], path


def test_use_bomb_figure_is_refused_through_the_cli_in_seconds(case: Case):
    """The issue's case: a 1.3 KB figure of nested <use> hung the build; now a located error, fast."""
    svg = f"{SVG_HEAD}\n{use_bomb()}\n</svg>\n"
    assert len(svg) < 1500
    case.write("content/handouts/bomb.svg", svg)
    line = _figure(case, "bomb.svg")
    started = time.perf_counter()
    case.refused(case.build(timeout=60), f"{HANDOUT_YML}:{line}:", "content/handouts/bomb.svg:2", "expand")
    assert time.perf_counter() - started < 30


def test_css_escape_in_logo_is_refused_through_the_cli(case: Case, trap: Trap):
    logo = case.path(f"practices/{PRACTICE}/logo.svg")
    text = logo.read_text(encoding="utf-8")
    host_url = trap.url("logo.png")
    evil = text.replace("</svg>", f'<rect style="fill: u\\72l({host_url})"/></svg>')
    logo.write_text(evil, encoding="utf-8")
    case.refused(case.build(), f"practices/{PRACTICE}/logo.svg", "url()")
    assert trap.hits == []



# =========================================================================== the renderer's HTML
OVERRIDE = f"practices/{PRACTICE}/templates/handout/handout.html.j2"
CSS_OVERRIDE = f"practices/{PRACTICE}/templates/handout/handout.css"


def override_blocks(case: Case, blocks: dict[str, str]) -> None:
    """A practice override that extends the default handout and replaces `blocks`."""
    text = '{% extends "!default/handout/handout.html.j2" %}\n'
    for name, body in blocks.items():
        text += f"{{% block {name} %}}{body}{{% endblock %}}\n"
    case.write(OVERRIDE, text)


def print_in_process(case: Case):
    """Renders and prints the handout in this process the way a build does (required passages included)."""
    from clinicpress.load.project import load_project
    from clinicpress.render.handout import VARIANTS, print_handout
    from clinicpress.render.handout import pdf as pdf_module
    from clinicpress.render.templating import Templates

    project = load_project(case.root)
    src = next(s for s in project.handouts if s.slug == th.HANDOUT)
    practice = project.practices[PRACTICE]
    out_dir = case.out / PRACTICE
    args = (src.model, practice, project.bibliography, VARIANTS["standard"], Templates(case.root), src.path.parent,
            out_dir)
    extra = {}
    if hasattr(pdf_module, "render_document"):
        rendered = pdf_module.render_document(*args)
        html, extra = rendered.html, {"required": rendered.required}
    else:  # the code before issue 17: no required passages to pass
        html = pdf_module.render_html(*args)
    return print_handout(html, base_url=out_dir, root=case.root, practice=practice,
                         reviewed=src.model.reviewed.date, source_path=HANDOUT_YML, **extra)


def printed_refused(case: Case, *needles: str) -> str:
    with pytest.raises(UserError) as info:
        print_in_process(case)
    text = str(info.value)
    for needle in needles:
        assert needle in text, f"{needle!r} not in {text!r}"
    return text


ATTACHMENT = '<link rel="&#97;ttachment" href="{{ default_fonts_uri }}/../../../content/references.json">'
"""A link embedding a project file that the static check of template files does not see (the rel
is an entity, the path is built at render time)."""

HIDING_WRAPPERS = {
    # Python's html.parser reads the link as part of a comment; WeasyPrint's HTML5 parser does not.
    "empty-comment": "<!--> {link} -->",
    "dash-comment": "<!---> {link} -->",
    "bang-close-comment": "<!-- x --!> {link} -->",
    "title-rcdata": "<title><!--</title>{link}<!---->",
    "textarea-rcdata": "<textarea><!--</textarea>{link}<!---->",
    "iframe-rawtext": "<iframe><!--</iframe>{link}<!---->",
    "xmp-rawtext": "<xmp><!--</xmp>{link}<!---->",
    "noembed-rawtext": "<noembed><!--</noembed>{link}<!---->",
    "anchor-in-comment": '<!--> <a rel="nofollow &#x61;ttachment" href="sample.html">x</a> -->',
    "built-at-render-time": '<!--> <link rel="{{ "attach" ~ "ment" }}" href="sample.html"> -->',
}


@pytest.mark.parametrize("kind", list(HIDING_WRAPPERS))
def test_attachment_hidden_from_another_parser_is_refused_by_the_renderer(case: Case, kind):
    override_blocks(case, {"footer_note": HIDING_WRAPPERS[kind].replace("{link}", ATTACHMENT)})
    printed_refused(case, HANDOUT_YML, "attachment", OVERRIDE)


def test_attachment_hidden_in_a_comment_through_the_cli(case: Case):
    """The issue's case: nothing is embedded, the earlier PDF stays as it was."""
    import pikepdf

    override_blocks(case, {"footer_note": HIDING_WRAPPERS["empty-comment"].replace("{link}", ATTACHMENT)})
    case.refused(case.build(), HANDOUT_YML, "attachment", code=None, at_load=False)
    with pikepdf.open(case.pdf) as pdf:
        assert "/EmbeddedFiles" not in pdf.Root.get("/Names", {})


def _handout_pdf(case: Case) -> bytes:
    return case.pdf.read_bytes()


def test_finished_pdf_with_an_embedded_file_is_refused(case: Case):
    import pikepdf

    from clinicpress.errors import BuildError
    from clinicpress.load.project import load_project
    from clinicpress.render.handout import verify_pdf

    buf = io.BytesIO()
    with pikepdf.open(case.pdf) as pdf:
        pdf.attachments["references.json"] = pikepdf.AttachedFileSpec(pdf, b"{}")
        pdf.save(buf)
    practice = load_project(case.root).practices[PRACTICE]
    with pytest.raises(BuildError, match="embedded files") as info:
        verify_pdf(buf.getvalue(), HANDOUT_YML, (), practice)
    assert HANDOUT_YML in str(info.value)
    verify_pdf(case.pdf.read_bytes(), HANDOUT_YML, (), practice)  # the real handout passes


def test_finished_pdf_with_a_file_attachment_annotation_is_refused(case: Case):
    import pikepdf

    from clinicpress.errors import BuildError
    from clinicpress.load.project import load_project
    from clinicpress.render.handout import verify_pdf

    buf = io.BytesIO()
    with pikepdf.open(case.pdf) as pdf:
        spec = pikepdf.AttachedFileSpec(pdf, b"secret", filename="x.txt")
        annot = pikepdf.Dictionary(Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.FileAttachment,
                                   Rect=[10, 10, 20, 20], FS=spec.obj, Contents=pikepdf.String("x"))
        page = pdf.pages[0]
        page.obj["/Annots"] = pdf.make_indirect(pikepdf.Array([*page.obj.get("/Annots", []), pdf.make_indirect(annot)]))
        pdf.save(buf)
    practice = load_project(case.root).practices[PRACTICE]
    with pytest.raises(BuildError, match="page 1 of the PDF would carry a file attachment"):
        verify_pdf(buf.getvalue(), HANDOUT_YML, (), practice)


# =========================================================================== required content
REMOVALS = {
    # The case: the disclaimer block replaced with a comment (naming the variables, so a
    # check of the template's text is satisfied).
    "disclaimer-commented-out": ({"disclaimer": "<!-- {{ t.disclaimer }} {{ emergency_line }} -->"}, "disclaimer"),
    "disclaimer-in-jinja-comment": ({"disclaimer": "{# {{ t.disclaimer }} {{ emergency_line }} #}"}, "disclaimer"),
    "disclaimer-truncated": ({"disclaimer": "<p>{{ t.disclaimer[:25] }} {{ emergency_line }}</p>"}, "disclaimer"),
    "disclaimer-in-an-attribute": ({"disclaimer": '<p title="{{ t.disclaimer }}">{{ emergency_line }}</p>'},
                                   "disclaimer"),
    "emergency-line-removed": ({"get_help": "", "disclaimer": "<p>{{ t.disclaimer }} {{ reviewed_line }}</p>"},
                               "emergency line"),
    "review-line-removed": ({"running": "", "disclaimer": "<p>{{ t.disclaimer }} {{ emergency_line }}</p>"},
                            "review line"),
    "language-help-removed": ({"notices": ""}, "language-help notice"),
    # The footer's markup kept, the element that gives it the sign-off left out: the disclaimer
    # still prints the line, the footer of every earlier page did not.
    "review-line-dropped-from-footer": (
        {"running": '<div class="running-footer rf-paged" aria-hidden="true">'
                    '<p class="rf-reviewed">{{ reviewed_line }}</p></div>'},
        "review line"),
}


@pytest.mark.parametrize("kind", list(REMOVALS))
def test_required_passage_templated_away_is_an_error(case: Case, kind):
    blocks, passage = REMOVALS[kind]
    override_blocks(case, blocks)
    printed_refused(case, HANDOUT_YML, f"has no {passage}", OVERRIDE)


@pytest.mark.parametrize("css, passage", [(".disclaimer { display: none }", "disclaimer"),
                                          (".notices { visibility: hidden }", "language-help notice"),
                                          ('.disclaimer > p:first-of-type { display: none }', "disclaimer")])
def test_required_passage_hidden_by_css_is_an_error(case: Case, css, passage):
    case.write(CSS_OVERRIDE, case.read("templates/handout/handout.css") + "\n" + css + "\n")
    printed_refused(case, HANDOUT_YML, f"has no {passage}", CSS_OVERRIDE)


def test_disclaimer_templated_away_through_the_cli(case: Case):
    override_blocks(case, REMOVALS["disclaimer-commented-out"][0])
    case.refused(case.build(), HANDOUT_YML, "has no disclaimer", OVERRIDE, code=None, at_load=False)


@pytest.mark.parametrize("kind", ["moved-and-restyled", "own-catalogue-wording"])
def test_required_passages_may_move_or_be_reworded_in_the_catalogue(case: Case, kind):
    """No false alarms: the passages may sit anywhere, and follow the practice's own catalogue."""
    if kind == "moved-and-restyled":
        override_blocks(case, {"disclaimer": '<footer style="text-transform: uppercase; font-size: 7pt">'
                                             "<p>{{ t.disclaimer }}</p><p>{{ emergency_line }}</p>"
                                             "<p>{{ reviewed_line }}</p></footer>"})
    else:
        case.write(f"practices/{PRACTICE}/templates/i18n/en.yml",
                   "disclaimer: This sheet is general guidance from our clinic, not a diagnosis or a plan for you.\n")
    printed = print_in_process(case)
    text = "".join(__import__("pypdfium2").PdfDocument(printed.pdf)[i].get_textpage().get_text_range()
                   for i in range(printed.pages))
    if kind == "own-catalogue-wording":
        assert "not a diagnosis or a plan" in " ".join(text.split())


def test_every_required_passage_comes_from_one_list():
    """The list the PDF is checked against: disclaimer, emergency line, review line and, where the
    practice has one, the language-help notice (the coordinator adds the sign-off line here)."""
    from clinicpress.load.project import load_project
    from clinicpress.render.handout import VARIANTS, render_document
    from clinicpress.render.templating import Templates

    project = load_project(ROOT, practices=[PRACTICE])
    src = next(s for s in project.handouts if s.language == "en")
    rendered = render_document(src.model, project.practices[PRACTICE], project.bibliography, VARIANTS["standard"],
                               Templates(ROOT), src.path.parent, ROOT / "output" / PRACTICE)
    names = [p.name for p in rendered.required]
    assert names[:3] == ["disclaimer", "emergency line", "review line"] and "language-help notice" in names
    for passage in rendered.required:
        assert " ".join(passage.text.split()) in " ".join(rendered.html.split()).replace("&#39;", "'")
