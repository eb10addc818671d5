"""`build --watch`: each saved change is built by warm workers, to the same bytes as a fresh build.

The watch keeps its worker processes between builds; these tests prove that what they keep
(the project they loaded, compiled templates, the included stylesheet) never leaks into a later
build: after a content edit and after a template edit, every output equals what a fresh
`python build.py` writes from the same files.
"""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
from conftest import ROOT, copy_project, run_build

PRACTICE = "summit-rheumatology"
A = "gut-and-immune-system"
ARGS = ["-q", "--no-slide-images", "--only", A, "--variant", "standard", "--variant", "large-print", "-j", "2"]
"""Two documents an edit, so the two kept workers render them."""
DEJAVU_BOLD = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
"""Debian's fonts-dejavu-core (scripts/test.sh installs it)."""


def outputs(root: Path) -> dict[str, bytes]:
    out = root / "output" / PRACTICE
    return {p.name: p.read_bytes() for p in sorted(out.glob(f"{A}*")) if p.suffix in (".pdf", ".html")}


class Watching:
    """A `build --watch` process and its stderr, line by line."""

    def __init__(self, root: Path):
        self.proc = subprocess.Popen([sys.executable, str(ROOT / "build.py"), "build", "--root", str(root), *ARGS,
                                      "--watch"], stderr=subprocess.PIPE, text=True, cwd=ROOT,
                                     env={**os.environ, "PYTHONPATH": str(ROOT)})
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.put(line)

    def wait_for(self, text: str, timeout: float = 120) -> list[str]:
        """The lines printed until one containing `text` (which is the last)."""
        got: list[str] = []
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no {text!r} within {timeout} s:\n" + "".join(self.seen)) from None
            got.append(line)
            self.seen.append(line)
            if text in line:
                return got


def fresh_build(root: Path, tmp: Path) -> dict[str, bytes]:
    """What a fresh `python build.py` writes from the same files (in a copy, with no cache)."""
    copy = tmp / f"fresh-{time.monotonic_ns()}"
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns("output"))
    proc = run_build("build", "--root", str(copy), *ARGS)
    assert proc.returncode == 0, proc.stderr
    return outputs(copy)


def test_watch_builds_each_save_with_warm_workers_to_the_bytes_of_a_fresh_build(tmp_path: Path):
    root = copy_project(tmp_path / "proj", practices=[PRACTICE])
    handout = root / "content" / "handouts" / f"{A}.yml"
    css = root / "templates" / "handout" / "handout.css"
    watching = Watching(root)
    try:
        watching.wait_for("watching content/, templates/, practices/")
        workers = {p.pid for p in psutil.Process(watching.proc.pid).children(recursive=True)}
        assert len(workers) >= 3, "the first build did not start its fork server and two workers"

        # a writer's edit: one word
        handout.write_text(handout.read_text(encoding="utf-8").replace(" the ", " this ", 1), encoding="utf-8")
        lines = watching.wait_for(" rendered, ")
        assert any(f"content/handouts/{A}.yml" in line for line in lines), lines
        assert "2 rendered" in lines[-1], lines
        assert outputs(root) == fresh_build(root, tmp_path)
        # the same worker processes built it: they were kept warm, not started again
        assert workers <= {p.pid for p in psutil.Process(watching.proc.pid).children(recursive=True)}

        # a designer's edit: the stylesheet a compiled template includes
        before = outputs(root)
        css.write_text(css.read_text(encoding="utf-8").replace("h1 { font-size: 1.9rem", "h1 { font-size: 2.2rem"),
                       encoding="utf-8")
        watching.wait_for(" rendered, ")
        after = outputs(root)
        assert after[f"{A}.pdf"] != before[f"{A}.pdf"], "the template change did not reach the PDF"
        assert after == fresh_build(root, tmp_path)

        # the help-line catalogue and a brand font replaced under the same name
        lines_yml = root / "templates" / "help-lines.yml"
        lines_yml.write_text(lines_yml.read_text(encoding="utf-8").replace("Call or text {number}.",
                                                                           "Call or text {number} now.", 1),
                             encoding="utf-8")
        watching.wait_for(" rendered, ")
        assert outputs(root) == fresh_build(root, tmp_path)
        before = outputs(root)
        shutil.copyfile(DEJAVU_BOLD, root / "practices" / PRACTICE / "fonts" / "PublicSans-Bold.ttf")
        watching.wait_for(" rendered, ")
        assert outputs(root)[f"{A}.pdf"] != before[f"{A}.pdf"], "the new font file did not reach the PDF"
        assert outputs(root) == fresh_build(root, tmp_path)

        # a kept worker that died while the watch waited is replaced, and the edit still builds
        os.kill(sorted(p.pid for p in psutil.Process(watching.proc.pid).children(recursive=True))[-1], signal.SIGKILL)
        handout.write_text(handout.read_text(encoding="utf-8").replace(" this ", " the ", 1), encoding="utf-8")
        lines = watching.wait_for(" rendered, ")
        assert "2 rendered" in lines[-1] and "internal error" not in "".join(lines), lines
        assert outputs(root) == fresh_build(root, tmp_path)

        # a broken file is reported at its line and the watch goes on; fixing it builds again
        good = handout.read_text(encoding="utf-8")
        handout.write_text(good.replace("title:", "title: [unclosed", 1), encoding="utf-8")
        lines = watching.wait_for("error")
        assert any(f"content/handouts/{A}.yml:" in line for line in lines), lines
        assert watching.proc.poll() is None, "the watch ended at a content error"
        handout.write_text(good.replace(" the ", " these ", 1), encoding="utf-8")
        watching.wait_for(" rendered, ")
        assert outputs(root) == fresh_build(root, tmp_path)
    finally:
        children = psutil.Process(watching.proc.pid).children(recursive=True)
        watching.proc.send_signal(signal.SIGINT)
        code = watching.proc.wait(timeout=60)
    assert code == 0, "".join(watching.seen)
    watching.wait_for("stopped watching", timeout=5)
    assert "Traceback" not in "".join(watching.seen)
    gone, alive = psutil.wait_procs(children, timeout=15)
    assert not alive, f"worker processes left behind: {alive}"
    assert not [p for p in (root / "output").rglob("*") if p.name.startswith(".clinicpress-tmp-")]
