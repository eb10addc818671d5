"""Fuzzing the untrusted packages (issue 17): deck masters and SVG pictures.

Hypothesis mutates the shipped deck master (bytes of the zip, and the XML and relationships of
its parts) and generates SVG files (nested elements, references, random attributes and CSS).
Whatever comes out, the checks either refuse it cleanly (a UserError, or a list of located
problems) or accept it, and what they accept renders without a crash, within a time limit, and
without the renderer asking for any file or address. No example may hang: each one runs
under an alarm.

Bounded: the examples are derandomised (the same ones every run) and the whole file takes
well under a minute. Set CLINICPRESS_FUZZ_EXAMPLES to run more (e.g. 2000, for an hour's hunt).
"""
from __future__ import annotations

import contextlib
import io
import os
import signal
import time
import zipfile
from pathlib import Path

import pytest
import test_hardening as th
from conftest import ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinicpress.errors import UserError

EXAMPLES = int(os.environ.get("CLINICPRESS_FUZZ_EXAMPLES", "0"))


def fuzz(examples: int) -> settings:
    """Bounded settings: `examples` cases (or CLINICPRESS_FUZZ_EXAMPLES), the same ones every run."""
    return settings(max_examples=EXAMPLES or examples, deadline=None, derandomize=not EXAMPLES,
                    suppress_health_check=list(HealthCheck), database=None)
MASTER = (ROOT / "templates" / "deck" / "default-master.pptx").read_bytes()
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


@contextlib.contextmanager
def alarm(seconds: float):
    """Turns a hang into a failure: raises TimeoutError after `seconds`."""
    def ring(signum, frame):
        raise TimeoutError(f"no answer within {seconds} s (a hang)")

    old = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


# =========================================================================== deck masters
@pytest.fixture(scope="module")
def deck_project(tmp_path_factory):
    """The hardening fixture project (one practice, one small deck), loaded once."""
    from clinicpress.load.project import load_project

    root = th.make_project(tmp_path_factory.mktemp("fuzz") / "proj")
    folder = root / "practices" / th.PRACTICE
    (folder / "master.pptx").write_bytes(MASTER)
    with open(folder / "practice.yml", "a", encoding="utf-8") as f:
        f.write("deck_master: master.pptx\n")
    project = load_project(root)
    return root, project


def try_master(deck_project, data: bytes) -> str:
    """Loads a practice with `data` as its master and, when accepted, renders the deck.

    Returns "refused" or "built"; anything but a UserError is a crash and fails the test.
    """
    from clinicpress.load.ooxml import package_problems
    from clinicpress.load.practice import load_practice
    from clinicpress.render.deck import render_deck

    root, project = deck_project
    folder = root / "practices" / th.PRACTICE
    (folder / "master.pptx").write_bytes(data)
    with alarm(30):
        try:
            practice = load_practice(folder, root)
        except UserError as exc:
            assert all(p.path and p.message for p in exc.problems)
            return "refused"
        src = next(s for s in project.decks if s.slug == th.DECK)
        try:
            pptx, _ = render_deck(src, practice, project.bibliography, root)
        except UserError:
            return "refused"
    assert package_problems(pptx) == [], "a built deck carries something unsafe"
    return "built"


def rebuild(parts: list[tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, blob in parts:
            z.writestr(name, blob)
    return out.getvalue()


MASTER_PARTS = [(i.filename, zipfile.ZipFile(io.BytesIO(MASTER)).read(i.filename))
                for i in zipfile.ZipFile(io.BytesIO(MASTER)).infolist()]
TARGETS = st.sampled_from(["http://127.0.0.1:9/x.png", "file:///etc/passwd", "\\\\host\\share\\a.png",
                           "../../../../etc/passwd", "/ppt/media/none.png", "../media/image1.png",
                           "https://example.org/", "mailto:a@b.c", "slideLayout2.xml", "", "#x", "C:\\x.png"])
TYPES = st.sampled_from(["image", "hyperlink", "oleObject", "package", "control", "attachedTemplate",
                         "slideLayout", "theme", "video", "frame"])
CONTENT_TYPES = st.sampled_from([
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
    "application/vnd.openxmlformats-officedocument.presentationml.template.main+xml",
    "application/vnd.ms-powerpoint.presentation.macroEnabled.main+xml",
    "application/vnd.ms-office.vbaProject", "application/vnd.ms-office.activeX+xml",
    "application/vnd.openxmlformats-officedocument.oleObject", "image/png", "application/xml", "",
])


def tweak(blob: bytes, draw) -> bytes:
    """Removes an element, or sets an attribute to an odd value, in one XML part."""
    from lxml import etree

    try:
        root = etree.fromstring(blob)
    except etree.XMLSyntaxError:  # an earlier mutation cut it
        return blob
    elements = list(root.iter())
    target = elements[draw(st.integers(0, len(elements) - 1))]
    if draw(st.booleans()) and target.getparent() is not None:
        target.getparent().remove(target)
    else:
        key = draw(st.sampled_from(list(target.attrib) or ["val"]))
        target.set(key, draw(st.sampled_from(["", "0", "-1", "99999999999", "x", "rId999", "1e400", "\u00e9"])))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


@st.composite
def mutated_master(draw) -> bytes:
    """The default master with parts added, renamed, dropped, relationships and types changed, text cut."""
    parts = list(MASTER_PARTS)
    for _ in range(draw(st.integers(1, 4))):
        action = draw(st.sampled_from(["rel", "type", "add", "drop", "rename", "cut", "dup", "junk-xml",
                                       "tweak-xml", "tweak-xml", "tweak-xml", "tweak-xml"]))
        index = draw(st.integers(0, len(parts) - 1))
        name, blob = parts[index]
        if action == "rel":
            rels = [i for i, (n, _) in enumerate(parts) if n.endswith(".rels")]
            index = draw(st.sampled_from(rels))
            name, blob = parts[index]
            mode = draw(st.sampled_from(["", ' TargetMode="External"', ' TargetMode="external"']))
            target = draw(TARGETS).replace("&", "&amp;")
            item = f'<Relationship Id="rIdF{draw(st.integers(0, 9))}" Type="{REL}/{draw(TYPES)}" Target="{target}"{mode}/>'
            parts[index] = (name, blob.replace(b"</Relationships>", item.encode() + b"</Relationships>"))
        elif action == "type":
            index = 0
            name, blob = parts[0]
            part = draw(st.sampled_from(["/ppt/presentation.xml", "/ppt/vbaProject.bin", "/ppt/x.xml"]))
            parts[0] = (name, blob.replace(b"</Types>", f'<Override PartName="{part}" ContentType="{draw(CONTENT_TYPES)}"/></Types>'.encode()))
        elif action == "add":
            new = draw(st.sampled_from(["ppt/vbaProject.bin", "ppt/activeX/activeX1.xml", "ppt/embeddings/a.bin",
                                        "ppt/media/image9.png", "../x", "ppt/slides/slide1.xml", "docProps/custom.xml"]))
            parts.append((new, draw(st.binary(max_size=200)) if draw(st.booleans()) else b"\0" * draw(st.integers(0, 3_000_000))))
        elif action == "drop" and len(parts) > 1:
            parts.pop(index)
        elif action == "rename":
            parts[index] = (draw(st.sampled_from(["PPT/Presentation.xml", "ppt/presentation.xml", name.upper(), name + "/", "a\\b"])), blob)
        elif action == "cut" and blob:
            at = draw(st.integers(0, len(blob) - 1))
            parts[index] = (name, blob[:at] + draw(st.binary(max_size=20)) + blob[at + draw(st.integers(0, 40)):])
        elif action == "dup":
            parts.append((name, blob))
        elif action == "junk-xml":
            parts[index] = (name, draw(st.sampled_from([
                b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY e SYSTEM "file:///etc/passwd">]><a>&e;</a>',
                b"<a>" * 300 + b"</a>" * 300, b"", b"\xff\xfe<\x00a\x00/\x00>\x00", b"<a xmlns:r='x' r:id='rId999'/>",
            ])))
        elif action == "tweak-xml":  # well-formed but odd structure: reaches python-pptx and the renderer
            xml = [i for i, (n, _) in enumerate(parts) if n.startswith("ppt/") and n.endswith(".xml")]
            index = draw(st.sampled_from(xml))
            name, blob = parts[index]
            parts[index] = (name, tweak(blob, draw))
    with contextlib.suppress(Exception):  # a duplicate name is a warning in zipfile; bytes still come out
        return rebuild(parts)
    return MASTER


@fuzz(60)
@given(data=mutated_master())
def test_mutated_masters_are_refused_or_built_never_a_crash(deck_project, data):
    try_master(deck_project, data)


@fuzz(60)
@given(flips=st.lists(st.tuples(st.integers(0, len(MASTER) - 1), st.integers(0, 255)), min_size=1, max_size=8),
       cut=st.one_of(st.none(), st.integers(0, len(MASTER))))
def test_corrupted_master_bytes_are_refused_or_built_never_a_crash(deck_project, flips, cut):
    data = bytearray(MASTER)
    for at, value in flips:
        data[at] = value
    try_master(deck_project, bytes(data[:cut] if cut is not None else data))


def test_the_fuzz_reaches_both_outcomes(deck_project):
    """The mutations are not all refused (a fuzz that only meets refusals proves little)."""
    assert try_master(deck_project, MASTER) == "built"
    assert try_master(deck_project, rebuild([*MASTER_PARTS, ("ppt/vbaProject.bin", b"x")])) == "refused"


# =========================================================================== SVG
SVG_NS = "http://www.w3.org/2000/svg"
TAGS = ["g", "use", "rect", "path", "pattern", "symbol", "defs", "marker", "mask", "clipPath", "text", "a", "svg",
        "linearGradient", "stop", "image", "filter", "feImage", "script", "foreignObject", "set", "style", "title"]
IDS = [f"i{n}" for n in range(6)]
CSS_VALUES = ["url(#i1)", "url('#i2')", 'url("http://127.0.0.1:9/a.png")', "u\\72l(file:///etc/passwd)",
              "\\75 rl(x.png)", "url(/**/http://x/)", "image-set('a.png' 1x)", "red", "none", "url(data:,x)",
              "#00f", "url( #i3 )", "src(x)", "var(--x)"]
ATTRS = {
    "id": st.sampled_from(IDS),
    "href": st.sampled_from([f"#{i}" for i in IDS] + ["http://127.0.0.1:9/x.svg#a", "x.svg", "", " #i0", "data:,x"]),
    "{http://www.w3.org/1999/xlink}href": st.sampled_from([f"#{i}" for i in IDS] + ["file:///etc/passwd"]),
    "fill": st.sampled_from(CSS_VALUES),
    "filter": st.sampled_from(CSS_VALUES),
    "mask": st.sampled_from(CSS_VALUES),
    "marker-start": st.sampled_from(CSS_VALUES),
    "style": st.lists(st.sampled_from(CSS_VALUES), max_size=3).map(lambda vs: "; ".join(f"fill: {v}" for v in vs)),
    "{http://www.w3.org/XML/1998/namespace}base": st.just("http://127.0.0.1:9/"),
    "onload": st.just("alert(1)"),
    "width": st.sampled_from(["1", "10", "100%", "-1", "1e9"]),
    "height": st.sampled_from(["1", "10", "0"]),
    "x": st.sampled_from(["0", "1", "abc"]),
    "d": st.sampled_from(["M0 0h1v1z", "M0 0", "", "L(1)"]),
    "class": st.sampled_from(["a", "b"]),
}
STYLE_TEXT = st.lists(st.sampled_from([
    ".a { fill: url(#i1) }", ".b { fill: url(#i2); stroke: url(#i3) }", "@import 'x.css';", "@\\69mport url(x);",
    "rect { fill: \\75 rl(http://127.0.0.1:9/) }", "@font-face { src: url(/etc/x.ttf) }", "g { fill: red }",
    "/* comment */", "<![CDATA[", "use { fill: url('#i0') }",
]), max_size=4).map(" ".join)


def element(kids):
    """One element (tag, attributes, children, style text) whose children come from `kids`."""
    return st.builds(lambda tag, attrs, children, text: (tag, attrs, children, text), st.sampled_from(TAGS),
                     st.dictionaries(st.sampled_from(list(ATTRS)), st.just(None), max_size=4).flatmap(
                         lambda keys: st.fixed_dictionaries({k: ATTRS[k] for k in keys})),
                     kids, st.one_of(st.none(), STYLE_TEXT))


TREES = st.recursive(element(st.just([])), lambda inner: element(st.lists(inner, max_size=5)), max_leaves=60)


def to_svg(tree) -> bytes:
    from lxml import etree

    def build(node, parent):
        tag, attrs, kids, text = node
        el = etree.SubElement(parent, f"{{{SVG_NS}}}{tag}")
        for key, value in attrs.items():
            el.set(key, value)
        if tag == "style" and text:
            el.text = text
        for kid in kids:
            build(kid, el)

    root = etree.Element(f"{{{SVG_NS}}}svg", nsmap={None: SVG_NS, "xlink": "http://www.w3.org/1999/xlink"})
    root.set("viewBox", "0 0 10 10")
    build(tree, root)
    return etree.tostring(root)


def draw_svg(svg: bytes, folder: Path) -> list[str]:
    """Draws an accepted SVG as WeasyPrint does for a figure; returns the URLs it asked for (besides the SVG)."""
    import weasyprint

    (folder / "f.svg").write_bytes(svg)
    asked: list[str] = []

    def fetch(url, *args, **kwargs):
        if url == (folder / "f.svg").as_uri():
            return weasyprint.urls.URLFetcherResponse(url, body=svg, headers={"Content-Type": "image/svg+xml"})
        asked.append(url)
        raise weasyprint.urls.FatalURLFetchingError(f"refused {url}")

    weasyprint.HTML(string='<img src="f.svg" style="width: 4cm">', base_url=str(folder) + "/",
                    url_fetcher=fetch).write_pdf()
    return asked


@fuzz(150)
@given(tree=TREES)
def test_generated_svgs_are_refused_or_drawn_without_fetching(tree, tmp_path_factory):
    from clinicpress.load.assets import svg_problems

    svg = to_svg(tree)
    with alarm(20):
        started = time.perf_counter()
        problems = svg_problems(svg)
        assert time.perf_counter() - started < 5
        assert all(isinstance(m, str) and m for _, m in problems)
        if problems:
            return
        asked = draw_svg(svg, tmp_path_factory.mktemp("svg"))
    assert asked == [], f"an accepted SVG made the renderer ask for {asked}"


@fuzz(40)
@given(levels=st.integers(1, 12), fan=st.integers(1, 12), via=st.sampled_from(["use", "pattern", "marker"]),
       xlink=st.booleans())
def test_nested_references_are_refused_or_drawn_in_seconds(levels, fan, via, xlink, tmp_path_factory):
    """Reference bombs of every shape: what is accepted draws quickly, the rest is refused quickly."""
    from clinicpress.load.assets import MAX_SVG_EXPANDED, svg_problems

    href = "xlink:href" if xlink else "href"
    body = ['<defs><rect id="l0" width="1" height="1"/>']
    for n in range(1, levels + 1):
        if via == "use":
            inner = f'<use {href}="#l{n - 1}"/>' * fan
            body.append(f'<g id="l{n}">{inner}</g>')
        else:
            attr = "fill" if via == "pattern" else "marker-start"
            inner = f'<path d="M0 0h1v1z" {attr}="url(#l{n - 1})"/>' * fan
            body.append(f'<{via} id="l{n}" width="1" height="1">{inner}</{via}>')
    body.append(f'</defs><use {href}="#l{levels}"/>')
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 9 9">'
           + "".join(body) + "</svg>").encode()
    with alarm(30):
        started = time.perf_counter()
        problems = svg_problems(svg)
        assert time.perf_counter() - started < 2
        if not problems:
            started = time.perf_counter()
            draw_svg(svg, tmp_path_factory.mktemp("svg"))
            assert time.perf_counter() - started < 15
    if fan ** levels > MAX_SVG_EXPANDED:
        assert problems, "a reference bomb was accepted"


def test_the_svg_harness_meets_both_outcomes(tmp_path):
    """The generated shapes can be accepted and drawn, or refused (a harness that only meets one proves little)."""
    from clinicpress.load.assets import svg_problems

    plain = to_svg(("g", {"id": "i0"}, [("rect", {"width": "1", "height": "1", "fill": "url(#i1)"}, [], None),
                                        ("linearGradient", {"id": "i1"}, [], None)], None))
    assert svg_problems(plain) == [] and draw_svg(plain, tmp_path) == []
    assert svg_problems(to_svg(("rect", {"fill": "\\75 rl(x.png)"}, [], None)))
