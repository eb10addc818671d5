"""`packet`: one PDF for a patient (cover page + chosen handouts), read back with pikepdf and pypdfium2."""

from __future__ import annotations

from pathlib import Path

import pikepdf
import pypdfium2 as pdfium
import pytest
from conftest import copy_project, run_build
from pdftext import page_texts

PRACTICE = "valle-community-health"
EPOCH = {"SOURCE_DATE_EPOCH": "1796688000"}  # 2026-12-08
MARKER = "Zqxmarker Ovelandia"
TWO = ("gut-and-immune-system", "stress-the-brain-and-the-gut")


@pytest.fixture(scope="module")
def proj(tmp_path_factory) -> Path:
    return copy_project(tmp_path_factory.mktemp("packet") / "proj", practices=[PRACTICE])


def outline(pdf: pikepdf.Pdf) -> list[tuple[str, int]]:
    """Top-level bookmarks: (title, page index)."""
    index = {p.objgen: i for i, p in enumerate(pdf.pages)}
    out = []
    with pdf.open_outline() as o:
        for item in o.root:
            dest = item.destination
            if dest is None and item.action is not None:
                dest = item.action.get("/D")
            if isinstance(dest, (str, pikepdf.String)):
                dest = pikepdf.NameTree(pdf.Root.Names.Dests)[str(dest)]
            out.append((item.title, index[dest[0].objgen]))
    return out


def files_under(*folders: Path) -> list[Path]:
    return [p for folder in folders for p in folder.rglob("*") if p.is_file()]


def holding(marker: str, files: list[Path]) -> list[Path]:
    """The files whose bytes contain the marker (as UTF-8 or UTF-16, as PDF text strings are)."""
    needles = [marker.encode("utf-8"), marker.encode("utf-16-be"), marker.encode("utf-16-le")]
    return [p for p in files if any(n in p.read_bytes() for n in needles)]


def test_packet_has_cover_both_handouts_bookmarks_tags_and_keeps_no_patient_data(proj: Path, tmp_path: Path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    out = tmp_path / "asked" / "for-ana.pdf"
    before = set(files_under(proj))
    args = ["packet", "--root", str(proj), "--practice", PRACTICE, *TWO, "--lang", "es", "--variant", "large-print"]
    args += ["--patient", MARKER, "--note", "Camine 20 minutos al día.", "--clinician", "Dr Rivera", "-o", str(out)]
    proc = run_build(*args, cwd=tmp_path, env={**EPOCH, "TMPDIR": str(tmp)})
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert MARKER not in proc.stdout + proc.stderr

    texts = page_texts(out)
    assert MARKER in texts[0] and "Dr Rivera" in texts[0] and "Camine 20 minutos" in texts[0]
    assert "8 de diciembre de 2026" in texts[0]
    with pikepdf.open(out) as pdf:
        marks = outline(pdf)
        assert [t for t, _ in marks][1:] == [
            "Su intestino y su sistema inmunitario",
            "El estrés, el cerebro y el intestino",
        ]
        starts = [p for _, p in marks] + [len(pdf.pages)]
        assert starts[0] == 0 and starts[1] >= 1
        for part in (1, 2):  # each handout numbers its own pages from 1
            first, end = starts[part], starts[part + 1]
            assert f"Página 1 de {end - first}" in texts[first]
        assert str(pdf.Root.Lang) == "es-US"
        assert pdf.Root.MarkInfo.Marked is True
        assert "/StructTreeRoot" in pdf.Root and len(pdf.Root.StructTreeRoot.ParentTree.Nums) >= 2 * len(pdf.pages)
        assert MARKER not in str(pdf.docinfo) and MARKER.encode() not in bytes(pdf.Root.Metadata.read_bytes())
        # A citation link in a handout reaches that handout's own references.
        dests = pikepdf.NameTree(pdf.Root.Names.Dests)
        index = {p.objgen: i for i, p in enumerate(pdf.pages)}
        checked = 0
        for i, page in enumerate(pdf.pages):
            for annot in page.get("/Annots", []):
                if "/Dest" in annot:
                    target = index[dests[str(annot.Dest)][0].objgen]
                    part = max(k for k in range(3) if starts[k] <= i)
                    assert starts[part] <= target < starts[part + 1]
                    checked += 1
        assert checked > 0
    # The patient's name is nowhere but in the file asked for.
    touched = [p for p in files_under(proj, tmp, tmp_path) if p != out]
    assert not holding(MARKER, touched)
    assert set(files_under(proj)) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["asked", "tmp"]


def test_same_choices_and_date_give_the_same_bytes_and_the_default_name_has_no_patient(proj: Path, tmp_path: Path):
    args = ["packet", "--root", str(proj), "--practice", PRACTICE, *TWO, "--patient", MARKER, "--note", "x"]
    first = run_build(*args, cwd=tmp_path, env=EPOCH)
    assert first.returncode == 0, first.stderr
    made = list(tmp_path.iterdir())
    assert [p.name for p in made] == [f"packet-{PRACTICE}-en-2026-12-08.pdf"]
    data = made[0].read_bytes()
    again = run_build(*args, "-o", str(tmp_path / "again.pdf"), cwd=tmp_path, env=EPOCH)
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "again.pdf").read_bytes() == data


def test_any_language_and_variant_for_a_practice_that_does_not_list_them(tmp_path: Path):
    proj = copy_project(tmp_path / "proj", practices=["summit-rheumatology"])
    yml = (proj / "practices" / "summit-rheumatology" / "practice.yml").read_bytes()
    assert b"languages: [en]" in yml
    out = tmp_path / "p.pdf"
    proc = run_build(
        "packet", "--root", str(proj), "--practice", "summit-rheumatology", "gut-and-immune-system",
        "--lang", "es", "--variant", "print-shop", "-o", str(out), env=EPOCH,
    )
    assert proc.returncode == 0, proc.stderr
    assert (proj / "practices" / "summit-rheumatology" / "practice.yml").read_bytes() == yml
    with pikepdf.open(out) as pdf:
        assert str(pdf.Root.Lang) == "es-US"
        assert "/TrimBox" in pdf.pages[0] or "/BleedBox" in pdf.pages[0]  # the print-shop variant
        assert [t for t, _ in outline(pdf)] == ["Su intestino y su sistema inmunitario"]  # no cover without a patient
    assert "Summit" in page_texts(out)[0]


@pytest.mark.parametrize(
    "extra, says",
    [
        (["no-such-handout"], ["unknown item 'no-such-handout'", "gut-and-immune-system", "working-with-your-clinician"]),
        (["gut-and-immune-system", "--lang", "fr"], ["unknown language 'fr'", "available: ar, en, es, zh-Hans"]),
        (["gut-and-immune-system", "--variant", "huge"], ["unknown variant 'huge'", "standard, large-print, print-shop"]),
        (["gut-and-immune-system", "--patient", "A" * 121], ["longer than 120 characters"]),
    ],
)
def test_unknown_choices_exit_1_listing_what_exists_and_write_nothing(proj: Path, tmp_path: Path, extra, says):
    proc = run_build("packet", "--root", str(proj), "--practice", PRACTICE, *extra, "-o", str(tmp_path / "x.pdf"))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    for text in says:
        assert text in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_markup_rtl_emoji_and_long_text_print_as_typed_and_wrapped(proj: Path, tmp_path: Path):
    name = "<b>Ana</b> & \"López\" مريم 👩‍⚕️"
    note = ("Take <script>alert(1)</script> with food. " + "Supercalifragilistic" * 30 + "\n\n") + "שלום " * 200
    out = tmp_path / "p.pdf"
    proc = run_build(
        "packet", "--root", str(proj), "--practice", PRACTICE, "gut-and-immune-system",
        "--patient", name, "--note", note, "-o", str(out), env=EPOCH,
    )
    assert proc.returncode == 0, proc.stderr
    doc = pdfium.PdfDocument(out)
    try:
        cover = doc[0].get_textpage().get_text_range()
        assert "<b>Ana</b> & \"López\"" in cover and "<script>alert(1)</script>" in cover
        assert "مريم" in cover or "ميرم" in cover  # shaped right to left either way, but present
        # Nothing runs off the page: every character of the cover pages sits inside the paper.
        for index in range(len(doc)):
            page = doc[index]
            width, height = page.get_size()
            text = page.get_textpage()
            for i in range(text.count_chars()):
                left, bottom, right, top = text.get_charbox(i)
                assert -0.5 <= left and right <= width + 0.5 and -0.5 <= bottom and top <= height + 0.5
    finally:
        doc.close()
    with pikepdf.open(out) as pdf:
        assert "/StructTreeRoot" in pdf.Root
        titles = [t for t, _ in outline(pdf)]
        assert titles[-1] == "Your Gut and Your Immune System" and "Ana" not in "".join(titles)


def test_a_handout_that_fails_a_check_is_not_printed(proj: Path, tmp_path: Path):
    broken = copy_project(tmp_path / "broken", practices=[PRACTICE])
    path = broken / "content" / "handouts" / "gut-and-immune-system.yml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("reviewed:\n  date: 2026-12-07", "reviewed:\n  date: 2019-01-01"), encoding="utf-8")
    proc = run_build("packet", "--root", str(broken), "--practice", PRACTICE, "gut-and-immune-system",
                     "-o", str(tmp_path / "x.pdf"), env=EPOCH)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "failed a check" in proc.stdout + proc.stderr
    assert not (tmp_path / "x.pdf").exists()


def test_the_warm_packet_reuses_laid_out_handouts_and_gives_the_same_bytes(proj: Path, monkeypatch):
    """In one process (as the desk): the second packet lays out only the cover, same bytes as the first."""
    import datetime as dt

    from clinicpress.jobs import packet as jp
    from clinicpress.load.project import load_project
    from clinicpress.render import packet as rp

    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH["SOURCE_DATE_EPOCH"])
    project = load_project(proj, practices=[PRACTICE])
    request = jp.PacketRequest(PRACTICE, TWO, "en", "standard", rp.Patient.typed(name=MARKER))
    jp.reset()
    first = jp.make_packet(project, request, dt.date(2026, 12, 8))
    laid = []
    from clinicpress.render.handout import pdf as handout_pdf

    original = handout_pdf.layout

    def counting(*a, **k):
        laid.append(k.get("source_path"))
        return original(*a, **k)

    monkeypatch.setattr(rp, "layout", counting)
    monkeypatch.setattr("clinicpress.render.handout.layout", counting)
    second = jp.make_packet(project, request, dt.date(2026, 12, 8))
    assert second == first
    assert laid == [rp.COVER_TEMPLATE]


def test_a_packet_is_refused_when_an_override_drops_a_required_passage(tmp_path: Path):
    """The packet reads its pages back like a built handout: a disclaimer templated away is refused."""
    proj = copy_project(tmp_path / "proj", practices=[PRACTICE])
    override = proj / "practices" / PRACTICE / "templates" / "handout" / "handout.html.j2"
    override.parent.mkdir(parents=True, exist_ok=True)
    override.write_text(
        '{% extends "!default/handout/handout.html.j2" %}'
        "{% block disclaimer %}<!-- {{ t.disclaimer }} {{ emergency_line }} -->{% endblock %}",
        encoding="utf-8",
    )
    out = tmp_path / "packet.pdf"
    proc = run_build("packet", "--root", str(proj), "--practice", PRACTICE, TWO[0], "-o", str(out), env=EPOCH)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1, output
    assert "has no disclaimer" in output and "Traceback" not in output
    assert not out.exists()
