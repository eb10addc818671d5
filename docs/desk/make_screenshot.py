"""Remakes docs/desk/desk.png: the print desk in Chromium (headless), Spanish large print, two
handouts in the packet and a made-up patient. Run from the project folder:

    python docs/desk/make_screenshot.py
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRACTICE = "valle-community-health"


def main() -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "proj"
        for part in ("content", "practices", "templates", "pyproject.toml"):
            (shutil.copytree if (ROOT / part).is_dir() else shutil.copy2)(ROOT / part, project / part)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "build.py"), "desk", "--practice", PRACTICE, "--port", str(port),
             "--root", str(project)],
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        try:
            url = f"http://127.0.0.1:{port}/"
            for _ in range(300):
                try:
                    urllib.request.urlopen(url, timeout=5)
                    break
                except OSError:
                    time.sleep(0.2)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
                page = browser.new_page(viewport={"width": 1360, "height": 960}, device_scale_factor=1)
                page.goto(url)
                page.get_by_label("Language").select_option("es")
                page.get_by_label("Large print").check()
                page.get_by_label("Search title, topic or keyword").fill("intestino")
                adds = page.locator("li.item button.primary")
                adds.nth(0).click()
                page.locator("li.item button.primary").nth(0).click()
                page.get_by_label("Patient's name").fill("Ana López")
                page.get_by_label("Clinician", exact=True).fill("Dra. Marta Rivera, MD")
                page.get_by_label("Next visit").fill("12 de enero, 10:30")
                page.get_by_label("Clinician's note and next steps").fill(
                    "Coma más fibra y camine 20 minutos al día.\n\nTraiga sus medicinas a la próxima visita."
                )
                page.wait_for_function(
                    "() => Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)", timeout=180_000
                )
                page.locator("body").click(position={"x": 5, "y": 300})
                page.screenshot(path=str(ROOT / "docs" / "desk" / "desk.png"))
                browser.close()
        finally:
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
