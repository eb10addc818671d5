"""Live preview (issue 9): a real browser follows a save, shows a broken file's error, recovers;
Ctrl-C and SIGTERM stop everything. Chromium (Debian) is driven by Playwright's sync API."""
from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urljoin

import pytest
from conftest import ROOT, copy_project, require_tool

PRACTICE = "summit-rheumatology"
HANDOUT = "gut-and-immune-system"
DECK = "gut-and-autoimmune-disease"
HANDOUT_FILE = f"content/handouts/{HANDOUT}.yml"
TITLE = "Your Gut and Your Immune System"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
WAIT_MS = 15_000
"""How long the page may take to follow a save (the brief asks for about a second; this allows a busy machine)."""
FIRST_RENDER_MS = 90_000
"""The first render also starts the renderer process and warms WeasyPrint up."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Running:
    """A `build.py preview` subprocess on a copy of the project."""

    def __init__(self, tmp_path: Path, env: dict | None = None):
        self.project = copy_project(tmp_path / "proj", practices=[PRACTICE])
        self.tmp = tmp_path / "tmp"
        self.tmp.mkdir()
        self.log_path = tmp_path / "preview.log"
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "build.py"), "preview", "--practice", PRACTICE, "--port", str(self.port),
             "--root", str(self.project)],
            cwd=self.project, stdout=self._log, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(self.tmp), **(env or {})})
        deadline = time.monotonic() + 60
        while True:
            assert self.proc.poll() is None, f"preview exited early:\n{self.log()}"
            try:
                with urllib.request.urlopen(self.url + "api/state", timeout=2) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, http.client.HTTPException):
                pass
            assert time.monotonic() < deadline, f"preview did not answer:\n{self.log()}"
            time.sleep(0.2)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def edit(self, old: str, new: str) -> None:
        path = self.project / HANDOUT_FILE
        text = path.read_text(encoding="utf-8")
        assert old in text
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    def left_behind(self) -> list[str]:
        """Processes still working in the project folder (the renderer, LibreOffice), by pid and command."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                cwd = os.readlink(entry / "cwd")
                cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if cwd.startswith(str(self.project)):
                found.append(f"{entry.name}: {cmd[:120]}")
        return found

    def stop(self, sig: int) -> tuple[int, float]:
        started = time.monotonic()
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout=20)
        return code, time.monotonic() - started

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._log.close()


def _leftover_temp(running: Running) -> list[str]:
    """Temporary files the preview left (the checks' lasting data cache is meant to stay)."""
    return sorted(p.name for p in running.tmp.iterdir() if p.name != "clinicpress-cache")


@pytest.fixture
def running(tmp_path: Path):
    r = Running(tmp_path)
    try:
        yield r
    finally:
        r.close()


def _browser(p):
    require_tool("chromium")
    return p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)


def _sync_playwright():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is not installed; run the README's test command (bash scripts/test.sh), "
                    "which installs the test extras")
    return sync_playwright


@pytest.mark.slow
def test_page_follows_saves_shows_errors_recovers_and_stops_on_ctrl_c(running: Running):
    sync_playwright = _sync_playwright()
    with sync_playwright() as p:
        browser = _browser(p)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        outside = []
        page.on("request", lambda req: outside.append(req.url) if not req.url.startswith(running.url) else None)
        page.goto(running.url)
        page.click(f'a[data-item="{HANDOUT}"]')
        page.wait_for_selector(".sheet img", timeout=FIRST_RENDER_MS)
        assert page.inner_text("#item-title") == TITLE
        first_src = page.get_attribute(".sheet img", "src")
        assert page.locator(".sheet img").count() >= 1
        # Marks this document: if the page were reloaded, the mark would be gone.
        page.evaluate("window.__notReloaded = true")
        page.evaluate("window.scrollTo(0, 700)")
        page.wait_for_function("window.scrollY > 600")

        # 1. A save shows up by itself, without a reload, at the same scroll position.
        new_title = "Your Gut and Your Immune System Today"
        saved = time.monotonic()
        running.edit(f"title: {TITLE}\n", f"title: {new_title}\n")
        page.wait_for_function(
            "t => document.querySelector('#item-title')?.textContent === t", arg=new_title, timeout=WAIT_MS)
        page.wait_for_function(
            "src => document.querySelector('.sheet img')?.getAttribute('src') !== src", arg=first_src, timeout=WAIT_MS)
        refresh_seconds = time.monotonic() - saved
        print(f"\nthe page showed the new title and pages {refresh_seconds:.2f} s after the save")
        assert page.evaluate("window.__notReloaded") is True
        assert page.evaluate("window.scrollY") > 600
        assert page.locator(".alert").count() == 0

        # 2. A broken file: its error (file, line, message, hint) appears; the last good render stays.
        running.edit("\nlanguage: en\n", "\n  language: en\n")  # bad indentation on line 3
        alert = page.locator(".alert")
        alert.wait_for(timeout=WAIT_MS)
        text = alert.inner_text()
        assert f"{HANDOUT_FILE}:3" in text
        assert "YAML" in text and "indentation" in text.lower()
        assert page.locator(".sheet img").count() >= 1
        assert page.locator(".stale-note").count() == 1
        assert page.inner_text("#item-title") == new_title
        assert page.evaluate("window.__notReloaded") is True
        log = running.log()
        assert f"{HANDOUT_FILE}:3" in log, log

        # 3. The fix: the error goes away and a new render (with a new title) comes in.
        running.edit("\n  language: en\n", "\nlanguage: en\n")
        running.edit(f"title: {new_title}\n", "title: Your Gut and Your Immune System, Again\n")
        page.wait_for_function(
            "() => !document.querySelector('.alert') && document.querySelector('#item-title')?.textContent"
            " === 'Your Gut and Your Immune System, Again'", timeout=WAIT_MS)
        page.wait_for_selector(".sheet img", timeout=WAIT_MS)
        page.wait_for_selector('[data-status="ok"]', timeout=WAIT_MS)
        assert page.locator(".stale-note").count() == 0
        assert page.evaluate("window.__notReloaded") is True
        browser.close()
    assert outside == [], f"the page asked for something outside the preview: {outside[:5]}"

    # 4. Ctrl-C: a clean stop, quickly, with nothing left running and the temporary folder gone.
    code, seconds = running.stop(signal.SIGINT)
    assert code in (0, 130), running.log()
    assert seconds < 5, f"took {seconds:.1f} s to stop"
    assert "preview stopped" in running.log()
    assert running.left_behind() == []
    assert _leftover_temp(running) == []
    assert "Traceback" not in running.log()
    assert not (running.project / "output").exists(), "the preview must not write outputs"


@pytest.mark.slow
def test_html_view_serves_the_pdf_html_with_working_assets(running: Running):
    with urllib.request.urlopen(running.url + f"?item={HANDOUT}", timeout=30) as r:
        assert r.headers["Content-Security-Policy"].startswith("default-src 'self'")
    html_url = running.url + f"files/output/.preview/{PRACTICE}/{HANDOUT}.html"
    with urllib.request.urlopen(html_url, timeout=FIRST_RENDER_MS / 1000) as r:
        html = r.read().decode()
    assert f"<h1>{TITLE}</h1>" in html
    assert "file://" not in html
    assets = set(re.findall(r'(?:src|href)="([^"#:]+)"', html)) | set(re.findall(r"url\(['\"]?([^'\")#:]+)", html))
    assert any("fonts/" in a for a in assets), assets
    for asset in sorted(assets):
        target = urljoin(html_url, asset)
        with urllib.request.urlopen(target, timeout=10) as r:
            assert r.status == 200, target
    # The same HTML as a build writes beside the PDF (only the folder it pretends to live in differs).
    with urllib.request.urlopen(html_url + "?live=1", timeout=10) as r:
        assert b"/static/live-html.js" in r.read()

    # Only project input folders are served, and only to a loopback Host.
    for bad in ("files/../pyproject.toml", "files/pyproject.toml", "files/content/../../etc/passwd",
                "files/output/.preview/other/x.html", "static/../preview.py"):
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(running.url + bad, timeout=10)
        assert err.value.code == 404, bad
    conn = http.client.HTTPConnection("127.0.0.1", running.port, timeout=10)
    conn.request("GET", "/", headers={"Host": "attacker.example"})
    assert conn.getresponse().status == 421
    conn.close()
    assert f"http://127.0.0.1:{running.port}/" in running.log()

    code, seconds = running.stop(signal.SIGTERM)
    assert code == 0 and seconds < 5, running.log()


@pytest.mark.slow
def test_sigterm_during_slide_drawing_stops_libreoffice_too(running: Running):
    require_tool("soffice")
    urllib.request.urlopen(running.url + f"?item={DECK}", timeout=30).read()
    deadline = time.monotonic() + 60
    while not any("soffice" in p for p in running.left_behind()):
        assert time.monotonic() < deadline, "LibreOffice never started:\n" + running.log()
        time.sleep(0.05)
    code, seconds = running.stop(signal.SIGTERM)
    assert code == 0, running.log()
    assert seconds < 5, f"took {seconds:.1f} s to stop"
    time.sleep(0.3)
    assert running.left_behind() == []
    assert _leftover_temp(running) == []


@pytest.mark.slow
def test_deck_without_libreoffice_shows_a_note_and_its_findings(tmp_path: Path):
    empty = tmp_path / "bin"
    empty.mkdir()
    running = Running(tmp_path, env={"PATH": str(empty)})  # no soffice (nor anything else) on PATH
    try:
        urllib.request.urlopen(running.url + f"?item={DECK}", timeout=30).read()
        deadline = time.monotonic() + 90
        while True:
            with urllib.request.urlopen(running.url + f"fragment?item={DECK}", timeout=30) as r:
                fragment = r.read().decode()
            if "LibreOffice" in fragment and "Checks" in fragment and "Running the checks" not in fragment:
                break
            assert time.monotonic() < deadline, running.log()
            time.sleep(0.3)
        assert "not installed" in fragment
        assert f"/download/{DECK}.pptx" in fragment
        with urllib.request.urlopen(running.url + f"download/{DECK}.pptx", timeout=30) as r:
            assert r.read(2) == b"PK"
        code, _ = running.stop(signal.SIGINT)
        assert code == 0, running.log()
    finally:
        running.close()
