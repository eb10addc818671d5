"""The command line as a newcomer meets it: its version, its name, and what it says outside a project."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pypdfium2 as pdfium
from conftest import ROOT, copy_project, run_build

from clinicpress import __version__


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, env=env, timeout=120)


def test_version_prints_and_exits_zero_however_it_is_called(tmp_path):
    for call in ([sys.executable, str(ROOT / "build.py")], [sys.executable, "-m", "clinicpress"]):
        proc = _run([*call, "--version"], tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip() == f"clinicpress {__version__}"


def test_the_program_names_itself_as_it_was_called(tmp_path):
    as_script = _run([sys.executable, str(ROOT / "build.py"), "bogus"], tmp_path)
    as_module = _run([sys.executable, "-m", "clinicpress", "bogus"], tmp_path)
    assert as_script.returncode == as_module.returncode == 2
    assert "run 'python build.py --help'" in as_script.stderr + as_script.stdout
    assert "run 'clinicpress --help'" in as_module.stderr + as_module.stdout
    assert "Traceback" not in as_script.stderr + as_module.stderr


def test_an_empty_folder_is_not_a_project_and_nothing_is_written(tmp_path):
    for command in ([], ["check"]):
        proc = run_build(*command, "--root", str(tmp_path))
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert "not a ClinicPress project" in proc.stdout + proc.stderr
        assert "--root" in proc.stdout + proc.stderr
        assert list(tmp_path.iterdir()) == [], "nothing may be created in a folder that is not a project"


def test_choices_whose_case_means_nothing_are_accepted_in_any_case(tmp_path):
    proj = copy_project(tmp_path / "proj", practices=["summit-rheumatology"])
    yml = proj / "practices" / "summit-rheumatology" / "practice.yml"
    text = yml.read_text(encoding="utf-8")
    assert "paper: letter" in text
    yml.write_text(text.replace("paper: letter", "paper: A4"), encoding="utf-8")
    out = tmp_path / "out"
    proc = run_build("--root", str(proj), "--only", "gut-and-immune-system", "-o", str(out), "-q", "-j", "1")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    pdf = pdfium.PdfDocument(out / "summit-rheumatology" / "gut-and-immune-system.pdf")
    width, height = pdf[0].get_size()
    assert (round(width), round(height)) == (595, 842), "A4 in points"


def test_every_problem_in_a_file_is_reported_in_our_words_with_a_hint(tmp_path):
    """A writer's usual slips, all in one file: each is named at its line, none hides the others."""
    proj = copy_project(tmp_path / "proj", practices=["summit-rheumatology"])
    rel = "content/handouts/gut-and-immune-system.yml"
    path = proj / rel
    text = path.read_text(encoding="utf-8")
    slips = [
        ("  date: 2026-12-07", "  date: 2026-13-40"),  # an impossible date
        ("title: Your Gut and Your Immune System", "titel: Your Gut and Your Immune System"),
        (
            "  - Never stop a medicine on your own.",
            "  - Tip: start slowly",
        ),  # an unquoted colon in a list item
        ("summary: >-\n", "summary:\n  - one\n  - two\nold_summary: >-\n"),  # a list where text is expected
    ]
    for old, new in slips:
        assert old in text, old
        text = text.replace(old, new, 1)
    path.write_text(text, encoding="utf-8")
    lines = text.splitlines()

    def line_of(needle: str) -> int:
        return next(i for i, line in enumerate(lines, 1) if needle in line)

    proc = run_build("check", "--root", str(proj))
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "Traceback" not in out and "Input should be" not in out and "String should" not in out
    expected = [
        (line_of("date: 2026-13-40"), "reviewed.date: 2026-13-40 is not a real date", "YYYY-MM-DD"),
        (line_of("titel:"), "titel: unknown key", "did you mean 'title'?"),
        (line_of("Tip: start slowly"), "'Tip: start slowly' read as a key and a value", 'quotes: "Tip: start slowly"'),
        (line_of("summary:"), "summary: found a list where one piece of text is expected", ">-"),
    ]
    for line, message, hint in expected:
        assert f"{rel}:{line}:" in out and message in out and hint in out, (line, message, out)
    # and the two that follow from the slips: the renamed title is missing, old_summary is unknown
    assert "title: required field is missing" in out and "old_summary: unknown key" in out
    assert "6 error(s)" in out


def test_check_lists_notes_with_v_and_prints_the_report_as_json_for_scripts(tmp_path):
    import json

    import jsonschema

    proj = copy_project(tmp_path / "proj", practices=["summit-rheumatology"])
    proc = run_build("check", "--root", str(proj), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)  # standard output holds the JSON and nothing else
    schema = json.loads((ROOT / "docs" / "report.schema.json").read_text(encoding="utf-8"))
    jsonschema.validate(report, schema)
    notes = [f for item in report["items"] for f in item["findings"] if f["severity"] == "info"]
    assert notes and report["summary"]["infos"] == len(notes)

    quiet = run_build("check", "--root", str(proj))
    verbose = run_build("check", "--root", str(proj), "-v")
    assert "(not listed; -v lists them)" in quiet.stdout + quiet.stderr
    listed = verbose.stdout + verbose.stderr
    assert "not listed" not in listed
    for note in notes:
        assert note["message"].split("\n")[0][:60] in " ".join(listed.split()), note["message"]


def test_a_readability_failure_quotes_the_hardest_sentences_with_their_grade(tmp_path):
    proj = copy_project(tmp_path / "proj", practices=["summit-rheumatology"])
    path = proj / "content" / "handouts" / "working-with-your-clinician.yml"
    hard = (
        "People differ considerably in their underlying conditions, comorbidities, pharmacological "
        "regimens and socioeconomic circumstances."
    )
    text = path.read_text(encoding="utf-8")
    old = "A good evaluation looks at you as a whole person."
    assert old in text
    path.write_text(text.replace(old, hard), encoding="utf-8")
    proc = run_build("check", "--root", str(proj))
    out = " ".join((proc.stdout + proc.stderr).split())
    assert proc.returncode == 1, out
    assert "readability.section_fkgl" in out
    assert "hardest first: \u201cPeople differ considerably in their underlying conditions" in out
    grade = float(out.split("pharmacological")[1].split("(grade ")[1].split(")")[0])
    assert grade > 12, "the quoted sentence carries its own grade"


def test_shell_completion_scripts_and_real_completions(tmp_path):
    for shell in ("bash", "zsh", "fish"):
        proc = _run([sys.executable, str(ROOT / "build.py"), "completion", shell], tmp_path)
        assert proc.returncode == 0 and "clinicpress" in proc.stdout and "_ARGCOMPLETE" in proc.stdout, proc.stderr

    def complete(line: str) -> list[str]:
        answer = tmp_path / "answer.txt"
        env = {"_ARGCOMPLETE": "1", "COMP_LINE": line, "COMP_POINT": str(len(line))}
        env["_ARGCOMPLETE_STDOUT_FILENAME"] = str(answer)
        proc = subprocess.run(
            [sys.executable, str(ROOT / "build.py")],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT), **env},
            timeout=60,
        )
        assert proc.returncode == 0, proc.stderr
        return answer.read_text().split()

    assert complete("clinicpress bu") == ["build"]
    assert complete("clinicpress build --var") == ["--variant"]
    assert {"large-print", "print-shop", "standard"} <= set(complete("clinicpress build --variant "))


def test_init_makes_a_project_of_ones_own_that_builds_at_once(tmp_path):
    target = tmp_path / "our-clinic"
    made = run_build("init", str(target))
    assert made.returncode == 0, made.stdout + made.stderr
    assert "build --root" in made.stdout + made.stderr
    for part in ("templates/handout", "content/handouts", "content/references.json", "practices", "README.md"):
        assert (target / part).exists(), part
    assert not [p for p in target.iterdir() if p.name.startswith(".clinicpress-init")]
    built = run_build("--root", str(target), "-q", "-j", "1")
    assert built.returncode == 0, built.stdout + built.stderr
    pdfs = list((target / "output").rglob("*.pdf"))
    assert len(pdfs) == 1 and pdfs[0].read_bytes().startswith(b"%PDF-")
    assert len(pdfium.PdfDocument(pdfs[0])) >= 1

    before = sorted(p.relative_to(target) for p in target.rglob("*"))
    again = run_build("init", str(target))
    assert again.returncode == 1 and "nothing was changed" in again.stdout + again.stderr
    assert sorted(p.relative_to(target) for p in target.rglob("*")) == before


def test_fields_practice_yml_no_longer_reads_are_warnings_at_their_line_with_a_hint(tmp_path):
    """An older practice.yml may still hold `reviewer` and `emergency_number`: each is named at its
    own line as not read any more, with what to do; the check passes, and fails with --strict."""
    proj = copy_project(tmp_path / "proj", practices=["summit-rheumatology"])
    yml = proj / "practices" / "summit-rheumatology" / "practice.yml"
    lines = yml.read_text(encoding="utf-8").splitlines()
    yml.write_text("\n".join([*lines, "reviewer: Dr Old Name", "emergency_number: '911'", ""]), encoding="utf-8")
    where = "practices/summit-rheumatology/practice.yml"
    proc = run_build("check", "--root", str(proj), "--practice", "summit-rheumatology")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert f"{where}:{len(lines) + 1}: warning: reviewer: reviewer is no longer printed" in out, out
    assert f"{where}:{len(lines) + 2}: warning: emergency_number: emergency_number is no longer read" in out, out
    assert "0 error(s), 2 warning(s)" in out, out  # the summary counts them
    assert "build.py approve --practice summit-rheumatology" in out and "check that `country` is right" in out
    assert "Traceback" not in out
    strict = run_build("check", "--strict", "--root", str(proj), "--practice", "summit-rheumatology")
    assert strict.returncode != 0, strict.stdout + strict.stderr
