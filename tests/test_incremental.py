"""Incremental builds: a second build does no work, an edit rebuilds exactly what it affects,
removed sources lose their outputs, and a build killed midway leaves nothing half-written.

Every test builds a throwaway copy of the shipped project with `python build.py --root TMP`,
as a user would, and compares the output folder file by file (sha256 and mtime).
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, copy_project, require_tool, run_build

A = "gut-and-immune-system"
B = "stress-the-brain-and-the-gut"
PRACTICES = ["summit-rheumatology", "thames-integrative-gi"]
TMP_PREFIX = ".clinicpress-tmp-"


def build(root: Path, *args: str):
    """Builds two handouts for two practices in one process (-j 1 unless given)."""
    only = [] if "--only" in args else ["--only", A, "--only", B]
    jobs = [] if any(a.startswith("-j") for a in args) else ["-j", "1"]
    proc = run_build("build", "--root", str(root), "-q", "--no-slide-images", *only, *jobs, *args)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def snapshot(out: Path) -> dict[str, tuple[str, int]]:
    """{relative path: (sha256, mtime_ns)} of every file in the output folder."""
    files = {}
    for p in sorted(out.rglob("*")):
        if p.is_file():
            files[p.relative_to(out).as_posix()] = (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
    return files


def documents(snap: dict) -> dict:
    """Only the rendered documents and thumbnails (not manifest, report, index, state)."""
    return {k: v for k, v in snap.items() if "/" in k}


def rewritten(before: dict, after: dict) -> set[str]:
    """Files whose bytes or mtime changed, plus new ones."""
    return {k for k, v in after.items() if before.get(k) != v}


def last_build(out: Path) -> dict:
    return json.loads((out / ".clinicpress-cache.json").read_text())["last_build"]


def outputs_of(slug: str, practices=PRACTICES) -> set[str]:
    return {f"{p}/{slug}.{ext}" for p in practices for ext in ("pdf", "html")} | \
           {f"{p}/thumbs/{slug}.png" for p in practices}


@pytest.fixture
def proj(tmp_path: Path) -> Path:
    return copy_project(tmp_path / "proj", practices=PRACTICES)


def test_second_build_does_no_work(proj: Path):
    out = proj / "output"
    first = build(proj)
    assert first.returncode == 0, first.stderr
    assert last_build(out)["rendered"] == 4
    before = snapshot(out)
    assert set(documents(before)) == outputs_of(A) | outputs_of(B)

    second = build(proj)
    assert second.returncode == 0, second.stderr
    assert "nothing to do" in second.stderr
    after = snapshot(out)
    assert rewritten(documents(before), documents(after)) == set()
    third = build(proj)
    assert "nothing to do" in third.stderr
    assert snapshot(out) == after  # the stat cache is warm now: not one file is written, state included


def test_an_input_that_no_document_reads_reruns_checks_but_renders_nothing(proj: Path):
    out = proj / "output"
    assert build(proj).returncode == 0
    before = snapshot(out)
    jargon = proj / "content" / "jargon.yml"
    jargon.write_text(jargon.read_text(encoding="utf-8") + "\n# a comment\n", encoding="utf-8")
    proc = build(proj)
    assert proc.returncode == 0, proc.stderr
    assert "nothing to do" not in proc.stderr  # the fingerprint changed, so everything was re-checked
    stats = last_build(out)
    assert (stats["rendered"], stats["up_to_date"]) == (0, 4)
    assert rewritten(documents(before), documents(snapshot(out))) == set()


def test_editing_one_handout_rebuilds_exactly_its_outputs(proj: Path):
    out = proj / "output"
    assert build(proj).returncode == 0
    before = snapshot(out)
    src = proj / "content" / "handouts" / f"{A}.yml"
    text = src.read_text(encoding="utf-8")
    assert "\ntitle: Your Gut and Your Immune System\n" in text
    src.write_text(text.replace("\ntitle: Your Gut and Your Immune System\n",
                                "\ntitle: Your Gut and Your Immune System Today\n", 1), encoding="utf-8")
    proc = build(proj)
    assert proc.returncode == 0, proc.stderr
    assert rewritten(documents(before), documents(snapshot(out))) == outputs_of(A)
    stats = last_build(out)
    assert (stats["rendered"], stats["up_to_date"]) == (2, 2)  # A for each practice, nothing else


def test_changing_one_practice_logo_rebuilds_only_that_practice(proj: Path):
    out = proj / "output"
    assert build(proj).returncode == 0
    before = snapshot(out)
    for logo in (proj / "practices" / "summit-rheumatology").glob("logo*.svg"):  # light and dark variants
        svg = logo.read_text(encoding="utf-8")
        logo.write_text(svg.replace("</svg>", '<rect x="0" y="0" width="6" height="6" fill="#d00000"/></svg>'),
                        encoding="utf-8")
    proc = build(proj)
    assert proc.returncode == 0, proc.stderr
    changed = rewritten(documents(before), documents(snapshot(out)))
    assert changed and all(c.startswith("summit-rheumatology/") for c in changed), changed
    stats = last_build(out)
    assert (stats["rendered"], stats["up_to_date"]) == (2, 2)


def test_a_changed_help_line_prints_again(proj: Path):
    """templates/help-lines.yml is printed in every handout's help box: editing it renders the
    handouts again (it is part of their cache key), and the new sentence is in the PDF."""
    out = proj / "output"
    assert build(proj).returncode == 0
    lines = proj / "templates" / "help-lines.yml"
    text = lines.read_text(encoding="utf-8")
    assert "Call Samaritans free on {number}, day or night." in text
    lines.write_text(text.replace("Call Samaritans free on {number}, day or night.",
                                  "Call Samaritans free on {number}, at any hour."), encoding="utf-8")
    proc = build(proj)
    assert proc.returncode == 0, proc.stderr
    assert last_build(out)["rendered"] == 4
    pdf = out / "thames-integrative-gi" / f"{A}.pdf"
    printed = " ".join(subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                                      check=True).stdout.split())
    assert "116 123, at any hour." in printed


def test_removed_handout_outputs_disappear_and_are_listed(proj: Path):
    out = proj / "output"
    assert build(proj).returncode == 0
    for path in (proj / "content" / "handouts").rglob(f"{B}.yml"):
        path.unlink()  # the English original and its translation
    proc = build(proj, "--only", A, "-j", "1")
    assert proc.returncode == 0, proc.stderr
    for p in PRACTICES:
        assert f"removed {p}/{B}.pdf" in proc.stderr
        assert not (out / p / f"{B}.pdf").exists()
        assert not (out / p / f"{B}.html").exists()
        assert not (out / p / "thumbs" / f"{B}.png").exists()
        assert (out / p / f"{A}.pdf").exists()
    manifest = json.loads((out / "manifest.json").read_text())
    assert not any(B in name for name in manifest["outputs"])
    assert B not in (out / "index.html").read_text(encoding="utf-8")
    assert last_build(out)["removed"] == 6  # pdf, html, thumbnail × 2 practices


def test_filtered_build_keeps_outputs_outside_its_selection(proj: Path):
    out = proj / "output"
    assert build(proj).returncode == 0
    proc = build(proj, "--only", A, "-j", "1")
    assert proc.returncode == 0, proc.stderr
    assert (out / "summit-rheumatology" / f"{B}.pdf").exists()
    manifest = json.loads((out / "manifest.json").read_text())
    assert f"summit-rheumatology/{B}.pdf" in manifest["outputs"]


def test_an_item_failing_checks_is_not_rendered_and_keeps_its_old_output(proj: Path):
    out = proj / "output"
    assert build(proj).returncode == 0
    before = snapshot(out)
    src = proj / "content" / "handouts" / f"{A}.yml"
    text = src.read_text(encoding="utf-8")
    # A review date more than 36 months old is a governance error (issue 7).
    import re
    src.write_text(re.sub(r"(\n\s+date:\s*)\d{4}-\d{2}-\d{2}", r"\g<1>2015-01-01", text, count=1), encoding="utf-8")
    proc = build(proj)
    assert proc.returncode == 1, proc.stderr
    assert f"content/handouts/{A}.yml:" in proc.stderr
    assert "not rendered" in proc.stderr
    after = snapshot(out)
    assert rewritten(documents(before), documents(after)) == set()  # old outputs untouched, B unchanged
    manifest = json.loads((out / "manifest.json").read_text())
    entry = manifest["outputs"][f"summit-rheumatology/{A}.pdf"]
    assert entry["status"] == "fail" and entry["stale"] is True
    # Nothing changed since: the no-op build reports the same failure and exit code.
    again = build(proj)
    assert again.returncode == 1 and "nothing to do" in again.stderr and A in again.stderr


def _group_pids(pgid: int) -> list[int]:
    pids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                pids.append(int(d.name))
    return pids


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to find the build's processes")
def test_kill_9_midway_then_rebuild_completes_without_temp_files(tmp_path: Path):
    proj = copy_project(tmp_path / "proj", practices=PRACTICES)
    out = proj / "output"
    cmd = [sys.executable, str(ROOT / "build.py"), "build", "--root", str(proj), "-q", "-j", "2",
           "--no-slide-images", "--format", "pdf"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and proc.poll() is None:
            if len(list(out.glob("*/*.pdf"))) >= 2:
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the build finished before it could be killed; use more documents"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        # The workers notice that the build is gone and stop by themselves.
        deadline = time.monotonic() + 15
        while _group_pids(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _group_pids(proc.pid) == [], "worker processes outlived the killed build"
    finally:
        for pid in _group_pids(proc.pid):
            os.kill(pid, signal.SIGKILL)
    # What a kill during a rename can leave behind (simulated, since the timing is luck):
    (out / "summit-rheumatology" / f"{TMP_PREFIX}abc123").write_bytes(b"%PDF-1.7 half a file")

    again = run_build("build", "--root", str(proj), "-q", "-j", "2", "--no-slide-images", "--format", "pdf")
    assert again.returncode == 0, again.stderr
    assert list(out.rglob(TMP_PREFIX + "*")) == []
    manifest = json.loads((out / "manifest.json").read_text())
    import pypdfium2
    for name, entry in manifest["outputs"].items():
        data = (out / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        if name.endswith(".pdf"):
            assert len(pypdfium2.PdfDocument(data)) == entry["pages"] >= 1


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to find the worker processes")
def test_a_killed_worker_gives_a_clear_error_and_no_temp_files(tmp_path: Path):
    """A worker killed in the middle of a document: that document fails with a clear error, the
    build exits 1, no temporary file is left. The kill can land in the moment a worker sits
    between two documents (the build saw it running none): then the pool is started again and
    the build completes, every document written; the test then tries again, a few times."""
    for attempt in range(4):
        proj = copy_project(tmp_path / f"proj{attempt}", practices=PRACTICES)
        out = proj / "output"
        cmd = [sys.executable, str(ROOT / "build.py"), "build", "--root", str(proj), "-q", "-j", "2",
               "--no-slide-images", "--format", "pdf"]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env={**os.environ, "PYTHONPATH": str(ROOT)}, start_new_session=True)
        try:
            deadline = time.monotonic() + 300
            victim = None
            while victim is None and time.monotonic() < deadline and proc.poll() is None:
                if list(out.glob("*/*.pdf")):  # workers are rendering
                    victim = _a_worker(proc.pid)
                time.sleep(0.05)
            assert victim is not None, "no worker found to kill"
            os.kill(victim, signal.SIGKILL)
            _, stderr = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
        assert "Traceback" not in stderr
        assert list(out.rglob(TMP_PREFIX + "*")) == []
        if proc.returncode == 0:  # killed between two documents: started again, nothing lost
            planned = re.search(r"(\d+) rendered, 0 up to date", stderr)
            assert planned and len(list(out.glob("*/*.pdf"))) == int(planned.group(1)), stderr
            continue
        assert proc.returncode == 1, stderr
        assert "worker process stopped unexpectedly" in stderr
        return
    pytest.fail("every kill landed between two documents; none showed the error")


def _a_worker(build_pid: int) -> int | None:
    """A pool worker of the build: a child of its fork server (or of the build itself under spawn)."""
    parents: dict[int, int] = {}
    for pid in _group_pids(build_pid):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        parents[pid] = int(fields[1])
        if b"resource_tracker" in cmdline:
            parents[pid] = -1
    servers = {pid for pid, ppid in parents.items() if ppid == build_pid}
    workers = [pid for pid, ppid in parents.items() if ppid in servers and pid != build_pid]
    return workers[0] if workers else None


def test_a_forced_partial_build_leaves_the_other_outputs_valid(proj: Path):
    out = proj / "output"
    assert build(proj).returncode == 0
    before = documents(snapshot(out))
    forced = build(proj, "--only", A, "--practice", PRACTICES[0], "--no-cache")
    assert forced.returncode == 0, forced.stderr
    assert last_build(out)["rendered"] == 1
    again = build(proj, "-v")
    assert again.returncode == 0, again.stderr
    assert last_build(out)["rendered"] == 0 and last_build(out)["up_to_date"] == 4
    assert "to render" not in again.stderr and "not built before" not in again.stderr
    assert documents(snapshot(out)) == before  # same bytes, and no file was even rewritten


def test_format_pdf_writes_only_pdfs_and_html_later_adds_only_html(proj: Path):
    out = proj / "output"
    assert build(proj, "--format", "pdf").returncode == 0
    pdf_only = documents(snapshot(out))
    assert {k for k in pdf_only if not k.endswith(".png")} == {k for k in outputs_of(A) | outputs_of(B)
                                                                if k.endswith(".pdf")}
    manifest = json.loads((out / "manifest.json").read_text())
    assert {e["format"] for e in manifest["outputs"].values()} == {"pdf"}
    assert build(proj).returncode == 0  # the HTML copies are missing, so the jobs render again
    full = documents(snapshot(out))
    assert set(full) == outputs_of(A) | outputs_of(B)
    assert {k: v for k, v in full.items() if k in pdf_only} == pdf_only  # the PDFs were not rewritten
    assert build(proj, "--format", "html").returncode == 0
    assert last_build(out)["rendered"] == 0 and documents(snapshot(out)) == full


# --------------------------------------------------------------------------- checks of changed items only
def _state(root: Path) -> dict:
    return json.loads((root / "output" / ".clinicpress-cache.json").read_text(encoding="utf-8"))


def test_an_edit_reruns_the_checks_of_the_changed_item_only(tmp_path: Path):
    root = copy_project(tmp_path / "proj", practices=["summit-rheumatology"])
    first = build(root, "--format", "html")
    assert first.returncode == 0, first.stderr
    everything = _state(root)["last_build"]["checked"]
    assert len(everything) >= 20  # the first build checks every handout and deck, and the practice
    assert "practice:summit-rheumatology" in everything
    report_before = json.loads((root / "output" / "report.json").read_text(encoding="utf-8"))

    path = root / "content" / "handouts" / "gut-and-immune-system.yml"
    text = path.read_text(encoding="utf-8")
    assert " the " in text
    path.write_text(text.replace(" the ", " this ", 1), encoding="utf-8")
    second = build(root, "--format", "html")
    assert second.returncode == 0, second.stderr
    # the edited handout, and its translations, whose "translation outdated" check reads it
    assert _state(root)["last_build"]["checked"] == [f"handout:gut-and-immune-system:{lang}"
                                                     for lang in ("ar", "en", "es", "zh-Hans")]
    # the reused results are the same results: the report lists the same findings for the others
    report_after = json.loads((root / "output" / "report.json").read_text(encoding="utf-8"))
    before = {i["key"]: i for i in report_before["items"]}
    after = {i["key"]: i for i in report_after["items"]}
    same = [k for k in before if k.startswith(("handout:", "deck:")) and k != "handout:gut-and-immune-system:en"]
    assert len(same) >= 20 and all(before[k] == after[k] for k in same)

    # A file every item's checks read (the jargon list): every item is checked again.
    jargon = root / "content" / "jargon.yml"
    jargon.write_text(jargon.read_text(encoding="utf-8") + "\n# reviewed\n", encoding="utf-8")
    assert build(root, "--format", "html").returncode == 0
    assert _state(root)["last_build"]["checked"] == [k for k in everything if not k.startswith("practice:")]


def test_a_tampered_check_cache_is_not_trusted(tmp_path: Path):
    root = copy_project(tmp_path / "proj", practices=["summit-rheumatology"])
    assert build(root, "--format", "html").returncode == 0
    state_path = root / "output" / ".clinicpress-cache.json"
    state = json.loads(state_path.read_text(encoding="utf-8"))
    key = "handout:gut-and-immune-system:en"
    state["checks"][key]["findings"] = [{"check": "readability.fkgl", "severity": "fatal", "message": 3}]
    other = "handout:stress-the-brain-and-the-gut:en"
    state["checks"][other]["findings"] = "not a list"
    state_path.write_text(json.dumps(state), encoding="utf-8")
    (root / "content" / "handouts" / "working-with-your-clinician.yml").touch()  # not a no-op build
    proc = build(root, "--format", "html")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert {key, other} <= set(_state(root)["last_build"]["checked"])


def test_a_build_leaves_no_temporary_files(tmp_path: Path):
    """WeasyPrint's copies of the fonts are deleted when the build and its workers end, also with
    a TMPDIR too long for the fork server's socket (which then listens in /tmp, as Python 3.14's does)."""
    root = copy_project(tmp_path / "proj", practices=["summit-rheumatology", "thames-integrative-gi"])
    temp = tmp_path / ("long-temporary-folder-" * 4)
    temp.mkdir()
    assert len(str(temp)) > 110
    for jobs in ("-j", "1"), ("-j", "2"):
        proc = run_build("build", "--root", str(root), "-q", "--only", A, "--only", B, "--format", "pdf",
                         "--no-cache", *jobs, env={"TMPDIR": str(temp)})
        assert proc.returncode == 0, proc.stderr
        # only the cache that outlives builds on purpose (the syllable table of the readability check)
        assert sorted(p.name for p in temp.iterdir() if p.name != "clinicpress-cache") == [], jobs


def test_workers_import_nothing_from_the_folder_the_build_is_run_in(tmp_path: Path):
    """The fork server is a `python -c` process: it would put the current folder first on its
    path, so a `pypdfium2.py` (or `clinicpress/`) lying there would run in every worker. It does
    not: the build renders with the real libraries and this copy of ClinicPress."""
    root = copy_project(tmp_path / "proj", practices=["summit-rheumatology"])
    here = tmp_path / "downloads"
    (here / "clinicpress").mkdir(parents=True)
    marker = tmp_path / "planted-code-ran"
    planted = f"open({str(marker)!r}, 'a').write(__name__ + '\\n')\n"
    (here / "pypdfium2.py").write_text(planted, encoding="utf-8")
    (here / "clinicpress" / "__init__.py").write_text(planted + "raise SystemExit(9)\n", encoding="utf-8")
    proc = run_build("build", "--root", str(root), "-q", "--only", A, "--format", "pdf", "-j", "2", cwd=here)
    assert proc.returncode == 0, proc.stderr
    assert not marker.exists(), marker.read_text()
    assert (root / "output" / "summit-rheumatology" / f"{A}.pdf").read_bytes().startswith(b"%PDF-")


def test_editing_an_original_renders_it_again_but_not_its_translation(tmp_path: Path):
    """A translation is printed from its own file: the original's edit re-runs its checks only."""
    root = copy_project(tmp_path / "proj", practices=["valle-community-health"])
    args = ("--only", A, "--format", "pdf")
    assert build(root, *args).returncode == 0
    out = root / "output" / "valle-community-health"
    spanish = {p.name: p.read_bytes() for p in out.glob(f"{A}.es*.pdf")}
    assert len(spanish) == 2  # standard and large print
    path = root / "content" / "handouts" / f"{A}.yml"
    path.write_text(path.read_text(encoding="utf-8").replace(" the ", " this ", 1), encoding="utf-8")
    assert build(root, *args, "-v").returncode == 0
    state = _state(root)["last_build"]
    # the English PDFs only; the Spanish, Arabic and Chinese ones (standard, large print) stay
    assert state["rendered"] == 2 and state["up_to_date"] == 6
    assert {p.name: p.read_bytes() for p in out.glob(f"{A}.es*.pdf")} == spanish
    assert f"handout:{A}:es" in state["checked"]


def test_a_build_of_many_jobs_per_worker_finishes(tmp_path: Path):
    """More than 50 jobs a worker: Python 3.11's pool deadlocked when workers were recycled."""
    root = copy_project(tmp_path / "proj", practices=["summit-rheumatology"])
    source = root / "practices" / "summit-rheumatology"
    for n in range(2, 14):  # 13 practices x 10 handouts (HTML only): 65 jobs for each of two workers
        shutil.copytree(source, root / "practices" / f"summit-copy-{n}")
    proc = run_build("build", "--root", str(root), "-q", "--no-slide-images", "-j", "2", "--format", "html",
                     timeout=120)  # about 5 s; the deadlock waited forever
    assert proc.returncode == 0, proc.stderr
    assert last_build(root / "output")["rendered"] == 130


def test_a_deck_edited_after_slide_one_keeps_its_thumbnail_and_an_edit_of_slide_one_redraws_it(project: Path):
    """The index's deck thumbnail shows slide one; LibreOffice draws it (1-2 s). An edit to a
    later slide renders the deck again but leaves the picture as it is (not even rewritten); an
    edit to slide one draws it again."""
    require_tool("soffice")
    args = ("-q", "--only", "gut-and-autoimmune-disease", "-j", "1")
    out = project / "output" / "summit-rheumatology"
    thumb = out / "thumbs" / "gut-and-autoimmune-disease.png"
    source = project / "content" / "decks" / "gut-and-autoimmune-disease.yml"
    text = source.read_text(encoding="utf-8")

    def build() -> dict:
        done = run_build(*args, cwd=project)
        assert done.returncode == 0, done.stdout + done.stderr
        manifest = json.loads((project / "output" / "manifest.json").read_text(encoding="utf-8"))
        return manifest["outputs"]["summit-rheumatology/gut-and-autoimmune-disease.pptx"]

    first = build()
    picture, inode = thumb.read_bytes(), thumb.stat().st_ino
    assert first["thumbnail"]["path"] == "summit-rheumatology/thumbs/gut-and-autoimmune-disease.png"
    later = "- Why the gut matters for the immune system"
    assert later in text
    source.write_text(text.replace(later, "- Why your gut matters to your immune system", 1), encoding="utf-8")
    second = build()
    assert second["sha256"] != first["sha256"]  # the deck was rendered again ...
    assert second["thumbnail"] == first["thumbnail"]  # ... its slide one was not drawn again
    assert thumb.stat().st_ino == inode and thumb.read_bytes() == picture
    title = "title: The Gut and Autoimmune Disease"
    source.write_text(text.replace(title, "title: Your Gut and Autoimmune Disease", 1), encoding="utf-8")
    third = build()
    assert third["thumbnail"]["of"] != first["thumbnail"]["of"] and thumb.read_bytes() != picture
