"""The build pipeline: cache keys, atomic writes, the worker pool, the manifest and the index.

Determinism is what is tested here, so bytes are compared: the same inputs give the same
files whether built serially or by two workers, and twice in a row.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, copy_project, run_build

A = "gut-and-immune-system"
B = "stress-the-brain-and-the-gut"
DECK = "gut-and-autoimmune-disease"


def _digests(out: Path, *, skip=(".clinicpress-cache.json",)) -> dict[str, str]:
    return {p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(out.rglob("*")) if p.is_file() and p.name not in skip}


# --------------------------------------------------------------------------- cache keys
def _keys(root: Path) -> dict[str, str]:
    from clinicpress.jobs.model import plan
    from clinicpress.load.project import load_project
    from clinicpress.write.cache import FileHashes, JobKeys

    project = load_project(root)
    keys = JobKeys(project, FileHashes(), root / "output")
    return {job.key: keys.key(job) for job in plan(project)}


def _changed(before: dict, after: dict) -> set[str]:
    return {k for k in before if before[k] != after.get(k)}


@pytest.fixture(scope="module")
def keyed(tmp_path_factory) -> tuple[Path, dict]:
    root = copy_project(tmp_path_factory.mktemp("keys") / "proj", practices=["summit-rheumatology",
                                                                            "valle-community-health"])
    return root, _keys(root)


def test_job_keys_are_stable_and_unique(keyed):
    root, keys = keyed
    assert _keys(root) == keys
    assert len(set(keys.values())) == len(keys)
    assert f"summit-rheumatology/{A}" in keys and f"valle-community-health/{A}.es" in keys


def test_a_cited_reference_changes_only_the_documents_citing_it(keyed):
    from clinicpress.jobs.model import plan
    from clinicpress.load.project import load_project, walk_text
    from clinicpress.load.schema import cite_keys

    root, keys = keyed
    project = load_project(root)
    cited = {s.key: {k for _, t in walk_text(s.model) for k in cite_keys(t)} for s in project.sources}
    ref = sorted(cited[f"handout:{A}:en"])[0]
    source_of = {job.key: job.source.key for job in plan(project)}
    refs_path = root / "content" / "references.json"
    original = refs_path.read_text(encoding="utf-8")
    try:
        data = json.loads(original)
        for item in data:
            if item["id"] == ref:
                item["title"] = item["title"] + " (edited)"
        refs_path.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
        after = _keys(root)
    finally:
        refs_path.write_text(original, encoding="utf-8")
    expected = {job for job, src in source_of.items() if ref in cited[src]}
    assert expected and expected != set(keys)
    assert _changed(keys, after) == expected


def test_handout_templates_do_not_touch_decks_and_deck_templates_not_handouts(keyed):
    root, keys = keyed
    css = root / "templates" / "handout" / "handout.css"
    original = css.read_bytes()
    try:
        css.write_bytes(original + b"\n/* edited */\n")
        after = _keys(root)
    finally:
        css.write_bytes(original)
    changed = _changed(keys, after)
    deck_slugs = {p.stem for p in (root / "content" / "decks").rglob("*.yml")}  # the talk and its Arabic proof
    decks = {k for k in keys if k.split("/")[1].split(".")[0] in deck_slugs}  # every edition of each
    assert decks and not (changed & decks)
    assert changed == set(keys) - decks

    deck_dir = root / "templates" / "deck"
    deck_dir.mkdir(exist_ok=True)
    extra = deck_dir / "zz-test-extra.yml"
    try:
        extra.write_text("x: 1\n")
        after = _keys(root)
    finally:
        extra.unlink()
    assert _changed(keys, after) == decks


def test_a_practice_file_changes_only_that_practice(keyed):
    root, keys = keyed
    brand = root / "practices" / "valle-community-health" / "practice.yml"
    original = brand.read_bytes()
    try:
        brand.write_bytes(original + b"\n# edited\n")
        after = _keys(root)
    finally:
        brand.write_bytes(original)
    assert _changed(keys, after) == {k for k in keys if k.startswith("valle-community-health/")}


# --------------------------------------------------------------------------- writing
def test_write_atomic_replaces_whole_files_and_cleans_up(tmp_path: Path):
    from clinicpress.write.store import TMP_PREFIX, clean_temp_files, write_atomic

    target = tmp_path / "out" / "a.pdf"
    write_atomic(target, b"one")
    write_atomic(target, b"two")
    assert target.read_bytes() == b"two"
    assert list(target.parent.glob(TMP_PREFIX + "*")) == []
    leftover = target.parent / f"{TMP_PREFIX}xyz"
    leftover.write_bytes(b"half")
    assert clean_temp_files(tmp_path / "out") == [leftover]
    assert not leftover.exists()


def test_an_unwritable_output_is_a_user_error_naming_the_file(tmp_path: Path):
    from clinicpress.errors import BuildError
    from clinicpress.write.store import TMP_PREFIX, write_file

    blocker = tmp_path / "out"
    blocker.write_text("a file where a folder should be")
    with pytest.raises(BuildError) as info:
        write_file(blocker / "p" / "a.pdf", b"x")
    problem = info.value.problems[0]
    assert "a.pdf" in problem.path and problem.hint
    assert list(tmp_path.rglob(TMP_PREFIX + "*")) == []


def test_portable_project_pickles_without_the_citeproc_style(keyed):
    import pickle

    from clinicpress.jobs.pool import portable
    from clinicpress.load.project import load_project

    root, _ = keyed
    project = load_project(root)
    _ = project.bibliography._style  # the cached citeproc style cannot be pickled
    clone = pickle.loads(portable(project))
    assert clone.bibliography.items == project.bibliography.items
    assert [s.key for s in clone.sources] == [s.key for s in project.sources]


# --------------------------------------------------------------------------- index
def _manifest_for_index() -> dict:
    finding = {"check": "readability.fkgl", "severity": "warning", "message": "grade 7 <b>", "path": "c.yml",
               "line": 3}
    base = {"practice": "p1", "language": "en", "variant": "standard", "kind": "handout", "title": "A & B",
            "item": "handout:a:en", "job": "p1/a", "source": "content/handouts/a.yml", "inputs": "x"}
    return {
        "format": 1, "practices": {"p1": {"name": "Practice <One>"}, "p2": {"name": "Two"}},
        "outputs": {
            "p1/a.pdf": {**base, "format": "pdf", "sha256": "1", "pages": 2, "status": "warn", "findings": [finding],
                         "thumbnail": {"path": "p1/thumbs/a.png", "of": "1"}},
            "p1/a.html": {**base, "format": "html", "sha256": "2", "status": "warn", "findings": [finding]},
            "p1/a.es.pdf": {**base, "job": "p1/a.es", "language": "es", "format": "pdf", "sha256": "3", "pages": 1,
                            "status": "pass", "findings": [], "title": "A es"},
            "p2/d.pptx": {**base, "practice": "p2", "job": "p2/d", "kind": "deck", "format": "pptx", "sha256": "4",
                          "slides": 36, "status": "fail", "stale": True, "title": "Deck",
                          "findings": [{**finding, "severity": "error", "message": "too old"}]},
        },
    }


def test_index_lists_items_that_fail_checks_and_have_no_output():
    from clinicpress.write.index import render_index

    manifest = _manifest_for_index()
    manifest["items"] = {"handout:new:en": {"kind": "handout", "title": "New one", "language": "en", "status": "fail",
                                            "source": "content/handouts/new.yml",
                                            "findings": [{"severity": "error", "message": "too hard to read",
                                                          "path": "content/handouts/new.yml", "line": 9}]}}
    page = render_index(manifest)
    assert "Not built: failing checks" in page and "New one" in page and "content/handouts/new.yml:9" in page


def test_index_is_deterministic_escaped_and_accessible():
    from clinicpress.write.index import render_index

    manifest = _manifest_for_index()
    page = render_index(manifest)
    assert page == render_index(json.loads(json.dumps(manifest)))
    assert page.startswith("<!DOCTYPE html>") and '<html lang="en">' in page
    assert "<script" not in page and "http" not in page.split("<body>")[1]  # self-contained, no remote files
    assert "Practice &lt;One&gt;" in page and "A &amp; B" in page and "grade 7 &lt;b&gt;" in page
    assert '<h3 id="p1-en">English</h3>' in page and "Español" in page  # languages grouped in p1 only
    assert "p2-en" not in page
    assert 'href="p1/a.pdf"' in page and 'href="p1/a.html"' in page and 'href="p2/d.pptx"' in page
    assert 'src="p1/thumbs/a.png" alt=""' in page  # decorative: the title is the link text
    assert "1 warning" in page and "Fails checks: 1 error" in page and "Passes checks" in page
    assert "Check details: 1 warning" in page
    assert "earlier build" in page  # the stale deck is marked
    assert 'class="thumb plain slide"' in page  # a deck without a slide image gets a plain card


def test_thumbnail_of_a_pdf():
    import io

    import weasyprint
    from PIL import Image

    from clinicpress.render.raster import THUMB_WIDTH, pdf_thumbnail
    pdf = weasyprint.HTML(string="<p>one</p><p style='break-before: page'>two</p>").write_pdf()
    png = pdf_thumbnail(pdf)
    assert png == pdf_thumbnail(pdf)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.width == THUMB_WIDTH


# --------------------------------------------------------------------------- whole builds
def test_a_no_op_build_imports_neither_weasyprint_nor_pptx(tmp_path: Path):
    proj = copy_project(tmp_path / "proj", practices=["summit-rheumatology"])
    first = run_build("build", "--root", str(proj), "-q", "-j", "1", "--only", A, "--no-slide-images")
    assert first.returncode == 0, first.stderr
    code = ("import sys; from clinicpress.cli import main; "
            f"rc = main(['build', '--root', {str(proj)!r}, '-q', '-j', '1', '--only', {A!r}, '--no-slide-images']); "
            "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'weasyprint', 'pptx', 'jinja2', 'markdown_it'}); "
            "print(rc, heavy)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert proc.stdout.strip() == "0 []", proc.stdout + proc.stderr
    assert "nothing to do" in proc.stderr
    # pydantic is the one library a no-op build imports: it validates the state files read back
    # from output/ (clinicpress.write.state), which are untrusted input like content.


def test_user_errors_have_no_traceback_and_quiet_output_is_plain(tmp_path: Path):
    proc = run_build("build", "--root", str(tmp_path), "--practice", "nope", "-q")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "\x1b[" not in proc.stderr
    bad_jobs = run_build("build", "--root", str(ROOT), "-j", "0", "-q")
    assert bad_jobs.returncode == 2 and "at least 1 worker" in bad_jobs.stderr


@pytest.mark.slow
def test_serial_and_parallel_builds_give_identical_bytes(tmp_path: Path):
    proj = copy_project(tmp_path / "proj", practices=["summit-rheumatology", "valle-community-health"])
    args = ["--root", str(proj), "-q", "--no-slide-images", "--only", A, "--only", B, "--only", DECK]
    serial = run_build("build", *args, "-j", "1", "--output", str(proj / "out-1"))
    assert serial.returncode == 0, serial.stderr
    parallel = run_build("build", *args, "-j", "2", "--output", str(proj / "out-2"))
    assert parallel.returncode == 0, parallel.stderr
    one, two = _digests(proj / "out-1"), _digests(proj / "out-2")
    assert {f"summit-rheumatology/{A}.pdf", f"valle-community-health/{A}.es.pdf", f"valle-community-health/{B}.pdf",
            f"summit-rheumatology/{DECK}.pptx", f"valle-community-health/{DECK}.pptx"} <= set(one)
    documents = {n for n in one if n.endswith((".pdf", ".html", ".png", ".pptx"))}
    different = sorted(n for n in documents if one[n] != two.get(n))
    assert different == [], f"serial and parallel builds differ: {different}"
    # The manifests differ only where the output folder's name is part of the key.
    m1 = json.loads((proj / "out-1" / "manifest.json").read_text())
    m2 = json.loads((proj / "out-2" / "manifest.json").read_text())
    for name, entry in m1["outputs"].items():
        assert {k: v for k, v in entry.items() if k != "inputs"} == \
               {k: v for k, v in m2["outputs"][name].items() if k != "inputs"}


SHADOWING_SCRIPT = """
import multiprocessing.forkserver, os, signal, sys, time
from pathlib import Path
import clinicpress

def kill(pid):  # as the kernel's out-of-memory killer would; waits for it without reaping it
    os.kill(pid, signal.SIGKILL)
    os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)

def safe(pid):
    for _ in range(1000):  # /proc shows the new environment once the server's exec is done
        if b"multiprocessing.forkserver" in Path(f"/proc/{pid}/cmdline").read_bytes():
            break
        time.sleep(0.01)
    return b"PYTHONSAFEPATH=1" in Path(f"/proc/{pid}/environ").read_bytes().split(b"\\0")

if __name__ == "__main__":  # the workers' processes import this file again
    project, out = Path(sys.argv[1]), Path(sys.argv[2])
    options = dict(output=out, jobs=2, slide_images=False, quiet=True, only=tuple(sys.argv[3:]))
    environment = dict(os.environ)
    server = multiprocessing.forkserver._forkserver
    codes = [clinicpress.build(project, **options)]
    first = server._forkserver_pid
    kill(first)  # between two builds of one process (build --watch)
    codes.append(clinicpress.build(project, no_cache=True, **options))
    second = server._forkserver_pid
    checked = [safe(second)]
    kill(second)  # while a pool starts its next worker: multiprocessing starts the server itself
    server.ensure_running()  # (as connect_to_new_process does)
    third = server._forkserver_pid
    print(codes, len({first, second, third}), checked + [safe(third)], dict(os.environ) == environment)
"""


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="reads a process's environment from /proc (Linux)")
def test_workers_never_import_modules_from_the_current_folder(tmp_path: Path):
    """The workers' fork server is a `python -c` process: without PYTHONSAFEPATH it would look in
    the folder the build was started from first, so a `pptx.py` downloaded there would run in
    every worker. Also when the server died and a later build of the same process (build --watch,
    the preview, a script) starts it again."""
    proj = copy_project(tmp_path / "proj", practices=["summit-rheumatology"])
    here = tmp_path / "downloads"
    here.mkdir()
    for name in ("pptx", "weasyprint", "pypdfium2", "clinicpress"):
        (here / f"{name}.py").write_text(
            f"open({str(here / (name + '.imported'))!r}, 'w').close()\nraise SystemExit('imported {name} from here')\n"
        )
    script = tmp_path / "scripts" / "two_builds.py"
    script.parent.mkdir()
    script.write_text(SHADOWING_SCRIPT)
    done = subprocess.run(
        [sys.executable, str(script), str(proj), str(tmp_path / "out"), A, B],
        cwd=here,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[-2] == "[0, 0] 3 [True, True] True", done.stdout + done.stderr
    assert sorted(p.name for p in here.glob("*.imported")) == []
    assert (tmp_path / "out" / "summit-rheumatology" / f"{B}.pdf").is_file()


@pytest.mark.slow
def test_two_builds_from_scratch_give_identical_bytes(tmp_path: Path):
    proj = copy_project(tmp_path / "proj", practices=["thames-integrative-gi"])
    args = ["--root", str(proj), "-q", "--no-slide-images", "--only", A, "--only", DECK, "-j", "2"]
    first = run_build("build", *args)
    assert first.returncode == 0, first.stderr
    before = _digests(proj / "output")
    again = run_build("build", *args, "--no-cache")
    assert again.returncode == 0, again.stderr
    assert _digests(proj / "output") == before
    assert json.loads((proj / "output" / ".clinicpress-cache.json").read_text())["last_build"]["rendered"] == 2
