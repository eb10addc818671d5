"""Property-based hardening (issue 11): whatever the input, the tool loads it or says why.

Hypothesis generates YAML-shaped content (mappings, lists and scalars, with and without the
real keys), broken variants of a valid handout, raw bytes, CSL-JSON and practice files. Each
is written into a small project and loaded in-process: the only acceptable outcomes are a
loaded project or `clinicpress.errors.UserError`, never any other exception. A last property
renders handouts whose text fields hold arbitrary characters (markdown, HTML, Jinja, control
and right-to-left characters) to HTML and PDF.

Bounded: about 50 examples per property and no deadline, so the file runs in a minute or two.
"""
from __future__ import annotations

import copy
import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinicpress.errors import UserError
from clinicpress.load.project import load_project

FIXTURES = Path(__file__).parent / "fixtures" / "hardening"
ROOT = Path(__file__).resolve().parents[1]
SETTINGS = settings(max_examples=50, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])

VALID_HANDOUT = yaml.safe_load((FIXTURES / "content" / "handouts" / "sample.yml").read_text(encoding="utf-8"))
VALID_PRACTICE = {
    "name": "Test Practice", "address": ["1 Test Street"], "phone": "555-0100",
    "website": "https://practice.example", "languages": ["en"], "paper": "letter", "columns": 1,
}
HANDOUT_KEYS = sorted({*VALID_HANDOUT, "heading", "body", "bullets", "steps", "callout", "figure", "table",
                       "src", "alt", "caption", "kind", "title", "term", "definition", "date", "by", "header",
                       "rows", "no_claims", "decorative", "translation_of", "human_review", "deck", "items",
                       "emergency", "today", "soon"})
PRACTICE_KEYS = sorted({*VALID_PRACTICE, "tagline", "clinicians", "fax", "email", "booking_url", "hours",
                        "reviewer", "country", "emergency_number", "notices", "footer_note", "deck_master",
                        "credentials", "role", "language_assistance", "nondiscrimination"})
BRAND_KEYS = ["meta", "color", "logo", "typography", "defaults", "palette", "primary", "foreground", "images",
              "path", "alt", "small", "medium", "large", "light", "dark", "fonts", "family", "source", "files",
              "weight", "style", "base", "headings", "size", "line-height", "name", "full", "link", "home"]

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-10**30, max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=40),
    st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)),
    st.sampled_from(["", "../../etc/passwd", "/etc/passwd", "file:///etc/passwd", "http://127.0.0.1:9/x",
                     "data:,x", "sample.png", "[@smith2020]", "[@nope]", "{{ 7*7 }}", "<img src=x>", "en", "es",
                     "2026-11-02", "#ff0000", "logo.svg", "\x00", "\u202e", "*" * 3]),
)


def yaml_values(keys: list[str]):
    key = st.one_of(st.sampled_from(keys), st.text(min_size=1, max_size=12), st.integers(-5, 5))
    return st.recursive(scalars, lambda children: st.lists(children, max_size=4)
                        | st.dictionaries(key, children, max_size=6), max_leaves=25)


def dump(data) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    """A tiny project: one practice, the fixture references, no content yet."""
    root = tmp_path_factory.mktemp("prop")
    (root / "content" / "handouts").mkdir(parents=True)
    shutil.copy2(FIXTURES / "content" / "references.json", root / "content" / "references.json")
    (root / "practices" / "p").mkdir(parents=True)
    (root / "practices" / "p" / "practice.yml").write_text(dump(VALID_PRACTICE), encoding="utf-8")
    from PIL import Image

    Image.new("RGB", (8, 8)).save(root / "content" / "handouts" / "sample.png")
    (root / "content" / "handouts" / "sample.yml").write_text(dump(VALID_HANDOUT), encoding="utf-8")
    load_project(root)  # the base itself is valid
    return root


def loads_or_user_error(root: Path):
    """Loads the project; returns it, or None after a UserError. Anything else fails the test."""
    try:
        return load_project(root)
    except UserError as exc:
        assert exc.problems and all(str(p) for p in exc.problems)
        return None


def mutate(data, draw, keys):
    """Applies one random edit somewhere inside `data` (delete, replace, add or retype)."""
    data = copy.deepcopy(data)
    node = data
    for _ in range(draw(st.integers(0, 4))):
        if isinstance(node, dict) and node:
            k = draw(st.sampled_from(sorted(node, key=str)))
            if isinstance(node[k], (dict, list)) and node[k]:
                node = node[k]
                continue
        elif isinstance(node, list) and node:
            i = draw(st.integers(0, len(node) - 1))
            if isinstance(node[i], (dict, list)) and node[i]:
                node = node[i]
                continue
        break
    op = draw(st.sampled_from(["delete", "replace", "add", "wrap"]))
    if isinstance(node, dict):
        k = draw(st.sampled_from(sorted(node, key=str))) if node else None
        if op == "delete" and k is not None:
            del node[k]
        elif op == "replace" and k is not None:
            node[k] = draw(yaml_values(keys))
        elif op == "wrap" and k is not None:
            node[k] = [node[k]] if not isinstance(node[k], list) else {"x": node[k]}
        else:
            node[draw(st.one_of(st.sampled_from(keys), st.text(min_size=1, max_size=8)))] = draw(yaml_values(keys))
    elif isinstance(node, list):
        if op == "delete" and node:
            node.pop(draw(st.integers(0, len(node) - 1)))
        elif op in ("replace", "wrap") and node:
            node[draw(st.integers(0, len(node) - 1))] = draw(yaml_values(keys))
        else:
            node.append(draw(yaml_values(keys)))
    return data


# --------------------------------------------------------------------------- content
@SETTINGS
@given(data=yaml_values(HANDOUT_KEYS))
def test_arbitrary_yaml_content_loads_or_is_a_user_error(base: Path, data):
    (base / "content" / "handouts" / "gen.yml").write_text(dump(data), encoding="utf-8")
    try:
        loads_or_user_error(base)
    finally:
        (base / "content" / "handouts" / "gen.yml").unlink()


@SETTINGS
@given(data=st.data())
def test_mutated_valid_handout_loads_or_is_a_user_error(base: Path, data):
    handout = VALID_HANDOUT
    for _ in range(data.draw(st.integers(1, 3))):
        handout = mutate(handout, data.draw, HANDOUT_KEYS)
    path = base / "content" / "handouts" / "sample.yml"
    path.write_text(dump(handout), encoding="utf-8")
    try:
        loads_or_user_error(base)
    finally:
        path.write_text(dump(VALID_HANDOUT), encoding="utf-8")


@SETTINGS
@given(raw=st.one_of(st.binary(max_size=300), st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")),
                     st.lists(st.sampled_from(["a:", " b", "- c", "&x", "*x", "!!str", "? ", "{", "[", "]", "}",
                                               "'", '"', "\t", "\n", "#", "---", "...", "%YAML 1.1", ": ", "|",
                                               ">", "\ufeff", "\x00"]), max_size=40).map(lambda p: "".join(p).encode(
                         "utf-8", "surrogatepass"))))
def test_raw_bytes_as_a_content_file_load_or_are_a_user_error(base: Path, raw: bytes):
    (base / "content" / "handouts" / "raw.yml").write_bytes(raw)
    try:
        loads_or_user_error(base)
    finally:
        (base / "content" / "handouts" / "raw.yml").unlink()


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=False), st.text(max_size=20)),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["id", "type", "title", "author", "issued", "date-parts", "family", "given", "page",
                         "volume", "DOI", "URL", "container-title", "literal", "editor"]) | st.text(max_size=8),
        children, max_size=6),
    max_leaves=20)


@SETTINGS
@given(data=st.data())
def test_arbitrary_csl_json_loads_or_is_a_user_error(base: Path, data):
    valid = json.loads((FIXTURES / "content" / "references.json").read_text(encoding="utf-8"))
    choice = data.draw(st.sampled_from(["arbitrary", "mutated"]))
    refs = data.draw(json_values) if choice == "arbitrary" else mutate(valid, data.draw, ["id", "title", "author",
                                                                                        "issued", "type"])
    path = base / "content" / "references.json"
    path.write_text(json.dumps(refs, ensure_ascii=False, default=str), encoding="utf-8")
    try:
        loads_or_user_error(base)
    finally:
        shutil.copy2(FIXTURES / "content" / "references.json", path)


# --------------------------------------------------------------------------- practices
@SETTINGS
@given(data=st.data())
def test_practice_files_load_or_are_a_user_error(base: Path, data):
    folder = base / "practices" / "p"
    kind = data.draw(st.sampled_from(["practice-arbitrary", "practice-mutated", "brand"]))
    if kind == "practice-arbitrary":
        (folder / "practice.yml").write_text(dump(data.draw(yaml_values(PRACTICE_KEYS))), encoding="utf-8")
    elif kind == "practice-mutated":
        (folder / "practice.yml").write_text(dump(mutate(VALID_PRACTICE, data.draw, PRACTICE_KEYS)),
                                             encoding="utf-8")
    else:
        brand = yaml.safe_load((ROOT / "practices" / "summit-rheumatology" / "_brand.yml").read_text(encoding="utf-8"))
        brand = mutate(brand, data.draw, BRAND_KEYS) if data.draw(st.booleans()) else data.draw(yaml_values(BRAND_KEYS))
        (folder / "_brand.yml").write_text(dump(brand), encoding="utf-8")
    try:
        loads_or_user_error(base)
    finally:
        (folder / "practice.yml").write_text(dump(VALID_PRACTICE), encoding="utf-8")
        (folder / "_brand.yml").unlink(missing_ok=True)


# --------------------------------------------------------------------------- rendering
nasty_text = st.text(
    alphabet=st.one_of(st.characters(codec="utf-8", exclude_categories=("Cs",)),
                       st.sampled_from(list("*_`[]()<>!#{}%&\\\"'|~-+=\n\t@;:"))),
    min_size=1, max_size=60,
).filter(lambda t: t.strip())
TEXT_FIELDS = [("title",), ("main_message",), ("summary",), ("sections", 0, "heading"), ("sections", 0, "body"),
               ("sections", 0, "bullets", 0), ("sections", 1, "figure", "caption"), ("actions", 0),
               ("questions", 0), ("get_help", "today", 0), ("teach_back", 0), ("glossary", 0, "term"), ("glossary", 0, "definition"),
               ("description",)]


@pytest.fixture(scope="module")
def render_base(tmp_path_factory) -> Path:
    """A copy of the shipped templates and one practice, with the fixture content."""
    root = tmp_path_factory.mktemp("render")
    for part in ("templates", "pyproject.toml"):
        src = ROOT / part
        (shutil.copytree if src.is_dir() else shutil.copy2)(src, root / part)
    shutil.copytree(ROOT / "practices" / "summit-rheumatology", root / "practices" / "summit-rheumatology")
    shutil.copytree(FIXTURES / "content", root / "content")
    from PIL import Image

    Image.new("RGB", (8, 8)).save(root / "content" / "handouts" / "sample.png")
    return root


@settings(max_examples=25, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_arbitrary_text_renders_or_is_a_user_error(render_base: Path, tmp_path: Path, data):
    """Any characters in any text field: the handout renders to HTML and PDF, or a UserError."""
    from clinicpress.render.handout import VARIANTS, print_handout, render_html
    from clinicpress.render.templating import Templates

    handout = copy.deepcopy(VALID_HANDOUT)
    for loc in data.draw(st.lists(st.sampled_from(TEXT_FIELDS), min_size=1, max_size=4, unique=True)):
        node = handout
        for part in loc[:-1]:
            node = node[part]
        node[loc[-1]] = data.draw(nasty_text)
    path = render_base / "content" / "handouts" / "sample.yml"
    path.write_text(dump(handout), encoding="utf-8")
    project = loads_or_user_error(render_base)
    if project is None:
        return
    src = project.handouts[0]
    practice = project.practices["summit-rheumatology"]
    out_dir = tmp_path / "out" / practice.slug
    try:
        html = render_html(src.model, practice, project.bibliography, VARIANTS["standard"], Templates(render_base),
                           src.path.parent, out_dir)
        pdf = print_handout(html, base_url=out_dir, root=render_base, practice=practice,
                            reviewed=src.model.reviewed.date, source_path="content/handouts/sample.yml").pdf
    except UserError:
        return
    assert pdf.startswith(b"%PDF-")
