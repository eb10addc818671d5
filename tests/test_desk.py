"""The print desk (issue 19), driven in Debian's Chromium with Playwright; refusals over plain HTTP."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pikepdf
import pytest
from conftest import ROOT, copy_project, require_tool, run_build
from test_packet import EPOCH, MARKER, PRACTICE, files_under, holding, outline, page_texts

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
NOTE = "Coma más fibra.\n\nCamine 20 minutos al día."


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Desk:
    """A `build.py desk` subprocess on a copy of the project, its temp folder pointed at a fresh one."""

    def __init__(self, tmp_path: Path, prepare=None):
        self.project = copy_project(tmp_path / "proj", practices=[PRACTICE])
        if prepare is not None:
            prepare(self.project)
        self.tmp = tmp_path / "tmp"
        self.tmp.mkdir()
        self.log_path = tmp_path / "desk.log"
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "build.py"), "desk", "--practice", PRACTICE, "--port", str(self.port),
             "--root", str(self.project)],
            cwd=self.project, stdout=self._log, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(self.tmp), **EPOCH})
        deadline = time.monotonic() + 60
        while True:
            assert self.proc.poll() is None, f"desk exited early:\n{self.log()}"
            try:
                with urllib.request.urlopen(self.url, timeout=5) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, http.client.HTTPException):
                pass
            assert time.monotonic() < deadline, f"desk did not answer:\n{self.log()}"
            time.sleep(0.2)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            conn.close()

    def token(self) -> str:
        _, _, html = self.request("GET", "/", headers={"Host": f"127.0.0.1:{self.port}"})
        return html.decode().split('name="desk-token" content="')[1].split('"')[0]

    def post_packet(self, payload: dict, *, origin: str | None = "own", host: str | None = None):
        headers = {"Content-Type": "application/json", "Host": host or f"127.0.0.1:{self.port}"}
        if origin == "own":
            headers["Origin"] = f"http://127.0.0.1:{self.port}"
        elif origin is not None:
            headers["Origin"] = origin
        return self.request("POST", "/api/packet", json.dumps(payload).encode(), headers)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    d = Desk(tmp_path_factory.mktemp("desk"))
    try:
        yield d
    finally:
        d.stop()


def _sync_playwright():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is not installed; run the README's test command (bash scripts/test.sh)")
    return sync_playwright


def test_other_hosts_origins_stale_tokens_and_big_bodies_are_refused(desk: Desk):
    own = f"127.0.0.1:{desk.port}"
    status, _, _ = desk.request("GET", "/", headers={"Host": f"evil.example:{desk.port}"})
    assert status == 421
    status, headers, html = desk.request("GET", "/", headers={"Host": own})
    assert status == 200 and "default-src 'self'" in headers["content-security-policy"]
    assert headers["cache-control"] == "no-store"
    token = desk.token()
    good = {"token": token, "items": ["gut-and-immune-system"], "lang": "en", "variant": "standard", "patient": {}}
    assert desk.post_packet(good, origin=None)[0] == 403
    assert desk.post_packet(good, origin="http://evil.example")[0] == 403
    assert desk.post_packet(good, host="evil.example")[0] == 421
    assert desk.post_packet({**good, "token": "made-up"})[0] == 403
    assert desk.post_packet({**good, "patient": {"note": "x" * 70_000}})[0] == 413
    status, headers, body = desk.post_packet(good)
    assert status == 200 and headers["content-type"] == "application/pdf" and body.startswith(b"%PDF")
    assert headers["content-disposition"].startswith("inline")


@pytest.mark.parametrize(
    "change, says",
    [
        ({"items": ["no-such-handout"]}, "unknown item 'no-such-handout'"),
        ({"lang": "fr"}, "unknown language 'fr'"),
        ({"variant": "huge"}, "unknown variant 'huge'"),
        ({"patient": {"name": "A" * 121}}, "longer than 120 characters"),
        ({"items": "gut-and-immune-system"}, "the print form is incomplete"),
    ],
)
def test_bad_choices_get_a_message_listing_what_exists(desk: Desk, change: dict, says: str):
    payload = {"token": desk.token(), "items": ["gut-and-immune-system"], "lang": "en", "variant": "standard",
               "patient": {}, **change}
    status, _, body = desk.post_packet(payload)
    assert status == 400
    problems = json.loads(body)["problems"]
    assert says in " ".join(p["message"] for p in problems)
    if "unknown" in says:
        assert "available:" in problems[0]["hint"]


def test_print_two_spanish_large_print_handouts_in_chromium_same_bytes_as_cli_and_nothing_kept(tmp_path: Path):
    require_tool("chromium")
    desk = Desk(tmp_path / "run")
    started_files = set(files_under(desk.project))
    try:
        with _sync_playwright()() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1360, "height": 900})
            # Headless Chromium has a PDF viewer but no print dialog: printing the PDF frame crashed
            # the page now and then. Take the desk's other path (offer the PDF), which a browser
            # without a PDF viewer gets; the bytes the desk sends are the same either way.
            page.add_init_script("Object.defineProperty(Navigator.prototype, 'pdfViewerEnabled', {get: () => false})")
            page.goto(desk.url)
            everything = page.locator("li.item").count()
            page.get_by_label("Language").select_option("es")
            page.get_by_label("Large print").check()
            page.get_by_label("Search title, topic or keyword").fill("intestino")
            found = page.locator("li.item")
            assert 2 <= found.count() < everything
            titles = [found.nth(i).locator("h3").inner_text() for i in range(found.count())]
            assert all(t for t in titles)

            # Draft and failed-check labels say what the practice's sign-off says.
            from clinicpress.load.project import load_project

            project = load_project(desk.project, practices=[PRACTICE])
            signoffs = project.signoffs[PRACTICE]
            by_title = {s.model.title: s for s in project.handouts if s.language == "es"}
            for i, title in enumerate(titles):
                draft = not signoffs[by_title[title].key].approved
                label = found.nth(i).get_by_text("Draft — not approved by Valle Community Health")
                assert label.count() == (1 if draft else 0), title

            # Preview: every page of the first handout, drawn.
            found.nth(0).get_by_role("button", name="Preview").click()
            dialog = page.get_by_role("dialog")
            dialog.locator("img").first.wait_for(timeout=120_000)
            assert dialog.locator("img").count() >= 2
            page.keyboard.press("Escape")

            # Keyboard only: Tab to the first handout's "Add to packet", press Enter; then the second.
            picked = []
            for _ in range(2):
                page.get_by_label("Search title, topic or keyword").focus()
                for _ in range(40):
                    page.keyboard.press("Tab")
                    focused = page.evaluate("() => document.activeElement.textContent")
                    if focused == "Add to packet":
                        break
                assert focused == "Add to packet"
                picked.append(page.evaluate("() => document.activeElement.closest('li').dataset.slug"))
                page.keyboard.press("Enter")
            assert len(set(picked)) == 2
            assert page.locator("#basket li").count() == 2
            assert "2 in total" in page.get_by_role("status").first.inner_text()

            page.get_by_label("Patient's name").fill(MARKER)
            page.get_by_label("Clinician's note and next steps").fill(NOTE)
            answers = []

            def keep(route):  # the page's own request goes to the desk; its answer is kept for the checks
                response = route.fetch(timeout=120_000)
                answers.append((response.status, response.headers, response.body()))
                route.fulfill(response=response)

            page.route("**/api/packet", keep)
            page.get_by_role("button", name="Print packet").click()
            page.get_by_text("Packet ready").wait_for(timeout=120_000)
            status, headers, pdf_bytes = answers[0]
            assert status == 200 and headers["content-type"] == "application/pdf"
            offered = page.get_by_role("status").get_by_role("link")
            assert offered.inner_text() == "Download the packet"
            assert offered.get_attribute("href").startswith("blob:")  # the PDF stays in the page's memory
            page.get_by_role("button", name="Clear the patient's details").click()
            assert page.get_by_label("Patient's name").input_value() == ""
            assert page.get_by_label("Clinician's note and next steps").input_value() == ""
            browser.close()
    finally:
        code = desk.stop()
    assert code == 0, desk.log()
    assert "Traceback" not in desk.log() and MARKER not in desk.log()

    got = tmp_path / "desk.pdf"
    got.write_bytes(pdf_bytes)
    assert pdf_bytes[:5] == b"%PDF-", pdf_bytes[:200]
    texts = page_texts(got)
    assert MARKER in texts[0] and "Camine 20 minutos" in texts[0]
    with pikepdf.open(got) as pdf:
        marks = [t for t, _ in outline(pdf)]
        expected = [by_title_slug(project, slug) for slug in picked]
        assert marks[1:] == expected
        assert "/StructTreeRoot" in pdf.Root and str(pdf.Root.Lang) == "es-US"
        assert MARKER not in str(pdf.docinfo)

    # The command line makes the same bytes for the same choices and date.
    cli = tmp_path / "cli.pdf"
    proc = run_build("packet", "--root", str(desk.project), "--practice", PRACTICE, *picked, "--lang", "es",
                     "--variant", "large-print", "--patient", MARKER, "--note", NOTE, "-o", str(cli), env=EPOCH)
    assert proc.returncode == 0, proc.stderr
    assert cli.read_bytes() == pdf_bytes
    cli.unlink()
    got.unlink()

    # Nothing the desk touched holds the patient's name: project (output/ and caches included),
    # its temp folder, the log.
    assert set(files_under(desk.project)) <= started_files | set(files_under(desk.project / "output"))
    touched = files_under(desk.project, desk.tmp, tmp_path)
    assert touched and not holding(MARKER, touched)


def by_title_slug(project, slug: str) -> str:
    return next(s.model.title for s in project.handouts if s.slug == slug and s.language == "es")


def _review_in_2019(project: Path) -> None:
    path = project / "content" / "handouts" / "gut-and-immune-system.yml"
    text = path.read_text(encoding="utf-8")
    assert "reviewed:\n  date: 2026-12-07" in text
    path.write_text(text.replace("reviewed:\n  date: 2026-12-07", "reviewed:\n  date: 2019-01-01"), encoding="utf-8")


def test_a_handout_that_failed_a_check_is_labelled_and_cannot_be_added_or_printed(tmp_path: Path):
    require_tool("chromium")
    desk = Desk(tmp_path, prepare=_review_in_2019)
    try:
        with _sync_playwright()() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.goto(desk.url)
            card = page.locator('li.item[data-slug="gut-and-immune-system"]')
            assert card.get_by_text("Failed a check — cannot be printed").is_visible()
            assert card.get_by_role("button", name="Add to packet").is_disabled()
            other = page.locator('li.item[data-slug="stress-the-brain-and-the-gut"]')
            assert other.get_by_text("Failed a check").count() == 0
            assert other.get_by_role("button", name="Add to packet").is_enabled()
            browser.close()
        payload = {"token": desk.token(), "items": ["gut-and-immune-system"], "lang": "en", "variant": "standard"}
        status, _, body = desk.post_packet(payload)
        assert status == 400 and "failed a check" in body.decode()
    finally:
        desk.stop()


def test_the_language_menu_names_each_language_in_itself_and_in_english(desk: Desk):
    """Every language the library has is offered by its own name, with the English name for staff
    who do not read it (Babel's names, one rule for every tag), not as a bare tag."""
    import html as html_lib
    import re

    status, _, page = desk.request("GET", "/", headers={"Host": f"127.0.0.1:{desk.port}"})
    assert status == 200
    options = dict(re.findall(r'<option value="([^"]+)"[^>]*>([^<]+)</option>', page.decode("utf-8")))
    labels = {tag: html_lib.unescape(label) for tag, label in options.items()}
    assert labels["en"] == "English" and labels["es"] == "Español — Spanish"
    assert labels["ar"] == "العربية — Arabic" and labels["zh-Hans"] == "中文 (简体) — Chinese (Simplified)"
