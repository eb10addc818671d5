"""The README's Quick start, run exactly as written, in a fresh clone, as a new user would."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import ROOT, require_tool

pytestmark = pytest.mark.slow

DEBIAN_PYTHON = Path("/usr/bin/python3")


def quickstart_commands() -> list[str]:
    """The shell blocks of the README's Quick start, in order."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```sh\n(.*?)```", section, re.S)]


def externally_managed(python: Path) -> bool:
    """True when this Python refuses system-wide pip installs (PEP 668), as Debian's does."""
    proc = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('stdlib'))"], capture_output=True, text=True
    )
    return proc.returncode == 0 and (Path(proc.stdout.strip()) / "EXTERNALLY-MANAGED").is_file()


def fresh_clone(dest: Path) -> Path:
    """A clone of the committed project (what a user gets), or a copy without local folders."""
    if (ROOT / ".git").exists():
        subprocess.run([require_tool("git"), "clone", "-q", str(ROOT), str(dest)], check=True)
    else:
        shutil.copytree(ROOT, dest, ignore=shutil.ignore_patterns(".venv", "output", "__pycache__", ".*cache*"))
    return dest


def test_the_quick_start_has_exactly_two_commands_and_ci_runs_the_second():
    commands = quickstart_commands()
    assert len(commands) == 2, commands
    assert all("\n" not in c for c in commands), "each Quick start command is one line"
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert f"exec {commands[1]}" in ci, "CI must run the README's test command and nothing less"


def test_the_first_quick_start_command_installs_and_builds_in_a_fresh_clone(tmp_path):
    clone = fresh_clone(tmp_path / "fresh-clone")
    assert not (clone / ".venv").exists() and not (clone / "output").exists()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    if DEBIAN_PYTHON.is_file() and externally_managed(DEBIAN_PYTHON):
        # The stock Debian Python, which refuses `pip install`, must be the one the command finds.
        refused = subprocess.run(
            [str(DEBIAN_PYTHON), "-m", "pip", "install", "--dry-run", "six"], capture_output=True, text=True
        )
        assert refused.returncode != 0 and "externally-managed" in (refused.stdout + refused.stderr)
        env["PATH"] = "/usr/bin:/bin:" + env.get("PATH", "")
        env.pop("PYTHON", None)
    proc = subprocess.run(
        ["bash", "-c", quickstart_commands()[0]], cwd=clone, env=env, capture_output=True, text=True, timeout=900
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr

    venv_python = clone / ".venv" / "bin" / "python"
    where = subprocess.run(
        [str(venv_python), "-c", "import clinicpress, sys; print(clinicpress.__file__); print(sys.prefix)"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    module, prefix = where.stdout.split()
    assert Path(module).is_relative_to(clone / "clinicpress"), "the venv runs the clone's own code"
    assert Path(prefix) == clone / ".venv"

    manifest = json.loads((clone / "output" / "manifest.json").read_text(encoding="utf-8"))
    outputs = manifest["outputs"]
    pdfs = [name for name in outputs if name.endswith(".pdf")]
    decks = [name for name in outputs if name.endswith(".pptx")]
    practices = {p.name for p in (clone / "practices").iterdir() if (p / "practice.yml").is_file()}
    assert {name.split("/")[0] for name in pdfs} == practices
    assert len(pdfs) >= 10 * len(practices) and decks
    for name in pdfs:
        assert (clone / "output" / name).read_bytes().startswith(b"%PDF-")
    assert (clone / "output" / "index.html").is_file()
    status = subprocess.run(["git", "status", "--porcelain"], cwd=clone, capture_output=True, text=True)
    if (clone / ".git").exists():
        assert status.stdout.strip() == "", f"the Quick start leaves untracked files git does not ignore:\n{status.stdout}"


def test_nothing_the_suite_or_the_tool_runs_reaches_for_a_shared_folder_outside_the_repo():
    """A user's clone has no ../shared: no module or test may read it (only the seed-fingerprint
    maker script, which a maintainer runs by hand, does)."""
    allowed = {ROOT / "tests" / "fixtures" / "make_seed_shingles.py"}
    reaching = re.compile(r"""\.\./shared|["']shared["']\s*[,/)]|/\s*["']shared["']""")
    offenders = []
    for folder in ("clinicpress", "tests", "bench", "scripts"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix not in (".py", ".sh") or path in allowed or path == Path(__file__):
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if reaching.search(line):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "\n".join(offenders)
