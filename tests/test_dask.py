"""Group scale (issue 24): the same build on a real Dask LocalCluster (2 worker processes).

Each cluster build starts its own LocalCluster (`--scheduler local-cluster -j 2`), as a user
trying it would; the documents are one practice's few handouts (and one deck), so a build
takes a few seconds.
"""

from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pikepdf
import psutil
import pytest
from conftest import ROOT, copy_project, run_build

PRACTICE = "summit-rheumatology"
A = "gut-and-immune-system"
B = "stress-the-brain-and-the-gut"
DECK = "gut-and-autoimmune-disease"
ONLY = ["--only", A, "--only", B, "--only", DECK]
CLUSTER = ["--scheduler", "local-cluster", "-j", "2"]
TMP_PREFIX = ".clinicpress-tmp-"


def files(out: Path) -> dict[str, bytes]:
    """Every document, page and thumbnail the build wrote (the practice folder), by relative path."""
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted((out / PRACTICE).rglob("*")) if p.is_file()}


def leftovers(out: Path) -> list[Path]:
    return [p for p in out.rglob("*") if p.name.startswith(TMP_PREFIX)]


@pytest.fixture(scope="module")
def local_build(tmp_path_factory) -> tuple[Path, dict[str, bytes]]:
    """The project and what a local (process pool) build of it writes."""
    proj = copy_project(tmp_path_factory.mktemp("dask") / "proj", practices=[PRACTICE])
    out = proj / "local"
    proc = run_build("build", "--root", str(proj), "-q", "-j", "2", "--no-slide-images", "-o", str(out), *ONLY)
    assert proc.returncode == 0, proc.stderr
    return proj, files(out)


def test_a_cluster_build_writes_the_same_bytes_as_a_local_build(local_build):
    proj, local = local_build
    out = proj / "cluster"
    # executor = "dask" in the project's options chooses the cluster (as --scheduler does)
    (proj / "clinicpress.toml").write_text('executor = "dask"\nscheduler = "local-cluster"\n')
    try:
        proc = run_build("build", "--root", str(proj), "-q", "-j", "2", "--no-slide-images", "-o", str(out), *ONLY)
    finally:
        (proj / "clinicpress.toml").unlink()
    assert proc.returncode == 0, proc.stderr
    assert files(out) == local
    assert {f"{PRACTICE}/{A}.pdf", f"{PRACTICE}/{B}.pdf", f"{PRACTICE}/{DECK}.pptx"} <= set(local)
    # progress names the worker of each document; the summary says what each worker did
    workers = {line.rsplit(" on ", 1)[1] for line in proc.stderr.splitlines() if " rendered " in line and " on tcp://" in line}
    assert len(workers) == 2, proc.stderr
    assert "cluster workers: tcp://" in proc.stderr


def test_a_worker_killed_mid_job_has_its_job_run_again_and_the_build_completes(local_build, tmp_path: Path):
    proj, local = local_build
    out = proj / "killed-once"  # beside the local build's output: the HTML links the project's files relative to it
    marker = tmp_path / "killed-once"
    # the worker that starts rendering A kills its own process (SIGKILL) the first time
    proc = run_build("build", "--root", str(proj), "-q", "--no-slide-images", "-o", str(out), *CLUSTER, *ONLY,
                     env={"CLINICPRESS_TEST_KILL_WORKER": f"{PRACTICE}/{A}@{marker}"})
    assert marker.exists(), "no worker was killed"
    assert proc.returncode == 0, proc.stderr
    assert files(out) == local
    assert not leftovers(out)


def test_a_job_that_kills_its_worker_every_time_is_an_error_naming_the_document(local_build, tmp_path: Path):
    proj, local = local_build
    out = proj / "killed-always"
    started = time.monotonic()
    proc = run_build("build", "--root", str(proj), "-q", "--no-slide-images", "-o", str(out), *CLUSTER, *ONLY,
                     env={"CLINICPRESS_TEST_KILL_WORKER": f"{PRACTICE}/{A}"}, timeout=180)
    assert proc.returncode == 1, proc.stderr
    assert f"content/handouts/{A}.yml" in proc.stderr and "failed twice on the cluster" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (out / PRACTICE / f"{A}.pdf").exists() and not (out / PRACTICE / f"{A}.html").exists()
    assert not leftovers(out)
    # the other documents are complete and correct
    assert (out / PRACTICE / f"{B}.pdf").read_bytes() == local[f"{PRACTICE}/{B}.pdf"]
    with pikepdf.open(out / PRACTICE / f"{B}.pdf") as pdf:
        assert len(pdf.pages) >= 1
    assert time.monotonic() - started < 120


def test_an_unreachable_scheduler_is_a_clear_error_within_seconds(local_build, tmp_path: Path):
    proj, _ = local_build
    started = time.monotonic()
    proc = run_build("build", "--root", str(proj), "-q", "--no-slide-images", "-o", str(tmp_path / "out"),
                     "--scheduler", "tcp://127.0.0.1:9", "--only", A, timeout=60)
    assert proc.returncode == 1, proc.stderr
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    assert time.monotonic() - started < 20
    assert not (tmp_path / "out" / PRACTICE / f"{A}.pdf").exists()


def test_ctrl_c_cancels_the_cluster_build_without_hanging(local_build, tmp_path: Path):
    proj, _ = local_build
    out = tmp_path / "out"
    # every handout of the practice in all three variants (about 30 PDFs): the workers start
    # rendering while the build still runs its checks, so a build of a dozen documents could be
    # finished (every result waiting) before its first line was printed, and the interrupt came late
    variants = ["--variant", "standard", "--variant", "large-print", "--variant", "print-shop"]
    proc = subprocess.Popen([sys.executable, str(ROOT / "build.py"), "build", "--root", str(proj), "-q",
                             "--no-slide-images", "-o", str(out), "--format", "pdf", *variants, *CLUSTER],
                            stderr=subprocess.PIPE, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.stderr is not None
    seen = []
    try:
        for line in proc.stderr:  # interrupt once the cluster has rendered its first document
            seen.append(line)
            if " rendered " in line:
                break
        children = psutil.Process(proc.pid).children(recursive=True)
        assert children, "the build started no worker processes"
        proc.send_signal(signal.SIGINT)
        rest = proc.stderr.read()
        code = proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert code == 130, "".join(seen) + rest
    assert "interrupted" in rest
    gone, alive = psutil.wait_procs(children, timeout=15)
    assert not alive, f"worker processes left behind: {alive}"
    assert not leftovers(out)
    for pdf in (out / PRACTICE).glob("*.pdf"):  # whatever was written is whole
        with pikepdf.open(pdf) as doc:
            assert len(doc.pages) >= 1


def test_a_no_op_build_does_not_import_dask(local_build):
    proj, _ = local_build
    out = proj / "noop"
    first = run_build("build", "--root", str(proj), "-q", "-j", "1", "--no-slide-images", "-o", str(out), "--only", A)
    assert first.returncode == 0, first.stderr
    code = ("import sys; from clinicpress.cli import main; "
            f"rc = main(['build', '--root', {str(proj)!r}, '-q', '-o', {str(out)!r}, '--only', {A!r}, "
            "'--no-slide-images', '--scheduler', 'tcp://127.0.0.1:9']); "
            "print(rc, sorted({m.split('.')[0] for m in sys.modules} & {'dask', 'distributed'}))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert proc.stdout.strip() == "0 []", proc.stdout + proc.stderr
    assert "nothing to do" in proc.stderr


def test_a_missing_distributed_package_is_a_clear_error_with_the_pip_command(local_build, tmp_path: Path):
    proj, _ = local_build
    code = ("import sys; sys.modules['distributed'] = None; from clinicpress.cli import main; "
            f"sys.exit(main(['build', '--root', {str(proj)!r}, '-q', '-o', {str(tmp_path / 'out')!r}, "
            f"'--only', {A!r}, '--scheduler', 'local-cluster']))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "pip install 'clinicpress[dask]'" in proc.stderr and "Traceback" not in proc.stderr


def test_executor_dask_without_a_scheduler_is_an_error_naming_the_option(local_build, tmp_path: Path):
    proj, _ = local_build
    (proj / "clinicpress.toml").write_text('executor = "dask"\n')
    try:
        proc = run_build("build", "--root", str(proj), "-q", "-o", str(tmp_path / "out"), "--only", A)
    finally:
        (proj / "clinicpress.toml").unlink()
    assert proc.returncode == 1, proc.stderr
    assert "clinicpress.toml" in proc.stderr and 'scheduler = "tcp://HOST:8786"' in proc.stderr, proc.stderr


def test_a_worker_that_sees_other_files_refuses_to_render(local_build, tmp_path: Path):
    """The check a worker runs before its first job: the project folder it sees must hash to the
    fingerprint the build computed (here the folder changes after the build looked at it)."""
    from clinicpress.builder import load
    from clinicpress.console import Reporter
    from clinicpress.jobs.cluster import DifferentInputs, _project
    from clinicpress.jobs.pool import portable
    from clinicpress.settings import BuildSettings
    from clinicpress.write.cache import fingerprint_now

    proj = copy_project(tmp_path / "proj", practices=[PRACTICE])
    settings = BuildSettings(root=proj, only=(A,))
    fingerprint_of = functools.partial(fingerprint_now, options=settings.fingerprint_options())
    fingerprint = fingerprint_of(proj)
    blob = portable(load(settings, Reporter(quiet=True)))
    assert _project("same", blob, fingerprint, fingerprint_of).root == proj
    handout = proj / "content" / "handouts" / f"{A}.yml"
    handout.write_text(handout.read_text() + "\n# edited on the shared folder\n")
    with pytest.raises(DifferentInputs, match=f"sees different files under {proj}"):
        _project("changed", blob, fingerprint, fingerprint_of)


def test_a_worker_process_killed_from_outside_mid_build_still_gives_a_complete_correct_build(local_build):
    """The issue's case: a worker's PID gets SIGKILL while the build renders every handout; its
    job (and any result it still held) is rendered again and every file matches a local build."""
    proj, _ = local_build
    local, out = proj / "all-local", proj / "all-cluster"
    common = ["build", "--root", str(proj), "-q", "--no-slide-images", "--format", "pdf"]
    first = run_build(*common, "-j", "2", "-o", str(local))
    assert first.returncode == 0, first.stderr
    proc = subprocess.Popen([sys.executable, str(ROOT / "build.py"), *common, "-o", str(out), *CLUSTER],
                            stderr=subprocess.PIPE, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.stderr is not None
    seen = []
    try:
        for line in proc.stderr:  # once the workers are rendering
            seen.append(line)
            if " rendered " in line:
                break
        workers = [p for p in psutil.Process(proc.pid).children(recursive=True)
                   if "spawn_main" in " ".join(p.cmdline())]  # the worker processes (not the resource tracker)
        assert workers, "no worker process found"
        workers[0].send_signal(signal.SIGKILL)
        seen.append(proc.stderr.read())
        code = proc.wait(timeout=180)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert code == 0, "".join(seen)
    assert not workers[0].is_running()
    assert files(out) == files(local) and len(files(local)) >= 10
    assert not leftovers(out)
