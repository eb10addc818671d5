"""Hardening, round two (issue 17): the build's own state files, and where refused resources are named.

Class 1: `output/manifest.json` and `output/.clinicpress-cache.json` are read back as untrusted
input. A tampered, truncated, huge, deeply nested or wrongly typed state file, or one whose
paths lead out of the output folder (absolute, `..`, a symlinked folder or file), is discarded
with one warning naming it, and the build renders everything again. A canary file outside the
output folder proves nothing there is deleted or written.

Class 8: a resource refused while rendering is reported at the template or CSS line that asked
for it.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from test_hardening import HANDOUT, PRACTICE, build_cmd, make_project, temp_files

from clinicpress.write.cache import STATE_FILE
from clinicpress.write.state import MAX_STATE_BYTES, BadState, CacheState, Manifest, confined, read_state

MANIFEST = "manifest.json"
PDF = f"{PRACTICE}/{HANDOUT}.pdf"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path]:
    """The hardening fixture project and one good build of its handout (shared by this module)."""
    base = tmp_path_factory.mktemp("state")
    root = make_project(base / "proj")
    out = base / "out"
    proc = build_cmd(root, out, "-q")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return root, out


@dataclass
class Tampered:
    """A copy of the good build, a canary outside the output folder, and helpers to break the state."""

    root: Path
    out: Path
    outside: Path

    def manifest(self) -> dict:
        return json.loads((self.out / MANIFEST).read_text(encoding="utf-8"))

    def state(self) -> dict:
        return json.loads((self.out / STATE_FILE).read_text(encoding="utf-8"))

    def write(self, name: str, data: dict | str | bytes) -> None:
        path = self.out / name
        if isinstance(data, dict):
            data = json.dumps(data)
        if isinstance(data, str):
            data = data.encode()
        path.write_bytes(data)

    def outside_files(self) -> dict[str, bytes]:
        return {p.relative_to(self.outside).as_posix(): p.read_bytes() for p in sorted(self.outside.rglob("*"))
                if p.is_file() and not p.is_symlink()}

    def build(self, *extra: str) -> subprocess.CompletedProcess:
        return build_cmd(self.root, self.out, *extra)


@pytest.fixture
def tampered(built, tmp_path) -> Tampered:
    root, out = built
    mine = Tampered(shutil.copytree(root, tmp_path / "proj", symlinks=True),
                    shutil.copytree(out, tmp_path / "out", symlinks=True), tmp_path / "outside")
    mine.outside.mkdir()
    (mine.outside / "canary.pdf").write_bytes(b"%PDF canary: must survive")
    (mine.outside / "thumbs").mkdir()
    (mine.outside / "thumbs" / "canary.png").write_bytes(b"canary thumbnail")
    return mine


def gone_entry(t: Tampered) -> dict:
    """A manifest entry whose item no longer exists (the build removes such outputs)."""
    entry = copy.deepcopy(t.manifest()["outputs"][PDF])
    entry.update(item="handout:no-longer-here:en", job=f"{PRACTICE}/no-longer-here")
    entry.pop("thumbnail", None)
    return entry


def assert_recovered(t: Tampered, proc: subprocess.CompletedProcess, name: str, why: str, canary_before: dict) -> str:
    """One warning naming the state file and what was wrong; a full, good rebuild; nothing outside touched."""
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "Traceback" not in output and "internal error" not in output, output
    warnings = [line for line in output.splitlines() if f"{t.out / name} " in line and "ignored" in line]
    assert len(warnings) == 1, output
    assert why in warnings[0], warnings[0]
    assert "1 rendered" in output, output  # the handout was rendered again (a full rebuild)
    assert t.outside_files() == canary_before, "a file outside the output folder was deleted or changed"
    assert not temp_files(t.out)
    # The state written by the rebuild is good: the next build is a no-op.
    again = t.build()
    assert again.returncode == 0 and "nothing to do" in again.stdout + again.stderr, again.stdout + again.stderr
    assert "warning:" not in again.stdout + again.stderr
    return output


# --------------------------------------------------------------------------- paths in the manifest
def _absolute(t: Tampered) -> None:
    m = t.manifest()
    m["outputs"][str(t.outside / "canary.pdf")] = gone_entry(t)
    t.write(MANIFEST, m)


def _dotdot(t: Tampered) -> None:
    m = t.manifest()
    m["outputs"]["../outside/canary.pdf"] = gone_entry(t)
    t.write(MANIFEST, m)


def _dotdot_inside(t: Tampered) -> None:
    m = t.manifest()
    m["outputs"][f"{PRACTICE}/../../outside/canary.pdf"] = gone_entry(t)
    t.write(MANIFEST, m)


def _thumbnail_out(t: Tampered) -> None:
    m = t.manifest()
    entry = gone_entry(t)
    entry["thumbnail"] = {"path": "../outside/thumbs/canary.png", "of": entry["sha256"]}
    m["outputs"][f"{PRACTICE}/no-longer-here.pdf"] = entry
    t.write(MANIFEST, m)


def _symlinked_folder(t: Tampered) -> None:
    (t.out / "linked").symlink_to(t.outside, target_is_directory=True)
    m = t.manifest()
    m["outputs"]["linked/canary.pdf"] = gone_entry(t)
    t.write(MANIFEST, m)


def _symlinked_file(t: Tampered) -> None:
    (t.out / PRACTICE / "no-longer-here.pdf").symlink_to(t.outside / "canary.pdf")
    m = t.manifest()
    m["outputs"][f"{PRACTICE}/no-longer-here.pdf"] = gone_entry(t)
    t.write(MANIFEST, m)


def _duplicate_key(t: Tampered) -> None:
    """The good outputs first, then a second "outputs" key (JSON's last one wins) that leads out."""
    good = json.dumps(t.manifest())
    bad = json.dumps({"/etc/../" + str(t.outside / "canary.pdf").lstrip("/"): gone_entry(t)})
    t.write(MANIFEST, good[:-1] + f', "outputs": {bad}}}')


def _manifest_is_a_link(t: Tampered) -> None:
    forged = t.manifest()
    forged["outputs"][str(t.outside / "canary.pdf")] = gone_entry(t)
    (t.outside / "forged.json").write_text(json.dumps(forged), encoding="utf-8")
    (t.out / MANIFEST).unlink()
    (t.out / MANIFEST).symlink_to(t.outside / "forged.json")


PATH_CASES = {
    "absolute": (_absolute, "leads outside the output folder"),
    "dotdot": (_dotdot, "leads outside the output folder"),
    "dotdot-inside-a-name": (_dotdot_inside, "leads outside the output folder"),
    "thumbnail-outside": (_thumbnail_out, "leads outside the output folder"),
    "symlinked-folder": (_symlinked_folder, "leads outside the output folder"),
    "symlinked-output-file": (_symlinked_file, "leads outside the output folder"),
    "duplicate-key": (_duplicate_key, "leads outside the output folder"),
    "manifest-is-a-link": (_manifest_is_a_link, "not a regular file"),
}


@pytest.mark.parametrize("case", sorted(PATH_CASES))
def test_a_manifest_path_that_leads_out_deletes_nothing_outside(tampered: Tampered, case: str):
    tamper, why = PATH_CASES[case]
    tamper(tampered)
    before = tampered.outside_files()
    assert before  # the canaries (and the forged manifest of one case) are there
    proc = tampered.build()
    assert_recovered(tampered, proc, MANIFEST, why, before)


def test_a_symlinked_output_folder_is_never_written_through(tampered: Tampered):
    """output/<practice> replaced by a link to a folder outside: the build refuses to write there."""
    practice = tampered.out / PRACTICE
    shutil.copytree(practice, tampered.outside / PRACTICE)
    shutil.rmtree(practice)
    practice.symlink_to(tampered.outside / PRACTICE, target_is_directory=True)
    (tampered.out / STATE_FILE).unlink()  # not a no-op: the build must render and write
    before = tampered.outside_files()
    proc = tampered.build()
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1, output
    assert "Traceback" not in output and "internal error" not in output, output
    assert f"{PRACTICE}: error: this folder of the output is a link that leads outside the output folder" in output
    assert tampered.outside_files() == before
    assert not [p for p in tampered.outside.rglob("*") if p.name.startswith(".clinicpress-tmp-")]


# --------------------------------------------------------------------------- broken state files
def _set(name: str, path: tuple, value):
    def tamper(t: Tampered) -> None:
        data = t.manifest() if name == MANIFEST else t.state()
        node = data
        for part in path[:-1]:
            node = node[part] if part != "*" else next(iter(node.values()))
        last = path[-1]
        if last == "*":
            last = next(iter(node))
        node[last] = value
        t.write(name, data)

    return tamper


def _gone_as(t: Tampered, name: str) -> None:
    """A gone item's output named like a folder or a state file (a build removes a gone item's outputs)."""
    m = t.manifest()
    m["outputs"][name] = gone_entry(t)
    t.write(MANIFEST, m)


BROKEN = {
    # the case: wrong value types in the cache made every build exit 3 until --no-cache
    "cache-last-build-not-an-object": (STATE_FILE, _set(STATE_FILE, ("last_build",), "x"), "last_build"),
    "cache-inputs-a-list": (STATE_FILE, _set(STATE_FILE, ("inputs",), ["x"]), "inputs"),
    "cache-written-a-list": (STATE_FILE, _set(STATE_FILE, ("written",), ["index.html"]), "written"),
    "cache-written-outside": (STATE_FILE, _set(STATE_FILE, ("written", "/etc/passwd"), "0" * 64), "leads outside"),
    "cache-failing-a-number": (STATE_FILE, _set(STATE_FILE, ("failing",), 7), "failing"),
    "cache-exit-code-a-string": (STATE_FILE, _set(STATE_FILE, ("exit_code",), "x"), "exit_code"),
    "cache-hash-entry-short": (STATE_FILE, _set(STATE_FILE, ("hashes", "*"), [1, 2]), "hashes"),
    "cache-check-scores-a-string": (STATE_FILE, _set(STATE_FILE, ("checks", "*", "scores"), "x"), "checks"),
    "cache-check-finding-bad-severity": (
        STATE_FILE, _set(STATE_FILE, ("checks", "*", "findings"), [{"check": "x", "severity": "fatal",
                                                                    "message": "m"}]), "severity"),
    "cache-unknown-key": (STATE_FILE, _set(STATE_FILE, ("surprise",), 1), "surprise"),
    "cache-version-a-string": (STATE_FILE, _set(STATE_FILE, ("version",), "1"), "version"),
    "cache-truncated": (STATE_FILE, lambda t: t.write(STATE_FILE, (t.out / STATE_FILE).read_bytes()[:200]),
                        "not valid JSON"),
    "cache-a-list": (STATE_FILE, lambda t: t.write(STATE_FILE, "[1, 2]"), "holds a JSON array"),
    "cache-null": (STATE_FILE, lambda t: t.write(STATE_FILE, "null"), "holds a JSON null"),
    "cache-deeply-nested": (STATE_FILE, lambda t: t.write(STATE_FILE, '{"version": 1, "inputs": ' + "[" * 200_000
                                                          + "]" * 200_000 + "}"), "nested too deeply"),
    "cache-not-utf8": (STATE_FILE, lambda t: t.write(STATE_FILE, b"\xff\xfe{}"), "not valid JSON"),
    "manifest-pages-a-string": (MANIFEST, _set(MANIFEST, ("outputs", PDF, "pages"), "2"), "pages"),
    "manifest-sha-a-number": (MANIFEST, _set(MANIFEST, ("outputs", PDF, "sha256"), 12), "sha256"),
    "manifest-outputs-a-list": (MANIFEST, _set(MANIFEST, ("outputs",), [PDF]), "outputs"),
    "manifest-findings-an-object": (MANIFEST, _set(MANIFEST, ("items", "*", "findings"), {"a": 1}), "findings"),
    "manifest-thumbnail-a-string": (MANIFEST, _set(MANIFEST, ("outputs", PDF, "thumbnail"), "x.png"), "thumbnail"),
    "manifest-unknown-status": (MANIFEST, _set(MANIFEST, ("outputs", PDF, "status"), "fine"), "status"),
    "manifest-output-is-a-folder": (MANIFEST, lambda t: _gone_as(t, PRACTICE), "is not a document's name"),
    "manifest-output-is-the-cache": (MANIFEST, lambda t: _gone_as(t, STATE_FILE), "is not a document's name"),
    "manifest-thumbnail-is-the-report": (MANIFEST, _set(MANIFEST, ("outputs", PDF, "thumbnail", "path"), "report.json"),
                                         "is not a thumbnail's name"),
    "manifest-truncated": (MANIFEST, lambda t: t.write(MANIFEST, (t.out / MANIFEST).read_bytes()[:-40]),
                           "not valid JSON"),
    "manifest-a-string": (MANIFEST, lambda t: t.write(MANIFEST, '"outputs"'), "holds a JSON string"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_state_file_is_discarded_with_one_warning(tampered: Tampered, case: str):
    name, tamper, why = BROKEN[case]
    tamper(tampered)
    before = tampered.outside_files()
    assert_recovered(tampered, tampered.build(), name, why, before)


def test_a_huge_state_file_is_not_read(tampered: Tampered):
    """A sparse file past the limit: refused by its size, before a byte of it is parsed."""
    with open(tampered.out / MANIFEST, "r+b") as fh:
        fh.truncate(MAX_STATE_BYTES + 1)
    before = tampered.outside_files()
    assert_recovered(tampered, tampered.build(), MANIFEST, "larger than 64 MiB", before)


# --------------------------------------------------------------------------- the models, in-process
def test_the_models_accept_what_a_build_writes(built):
    _, out = built
    assert read_state(out / MANIFEST, Manifest, "format", 1)["outputs"]
    assert read_state(out / STATE_FILE, CacheState, "version", 1)["written"]


WRONG = [None, "x", 1.5, True, [], {}, -1]


def _leaves(data, path=()):
    if isinstance(data, dict):
        for k, v in data.items():
            yield from _leaves(v, path + (k,))
    elif isinstance(data, list) and data:
        for i, v in enumerate(data[:2]):
            yield from _leaves(v, path + (i,))
    else:
        yield path, data


@pytest.mark.parametrize("name,model,field", [(MANIFEST, Manifest, "format"), (STATE_FILE, CacheState, "version")])
def test_every_value_of_the_wrong_type_is_refused(built, tmp_path: Path, name: str, model, field: str):
    """Every leaf of a real state file, replaced by each value of another JSON type, is refused
    (or, where that type is also valid there, read back exactly as written)."""
    _, out = built
    good = json.loads((out / name).read_text(encoding="utf-8"))
    leaves = list(_leaves(good))
    assert len(leaves) > 30
    refused = 0
    for path, value in leaves:
        for wrong in WRONG:
            if type(wrong) is type(value) or (path and path[0] == "hashes" and wrong == -1):
                continue
            data = copy.deepcopy(good)
            node = data
            for part in path[:-1]:
                node = node[part]
            node[path[-1]] = wrong
            (tmp_path / name).write_text(json.dumps(data), encoding="utf-8")
            try:
                back = read_state(tmp_path / name, model, field, good[field])
            except BadState:
                refused += 1
                continue
            assert back == data  # accepted only as exactly what was written (strict types, no coercion)
            for part in path:
                back = back[part]
            assert type(back) is type(wrong), (path, wrong)
    assert refused > len(leaves) * 3, refused


@pytest.mark.parametrize("name", ["", "/etc/passwd", "../x", "a/../../x", "a/./b", "a//b", "a\\..\\b", "a\0b", "."])
def test_confined_refuses_names_that_leave_the_folder(tmp_path: Path, name: str):
    assert confined(tmp_path, name) is None


def test_confined_follows_links(tmp_path: Path):
    out = tmp_path / "out"
    (out / "p").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    (out / "link").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    (out / "p" / "f.pdf").symlink_to(tmp_path / "elsewhere" / "f.pdf")
    (out / "p" / "ok.pdf").write_bytes(b"x")
    (out / "loop").symlink_to(out / "loop")
    assert confined(out, "link/f.pdf") is None
    assert confined(out, "p/f.pdf") is None
    assert confined(out, "loop") is None
    assert confined(out, "p/ok.pdf") == out.resolve() / "p" / "ok.pdf"
    assert confined(out, "p/not-yet.pdf") == out.resolve() / "p" / "not-yet.pdf"


def test_a_state_file_that_is_a_fifo_is_not_read(tmp_path: Path):
    import os

    os.mkfifo(tmp_path / MANIFEST)
    with pytest.raises(BadState, match="not a regular file"):
        read_state(tmp_path / MANIFEST, Manifest, "format", 1)


# =========================================================================== class 8: where a refused resource was asked for
CSS_OVERRIDE = f"practices/{PRACTICE}/templates/handout/handout.css"
HTML_OVERRIDE = f"practices/{PRACTICE}/templates/handout/handout.html.j2"
EXTRA = f"practices/{PRACTICE}/templates/handout/extra.html.j2"
FONTS_OVERRIDE = f"practices/{PRACTICE}/templates/handout/fonts.css.j2"


@pytest.fixture
def case(built, tmp_path):
    from test_hardening import Case, snapshot

    root, out = built
    mine = shutil.copytree(root, tmp_path / "proj", symlinks=True)
    mine_out = shutil.copytree(out, tmp_path / "out", symlinks=True)
    return Case(mine, mine_out, snapshot(mine_out))


def _css(case, rule: str) -> int:
    css = case.read("templates/handout/handout.css")
    case.write(CSS_OVERRIDE, css + "\n" + rule + "\n")
    return css.count("\n") + 2


def _fonts(case, rule: str) -> int:
    """An @import must come first: the fonts stylesheet opens the page's <style>."""
    case.write(FONTS_OVERRIDE, rule + "\n" + case.read("templates/handout/fonts.css.j2"))
    return 1


def _html(case, snippet: str, *, file: str = HTML_OVERRIDE) -> int:
    if file == HTML_OVERRIDE:
        case.write(HTML_OVERRIDE, '{% extends "!default/handout/handout.html.j2" %}\n{% block footer_note %}\n'
                                  f"{snippet}\n{{% endblock %}}\n")
        return 3
    case.write(file, f"<p>extra</p>\n\n{snippet}\n")
    case.write(HTML_OVERRIDE, '{% extends "!default/handout/handout.html.j2" %}\n{% block footer_note %}\n'
                              '{% include "handout/extra.html.j2" %}\n{% endblock %}\n')
    return 3


REFUSED = {
    # name: (writes the attack and returns its line, the file it must be reported in)
    "css-http-built": (lambda c: _css(c, 'body { background: url("{{ "ht" ~ "tp://127.0.0.1:9/built.png" }}"); }'),
                       CSS_OVERRIDE),
    "css-absolute-built": (lambda c: _css(c, "body { background: url(\"{{ '/et' ~ 'c/passwd' }}\"); }"),
                           CSS_OVERRIDE),
    "css-data-built": (lambda c: _css(c, "body { background: url(\"{{ 'da' ~ 'ta:image/png;base64,iVBORw0KGgo=' }}\"); }"),
                       CSS_OVERRIDE),
    "css-font-built": (lambda c: _css(c, '@font-face { font-family: X; src: url("{{ "ht" ~ "tp://127.0.0.1:9/f.woff" }}"); }'
                                         "\nbody { font-family: X; }"), CSS_OVERRIDE),
    "css-import-built": (lambda c: _fonts(c, '@import "{{ "ht" ~ "tp://127.0.0.1:9/more.css" }}";'), FONTS_OVERRIDE),
    "html-img-built": (lambda c: _html(c, '<img alt="x" src="{{ "ht" ~ "tp://127.0.0.1:9/pic.png" }}">'),
                       HTML_OVERRIDE),
    "html-style-attr-built": (lambda c: _html(c, "<p style=\"background: url({{ 'fi' ~ 'le:///etc/hostname' }})\">x</p>"),
                              HTML_OVERRIDE),
    "html-in-an-included-template": (lambda c: _html(c, '<img alt="x" src="{{ "ht" ~ "tp://127.0.0.1:9/inc.png" }}">',
                                                     file=EXTRA), EXTRA),
}


@pytest.mark.parametrize("attack", sorted(REFUSED))
def test_a_refused_resource_is_reported_at_the_line_that_asked_for_it(case, attack: str):
    from test_hardening import HANDOUT_YML, refused_in_process

    write, file = REFUSED[attack]
    line = write(case)
    text = refused_in_process(case, pdf=True)
    assert f"{file}:{line}:" in text, text
    assert "a resource was refused" in text and HANDOUT_YML in text, text  # and which document was printing


def test_a_refused_resource_in_a_build_names_the_css_line(case):
    line = _css(case, 'body { background: url("{{ "ht" ~ "tp://127.0.0.1:9/built.png" }}"); }')
    case.refused(case.build(), f"{CSS_OVERRIDE}:{line}:", "a resource was refused", "built.png",
                 code=None, at_load=False)


def test_a_resource_no_source_mentions_is_reported_for_the_document(case):
    """Assembled from pieces no file holds: the document is still named (no line to point at)."""
    from test_hardening import HANDOUT_YML, refused_in_process

    _css(case, "body { background: url(\"{{ 'ht' ~ 'tp:' ~ '/' ~ '/' ~ 'h' ~ '.' ~ 'x' }}\"); }")
    text = refused_in_process(case, pdf=True)
    assert text.startswith(f"{HANDOUT_YML}: a resource was refused while printing {HANDOUT_YML}: http://h.x"), text


def test_locate_prefers_the_longest_match_and_the_practice_folder(tmp_path: Path):
    from clinicpress.render.handout.fetcher import locate

    practice, default = tmp_path / "p", tmp_path / "d"
    practice.mkdir()
    default.mkdir()
    (default / "a.css").write_text("x\nurl(img/logo.png)\n", encoding="utf-8")
    (practice / "b.css").write_text("\n\n\nurl(logo.png)\n", encoding="utf-8")
    (practice / "font.ttf").write_bytes(b"img/logo.png")  # not a source file
    assert locate("file:///out/p/img/logo.png", [practice, default]) == (default / "a.css", 2)
    assert locate("file:///out/p/other/logo.png", [practice, default]) == (practice / "b.css", 4)
    assert locate("file:///out/p/nothing.png", [practice, default]) is None
    assert locate("file:///out/p/a%20b.png", [practice]) is None
    (practice / "c.css").write_text("url('a b.png')\n", encoding="utf-8")
    assert locate("file:///out/p/a%20b.png", [practice]) == (practice / "c.css", 1)


def test_the_manifest_knows_every_sign_off_state():
    from typing import get_args

    from clinicpress.load.approvals import Status
    from clinicpress.write.state import SignOffJson

    assert set(get_args(SignOffJson.model_fields["status"].annotation)) == set(get_args(Status))
