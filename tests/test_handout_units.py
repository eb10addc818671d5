"""Unit tests of the handout package's pieces: page geometry, CSS strings, the file fetcher."""
from __future__ import annotations

import math
import os
from pathlib import Path

import pytest
import tinycss2
import tinyhtml5
import weasyprint.urls

import clinicpress.render.handout as handout_pkg
from clinicpress.render.handout.fetcher import SafeFetcher
from clinicpress.render.handout.style import base_size_pt, css_str, hex_colour
from clinicpress.render.handout.variants import MIN_BODY_PT, VARIANTS, PageSetup, Variant, page_setup

Refused = weasyprint.urls.FatalURLFetchingError


# --------------------------------------------------------------------------- page geometry
STANDARD_MARGINS = {"margin_top": "11mm", "margin_x": "13mm", "margin_bottom": "17mm", "first_top": "11mm",
                    "footer_size": "8.5pt", "footer_gap": "2.5mm"}
LARGE_MARGINS = {"margin_top": "20mm", "margin_x": "20mm", "margin_bottom": "34mm", "first_top": "14mm",
                 "footer_size": "14pt", "footer_gap": "3mm"}
EXPECTED_MARGINS = {"standard": STANDARD_MARGINS, "large-print": LARGE_MARGINS, "print-shop": STANDARD_MARGINS}


@pytest.mark.parametrize("paper, size", [("letter", "letter"), ("a4", "A4")])
@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_page_setup_for_each_variant_and_paper(name, paper, size):
    setup = page_setup(paper, VARIANTS[name])
    assert setup == PageSetup(size, bleed="3mm", **EXPECTED_MARGINS[name])


def test_unknown_paper_prints_on_letter():
    assert page_setup("legal", Variant()).size == "letter"


def test_variants_are_named_by_their_key():
    assert set(VARIANTS) == {"standard", "large-print", "print-shop"}
    for key, variant in VARIANTS.items():
        assert variant.name == key
        assert variant.suffix == ("" if key == "standard" else f".{key}")
    assert VARIANTS["large-print"].columns == 1 and VARIANTS["large-print"].large_print
    assert VARIANTS["print-shop"].bleed and not VARIANTS["standard"].bleed
    assert VARIANTS["large-print"].max_pages > VARIANTS["standard"].max_pages


# --------------------------------------------------------------------------- CSS strings
HOSTILE = [
    'Font "X"',
    "it's",
    "back\\slash \\22 \\",
    "line one\nline two\r\nthree\ffour",
    "</style><script>alert(1)</script>",
    '"; } body { display: none } p { content: "',
    "tab\there \x7f del",
    '"abc',  # an escape followed by a hex digit must not swallow it
    "Niño & Zoë <3",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_css_str_reads_back_as_the_same_text(text):
    quoted = str(css_str(text))
    tokens = [t for t in tinycss2.parse_component_value_list(quoted) if t.type != "whitespace"]
    assert len(tokens) == 1 and tokens[0].type == "string"
    assert tokens[0].value == text


@pytest.mark.parametrize("text", HOSTILE)
def test_css_str_has_nothing_that_ends_a_string_or_a_style_element(text):
    inner = str(css_str(text))[1:-1]
    assert not set(inner) & set("\"'<>&\n\r\f\t\x7f")
    assert all(ord(ch) >= 0x20 for ch in inner)
    # Every backslash starts a hex escape closed by a space.
    for piece in inner.split("\\")[1:]:
        digits, sep, _ = piece.partition(" ")
        assert sep and digits and all(c in "0123456789abcdef" for c in digits)


def test_css_str_stays_inside_a_style_element():
    text = "</style><p id=x>escaped</p>"
    page = f"<style>p::after {{ content: {css_str(text)} }}</style><p>body</p>"
    document = tinyhtml5.parse(page)
    assert document.find(".//{http://www.w3.org/1999/xhtml}p[@id='x']") is None
    style = document.find(".//{http://www.w3.org/1999/xhtml}style")
    assert style is not None and style.text == f"p::after {{ content: {css_str(text)} }}"


def test_css_str_leaves_plain_text_alone():
    assert css_str("Page 1 – Niño") == '"Page 1 – Niño"'
    assert css_str("") == '""'


# --------------------------------------------------------------------------- theme values
def test_hex_colour_accepts_only_hex_colours():
    assert hex_colour("#ABC", "#000000") == "#aabbcc"
    assert hex_colour("#1D4E89", "#000000") == "#1d4e89"
    for bad in ("red", "#12345", "#1d4e89;}body{", "1d4e89", None, 0x1D4E89):
        assert hex_colour(bad, "#000000") == "#000000"


class _Theme:
    def __init__(self, size):
        self.base_size_pt = size


@pytest.mark.parametrize("size, expected", [(14, 14.0), (10, MIN_BODY_PT), (math.nan, MIN_BODY_PT),
                                            ("large", MIN_BODY_PT), (None, MIN_BODY_PT)])
def test_body_text_is_never_below_the_minimum(size, expected):
    assert base_size_pt(_Theme(size)) == expected


# --------------------------------------------------------------------------- the fetcher
@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "content" / "figures").mkdir(parents=True)
    (root / "content" / "figures" / "my logo.svg").write_bytes(b"<svg xmlns='http://www.w3.org/2000/svg'/>")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.txt").write_bytes(b"secret")
    return root


def refused(fetcher: SafeFetcher, url: str) -> str:
    """Fetches `url`, expects a refusal and returns the reason the fetcher recorded."""
    before = len(fetcher.refused)
    with pytest.raises(Refused):
        fetcher(url)
    assert len(fetcher.refused) == before + 1
    return fetcher.refused[-1]


def test_fetcher_allows_a_file_under_the_root(project):
    path = project / "content" / "figures" / "my logo.svg"
    response = SafeFetcher([project]).fetch(path.as_uri())
    assert response.read() == path.read_bytes()
    assert response.url == path.resolve().as_uri()


def test_fetcher_allows_a_file_reached_through_the_root_with_dot_segments(project):
    url = (project / "content" / "figures").as_uri() + "/../figures/my%20logo.svg"
    assert SafeFetcher([project])(url).read().startswith(b"<svg")


@pytest.mark.parametrize("url", ["http://example.com/logo.png", "https://example.com/font.woff2",
                                 "ftp://example.com/x", "data:image/svg+xml,<svg/>", "//example.com/x.png"])
def test_fetcher_refuses_every_other_scheme(project, url):
    fetcher = SafeFetcher([project])
    assert "is not allowed" in refused(fetcher, url)


def test_fetcher_refuses_a_file_outside_the_root(project):
    fetcher = SafeFetcher([project])
    secret = project.parent / "outside" / "secret.txt"
    assert "outside the project folder" in refused(fetcher, secret.as_uri())
    assert "outside the project folder" in refused(fetcher, project.as_uri() + "/../outside/secret.txt")


def test_fetcher_refuses_a_link_under_the_root_to_a_file_outside(project):
    link = project / "content" / "figures" / "innocent.svg"
    os.symlink(project.parent / "outside" / "secret.txt", link)
    assert "outside the project folder" in refused(SafeFetcher([project]), link.as_uri())


def test_fetcher_refuses_dev_urandom(project):
    assert "outside the project folder" in refused(SafeFetcher([project]), "file:///dev/urandom")


def test_fetcher_refuses_devices_and_folders_even_under_a_root(project):
    assert "not a regular file" in refused(SafeFetcher([Path("/dev")]), "file:///dev/null")
    assert "not a regular file" in refused(SafeFetcher([project]), (project / "content").as_uri())


def test_fetcher_refuses_a_missing_file(project):
    assert "file not found" in refused(SafeFetcher([project]), (project / "missing.png").as_uri())


def test_package_exports_the_fetcher_deck_imports():
    from clinicpress.render.handout import SafeFetcher as exported

    assert exported is SafeFetcher
    assert {"VARIANTS", "Variant", "print_handout", "render_html", "page_budget", "css_variables",
            "font_config", "PDF_VARIANT", "TEMPLATE", "STYLESHEET"} <= set(dir(handout_pkg))


def test_inline_constants_writes_only_constant_properties_in_place():
    from clinicpress.render.handout.style import inline_constants

    html = (
        "<style>:root { --c: #123456; --x: 1rem; --n: var(--c); }\n"
        "p { color: var(--c); margin: var(--x); border-color: var(--n); background: var(--gone, red); }\n"
        "@media screen { body { --x: 2rem; } }</style><p style='--y: 1px'>var(--c)</p>"
    )
    out = inline_constants(html)
    assert "color: #123456;" in out  # defined once on :root: written in place
    assert "margin: var(--x)" in out  # defined again in @media screen: kept
    assert "border-color: var(--n)" in out  # a value that is itself a var(): kept
    assert "var(--gone, red)" in out  # never defined: kept, so its fallback still applies
    assert out.endswith("<p style='--y: 1px'>var(--c)</p>")  # text outside <style> untouched
    assert inline_constants("<p>no style</p>") == "<p>no style</p>"
