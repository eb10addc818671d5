"""Preview latency, measured in Chromium: from a save to the new page image on screen.

Starts `build.py preview` on a copy of the shipped project, opens the preview in Debian's
Chromium (Playwright), opens one handout, then saves a one-word change again and again and
times each save until the page shows a new first-page image that has finished loading.
"""

from __future__ import annotations

import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRACTICE = "summit-rheumatology"
HANDOUT = "gut-and-immune-system"
CHROMIUM = "/usr/bin/chromium"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def available() -> str | None:
    """None when the measurement can run, else why not."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[test]')"
    if not Path(CHROMIUM).exists():
        return "Debian's chromium is not installed (bash scripts/test.sh installs it)"
    return None


def preview_latency(project: Path, runs: int) -> dict:
    """Median seconds from a save to the new page image being on screen, and the first open."""
    from playwright.sync_api import sync_playwright

    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    log = open(project / "preview.log", "w")
    proc = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "build.py"),
            "preview",
            "--practice",
            PRACTICE,
            "--port",
            str(port),
            "--root",
            str(project),
        ],
        cwd=project,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    path = project / "content" / "handouts" / f"{HANDOUT}.yml"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url + "api/state", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError(f"the preview did not start; see {project / 'preview.log'}") from None
                time.sleep(0.2)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(url)
            opened = time.monotonic()
            page.click(f'a[data-item="{HANDOUT}"]')
            page.wait_for_function(
                "() => { const i = document.querySelector('.sheet img');"
                " return i && i.complete && i.naturalWidth > 0; }",
                timeout=120_000,
            )
            first_open = time.monotonic() - opened
            times = []
            for n in range(runs):
                before = page.get_attribute(".sheet img", "src")
                text = path.read_text(encoding="utf-8")
                old, new = (" the ", " this ") if n % 2 == 0 else (" this ", " the ")
                saved = time.monotonic()
                path.write_text(text.replace(old, new, 1), encoding="utf-8")
                page.wait_for_function(
                    "src => { const i = document.querySelector('.sheet img');"
                    " return i && i.getAttribute('src') !== src && i.complete && i.naturalWidth > 0; }",
                    arg=before,
                    timeout=30_000,
                )
                times.append(time.monotonic() - saved)
                time.sleep(0.5)  # let the checks that follow the render finish, as between a writer's saves
            browser.close()
        return {
            "preview_first_open_s": round(first_open, 3),
            "preview_save_to_image_s": round(statistics.median(times), 3),
            "preview_save_to_image_max_s": round(max(times), 3),
        }
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def main() -> int:
    import tempfile

    why = available()
    if why:
        sys.exit(why)
    tmp = Path(tempfile.mkdtemp(prefix="clinicpress-preview-bench-"))
    try:
        for part in ("content", "practices", "templates", "pyproject.toml"):
            src = ROOT / part
            (shutil.copytree if src.is_dir() else shutil.copy2)(src, tmp / part)
        print(preview_latency(tmp, 5))
    finally:
        if os.environ.get("BENCH_VERBOSE"):
            print((tmp / "preview.log").read_text(encoding="utf-8")[-4000:])
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
