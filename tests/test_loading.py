"""clinicpress.load.loading: YAML with positions, size limits, strict models, errors at file:line."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import ROOT

from clinicpress.errors import UserError, dotted
from clinicpress.load import schema
from clinicpress.load.loading import MAX_BYTES, load_model, load_yaml, read_text


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_every_key_and_item_has_its_line_and_column(tmp_path: Path):
    path = write(tmp_path, "a.yml", "title: Gut\nsections:\n  - heading: One\n    body: Two\n")
    data, positions = load_yaml(path, tmp_path)
    assert data == {"title": "Gut", "sections": [{"heading": "One", "body": "Two"}]}
    assert positions[("title",)] == (1, 1)
    assert positions[("sections", 0, "body")] == (4, 5)


def test_duplicate_keys_are_errors_that_name_both_lines(tmp_path: Path):
    path = write(tmp_path, "a.yml", "title: A\nsummary: B\ntitle: C\n")
    with pytest.raises(UserError) as exc:
        load_yaml(path, tmp_path)
    (problem,) = exc.value.problems
    assert (problem.path, problem.line, problem.field) == ("a.yml", 3, "title")
    assert "first defined on line 1" in problem.message


def test_tabs_anchors_and_tags_get_a_plain_hint(tmp_path: Path):
    with pytest.raises(UserError) as exc:
        load_yaml(write(tmp_path, "t.yml", "a:\n\t- b\n"), tmp_path)
    assert "tab" in str(exc.value)
    with pytest.raises(UserError) as exc:
        load_yaml(write(tmp_path, "p.yml", "a: !!python/object:os.system x\n"), tmp_path)
    assert "not supported" in str(exc.value) and exc.value.problems[0].line == 1


def test_read_text_refuses_big_files_links_out_and_non_files(tmp_path: Path):
    big = tmp_path / "big.yml"
    big.write_bytes(b"a: b\n" * (MAX_BYTES // 5 + 10))
    with pytest.raises(UserError, match="the limit is"):
        read_text(big, tmp_path)
    outside = tmp_path.parent / f"{tmp_path.name}-outside.yml"
    outside.write_text("a: b\n", encoding="utf-8")
    try:
        (tmp_path / "link.yml").symlink_to(outside)
        with pytest.raises(UserError, match="outside the project"):
            read_text(tmp_path / "link.yml", tmp_path)
    finally:
        outside.unlink()
    os.mkfifo(tmp_path / "fifo.yml")
    with pytest.raises(UserError, match="not a regular file"):
        read_text(tmp_path / "fifo.yml", tmp_path)


def test_bad_utf8_names_the_line(tmp_path: Path):
    path = tmp_path / "bad.yml"
    path.write_bytes(b"a: ok\nb: caf\xe9\n")
    with pytest.raises(UserError) as exc:
        read_text(path, tmp_path)
    assert exc.value.problems[0].line == 2 and "UTF-8" in exc.value.problems[0].message


def test_an_unknown_key_in_a_model_suggests_the_right_one(tmp_path: Path):
    path = write(tmp_path, "c.yml", "name: Dr A\nrole: GP\nphotoo: x.png\n")
    with pytest.raises(UserError) as exc:
        load_model(path, schema.Clinician, tmp_path)
    problem = next(p for p in exc.value.problems if p.field == "photoo")
    assert problem.line == 3 and "unknown key" in problem.message


def test_dotted_writes_model_paths_as_yaml_does():
    assert dotted(("sections", 2, "bullets", 0)) == "sections[2].bullets[0]"
    assert dotted(()) == ""


def test_the_fast_yaml_parser_gives_the_same_data_and_positions(monkeypatch):
    """libyaml parses content files; every shipped file reads the same as with PyYAML's parser."""
    from clinicpress.load import loading

    assert loading._FastLoader is not loading._Loader, "PyYAML without libyaml: content loads ten times slower"
    files = sorted(p for part in ("content", "practices", "templates") for p in (ROOT / part).rglob("*.yml"))
    assert len(files) > 30
    fast = {p: loading.load_yaml(p, ROOT) for p in files}
    monkeypatch.setattr(loading, "_FastLoader", loading._Loader)
    for p in files:
        assert loading.load_yaml(p, ROOT) == fast[p], p
