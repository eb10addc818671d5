"""The Python API the CLI itself uses: clinicpress.build, check, load_project and BuildSettings."""
from __future__ import annotations

import gc
import json
import weakref
from pathlib import Path

import pikepdf
import pytest

import clinicpress
from clinicpress.errors import UsageError, UserError
from clinicpress.settings import BuildSettings


def test_build_from_a_script_writes_the_pdf_and_a_second_build_does_nothing(project: Path, tmp_path: Path):
    out = tmp_path / "out"
    options = dict(only=("gut-and-immune-system",), output=out, jobs=1, slide_images=False, quiet=True)
    thresholds = gc.get_threshold()
    assert clinicpress.build(project, **options) == 0
    # A build paces the cyclic collector while it runs (jobs=1 renders in this process) and
    # leaves it as it found it: nothing frozen for good, the caller's thresholds back.
    assert gc.get_freeze_count() == 0 and gc.get_threshold() == thresholds
    pdf = out / "summit-rheumatology" / "gut-and-immune-system.pdf"
    with pikepdf.open(pdf) as doc:
        assert 1 <= len(doc.pages) <= 2 and str(doc.Root.Lang).startswith("en")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["outputs"]["summit-rheumatology/gut-and-immune-system.pdf"]["pages"] == len(pikepdf.open(pdf).pages)
    state = json.loads((out / ".clinicpress-cache.json").read_text(encoding="utf-8"))
    assert state["last_build"]["rendered"] == 1
    assert clinicpress.build(project, **options) == 0
    state = json.loads((out / ".clinicpress-cache.json").read_text(encoding="utf-8"))
    assert state["last_build"]["rendered"] == 0 and state["last_build"]["up_to_date"] == 1


def test_a_build_frees_earlier_cycles_instead_of_freezing_them(project: Path, tmp_path: Path):
    """A build freezes what is alive while it runs (the collector then skips it). Garbage left
    by an earlier build in the same process (`build --watch`, a script) is collected first, not
    frozen again with the rest: otherwise each build's cycles would outlive it."""

    class Cycle:
        pass

    options = dict(only=("gut-and-immune-system",), output=tmp_path / "out", jobs=1, slide_images=False, quiet=True)
    gc.disable()  # no automatic collection: only the build's own can free the cycle
    try:
        garbage = Cycle()
        garbage.itself = garbage
        alive = weakref.ref(garbage)
        del garbage
        assert alive() is not None
        assert clinicpress.build(project, **options) == 0
        assert alive() is None
    finally:
        gc.enable()


def test_check_returns_the_exit_code_and_writes_nothing(project: Path):
    before = sorted(p.relative_to(project) for p in project.rglob("*"))
    assert clinicpress.check(project, quiet=True) == 0
    assert sorted(p.relative_to(project) for p in project.rglob("*")) == before


def test_load_project_returns_the_validated_project_or_raises_with_file_and_line(project: Path):
    loaded = clinicpress.load_project(project)
    assert {s.slug for s in loaded.handouts} >= {"gut-and-immune-system"}
    assert list(loaded.practices) == ["summit-rheumatology"]
    path = project / "content" / "handouts" / "gut-and-immune-system.yml"
    path.write_text(path.read_text(encoding="utf-8").replace("title:", "titel:", 1), encoding="utf-8")
    with pytest.raises(UserError) as exc:
        clinicpress.load_project(project)
    assert any(p.path.endswith("gut-and-immune-system.yml") and p.line and p.field == "titel"
               for p in exc.value.problems)


def test_settings_are_normalised_and_checked(tmp_path: Path):
    settings = BuildSettings(root=tmp_path, only=["a"], practices=None)  # type: ignore[arg-type]
    assert settings.root.is_absolute() and settings.only == ("a",) and settings.practices == ()
    assert settings.out_root == tmp_path.resolve() / "output"
    assert settings.wants("a") and not settings.wants("b")
    with pytest.raises(UsageError, match="at least 1 worker"):
        BuildSettings(jobs=0).workers()
    with pytest.raises(TypeError):
        clinicpress.build(tmp_path, colour="red")  # not an option: a clear TypeError, nothing built
