"""Honest sign-off (issue 18): a handout names a reviewer only when that clinician approved that exact text.

One practice, one handout (`--only`), real builds through `python build.py`; the PDFs are read
with pikepdf and poppler's pdftotext.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path

import pikepdf
import pytest
from conftest import ROOT, copy_project, require_tool, run_build

PRACTICE = "summit-rheumatology"
HANDOUT = "gut-and-immune-system"
CONTENT = f"content/handouts/{HANDOUT}.yml"
APPROVALS = f"practices/{PRACTICE}/approvals.yml"
APPROVER = "Miriam Castellano, MD, FACR"
DRAFT = "Draft — not yet approved by Summit Rheumatology"
SENTENCE = "Your gut bacteria are called your microbiome."


def _text(pdf: Path) -> str:
    out = subprocess.run([require_tool("pdftotext"), "-layout", str(pdf), "-"], capture_output=True, text=True,
                         check=True).stdout
    return " ".join(out.split())


def _build(project: Path, *extra: str):
    return run_build("build", "--root", str(project), "--practice", PRACTICE, "--only", HANDOUT, "-j", "1",
                     *extra)


@pytest.fixture
def proj(tmp_path: Path) -> Path:
    return copy_project(tmp_path / "proj", practices=[PRACTICE])


def _pdf(project: Path) -> Path:
    return project / "output" / PRACTICE / f"{HANDOUT}.pdf"


def test_approved_item_prints_its_approver_and_the_content_teams_review(proj: Path):
    done = _build(proj)
    assert done.returncode == 0, done.stdout + done.stderr
    text = _text(_pdf(proj))
    date = re.search(r"date: (\d{4})-(\d\d)-(\d\d)", (proj / APPROVALS).read_text(encoding="utf-8"))
    assert date is not None
    assert f"by {APPROVER}" in text and "Reviewed " in text
    assert DRAFT not in text
    assert "Content team review December 7, 2026: ClinicPress medical writing team" in text


def test_edited_sentence_makes_a_draft_with_a_diff_and_approving_again_restores_it(proj: Path):
    path = proj / CONTENT
    path.write_text(path.read_text(encoding="utf-8").replace(SENTENCE, "Your gut bacteria are known as your microbiome."),
                    encoding="utf-8")
    review = run_build("review", "--root", str(proj), "--practice", PRACTICE, "--only", HANDOUT)
    assert review.returncode == 1, review.stdout + review.stderr
    out = " ".join((review.stdout + review.stderr).split())
    assert "CHANGED since approval" in out
    assert "[-called-]" in out and "{+known as+}" in out

    assert _build(proj).returncode == 0
    text = _text(_pdf(proj))
    assert text.count(DRAFT) >= 3, "the draft mark is on every page (top and footer) and in the closing line"
    assert f"by {APPROVER}" not in text

    before = (proj / APPROVALS).read_text(encoding="utf-8")
    approve = run_build("approve", "--root", str(proj), "--practice", PRACTICE, HANDOUT, "--by", APPROVER)
    assert approve.returncode == 0, approve.stdout + approve.stderr
    after = (proj / APPROVALS).read_text(encoding="utf-8")
    # Comments and the other items' entries are kept as they were.
    assert after.splitlines()[:7] == before.splitlines()[:7]
    assert after.count("\n  en:\n") == before.count("\n  en:\n")
    assert run_build("review", "--root", str(proj), "--practice", PRACTICE, "--only", HANDOUT).returncode == 0
    rebuilt = _build(proj)
    assert "1 rendered" in rebuilt.stdout + rebuilt.stderr
    text = _text(_pdf(proj))
    assert f"by {APPROVER}" in text and DRAFT not in text


def test_template_only_change_keeps_the_approval(proj: Path):
    path = proj / CONTENT
    text = path.read_text(encoding="utf-8")
    # Re-flowed YAML (whitespace only) and a changed stylesheet do not touch the approved text.
    path.write_text(text.replace("Experts think about 7 in 10 parts", "Experts think about 7 in 10\n      parts"),
                    encoding="utf-8")
    css = proj / "templates/handout/handout.css"
    css.write_text(css.read_text(encoding="utf-8") + "\nh2 { letter-spacing: 0.01em; }\n", encoding="utf-8")
    assert run_build("review", "--root", str(proj), "--practice", PRACTICE, "--only", HANDOUT).returncode == 0
    assert _build(proj).returncode == 0
    text = _text(_pdf(proj))
    assert f"by {APPROVER}" in text and DRAFT not in text


def _artifact_text_ops(pdf_path: Path) -> list[int]:
    """Per page: how many text-showing operators lie inside /Artifact marked content."""
    counts = []
    with pikepdf.open(pdf_path) as pdf:
        for page in pdf.pages:
            stack, shown = [], 0
            for operands, op in pikepdf.parse_content_stream(page):
                name = str(op)
                if name in ("BDC", "BMC"):
                    stack.append(str(operands[0]) == "/Artifact" or bool(stack and stack[-1]))
                elif name == "EMC" and stack:
                    stack.pop()
                elif name in ("Tj", "TJ", "'", '"') and stack and stack[-1]:
                    shown += 1
            counts.append(shown)
    return counts


def test_draft_mark_is_a_readable_artifact_on_every_page(proj: Path):
    assert _build(proj).returncode == 0
    approved = _artifact_text_ops(_pdf(proj))
    (proj / APPROVALS).unlink()
    assert _build(proj).returncode == 0
    draft = _artifact_text_ops(_pdf(proj))
    # Same pages; each has more artifact text (the mark at the top) than the approved copy.
    assert len(draft) == len(approved) and all(d > a for d, a in zip(draft, approved, strict=True)), (approved, draft)
    # The mark is real text (readable, extractable) on every page; the closing line says it too.
    pages = subprocess.run([require_tool("pdfinfo"), str(_pdf(proj))], capture_output=True, text=True).stdout
    count = int(re.search(r"Pages:\s+(\d+)", pages).group(1))
    for n in range(1, count + 1):
        out = subprocess.run([require_tool("pdftotext"), "-f", str(n), "-l", str(n), str(_pdf(proj)), "-"],
                             capture_output=True, text=True).stdout
        assert DRAFT in " ".join(out.split())
    # The index and the report say it too.
    assert DRAFT in (proj / "output/index.html").read_text(encoding="utf-8")
    report = json.loads((proj / "output/report.json").read_text(encoding="utf-8"))
    state = report["signoff"][PRACTICE][f"handout:{HANDOUT}:en"]
    assert state["status"] == "unapproved" and state["approved"] is False


def test_strict_fails_on_drafts_and_on_placeholder_details(proj: Path):
    (proj / APPROVALS).unlink()
    strict = _build(proj, "--strict")
    assert strict.returncode == 1
    assert "[governance.signoff]" in strict.stdout + strict.stderr
    # A new practice from the scaffold: placeholder details warn, --strict fails on them.
    made = run_build("new-practice", "my-clinic", "--root", str(proj))
    assert made.returncode == 0, made.stderr
    scaffold = (proj / "practices/my-clinic/practice.yml").read_text(encoding="utf-8")
    assert not re.search(r"^reviewer:", scaffold, re.M) and "Alex Example, MD" not in scaffold
    check = run_build("check", "--root", str(proj), "--practice", "my-clinic", "--only", HANDOUT)
    assert "[governance.placeholder]" in check.stdout + check.stderr
    assert "Alex Example" in check.stdout + check.stderr
    strict_check = run_build("check", "--root", str(proj), "--practice", "my-clinic", "--only", HANDOUT, "--strict")
    assert strict_check.returncode == 1



def test_a_declared_sample_practice_notes_its_placeholders_once_instead_of_warning(proj: Path):
    practice_yml = proj / "practices" / PRACTICE / "practice.yml"
    text = practice_yml.read_text(encoding="utf-8")
    assert "sample: true" in text  # the shipped samples are fictional and say so
    sample = run_build("check", "--root", str(proj), "--only", HANDOUT, "--strict", "-v")
    out = sample.stdout + sample.stderr
    assert sample.returncode == 0, out
    assert out.count("[governance.placeholder]") == 1 and "fictional sample practice" in out
    practice_yml.write_text(text.replace("sample: true", "sample: false"), encoding="utf-8")
    real = run_build("check", "--root", str(proj), "--only", HANDOUT, "--strict")
    assert real.returncode == 1
    assert (real.stdout + real.stderr).count("warning: phone:") == 1


def test_approve_refuses_placeholder_names_and_items_with_errors(proj: Path):
    before = (proj / APPROVALS).read_bytes()
    for name in ("", "Alex Example, MD", "Name, credentials", "Miriam Castellano"):
        done = run_build("approve", "--root", str(proj), "--practice", PRACTICE, HANDOUT, "--by", name)
        assert done.returncode != 0, name
    path = proj / CONTENT
    path.write_text(path.read_text(encoding="utf-8").replace("by: ClinicPress medical writing team", "by: TBD"),
                    encoding="utf-8")  # a check error (governance.reviewed), not a loading error
    done = run_build("approve", "--root", str(proj), "--practice", PRACTICE, HANDOUT, "--by", APPROVER)
    assert done.returncode == 1
    assert "[governance.reviewed]" in done.stderr and "check errors" in done.stderr
    assert (proj / APPROVALS).read_bytes() == before, "a refused approval writes nothing"


def test_hand_edited_or_malformed_approvals_file_is_an_error_with_line_and_field(proj: Path):
    path = proj / APPROVALS
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("It attacks harmful germs instead", "It attacks germs", 1), encoding="utf-8")
    done = run_build("check", "--root", str(proj), "--practice", PRACTICE, "--only", HANDOUT)
    assert done.returncode == 1
    assert re.search(rf"{re.escape(APPROVALS)}:\d+: .*gut-and-immune-system\.en\.text", done.stdout + done.stderr)
    path.write_text(text.replace("    date: ", "    dated: ", 1), encoding="utf-8")
    done = run_build("check", "--root", str(proj), "--practice", PRACTICE, "--only", HANDOUT)
    assert done.returncode == 1 and re.search(rf"{re.escape(APPROVALS)}:\d+", done.stdout + done.stderr)
    assert "Traceback" not in done.stderr
    # Two entries for the same item (a merge gone wrong) conflict: an error at the second one.
    path.write_text(text + f"{HANDOUT}:\n  en:\n    by: {APPROVER}\n", encoding="utf-8")
    done = run_build("check", "--root", str(proj), "--practice", PRACTICE, "--only", HANDOUT)
    assert done.returncode == 1
    line = len(text.splitlines()) + 1
    assert re.search(rf"{re.escape(APPROVALS)}:{line}\b.*duplicate", done.stdout + done.stderr), done.stderr[-800:]
    # An approval for an item that does not exist is a warning naming it.
    path.write_text(text + "no-such-handout:\n  en:\n    by: Miriam Castellano, MD\n    date: 2026-01-01\n"
                    "    fingerprint: sha256:" + hashlib.sha256(b"x").hexdigest() + "\n    text: x\n", encoding="utf-8")
    done = run_build("check", "--root", str(proj), "--practice", PRACTICE, "--only", HANDOUT)
    assert "no-such-handout" in done.stdout + done.stderr and "warning" in done.stdout + done.stderr


def test_translation_is_approved_separately_and_follows_its_source(tmp_path: Path):
    proj = copy_project(tmp_path / "proj", practices=["valle-community-health"])
    for pending in ("ar", "zh-Hans"):  # draft translations awaiting a medical translator: never approved
        shutil.rmtree(proj / "content" / "handouts" / pending)
    approvals = proj / "practices/valle-community-health/approvals.yml"
    review = ["review", "--root", str(proj), "--practice", "valle-community-health", "--only", HANDOUT]
    assert run_build(*review).returncode == 0
    path = proj / CONTENT
    path.write_text(path.read_text(encoding="utf-8").replace(SENTENCE, "Your gut bacteria are known as your microbiome."),
                    encoding="utf-8")
    first = run_build(*review)
    assert first.returncode == 1
    joined = first.stdout + first.stderr
    assert re.search(r"CHANGED since approval\s+handout gut-and-immune-system —", joined)
    assert re.search(r"CHANGED since approval\s+handout gut-and-immune-system:es .*original changed", joined)
    # Approving the English does not approve the Spanish.
    assert run_build("approve", "--root", str(proj), "--practice", "valle-community-health", HANDOUT, "--by",
                     "Lucía Fernández-Ortega, MD").returncode == 0
    again = run_build(*review)
    assert again.returncode == 1 and "handout gut-and-immune-system:es" in again.stdout + again.stderr
    assert re.search(r"\s+approved\s+handout gut-and-immune-system —", again.stdout + again.stderr)
    assert run_build("approve", "--root", str(proj), "--practice", "valle-community-health", f"{HANDOUT}:es",
                     "--by", "Lucía Fernández-Ortega, MD").returncode == 0
    assert run_build(*review).returncode == 0
    assert "source: sha256:" in approvals.read_text(encoding="utf-8")


def test_changed_approval_rerenders_exactly_the_affected_outputs(proj: Path):
    other = "autism-and-gut-symptoms"
    both = ["build", "--root", str(proj), "--practice", PRACTICE, "--only", HANDOUT, "--only", other, "-j", "1",
            "--format", "pdf"]
    assert run_build(*both).returncode == 0
    path = proj / APPROVALS
    text = path.read_text(encoding="utf-8")
    head, _, rest = text.partition(f"\n{HANDOUT}:\n")
    path.write_text(head + f"\n{HANDOUT}:\n" + rest.replace(f"by: {APPROVER}", "by: Jonah Whitfield, DO", 1),
                    encoding="utf-8")
    again = run_build(*both)
    out = again.stdout + again.stderr
    assert "1 rendered, 1 up to date" in out, out
    assert "by Jonah Whitfield, DO" in _text(_pdf(proj))


def test_clean_copy_of_the_shipped_project_builds_the_samples_with_no_draft(tmp_path: Path):
    proj = tmp_path / "clone"
    proj.mkdir()
    listed = subprocess.run(["git", "ls-files", "content", "practices", "templates", "pyproject.toml"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.split()
    for name in listed:
        (proj / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, proj / name)
    # Editions a qualified medical translator has not checked yet (translator_review: needed)
    # are never approved: they print as drafts. Everything else is approved.
    pending = {f"{p.parent.name}:{p.stem}" for p in proj.glob("content/*/*/*.yml")
               if "translator_review: needed" in p.read_text(encoding="utf-8")}
    assert pending >= {f"{lang}:{HANDOUT}" for lang in ("ar", "zh-Hans")}
    for practice in ("summit-rheumatology", "thames-integrative-gi", "valle-community-health"):
        done = run_build("review", "--root", str(proj), "--practice", practice)
        out = done.stdout + done.stderr
        never = set(re.findall(r"never approved\s+(?:handout|deck) ([\w-]+):([\w-]+)", out))
        assert {f"{lang}:{slug}" for slug, lang in never} <= pending, out
        assert done.returncode == (1 if never else 0), out
        assert f"0 changed since approval, {len(never)} never approved, 0 expired" in out
    done = run_build("build", "--root", str(proj), "--only", HANDOUT, "--format", "html")
    assert done.returncode == 0, done.stdout + done.stderr
    for html in (proj / "output").glob("*/*.html"):
        if any(f".{lang}." in html.name for lang in ("ar", "zh-Hans")):
            continue  # drafts (above)
        page = html.read_text(encoding="utf-8")
        assert "not yet approved" not in page and "aún no aprobado" not in page, html
        assert "Reviewed " in page or "Revisado el " in page, html


def test_approval_age_warns_after_12_months_and_expires_after_36(proj: Path):
    pyproject = proj / "pyproject.toml"
    base = pyproject.read_text(encoding="utf-8")
    approved = dt.date.fromisoformat(
        re.search(r"date: (\d{4}-\d\d-\d\d)", (proj / APPROVALS).read_text(encoding="utf-8")).group(1))
    for days, severity, label in ((400, "warning", "due for review"), (37 * 31, "error", "approval EXPIRED")):
        day = (approved + dt.timedelta(days=days)).isoformat()
        pyproject.write_text(base.replace("[tool.clinicpress]", f"[tool.clinicpress]\ntoday = {day}"),
                             encoding="utf-8")
        check = run_build("check", "--root", str(proj), "--practice", PRACTICE, "--only", HANDOUT)
        out = " ".join((check.stdout + check.stderr).split())
        assert re.search(rf"{severity}: gut-and-immune-system\.en: .*\[governance\.approval_age\]", out), out[-2000:]
        review = run_build("review", "--root", str(proj), "--practice", PRACTICE, "--only", HANDOUT)
        assert label in review.stdout + review.stderr
        assert review.returncode == (1 if severity == "error" else 0)


def test_deck_status_property_follows_the_record(proj: Path):
    from pptx import Presentation

    deck = "gut-and-autoimmune-disease"
    args = ["build", "--root", str(proj), "--practice", PRACTICE, "--only", deck, "--no-slide-images", "-j", "1"]
    assert run_build(*args).returncode == 0
    pptx = proj / "output" / PRACTICE / f"{deck}.pptx"
    assert re.fullmatch(rf"Reviewed \w+ \d+, \d{{4}} by {APPROVER}", Presentation(str(pptx)).core_properties.content_status)
    (proj / APPROVALS).unlink()
    assert run_build(*args).returncode == 0
    assert Presentation(str(pptx)).core_properties.content_status == DRAFT
