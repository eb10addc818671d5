"""Shared fixtures: a throwaway copy of the project, builds into temp folders, tool checks."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROJECT_PARTS = ("content", "practices", "templates", "pyproject.toml")

# Tests stop the watch, the preview and cluster builds with SIGINT, as Ctrl-C does. A shell that
# starts the suite in the background (`... &`) ignores SIGINT in it, and a process started from
# one keeps ignoring it: the commands under test would never see their Ctrl-C. Take it back.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


def require_tool(name: str) -> str:
    """Returns the path of a command-line tool; a missing tool fails the test (never skips)."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed; run the README's test command (bash scripts/test.sh), "
                    "which installs it")
    return path


def copy_project(dest: Path, *, practices: list[str] | None = None) -> Path:
    """Copies content, practices and templates into `dest` (a fresh project to break or edit)."""
    dest.mkdir(parents=True, exist_ok=True)
    for part in PROJECT_PARTS:
        src = ROOT / part
        if src.is_dir():
            shutil.copytree(src, dest / part, ignore=shutil.ignore_patterns("__pycache__"))
        elif src.exists():
            shutil.copy2(src, dest / part)
    if practices is not None:
        for p in (dest / "practices").iterdir():
            if p.is_dir() and p.name not in practices:
                shutil.rmtree(p)
    return dest


def run_build(*args: str, cwd: Path | None = None, env: dict | None = None, timeout: int = 600):
    """Runs `python build.py ARGS` as a user would; returns the CompletedProcess."""
    return subprocess.run([sys.executable, str(ROOT / "build.py"), *args], cwd=cwd or ROOT,
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the shipped project with one practice, in a temp folder."""
    return copy_project(tmp_path / "proj", practices=["summit-rheumatology"])


@pytest.fixture(scope="session")
def built_default(tmp_path_factory) -> Path:
    """The shipped content built once for one practice (shared by read-only tests)."""
    out = tmp_path_factory.mktemp("built")
    proc = run_build("build", "--practice", "summit-rheumatology", "--output", str(out), "-q")
    assert proc.returncode == 0, proc.stderr
    return out
